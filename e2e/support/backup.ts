/**
 * The backup-and-restore scenario and its helpers (e2e/backup-restore.spec.ts runs it): dump,
 * change, restore into a scratch database and verify there, restore --clean into the target and
 * verify again (migrate --check, the health checks, every critical table equal to the backup).
 */
import fs from 'node:fs';
import { RUNBOOK_ORDER, newIdempotencyKey } from '../../helpers/api/payloads';
import { itemsOf, type StoreApi } from '../../helpers/api/store-api';
import { type BackupDriver } from '../../helpers/backup/backup-driver';
import { seedBulkOrders } from '../../helpers/backup/bulk-data';
import { verifyRestored, type RestoreVerdict } from '../../helpers/backup/verify';
import { type Config } from '../../helpers/config';
import { DbProbe } from '../../helpers/integrity/db-probe';
import { compareSnapshots, snapshotSummary, takeSnapshot } from '../../helpers/integrity/snapshot';
import { phase, type Evidence } from '../../helpers/report/evidence';
import type { MigrateCheck, Target } from '../../helpers/target';
import { shown } from '../../helpers/report/redact';
import { expect, need, needUser, requireDb, test as base, type Faults, type UserIdentity, type Who } from '../fixtures';

export const ORDER_SEQ = 'store_orderrequest_id_seq';

/** The backup driver of a disposable database: restores and scratch databases need one. */
export function needDisposable(target: Target): { driver: BackupDriver; writableUrl: string } {
  const writableUrl = need(target.disposableDatabaseUrl);
  const driver = need(target.backup);
  expect(driver.target.disposable, 'the backup driver of a disposable database restores into it').toBe(true);
  return { driver, writableUrl };
}

/** migrate --check of a scratch database, when the target's command can check another database. */
export function scratchCheck(
  check: MigrateCheck,
  url: string,
): (() => Promise<import('../../helpers/stack/command').CommandRecord>) | undefined {
  return check.anyDatabase ? () => check.run(url) : undefined;
}

/** The runbook's health checks after a restore: products, order-requests with the token, brands. */
export async function expectHealthy(api: StoreApi, anonApi: StoreApi): Promise<void> {
  const checks = {
    products: await api.products(),
    'order-requests': await api.orders(),
    brands: await api.brands(),
    health: await anonApi.health(),
  };
  expect(Object.fromEntries(Object.entries(checks).map(([k, v]) => [k, v.status])), 'the health checks answer 200').toEqual({
    products: 200,
    'order-requests': 200,
    brands: 200,
    health: 200,
  });
}

/** Changes after the backup: two orders through the API, two products through the staff-only endpoint. */
export async function makeChanges(api: StoreApi, staff: StoreApi) {
  const orders: number[] = [];
  const products: number[] = [];
  for (let i = 0; i < 2; i++) {
    const o = await api.createOrder(RUNBOOK_ORDER, { idempotencyKey: newIdempotencyKey('after-backup') });
    expect(o.status, 'an order after the backup').toBe(201);
    orders.push((o.body as { id: number }).id);
    const p = await staff.createProduct({ brand: 1, name: `After backup ${i}`, price: '5.00', stock: 3 });
    expect(p.status, `a product after the backup (staff): ${shown(p.rawBody)}`).toBe(201);
    products.push((p.body as { id: number }).id);
  }
  return { orders, products };
}

export async function attachVerdict(evidence: Evidence, name: string, v: RestoreVerdict): Promise<void> {
  await evidence.json(name, {
    problems: v.problems,
    durationMs: v.durationMs,
    migrateCheck: v.migrateCheck,
    snapshot: snapshotSummary(v.snapshot),
    diff: v.diff.tables.filter((t) => !t.equal),
  });
}

interface Fixtures {
  api: StoreApi;
  anonApi: StoreApi;
  apiAs: (who: Who) => Promise<StoreApi>;
  userOf: (who: Who) => Promise<UserIdentity>;
  target: Target;
  cfg: Config;
  evidence: Evidence;
  db: DbProbe | undefined;
  faults: Faults;
}

/** Backup, scratch verification, change, restore over the target, verify: the common experiment. */
async function backupAndRestore(f: Fixtures, opts: { storeStopped: boolean; scenario: string; bulkOrders?: number }): Promise<void> {
  const probe = requireDb(f.db);
  const { driver, writableUrl } = needDisposable(f.target);
  const check = need(f.target.migrateCheck);
  needUser(f.target, 'staff');
  // the store stopped: stopped now (and started again in teardown, should the restore fail)
  const stop = opts.storeStopped ? f.faults.create('app-restart') : undefined;
  const file = base.info().outputPath('backup.dump');
  const staff = await f.apiAs('staff');
  if (opts.bulkOrders) {
    const owner = (await f.userOf(f.target.users.secondCustomer ? 'secondCustomer' : 'customer')).userId;
    const seeded = await seedBulkOrders(writableUrl, opts.bulkOrders, owner);
    await f.evidence.json('bulk data seeded through SQL', seeded);
    expect(seeded.orders, 'the bulk orders were written').toBe(opts.bulkOrders);
  }

  const atBackup = await phase(f.evidence, 'Baseline', async () => {
    await expectHealthy(f.api, f.anonApi);
    const snap = await takeSnapshot(probe);
    await f.evidence.json('snapshot at backup time', snapshotSummary(snap));
    return snap;
  });

  const dump = await phase(f.evidence, 'Backup', async () => {
    const record = await driver.dump(file);
    const sizeBytes = fs.statSync(file).size;
    await f.evidence.json('pg_dump', { ...record, sizeBytes });
    expect(sizeBytes, 'the dump is not empty').toBeGreaterThan(0);
    // the dump must hold the backup: restore it into a scratch database and verify it there first
    const scratch = await driver.createScratch();
    try {
      const restored = await driver.restore(file, scratch, { clean: false });
      const scratchProbe = new DbProbe(scratch.url);
      try {
        const verdict = await verifyRestored(scratchProbe, atBackup, scratchCheck(check, scratch.url));
        await attachVerdict(f.evidence, 'verification in the scratch database', verdict);
        expect(verdict.problems, `the dump restores to the backup in ${scratch.label}`).toEqual([]);
        return { record, sizeBytes, scratchRestoreMs: restored.durationMs, scratchVerifyMs: verdict.durationMs };
      } finally {
        await scratchProbe.close();
      }
    } finally {
      await scratch.drop();
    }
  });

  const changes = await phase(f.evidence, 'Change', async () => {
    const c = await makeChanges(f.api, staff);
    const diff = compareSnapshots(atBackup, await takeSnapshot(probe));
    expect(diff.equal, 'the changes show in the database').toBe(false);
    return c;
  });

  const restore = await phase(f.evidence, 'Restore', async () => {
    if (stop) await f.faults.inject(stop);
    const record = await driver.restore(file, driver.target, { clean: true });
    await f.evidence.json('pg_restore --clean --if-exists', record);
    if (stop) await f.faults.recover(stop);
    return record;
  });

  await phase(f.evidence, 'Verify', async () => {
    const verdict = await verifyRestored(probe, atBackup, () => check.run());
    await attachVerdict(f.evidence, 'verification of the restored database', verdict);
    await f.evidence.metrics({
      scenario: opts.scenario,
      figures: {
        dumpBytes: dump.sizeBytes,
        dumpMs: dump.record.durationMs,
        scratchRestoreMs: dump.scratchRestoreMs,
        scratchVerifyMs: dump.scratchVerifyMs,
        restoreMs: restore.durationMs,
        verifyMs: verdict.durationMs,
        orders: atBackup.tables.store_orderrequest?.rows ?? 0,
        orderLines: atBackup.tables.store_orderline?.rows ?? 0,
      },
    });
    expect(verdict.problems, 'every critical table equals the backup and migrations are current').toEqual([]);
    expect(verdict.migrateCheck, 'migrate --check ran').toBeDefined();
    expect(verdict.migrateCheck?.exitCode, 'migrate --check exits 0').toBe(0);
    await expectHealthy(f.api, f.anonApi);
    const products = itemsOf<{ id: number }>((await f.anonApi.send('GET', '/api/store/products/?limit=500')).body);
    expect(
      products.map((p) => p.id).filter((id) => changes.products.includes(id)),
      'the products made after the backup are gone',
    ).toEqual([]);
    for (const id of changes.orders) expect((await f.api.order(id)).status, `order ${id} made after the backup is gone`).toBe(404);
    // sequences are restored too: the next order takes the id after the backup's last one, without a collision
    const next = await f.api.createOrder(RUNBOOK_ORDER, { idempotencyKey: newIdempotencyKey('after-restore') });
    expect(next.status, `a new order after the restore: ${shown(next.rawBody, 200)}`).toBe(201);
    const lastAtBackup = atBackup.sequences[ORDER_SEQ]?.lastValue;
    expect(lastAtBackup, `the backup recorded ${ORDER_SEQ}`).toBeDefined();
    expect((next.body as { id: number }).id, 'the new order continues the backup-time sequence').toBe(lastAtBackup! + 1);
  });
}

type BackupOptions = { storeStopped: boolean; scenario: string; bulkOrders?: number };

/** The backup spec's test: `backupAndRestore(opts)` with this test's fixtures bound. */
export const test = base.extend<{ backupAndRestore: (opts: BackupOptions) => Promise<void> }>({
  backupAndRestore: [
    async ({ api, anonApi, apiAs, userOf, target, cfg, evidence, db, faults }, use) => {
      await use((opts) => backupAndRestore({ api, anonApi, apiAs, userOf, target, cfg, evidence, db, faults }, opts));
    },
    { box: true },
  ],
});
