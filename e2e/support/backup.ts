/**
 * The backup-and-restore scenario and its helpers (e2e/backup-restore.spec.ts runs it): dump,
 * change, restore into a scratch database and verify there, restore --clean into the target and
 * verify again (migrate --check, the health checks, every critical table equal to the backup).
 */
import fs from 'node:fs';
import { RUNBOOK_ORDER, newIdempotencyKey } from '../../helpers/api/payloads';
import type { StoreApi } from '../../helpers/api/store-api';
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
import { expectApiShowsRestore, makeChanges, warmCaches, type ApiView } from './restore-consistency';

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

/**
 * Reads per object before and after a restore, on fresh connections, per worker: two, so that a cache
 * of one worker's is seen (measured: 30 sequential connections reached 3 sync workers 7, 10 and 13 times).
 */
const READS_PER_WORKER = 2;
/** when the target cannot tell its workers: reads per object as for four */
const WORKERS_IF_UNKNOWN = 4;

/** Backup, scratch verification, change, restore over the target, verify: the common experiment. */
async function backupAndRestore(f: Fixtures, opts: BackupOptions): Promise<void> {
  const probe = requireDb(f.db);
  const workers = await f.target.server.expectedWorkers();
  if (workers === undefined)
    base.info().annotations.push({
      type: 'note',
      description: `worker count unknown (STORE_WORKERS): each object read ${READS_PER_WORKER * WORKERS_IF_UNKNOWN} times`,
    });
  const view: ApiView = {
    baseUrl: f.target.baseUrl,
    token: f.api.accessToken ?? '',
    userId: (await f.userOf('customer')).userId,
    db: probe,
    evidence: f.evidence,
    times: READS_PER_WORKER * (workers ?? WORKERS_IF_UNKNOWN),
    timeoutMs: f.cfg.thresholds.requestTimeoutMs,
  };
  // what the API shows is checked where the scenario asks (the bulk one is about the rows at scale)
  const apiChecks = opts.apiChecks ?? true;
  // a restart after the restore: a cache in a worker's memory is gone then, a shared one is not
  const restart = opts.restartAfter ? f.target.fault('app-restart') : undefined;
  if (restart && !restart.ok)
    base.info().annotations.push({ type: 'note', description: `not checked after a restart: ${restart.missing}` });
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
    // every worker reads and retries what changed: whatever cache the store keeps now holds it
    if (apiChecks) await warmCaches(view, c);
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
    for (const id of changes.orders.map((o) => o.id))
      expect((await f.api.order(id)).status, `order ${id} made after the backup is gone`).toBe(404);
    // sequences are restored too: the next order takes the id after the backup's last one, without a collision
    // (it reuses the id of an order the restore removed: what the API shows for that id must be the new one)
    const next = await f.api.createOrder(RUNBOOK_ORDER, { idempotencyKey: newIdempotencyKey('after-restore') });
    expect(next.status, `a new order after the restore: ${shown(next.rawBody, 200)}`).toBe(201);
    const lastAtBackup = atBackup.sequences[ORDER_SEQ]?.lastValue;
    expect(lastAtBackup, `the backup recorded ${ORDER_SEQ}`).toBeDefined();
    expect((next.body as { id: number }).id, 'the new order continues the backup-time sequence').toBe(lastAtBackup! + 1);
    if (apiChecks)
      await expectApiShowsRestore(view, changes, `after the restore (store ${opts.storeStopped ? 'stopped during it' : 'running'})`);
    if (restart?.ok) {
      await f.faults.inject(restart.value);
      await f.faults.recover(restart.value);
      await expectApiShowsRestore(view, changes, 'after the restore and a restart of the store');
    }
  });
}

type BackupOptions = {
  storeStopped: boolean;
  scenario: string;
  bulkOrders?: number;
  /** restart the store after the restore and check what the API shows again */
  restartAfter?: boolean;
  /** what the API shows before and after the restore (default true) */
  apiChecks?: boolean;
};

/** The backup spec's test: `backupAndRestore(opts)` with this test's fixtures bound. */
export const test = base.extend<{ backupAndRestore: (opts: BackupOptions) => Promise<void> }>({
  backupAndRestore: [
    async ({ api, anonApi, apiAs, userOf, target, cfg, evidence, db, faults }, use) => {
      await use((opts) => backupAndRestore({ api, anonApi, apiAs, userOf, target, cfg, evidence, db, faults }, opts));
    },
    { box: true },
  ],
});
