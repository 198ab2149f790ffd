/**
 * Benchmark: how dump, restore and verification times grow with the data. Orders are added
 * through SQL (two lines each) in steps; at each size: pg_dump -Fc, restore into a scratch
 * database, snapshot compare there, restore --clean over the target, snapshot compare.
 * Appends to bench/results/backup.json. Run: npm run bench:backup
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { seedBulkOrders } from '../helpers/backup/bulk-data';
import { verifyRestored } from '../helpers/backup/verify';
import { loadConfig, readEnv } from '../helpers/config';
import { DbProbe } from '../helpers/integrity/db-probe';
import { takeSnapshot } from '../helpers/integrity/snapshot';
import { log } from '../helpers/report/log';
import { recordResult } from './record';
import { EmbeddedStack } from '../helpers/stack/embedded-stack';
import { embeddedTarget } from '../helpers/targets/embedded-target';

const STEPS = [1_000, 10_000, 50_000, 100_000];

const cfg = loadConfig({ ...readEnv(), STACK_NAME: 'bench-backup', TARGET: 'embedded' });
await using stack = await EmbeddedStack.up(cfg, { pid: process.pid, kind: 'test' });
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sr-bench-backup-'));
const rows: Array<Record<string, number>> = [];
try {
  // the stack goes down when the module's scope ends (await using), however it ends
  const backup = embeddedTarget(stack, cfg).backup;
  if (!backup.ok) throw new Error(backup.missing);
  const driver = backup.value;
  const probe = new DbProbe(stack.databaseUrl);
  let total = 0;
  for (const target of STEPS) {
    await seedBulkOrders(stack.databaseUrl, target - total, await probe.userId(stack.state.users.secondCustomer.username));
    total = target;
    const file = path.join(dir, `backup-${target}.dump`);
    const t = (f: () => Promise<unknown>) => async () => {
      const t0 = Date.now();
      await f();
      return Date.now() - t0;
    };
    let expected = await takeSnapshot(probe);
    const snapshotMs = await t(async () => (expected = await takeSnapshot(probe)))();
    const dumpMs = await t(() => driver.dump(file))();
    const scratch = await driver.createScratch();
    const scratchProbe = new DbProbe(scratch.url);
    let scratchRestoreMs = 0;
    let scratchVerifyMs = 0;
    try {
      scratchRestoreMs = await t(() => driver.restore(file, scratch, { clean: false }))();
      scratchVerifyMs = await t(async () => {
        const v = await verifyRestored(scratchProbe, expected);
        if (v.problems.length) throw new Error(`scratch verify: ${v.problems.join('; ')}`);
      })();
    } finally {
      await scratchProbe.close();
      await scratch.drop();
    }
    const restoreMs = await t(() => driver.restore(file, driver.target, { clean: true }))();
    const verifyMs = await t(async () => {
      const v = await verifyRestored(probe, expected);
      if (v.problems.length) throw new Error(`verify: ${v.problems.join('; ')}`);
    })();
    const row = {
      orders: target,
      orderLines: target * 2,
      dumpBytes: fs.statSync(file).size,
      snapshotMs,
      dumpMs,
      scratchRestoreMs,
      scratchVerifyMs,
      restoreMs,
      verifyMs,
    };
    rows.push(row);
    log(JSON.stringify(row));
  }
  await probe.close();
} finally {
  fs.rmSync(dir, { recursive: true, force: true });
}
const record = {
  date: new Date().toISOString(),
  machine: { cpus: os.cpus().length },
  note: 'verify = snapshot (row md5s, sequences) + compare; the tests add migrate --check (~0.4 s)',
  rows,
};
recordResult('backup', record);
