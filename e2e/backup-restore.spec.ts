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
import { DestructiveRestoreRefused, PgBackupDriver } from '../helpers/backup/backup-driver';
import { verifyRestored } from '../helpers/backup/verify';
import { loadConfig, readEnv } from '../helpers/config';
import { DbProbe } from '../helpers/integrity/db-probe';
import { compareSnapshots, takeSnapshot } from '../helpers/integrity/snapshot';
import { CommandError } from '../helpers/stack/command';
import { externalTarget } from '../helpers/targets/external-target';
import { attachVerdict, backupAndRestore, makeChanges, needDisposable, scratchCheck } from './support/backup';
import { expect, need, needUser, requireDb, test } from './fixtures';

// a dump holds password hashes and personal data: none outlives its test
test.afterEach(() => {
  const dir = test.info().outputDir;
  if (!fs.existsSync(dir)) return;
  for (const f of fs.readdirSync(dir)) if (f.endsWith('.dump')) fs.rmSync(path.join(dir, f), { force: true });
});

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
      await scratch.execute("DELETE FROM django_migrations WHERE id = (SELECT max(id) FROM django_migrations WHERE app = 'store')");
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
