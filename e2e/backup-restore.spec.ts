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
import { DestructiveRestoreRefused } from '../helpers/backup/backup-driver';
import { loadConfig, readEnv } from '../helpers/config';
import { compareSnapshots, takeSnapshot } from '../helpers/integrity/snapshot';
import { CommandError } from '../helpers/stack/command';
import { externalTarget } from '../helpers/targets/external-target';
import { needDisposable, test } from './support/backup';
import { expect, need, requireDb } from './fixtures';

// a dump holds password hashes and personal data: none outlives its test
test.afterEach(() => {
  const dir = test.info().outputDir;
  if (!fs.existsSync(dir)) return;
  for (const f of fs.readdirSync(dir)) if (f.endsWith('.dump')) fs.rmSync(path.join(dir, f), { force: true });
});

/** Orders added before the bulk backup: enough that a restore which drops or duplicates rows shows at scale. */
const BULK_ORDERS = 5_000;
/** seeding, two restores and two full verifications of 5000 orders (about 10 s here) with room for a slow machine */
const BULK_TEST_TIMEOUT_MS = 180_000;

test.describe('backup and restore', { tag: '@backup' }, () => {
  test('should restore exactly the backup with the store running, and show it through the API before and after a restart', async ({
    backupAndRestore,
  }) => {
    await backupAndRestore({ storeStopped: false, scenario: 'backup/restore, store running', restartAfter: true });
  });

  test('should restore exactly the backup with the store stopped', async ({ backupAndRestore }) => {
    await backupAndRestore({ storeStopped: true, scenario: 'backup/restore, store stopped' });
  });

  test('should restore thousands of orders exactly', async ({ backupAndRestore }) => {
    test.setTimeout(BULK_TEST_TIMEOUT_MS);
    await backupAndRestore({ storeStopped: false, scenario: 'backup/restore, +5000 orders', bulkOrders: BULK_ORDERS, apiChecks: false });
  });

  test('should stop at a truncated dump in the scratch database and leave the target as it was', async ({ target, evidence, db }) => {
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

  test('should refuse to write into a database not marked disposable, before anything runs', async ({ target, cfg, db, evidence }) => {
    const probe = requireDb(db);
    // this target's own backup first: a pg_dump older than its server skips here, naming the client
    need(target.backup);
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
