/**
 * The runbook's third section, automated and made rigorous: pg_dump -Fc, changes, pg_restore
 * --clean --if-exists, then migrate --check, the health checks, and proof that every critical
 * table (users, orders, lines, products, brands, pickup points, migrations) equals the backup.
 * A dump is first restored into a scratch database and verified there; a destructive restore
 * runs only against a disposable database.
 */
import fs from 'node:fs';
import { RUNBOOK_ORDER, newIdempotencyKey } from '../helpers/api/payloads';
import type { StoreApi } from '../helpers/api/store-api';
import { assertRestoreAllowed, DestructiveRestoreRefused, PgBackupDriver, type BackupDriver, type RestoreTarget } from '../helpers/backup/backup-driver';
import { backupDriverFor } from '../helpers/backup/for-target';
import { seedBulkOrders } from '../helpers/backup/bulk-data';
import { verifyRestored, type RestoreVerdict } from '../helpers/backup/verify';
import { loadConfig, readEnv } from '../helpers/config';
import { DbProbe } from '../helpers/integrity/db-probe';
import { compareSnapshots, snapshotSummary, takeSnapshot, type DbSnapshot } from '../helpers/integrity/snapshot';
import { phase, type Evidence } from '../helpers/report/evidence';
import { CommandError } from '../helpers/stack/command';
import type { Target } from '../helpers/target';
import { expect, requireDb, test, type Faults } from './fixtures';

const ORDER_SEQ = 'store_orderrequest_id_seq';

/** The backup driver, or a skip naming why this target cannot be backed up by the suite. */
function requireBackup(target: Target, cfg: Parameters<typeof backupDriverFor>[1]): BackupDriver {
  const driver = backupDriverFor(target, cfg);
  test.skip(!driver, 'the target has no DATABASE_URL to back up');
  return driver as BackupDriver;
}

/**
 * migrate --check against a database (the embedded store's manage.py; external targets have none
 * here). Django prints nothing when the check fails: the plan of what is unapplied is added then.
 */
function migrateCheck(target: Target, databaseUrl?: string) {
  const store = target.stack?.store;
  if (!store) return undefined;
  return async () => {
    try {
      return await store.manage(['migrate', '--check'], 120_000, databaseUrl);
    } catch (error) {
      if (!(error instanceof CommandError)) throw error;
      const plan = await store.manage(['migrate', '--plan'], 120_000, databaseUrl).catch((e: unknown) => (e instanceof CommandError ? e.record : undefined));
      throw new CommandError({ ...error.record, stdout: `${error.record.stdout}\n${plan?.stdout ?? ''}`.trim() });
    }
  };
}

/** The runbook's health checks after a restore: products, order-requests with the token, brands. */
async function expectHealthy(api: StoreApi, anonApi: StoreApi): Promise<void> {
  const checks = { products: await api.products(), 'order-requests': await api.orders(), brands: await api.brands(), health: await anonApi.health() };
  expect(Object.fromEntries(Object.entries(checks).map(([k, v]) => [k, v.status])), 'the health checks answer 200').toEqual({
    products: 200, 'order-requests': 200, brands: 200, health: 200,
  });
}

/** Changes after the backup: two orders through the API, two products through the staff-only endpoint. */
async function makeChanges(api: StoreApi, staff: StoreApi) {
  const orders: number[] = [];
  const products: number[] = [];
  for (let i = 0; i < 2; i++) {
    const o = await api.createOrder(RUNBOOK_ORDER, { idempotencyKey: newIdempotencyKey('after-backup') });
    expect(o.status, 'an order after the backup').toBe(201);
    orders.push((o.body as { id: number }).id);
    const p = await staff.createProduct({ brand: 1, name: `After backup ${i}`, price: '5.00', stock: 3 });
    expect(p.status, `a product after the backup (staff): ${p.rawBody}`).toBe(201);
    products.push((p.body as { id: number }).id);
  }
  return { orders, products };
}

async function attachVerdict(evidence: Evidence, name: string, v: RestoreVerdict): Promise<void> {
  await evidence.json(name, { problems: v.problems, durationMs: v.durationMs, migrateCheck: v.migrateCheck, snapshot: snapshotSummary(v.snapshot), diff: v.diff.tables.filter((t) => !t.equal) });
}

/** Backup, scratch verification, change, restore over the target, verify: the common experiment. */
async function backupAndRestore(
  f: { api: StoreApi; anonApi: StoreApi; apiAs: (who: 'staff') => Promise<StoreApi>; target: Target; cfg: Parameters<typeof backupDriverFor>[1]; evidence: Evidence; db: DbProbe | undefined; faults: Faults },
  opts: { storeStopped: boolean; scenario: string; bulkOrders?: number },
): Promise<void> {
  const probe = requireDb(f.db);
  const driver = requireBackup(f.target, f.cfg);
  const file = test.info().outputPath('backup.dump');
  const staff = await f.apiAs('staff');
  if (opts.bulkOrders) {
    const seeded = await seedBulkOrders(driver.target.url, opts.bulkOrders);
    await f.evidence.json('bulk data seeded through SQL', seeded);
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
        const verdict = await verifyRestored(scratchProbe, atBackup, migrateCheck(f.target, scratch.url));
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
    // the store stopped: TERM to gunicorn now, started again (also in teardown, should the restore fail)
    const stop = opts.storeStopped ? f.faults.driver().create('app-restart') : undefined;
    if (stop) await f.faults.inject(stop);
    const record = await driver.restore(file, driver.target, { clean: true });
    await f.evidence.json('pg_restore --clean --if-exists', record);
    if (stop) await f.faults.recover(stop);
    return record;
  });

  await phase(f.evidence, 'Verify', async () => {
    const verdict = await verifyRestored(probe, atBackup, migrateCheck(f.target));
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
    expect(verdict.migrateCheck?.exitCode ?? 0, 'migrate --check').toBe(0);
    await expectHealthy(f.api, f.anonApi);
    const products = (await f.anonApi.products()).body as Array<{ id: number }>;
    expect(products.map((p) => p.id).filter((id) => changes.products.includes(id)), 'the products made after the backup are gone').toEqual([]);
    for (const id of changes.orders) expect((await f.api.order(id)).status, `order ${id} made after the backup is gone`).toBe(404);
    // sequences are restored too: the next order takes the id after the backup's last one, without a collision
    const next = await f.api.createOrder(RUNBOOK_ORDER, { idempotencyKey: newIdempotencyKey('after-restore') });
    expect(next.status, `a new order after the restore: ${next.rawBody?.slice(0, 200)}`).toBe(201);
    const lastAtBackup = atBackup.sequences[ORDER_SEQ]?.lastValue ?? 0;
    expect((next.body as { id: number }).id, 'the new order continues the backup-time sequence').toBe(lastAtBackup + 1);
  });
}

test.describe('backup and restore @backup', () => {
  test('should restore exactly the backup with the store running @backup', async ({ api, anonApi, apiAs, target, cfg, evidence, db, faults }) => {
    await backupAndRestore({ api, anonApi, apiAs, target, cfg, evidence, db, faults }, { storeStopped: false, scenario: 'backup/restore, store running' });
  });

  test('should restore exactly the backup with the store stopped @backup', async ({ api, anonApi, apiAs, target, cfg, evidence, db, faults }) => {
    faults.driver();
    await backupAndRestore({ api, anonApi, apiAs, target, cfg, evidence, db, faults }, { storeStopped: true, scenario: 'backup/restore, store stopped' });
  });

  test('should restore thousands of orders exactly @backup', async ({ api, anonApi, apiAs, target, cfg, evidence, db, faults }) => {
    test.setTimeout(180_000);
    await backupAndRestore({ api, anonApi, apiAs, target, cfg, evidence, db, faults }, { storeStopped: false, scenario: 'backup/restore, +5000 orders', bulkOrders: 5_000 });
  });

  test('should stop at a truncated dump in the scratch database and leave the target as it was @backup', async ({ target, cfg, evidence, db }) => {
    const probe = requireDb(db);
    const driver = requireBackup(target, cfg);
    const good = test.info().outputPath('backup.dump');
    const broken = test.info().outputPath('truncated.dump');
    await driver.dump(good);
    const bytes = fs.readFileSync(good);
    fs.writeFileSync(broken, bytes.subarray(0, Math.floor(bytes.length / 2)));
    const before = await takeSnapshot(probe);
    const scratch = await driver.createScratch();
    let failure: unknown;
    try {
      await driver.restore(broken, scratch, { clean: false });
    } catch (error) {
      failure = error;
    } finally {
      await scratch.drop();
    }
    await evidence.text('restore of the truncated dump', String((failure as Error | undefined)?.message));
    expect(failure, 'the truncated dump does not restore').toBeInstanceOf(CommandError);
    expect((failure as CommandError).message, 'pg_restore says why').toMatch(/pg_restore .*failed \(exit 1\).*(could not read|unexpected end|did not find magic|input file|corrupt)/is);
    const after = await takeSnapshot(probe);
    expect(compareSnapshots(before, after).equal, 'the target was not touched').toBe(true);
  });

  test('should refuse a destructive restore into an external database not marked disposable @backup', async ({ target, cfg, db }) => {
    const probe = requireDb(db);
    const driver = requireBackup(target, cfg);
    test.skip(!target.stack, 'needs the embedded database to stand in for an external one');
    // the embedded database described as an external target, without the opt-in
    const external = loadConfig({ ...readEnv(), TARGET: 'external', BASE_URL: target.baseUrl, JWT_TOKEN: 'a.b.c', DATABASE_URL: target.stack!.databaseUrl }, { checkFiles: false });
    const externalDriver = backupDriverFor({ kind: 'external', ...external.external!, baseUrl: target.baseUrl }, cfg) as PgBackupDriver;
    expect(externalDriver.target.disposable).toBe(false);
    const file = test.info().outputPath('backup.dump');
    await driver.dump(file);
    const before = await takeSnapshot(probe);
    await expect(externalDriver.restore(file, externalDriver.target, { clean: true }), 'refused before anything runs').rejects.toThrow(DestructiveRestoreRefused);
    await expect(externalDriver.restore(file, externalDriver.target, { clean: true })).rejects.toThrow(/not marked disposable.*ALLOW_DESTRUCTIVE_RESTORE_OF.*Nothing was changed/s);
    expect(compareSnapshots(before, await takeSnapshot(probe)).equal, 'nothing changed').toBe(true);
    // the opt-in must name the very database
    expect(() => loadConfig({ ...readEnv(), TARGET: 'external', BASE_URL: target.baseUrl, JWT_TOKEN: 'a.b.c', DATABASE_URL: target.stack!.databaseUrl, ALLOW_DESTRUCTIVE_RESTORE_OF: 'production' }, { checkFiles: false })).toThrow(
      /ALLOW_DESTRUCTIVE_RESTORE_OF: .*must equal DATABASE_URL's database \(store\), got "production"/,
    );
    const optedIn = loadConfig({ ...readEnv(), TARGET: 'external', BASE_URL: target.baseUrl, JWT_TOKEN: 'a.b.c', DATABASE_URL: target.stack!.databaseUrl, ALLOW_DESTRUCTIVE_RESTORE_OF: 'store' }, { checkFiles: false });
    const optedTarget: RestoreTarget = (backupDriverFor({ kind: 'external', ...optedIn.external!, baseUrl: target.baseUrl }, cfg) as PgBackupDriver).target;
    expect(() => assertRestoreAllowed(optedTarget, { clean: true }), 'with the opt-in naming it, the restore is allowed').not.toThrow();
  });
});

test.describe('the restore checker goes red @backup', () => {
  test('should name the table a dump left out @backup', async ({ target, cfg, evidence, db }) => {
    const probe = requireDb(db);
    const driver = requireBackup(target, cfg);
    const expected = await takeSnapshot(probe);
    const file = test.info().outputPath('without-lines.dump');
    await driver.dump(file, { excludeTables: ['store_orderline'] });
    const scratch = await driver.createScratch();
    try {
      await driver.restore(file, scratch, { clean: false });
      const scratchProbe = new DbProbe(scratch.url);
      try {
        const verdict = await verifyRestored(scratchProbe, expected, migrateCheck(target, scratch.url));
        await attachVerdict(evidence, 'verdict on a dump without store_orderline', verdict);
        expect(verdict.problems.join('\n')).toMatch(/store_orderline: missing after the restore \(\d+ rows at backup time: ids /);
      } finally {
        await scratchProbe.close();
      }
    } finally {
      await scratch.drop();
    }
  });

  test('should name the rows a restore without --clean leaves behind @backup', async ({ api, apiAs, target, cfg, evidence, db }) => {
    const probe = requireDb(db);
    const driver = requireBackup(target, cfg);
    const file = test.info().outputPath('backup.dump');
    const expected = await takeSnapshot(probe);
    await driver.dump(file);
    const changes = await makeChanges(api, await apiAs('staff'));
    // without --clean and without --exit-on-error: what pg_restore does when told nothing
    try {
      let record: unknown;
      try {
        record = await driver.restore(file, driver.target, { clean: false, exitOnError: false, singleTransaction: false });
      } catch (error) {
        record = error instanceof CommandError ? error.record : error;
      }
      await evidence.json('pg_restore without --clean', record);
      const verdict = await verifyRestored(probe, expected);
      await attachVerdict(evidence, 'verdict on a restore without --clean', verdict);
      const text = verdict.problems.join('\n');
      expect(text).toContain(`store_orderrequest: 2 rows added (ids ${changes.orders.join(', ')})`);
      expect(text).toContain(`store_product: 2 rows added (ids ${changes.products.join(', ')})`);
      // the dump's setval ran: the sequence went back under the rows that stayed
      expect(text).toMatch(/store_orderrequest: sequence store_orderrequest_id_seq is at \d+ but the table holds id \d+: the next insert collides/);
    } finally {
      // put the backup back properly: later tests get a store whose next order does not collide
      await driver.restore(file, driver.target, { clean: true });
    }
    expect((await verifyRestored(probe, expected)).problems, 'the backup restored again with --clean').toEqual([]);
  });

  test('should fail migrate --check when the restored migration record is behind @backup', async ({ target, cfg, evidence, db }) => {
    const probe = requireDb(db);
    const driver = requireBackup(target, cfg);
    test.skip(!target.stack, "migrate --check runs the embedded store's manage.py");
    const expected = await takeSnapshot(probe);
    const good = test.info().outputPath('backup.dump');
    const behind = test.info().outputPath('behind.dump');
    await driver.dump(good);
    // a backup taken before the latest migration was recorded: the record of store's last migration is missing
    const scratch = await driver.createScratch();
    try {
      await driver.restore(good, scratch, { clean: false });
      const writer = new (await import('pg')).default.Client({ connectionString: scratch.url });
      await writer.connect();
      try {
        await writer.query("DELETE FROM django_migrations WHERE id = (SELECT max(id) FROM django_migrations WHERE app = 'store')");
      } finally {
        await writer.end();
      }
      await new PgBackupDriver(cfg.embedded.pgBin, scratch).dump(behind);
    } finally {
      await scratch.drop();
    }
    try {
      await driver.restore(behind, driver.target, { clean: true });
      const verdict = await verifyRestored(probe, expected, migrateCheck(target));
      await attachVerdict(evidence, 'verdict on a restore whose migration record is behind', verdict);
      expect(verdict.migrateCheck?.exitCode, 'migrate --check exits 1').toBe(1);
      expect(verdict.problems.join('\n')).toMatch(/django_migrations: 1 rows removed \(ids \d+\)/);
      expect(verdict.problems.join('\n')).toMatch(/django_migrations: migrate --check exited 1: .*store\.0001_initial/);
    } finally {
      // put the good backup back: later tests get the store as it was
      await driver.restore(good, driver.target, { clean: true });
    }
    expect((await verifyRestored(probe, expected, migrateCheck(target))).problems, 'the good backup restored again').toEqual([]);
  });
});
