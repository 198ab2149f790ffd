/**
 * Backup and restore of the store's database. The driver decides HOW (pg_dump/pg_restore from
 * PG_BIN over TCP here; a `command` or docker-compose driver would run the user's own commands);
 * the safety rule is the same for all: a restore that cleans the target runs only against a
 * database marked disposable, and a dump is first restored into a scratch database and verified.
 *
 * Over 250 lines: the whole safety rule of a destructive restore in one place (what the URL reaches, the
 * opt-in, the scratch database, then the target), so that no step of it can be skipped from outside.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import pg from 'pg';
import { libpqEnv, targetProblems } from '../config/pg-url';
import { CommandError, runCommand, type CommandRecord } from '../stack/command';

export interface DumpOptions {
  /** pg_dump -T: leave these tables out (a broken backup, for the checker's own tests) */
  readonly excludeTables?: readonly string[];
}

export interface RestoreOptions {
  /** --clean --if-exists: drop what the dump holds first (destructive: disposable targets only) */
  readonly clean: boolean;
  /** --exit-on-error (default): pg_restore otherwise ignores errors and exits 0 */
  readonly exitOnError?: boolean;
  /** --single-transaction (default): a failed restore leaves the database as it was */
  readonly singleTransaction?: boolean;
}

/** A database the driver can restore into. */
export interface RestoreTarget {
  readonly label: string;
  readonly url: string;
  readonly disposable: boolean;
}

/** A scratch database: created for one verification, dropped after. */
export interface ScratchDatabase extends RestoreTarget {
  /** runs SQL in the scratch database (as its owner): to make a broken copy on purpose */
  execute(sql: string): Promise<void>;
  drop(): Promise<void>;
}

/** One short-lived connection: fn runs on it, and it is closed whatever fn does. */
async function withClient<T>(connectionString: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString, connectionTimeoutMillis: 10_000 });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

export interface BackupDriver {
  readonly name: string;
  /** the database under test */
  readonly target: RestoreTarget;
  dump(file: string, opts?: DumpOptions): Promise<CommandRecord>;
  restore(file: string, into: RestoreTarget, opts: RestoreOptions): Promise<CommandRecord>;
  createScratch(): Promise<ScratchDatabase>;
}

/** Thrown before anything runs when a destructive restore targets a database not marked disposable. */
export class DestructiveRestoreRefused extends Error {
  constructor(target: RestoreTarget, what = 'restore with --clean into') {
    super(
      `refusing to ${what} ${target.label}: it is not marked disposable. ` +
        'The embedded database always is; for an external one set ALLOW_DESTRUCTIVE_RESTORE_OF=<host:port/database> (and RESTORE_DATABASE_URL) ' +
        'if, and only if, losing everything in it is acceptable. Nothing was changed.',
    );
    this.name = 'DestructiveRestoreRefused';
  }
}

/** pg_dump could not read something: names what the backup role needs, in one line. */
export class BackupPrivilegeError extends Error {
  constructor(role: string, object: string, cause: CommandError) {
    super(
      `pg_dump as role "${role}" was refused ${object}: the backup role needs SELECT on every table and sequence of the store's schema ` +
        `(GRANT SELECT ON ALL TABLES IN SCHEMA public TO "${role}"; GRANT SELECT ON ALL SEQUENCES IN SCHEMA public TO "${role}") ` +
        `or membership in pg_read_all_data (PostgreSQL 14+). Set BACKUP_DATABASE_URL to such a role. [${cause.record.command} exit ${cause.record.exitCode}]`,
    );
    this.name = 'BackupPrivilegeError';
  }
}

/** Thrown before anything runs when the database a URL reaches is not the one the opt-in names. */
export class WrongDatabaseReached extends Error {
  constructor(what: string, detail: string) {
    super(`refusing to ${what}: ${detail}. Nothing was changed.`);
    this.name = 'WrongDatabaseReached';
  }
}

/** Who a connection reached: the database (name and oid) and the server instance (start time, address). */
export interface ReachedDatabase {
  readonly database: string;
  readonly oid: string;
  readonly serverStarted: string;
  readonly address: string;
}

/** Connects with a URL and asks the server what it reached; nothing is written. */
export async function reachedBy(url: string): Promise<ReachedDatabase> {
  return withClient(url, async (c) => {
    const { rows } = await c.query<{ db: string; oid: string; started: string; addr: string | null; port: number | null }>(
      `SELECT current_database() AS db, (SELECT oid::text FROM pg_database WHERE datname = current_database()) AS oid,
              pg_postmaster_start_time()::text AS started, host(inet_server_addr()) AS addr, inet_server_port() AS port`,
    );
    const r = rows[0]!;
    return { database: r.db, oid: r.oid, serverStarted: r.started, address: r.addr === null ? 'a local socket' : `${r.addr}:${r.port}` };
  });
}

const describeReached = (r: ReachedDatabase) =>
  `database "${r.database}" (oid ${r.oid}) of the server at ${r.address} started ${r.serverStarted}`;

/** Refuses a destructive restore into a target that is not disposable (call before touching anything). */
export function assertRestoreAllowed(into: RestoreTarget, opts: RestoreOptions): void {
  if (!into.disposable) throw new DestructiveRestoreRefused(into, opts.clean ? 'restore with --clean into' : 'restore into');
}

/**
 * libpq connection for a URL: the whole URL (sslmode and every other parameter kept) without its
 * password, which goes in PGPASSWORD instead of argv.
 */
export function libpqConnection(url: string): { dbname: string; env: Record<string, string>; database: string; role: string } {
  const u = new URL(url);
  const password = decodeURIComponent(u.password);
  u.password = '';
  return {
    dbname: u.toString(),
    // the whole environment: no PG* variable of this process may change what the URL reaches
    env: libpqEnv(process.env, { ...(password ? { PGPASSWORD: password } : {}), PGCONNECT_TIMEOUT: '10' }),
    database: decodeURIComponent(u.pathname.replace(/^\//, '')),
    role: decodeURIComponent(u.username),
  };
}

export interface PgBackupOptions {
  /** the folder of pg_dump and pg_restore (PG_CLIENT_BIN) */
  readonly clientBin: string;
  /** for messages: "the external database store on db.example:5432" */
  readonly label: string;
  /** the role pg_dump connects as */
  readonly dumpUrl: string;
  /** the role that restores; only for a disposable database */
  readonly restoreUrl?: string;
  /** a role that may CREATE DATABASE for scratch databases; only for a disposable database */
  readonly adminUrl?: string;
  readonly disposable: boolean;
  readonly timeoutMs?: number;
  /**
   * what a destructive step must reach, checked on the server before anything is written: the
   * database the opt-in names, the very one the read-only URL reaches (same oid, same server start)
   */
  readonly mustReach?: { readonly database: string; readonly readOnlyUrl: string };
}

/** pg_dump -Fc and pg_restore from a PostgreSQL bin folder, over TCP. */
export class PgBackupDriver implements BackupDriver {
  readonly name = 'pg_dump/pg_restore';
  readonly target: RestoreTarget;
  private readonly timeoutMs: number;

  constructor(private readonly o: PgBackupOptions) {
    this.target = { label: o.label, url: o.restoreUrl ?? o.dumpUrl, disposable: o.disposable && o.restoreUrl !== undefined };
    this.timeoutMs = o.timeoutMs ?? 300_000;
  }

  async dump(file: string, opts: DumpOptions = {}): Promise<CommandRecord> {
    const c = libpqConnection(this.o.dumpUrl);
    const args = ['-Fc', '-f', file, `--dbname=${c.dbname}`];
    for (const t of opts.excludeTables ?? []) args.push(`--exclude-table=${t}`);
    try {
      return await runCommand(`${this.o.clientBin}/pg_dump`, args, { env: c.env, replaceEnv: true, timeoutMs: this.timeoutMs });
    } catch (error) {
      const denied =
        error instanceof CommandError &&
        /permission denied for (table|sequence|schema|relation|database) ("?[\w.]+"?)/i.exec(error.record.stderr);
      if (denied) throw new BackupPrivilegeError(c.role, `on ${denied[1]} ${denied[2]}`, error);
      throw error;
    }
  }

  /**
   * Refuses, before anything is written, a URL that reaches another database than the one the opt-in
   * names: its name must be that exactly, and it must be the database (oid) of the server instance
   * (start time) that the read-only URL reaches.
   */
  async verifyReaches(url: string, what: string): Promise<ReachedDatabase> {
    // what libpq would do with the URL first: an override or a PG* variable would send pg_restore elsewhere
    const problems = targetProblems('the URL', url, process.env);
    if (problems.length) throw new WrongDatabaseReached(what, problems.join('; '));
    const got = await reachedBy(url);
    const must = this.o.mustReach;
    if (!must) return got;
    if (got.database !== must.database)
      throw new WrongDatabaseReached(what, `the URL reaches ${describeReached(got)}, and the opt-in names "${must.database}"`);
    const expected = await reachedBy(must.readOnlyUrl);
    if (got.oid !== expected.oid || got.serverStarted !== expected.serverStarted)
      throw new WrongDatabaseReached(
        what,
        `the URL reaches ${describeReached(got)}, and DATABASE_URL (the database the opt-in names) reaches ${describeReached(expected)}`,
      );
    return got;
  }

  async restore(file: string, into: RestoreTarget, opts: RestoreOptions): Promise<CommandRecord> {
    assertRestoreAllowed(into, opts);
    if (!fs.existsSync(file)) throw new Error(`no dump at ${file}`);
    // the database under test: checked on the server; a scratch database: it must be that scratch database
    if (into.url === this.target.url) await this.verifyReaches(into.url, `restore into ${into.label}`);
    else {
      const got = await reachedBy(into.url);
      const named = libpqConnection(into.url).database;
      if (got.database !== named) throw new WrongDatabaseReached(`restore into ${into.label}`, `the URL reaches ${describeReached(got)}`);
    }
    const c = libpqConnection(into.url);
    const args = [`--dbname=${c.dbname}`];
    if (opts.clean) args.push('--clean', '--if-exists');
    if (opts.exitOnError ?? true) args.push('--exit-on-error');
    if (opts.singleTransaction ?? true) args.push('--single-transaction');
    args.push(file);
    return runCommand(`${this.o.clientBin}/pg_restore`, args, { env: c.env, replaceEnv: true, timeoutMs: this.timeoutMs });
  }

  async createScratch(): Promise<ScratchDatabase> {
    const adminUrl = this.o.adminUrl;
    if (!this.target.disposable || !adminUrl) throw new DestructiveRestoreRefused(this.target, 'create a scratch database next to');
    // the scratch database goes on the server under test (the restore role's own database on it)
    await this.verifyReaches(this.target.url, `create a scratch database next to ${this.target.label}`);
    const admin = await reachedBy(adminUrl);
    const under = await reachedBy(this.target.url);
    if (admin.serverStarted !== under.serverStarted || admin.address !== under.address)
      throw new WrongDatabaseReached('create a scratch database', `the admin URL reaches another server (${describeReached(admin)})`);
    const owner = decodeURIComponent(new URL(this.target.url).username);
    const name = `${libpqConnection(this.target.url).database}_scratch_${randomBytes(4).toString('hex')}`;
    await withClient(adminUrl, (admin) => admin.query(`CREATE DATABASE "${name}" OWNER "${owner.replace(/"/g, '""')}"`));
    const url = new URL(this.target.url);
    url.pathname = `/${name}`;
    return {
      label: `scratch database ${name}`,
      url: url.toString(),
      disposable: true,
      execute: async (sql) => {
        await withClient(url.toString(), (c) => c.query(sql));
      },
      drop: async () => {
        await withClient(adminUrl, (a) => a.query(`DROP DATABASE IF EXISTS "${name}"`));
      },
    };
  }
}
