/**
 * The runbook's third section, automated and made rigorous: pg_dump -Fc, changes, pg_restore
 * --clean --if-exists, then migrate --check, the health checks, and proof that every critical
 * table (users, orders, lines, products, brands, pickup points, migrations) equals the backup.
 * A dump is first restored into a scratch database and verified there; anything that writes to
 * the database (restores, scratch databases, bulk data) runs only against one marked disposable,
 * and every dump is deleted after its test (it holds password hashes and personal data).
 */
import fs from 'node:fs';
import path from 'node:path';
import { RUNBOOK_ORDER, newIdempotencyKey } from '../helpers/api/payloads';
import { itemsOf, type StoreApi } from '../helpers/api/store-api';
import { DestructiveRestoreRefused, PgBackupDriver, type BackupDriver } from '../helpers/backup/backup-driver';
import { seedBulkOrders } from '../helpers/backup/bulk-data';
import { verifyRestored, type RestoreVerdict } from '../helpers/backup/verify';
import { loadConfig, readEnv, type Config } from '../helpers/config';
import { DbProbe } from '../helpers/integrity/db-probe';
import { compareSnapshots, snapshotSummary, takeSnapshot } from '../helpers/integrity/snapshot';
import { phase, type Evidence } from '../helpers/report/evidence';
import { CommandError } from '../helpers/stack/command';
import type { MigrateCheck, Target } from '../helpers/target';
import { externalTarget } from '../helpers/targets/external-target';
import { shown } from '../helpers/report/redact';
import { expect, need, needUser, requireDb, test, type Faults, type UserIdentity, type Who } from './fixtures';

const ORDER_SEQ = 'store_orderrequest_id_seq';

// a dump holds password hashes and personal data: none outlives its test
test.afterEach(() => {
  const dir = test.info().outputDir;
  if (!fs.existsSync(dir)) return;
  for (const f of fs.readdirSync(dir)) if (f.endsWith('.dump')) fs.rmSync(path.join(dir, f), { force: true });
});

/** The backup driver of a disposable database: restores and scratch databases need one. */
function needDisposable(target: Target): { driver: BackupDriver; writableUrl: string } {
  const writableUrl = need(target.disposableDatabaseUrl);
  const driver = need(target.backup);
  expect(driver.target.disposable, 'the backup driver of a disposable database restores into it').toBe(true);
  return { driver, writableUrl };
}

/** migrate --check of a scratch database, when the target's command can check another database. */
function scratchCheck(check: MigrateCheck, url: string): (() => Promise<import('../helpers/stack/command').CommandRecord>) | undefined {
  return check.anyDatabase ? () => check.run(url) : undefined;
}

/** The runbook's health checks after a restore: products, order-requests with the token, brands. */
async function expectHealthy(api: StoreApi, anonApi: StoreApi): Promise<void> {
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
async function makeChanges(api: StoreApi, staff: StoreApi) {
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

async function attachVerdict(evidence: Evidence, name: string, v: RestoreVerdict): Promise<void> {
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
  const file = test.info().outputPath('backup.dump');
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

test.describe('backup and restore @backup', () => {
  test('should restore exactly the backup with the store running @backup', async ({
    api,
    anonApi,
    apiAs,
    userOf,
    target,
    cfg,
    evidence,
    db,
    faults,
  }) => {
    await backupAndRestore(
      { api, anonApi, apiAs, userOf, target, cfg, evidence, db, faults },
      { storeStopped: false, scenario: 'backup/restore, store running' },
    );
  });

  test('should restore exactly the backup with the store stopped @backup', async ({
    api,
    anonApi,
    apiAs,
    userOf,
    target,
    cfg,
    evidence,
    db,
    faults,
  }) => {
    await backupAndRestore(
      { api, anonApi, apiAs, userOf, target, cfg, evidence, db, faults },
      { storeStopped: true, scenario: 'backup/restore, store stopped' },
    );
  });

  test('should restore thousands of orders exactly @backup', async ({ api, anonApi, apiAs, userOf, target, cfg, evidence, db, faults }) => {
    test.setTimeout(180_000);
    await backupAndRestore(
      { api, anonApi, apiAs, userOf, target, cfg, evidence, db, faults },
      { storeStopped: false, scenario: 'backup/restore, +5000 orders', bulkOrders: 5_000 },
    );
  });

  test('should stop at a truncated dump in the scratch database and leave the target as it was @backup', async ({
    target,
    evidence,
    db,
  }) => {
    const probe = requireDb(db);
    const { driver } = needDisposable(target);
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
    expect((failure as CommandError).message, 'pg_restore says why').toMatch(
      /pg_restore .*failed \(exit 1\).*(could not read|unexpected end|did not find magic|input file|corrupt)/is,
    );
    const after = await takeSnapshot(probe);
    expect(compareSnapshots(before, after).equal, 'the target was not touched').toBe(true);
  });

  test('should refuse to write into a database not marked disposable, before anything runs @backup', async ({
    target,
    cfg,
    db,
    evidence,
  }) => {
    const probe = requireDb(db);
    const url = target.databaseUrl!;
    const u = new URL(url);
    const here = `${u.hostname}:${u.port || 5432}${u.pathname}`;
    // this target's database described as an external one, without the opt-in
    const base = { ...readEnv(), TARGET: 'external', BASE_URL: target.baseUrl, JWT_TOKEN: 'a.b.c', DATABASE_URL: url };
    for (const k of Object.keys(base))
      if (/^STORE_FLAWS$|^(DB|APP)_|^ALLOW_DESTRUCTIVE|^RESTORE_DATABASE_URL$|^TOXIPROXY_|^COMPOSE_|^KUBE_/.test(k))
        delete (base as Record<string, string | undefined>)[k];
    const plain = externalTarget(loadConfig(base, { checkFiles: false }).external!, cfg);
    const driver = need(plain.backup);
    expect(driver.target.disposable, 'a database without the opt-in is not disposable').toBe(false);
    expect(plain.disposableDatabaseUrl.ok, 'nothing may be written to it').toBe(false);
    const file = test.info().outputPath('backup.dump');
    await driver.dump(file);
    const before = await takeSnapshot(probe);
    for (const clean of [true, false]) {
      await expect(
        driver.restore(file, driver.target, { clean }),
        `a restore ${clean ? 'with' : 'without'} --clean is refused before anything runs`,
      ).rejects.toThrow(DestructiveRestoreRefused);
    }
    await expect(driver.restore(file, driver.target, { clean: true })).rejects.toThrow(
      /not marked disposable.*ALLOW_DESTRUCTIVE_RESTORE_OF.*Nothing was changed/s,
    );
    await expect(driver.createScratch(), 'no scratch database next to it either').rejects.toThrow(DestructiveRestoreRefused);
    expect(compareSnapshots(before, await takeSnapshot(probe)).equal, 'nothing changed').toBe(true);
    // the opt-in names host, port and database: the database name alone, or another host, is a configuration error
    const problems = (env: Record<string, string>) => {
      try {
        loadConfig({ ...base, ...env }, { checkFiles: false });
        return '';
      } catch (error) {
        return (error as Error).message;
      }
    };
    const database = decodeURIComponent(u.pathname.slice(1));
    await evidence.text('opt-in checks', `this database: ${here}`);
    expect(problems({ ALLOW_DESTRUCTIVE_RESTORE_OF: database, RESTORE_DATABASE_URL: url })).toMatch(
      /ALLOW_DESTRUCTIVE_RESTORE_OF: names the database .* as host:port\/database/,
    );
    expect(
      problems({ ALLOW_DESTRUCTIVE_RESTORE_OF: `db.production.example:${u.port || 5432}/${database}`, RESTORE_DATABASE_URL: url }),
    ).toMatch(/ALLOW_DESTRUCTIVE_RESTORE_OF: must equal DATABASE_URL's host:port\/database/);
    expect(problems({ ALLOW_DESTRUCTIVE_RESTORE_OF: decodeURIComponent(here) }), 'the opt-in needs the role that restores').toMatch(
      /RESTORE_DATABASE_URL: required/,
    );
    expect(
      problems({ ALLOW_DESTRUCTIVE_RESTORE_OF: decodeURIComponent(here), RESTORE_DATABASE_URL: url }),
      'with the opt-in naming it, the configuration is valid',
    ).toBe('');
    const optedIn = externalTarget(
      loadConfig({ ...base, ALLOW_DESTRUCTIVE_RESTORE_OF: decodeURIComponent(here), RESTORE_DATABASE_URL: url }, { checkFiles: false })
        .external!,
      cfg,
    );
    expect(need(optedIn.backup).target.disposable, 'and the database is disposable').toBe(true);
  });
});

test.describe('the restore checker goes red @backup', () => {
  test('should name the table a dump left out @backup', async ({ target, evidence, db }) => {
    const probe = requireDb(db);
    const { driver } = needDisposable(target);
    const check = target.migrateCheck.ok ? target.migrateCheck.value : undefined;
    const expected = await takeSnapshot(probe);
    const file = test.info().outputPath('without-lines.dump');
    await driver.dump(file, { excludeTables: ['store_orderline'] });
    const scratch = await driver.createScratch();
    try {
      await driver.restore(file, scratch, { clean: false });
      const scratchProbe = new DbProbe(scratch.url);
      try {
        const verdict = await verifyRestored(scratchProbe, expected, check && scratchCheck(check, scratch.url));
        await attachVerdict(evidence, 'verdict on a dump without store_orderline', verdict);
        expect(verdict.problems.join('\n')).toMatch(/store_orderline: missing after the restore \(\d+ rows at backup time: ids /);
      } finally {
        await scratchProbe.close();
      }
    } finally {
      await scratch.drop();
    }
  });

  test('should name the rows a restore without --clean leaves behind @backup', async ({ api, apiAs, target, evidence, db }) => {
    const probe = requireDb(db);
    const { driver } = needDisposable(target);
    needUser(target, 'staff');
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
      expect(text).toMatch(
        /store_orderrequest: sequence store_orderrequest_id_seq is at \d+ but the table holds id \d+: the next insert collides/,
      );
    } finally {
      // put the backup back properly: later tests get a store whose next order does not collide
      await driver.restore(file, driver.target, { clean: true });
    }
    expect((await verifyRestored(probe, expected)).problems, 'the backup restored again with --clean').toEqual([]);
  });

  test('should fail migrate --check when the restored migration record is behind @backup', async ({ target, cfg, evidence, db }) => {
    const probe = requireDb(db);
    const { driver } = needDisposable(target);
    const check = need(target.migrateCheck);
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
      await new PgBackupDriver({ pgBin: cfg.embedded.pgBin, label: scratch.label, dumpUrl: scratch.url, disposable: false }).dump(behind);
    } finally {
      await scratch.drop();
    }
    try {
      await driver.restore(behind, driver.target, { clean: true });
      const verdict = await verifyRestored(probe, expected, () => check.run());
      await attachVerdict(evidence, 'verdict on a restore whose migration record is behind', verdict);
      expect(verdict.migrateCheck?.exitCode, 'migrate --check exits 1').toBe(1);
      expect(verdict.problems.join('\n')).toMatch(/django_migrations: 1 rows removed \(ids \d+\)/);
      expect(verdict.problems.join('\n')).toMatch(/django_migrations: migrate --check exited 1/);
    } finally {
      // put the good backup back: later tests get the store as it was
      await driver.restore(good, driver.target, { clean: true });
    }
    expect((await verifyRestored(probe, expected, () => check.run())).problems, 'the good backup restored again').toEqual([]);
  });
});
