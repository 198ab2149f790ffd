/**
 * The restore checker of the backup family must be able to go red: a dump missing a table, a
 * restore without --clean, a migration record that is behind; each named by table and rows.
 */
import fs from 'node:fs';
import path from 'node:path';
import { PgBackupDriver } from '../helpers/backup/backup-driver';
import { verifyRestored } from '../helpers/backup/verify';
import { DbProbe } from '../helpers/integrity/db-probe';
import { takeSnapshot } from '../helpers/integrity/snapshot';
import { CommandError } from '../helpers/stack/command';
import { attachVerdict, needDisposable, scratchCheck } from './support/backup';
import { makeChanges } from './support/restore-consistency';
import { expect, need, needUser, requireDb, test } from './fixtures';

// a dump holds password hashes and personal data: none outlives its test
test.afterEach(() => {
  const dir = test.info().outputDir;
  if (!fs.existsSync(dir)) return;
  for (const f of fs.readdirSync(dir)) if (f.endsWith('.dump')) fs.rmSync(path.join(dir, f), { force: true });
});

test.describe('the restore checker goes red', { tag: '@backup' }, () => {
  test('should name the table a dump left out', async ({ target, evidence, db }) => {
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

  test('should name the rows a restore without --clean leaves behind', async ({ api, apiAs, target, evidence, db }) => {
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
      expect(text).toContain(`store_orderrequest: 2 rows added (ids ${changes.orders.map((o) => o.id).join(', ')})`);
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

  test('should fail migrate --check when the restored migration record is behind', async ({ target, cfg, evidence, db }) => {
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
      await new PgBackupDriver({
        clientBin: cfg.embedded.pgClientBin,
        label: scratch.label,
        dumpUrl: scratch.url,
        disposable: false,
      }).dump(behind);
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
