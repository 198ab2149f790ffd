/**
 * The backup driver against roles and URLs of a real PostgreSQL: a role without privileges gets one
 * line saying what it needs, and the URL's parameters (sslmode ...) reach pg_dump. A stack of its
 * own: the run's target may be external.
 */
import fs from 'node:fs';
import path from 'node:path';
import { expect, test } from './support/test';
import pg from 'pg';
import { BackupPrivilegeError, PgBackupDriver, WrongDatabaseReached, libpqConnection } from '../../helpers/backup/backup-driver';
import { loadConfig, readEnv } from '../../helpers/config';
import { clientTooOld, toolMajor } from '../../helpers/config/pg-servers';
import { CommandError } from '../../helpers/stack/command';
import { EmbeddedStack } from '../../helpers/stack/embedded-stack';

test.describe('backup roles and URLs', { tag: '@self' }, () => {
  test.setTimeout(90_000);
  const cfg = loadConfig({ ...readEnv(), STACK_NAME: `self-backup-roles-${process.env.TEST_PARALLEL_INDEX ?? 0}`, TARGET: 'embedded' });
  // PG_VERSION above the client's major: pg_dump refuses the server, and the skip says which client it needs
  const tooOld = clientTooOld(cfg.embedded.pgClientBin, toolMajor(cfg.embedded.pgBin, 'postgres'));
  test.skip(tooOld !== undefined, tooOld ?? '');
  let stack: EmbeddedStack | undefined;
  test.beforeAll(async () => {
    stack = await EmbeddedStack.up(cfg, { pid: process.pid, kind: 'helper-test' });
  });
  test.afterAll(async () => {
    await stack?.down();
  });
  // a dump holds password hashes: none outlives its test
  test.afterEach(() => {
    const dir = test.info().outputDir;
    if (fs.existsSync(dir)) for (const f of fs.readdirSync(dir)) if (f.endsWith('.dump')) fs.rmSync(path.join(dir, f), { force: true });
  });

  test('should say in one line what a backup role without privileges needs', async () => {
    const s = stack!;
    const admin = new pg.Client({ connectionString: s.cluster.url('postgres', s.state.postgres.superPassword, 'store') });
    await admin.connect();
    try {
      await admin.query("CREATE ROLE nosy LOGIN PASSWORD 'nosy-pw'");
    } finally {
      await admin.end();
    }
    const url = s.cluster.url('nosy', 'nosy-pw', 'store');
    const driver = new PgBackupDriver({ clientBin: cfg.embedded.pgClientBin, label: 'store', dumpUrl: url, disposable: false });
    const error = await driver.dump(test.info().outputPath('denied.dump')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BackupPrivilegeError);
    const message = (error as Error).message;
    expect(message).toMatch(
      /^pg_dump as role "nosy" was refused on (table|sequence|schema) \S+: the backup role needs SELECT on every table and sequence/,
    );
    expect(message).toContain('pg_read_all_data');
    expect(message.split('\n'), 'one line').toHaveLength(1);
    expect(message, 'the password is not in the message').not.toContain('nosy-pw');
  });

  test('should hand the whole URL to pg_dump, sslmode included, and the password only in PGPASSWORD', async () => {
    const s = stack!;
    const url = `${s.databaseUrl}?sslmode=require&application_name=sr-backup`;
    const c = libpqConnection(url);
    expect(c.dbname, 'no password in argv').not.toContain(s.state.postgres.password);
    expect(c.dbname).toContain('sslmode=require');
    expect(c.env.PGPASSWORD).toBe(s.state.postgres.password);
    // the private cluster has no TLS: pg_dump failing for that proves sslmode reached it
    const driver = new PgBackupDriver({ clientBin: cfg.embedded.pgClientBin, label: 'store', dumpUrl: url, disposable: false });
    const error = await driver.dump(test.info().outputPath('tls.dump')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CommandError);
    expect((error as Error).message).toMatch(/SSL/i);
    const plain = new PgBackupDriver({
      clientBin: cfg.embedded.pgClientBin,
      label: 'store',
      dumpUrl: `${s.databaseUrl}?sslmode=disable`,
      disposable: false,
    });
    const record = await plain.dump(test.info().outputPath('plain.dump'));
    expect(record.exitCode).toBe(0);
    expect(record.command, 'the recorded command line holds no password').not.toContain(s.state.postgres.password);
  });
  test('should refuse, before pg_restore runs, a restore URL that reaches another database than the opt-in names', async () => {
    const s = stack!;
    const pw = s.state.postgres.password;
    const file = test.info().outputPath('store.dump');
    await new PgBackupDriver({ clientBin: cfg.embedded.pgClientBin, label: 'store', dumpUrl: s.databaseUrl, disposable: false }).dump(file);
    const tablesOf = async (db: string) => {
      const c = new pg.Client({ connectionString: s.cluster.url('postgres', s.state.postgres.superPassword, db) });
      await c.connect();
      try {
        return (await c.query<{ n: string }>("SELECT count(*) AS n FROM pg_tables WHERE schemaname = 'public'")).rows[0]!.n;
      } finally {
        await c.end();
      }
    };
    const before = await tablesOf('postgres');
    const into = (restoreUrl: string) =>
      new PgBackupDriver({
        clientBin: cfg.embedded.pgClientBin,
        label: 'the opted-in database',
        dumpUrl: s.databaseUrl,
        restoreUrl,
        adminUrl: restoreUrl,
        disposable: true,
        mustReach: { database: 'store', readOnlyUrl: s.databaseUrl },
      });
    // the URL names another database outright (as a config bypass would leave it), or through ?dbname=
    for (const [url, reason] of [
      [
        s.cluster.url('store', pw, 'postgres'),
        /reaches database "postgres" \(oid \d+\) of the server at 127\.0\.0\.1:\d+.*opt-in names "store"/,
      ],
      [`${s.databaseUrl}?dbname=postgres`, /\?dbname= would make libpq reach another server or database/],
      [`${s.databaseUrl}?host=10.0.0.9&port=6543`, /\?host=, \?port= would make libpq reach another/],
    ] as const) {
      const driver = into(url);
      const error = await driver.restore(file, driver.target, { clean: true }).catch((e: unknown) => e);
      expect(error, url.replace(pw, '***')).toBeInstanceOf(WrongDatabaseReached);
      expect((error as Error).message).toMatch(reason);
      expect((error as Error).message).toMatch(/Nothing was changed\.$/);
      await expect(driver.createScratch(), 'no scratch database either').rejects.toThrow(WrongDatabaseReached);
    }
    expect(await tablesOf('postgres'), 'the other database was not touched').toBe(before);
    // the database the opt-in names, reached as named: allowed
    const right = into(s.databaseUrl);
    await expect(right.verifyReaches(s.databaseUrl, 'restore')).resolves.toMatchObject({ database: 'store' });
  });
});
