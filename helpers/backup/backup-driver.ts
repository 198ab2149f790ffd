/**
 * Backup and restore of the store's database. The driver decides HOW (pg_dump/pg_restore from
 * PG_BIN over TCP here; a `command` or docker-compose driver would run the user's own commands);
 * the safety rule is the same for all: a restore that cleans the target runs only against a
 * database marked disposable, and a dump is first restored into a scratch database and verified.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import pg from 'pg';
import { runCommand, type CommandRecord } from '../stack/command';

export interface DumpOptions {
  /** pg_dump -T: leave these tables out (a broken backup, for the checker's own tests) */
  readonly excludeTables?: readonly string[];
  /** pg_dump --exclude-table-data: keep the table, leave its rows out */
  readonly excludeTableData?: readonly string[];
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
  drop(): Promise<void>;
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
  constructor(target: RestoreTarget) {
    super(
      `refusing to restore with --clean into ${target.label}: it is not marked disposable. ` +
        'The embedded database always is; for an external one set ALLOW_DESTRUCTIVE_RESTORE_OF=<its database name> ' +
        'if, and only if, losing everything in it is acceptable. Nothing was changed.',
    );
    this.name = 'DestructiveRestoreRefused';
  }
}

/** Refuses a destructive restore into a target that is not disposable (call before touching anything). */
export function assertRestoreAllowed(into: RestoreTarget, opts: RestoreOptions): void {
  if (opts.clean && !into.disposable) throw new DestructiveRestoreRefused(into);
}

/** libpq connection arguments and environment for a URL (the password goes in PGPASSWORD, not argv). */
function connection(url: string): { args: string[]; env: Record<string, string>; database: string } {
  const u = new URL(url);
  const database = decodeURIComponent(u.pathname.replace(/^\//, ''));
  return {
    args: ['-h', u.hostname, '-p', u.port || '5432', '-U', decodeURIComponent(u.username)],
    env: { PGPASSWORD: decodeURIComponent(u.password), PGCONNECT_TIMEOUT: '10' },
    database,
  };
}

/** pg_dump -Fc and pg_restore from a PostgreSQL bin folder, over TCP. */
export class PgBackupDriver implements BackupDriver {
  readonly name = 'pg_dump/pg_restore';

  constructor(
    private readonly pgBin: string,
    readonly target: RestoreTarget,
    /** a role that may CREATE DATABASE (the embedded superuser); defaults to the target's own */
    private readonly adminUrl: string = target.url,
    private readonly timeoutMs = 300_000,
  ) {}

  async dump(file: string, opts: DumpOptions = {}): Promise<CommandRecord> {
    const c = connection(this.target.url);
    const args = ['-Fc', '-f', file, ...c.args, '-d', c.database];
    for (const t of opts.excludeTables ?? []) args.push(`--exclude-table=${t}`);
    for (const t of opts.excludeTableData ?? []) args.push(`--exclude-table-data=${t}`);
    return runCommand(`${this.pgBin}/pg_dump`, args, { env: c.env, timeoutMs: this.timeoutMs, secrets: [c.env.PGPASSWORD ?? ''] });
  }

  async restore(file: string, into: RestoreTarget, opts: RestoreOptions): Promise<CommandRecord> {
    assertRestoreAllowed(into, opts);
    if (!fs.existsSync(file)) throw new Error(`no dump at ${file}`);
    const c = connection(into.url);
    const args = [...c.args, '-d', c.database];
    if (opts.clean) args.push('--clean', '--if-exists');
    if (opts.exitOnError ?? true) args.push('--exit-on-error');
    if (opts.singleTransaction ?? true) args.push('--single-transaction');
    args.push(file);
    return runCommand(`${this.pgBin}/pg_restore`, args, { env: c.env, timeoutMs: this.timeoutMs, secrets: [c.env.PGPASSWORD ?? ''] });
  }

  async createScratch(): Promise<ScratchDatabase> {
    const owner = decodeURIComponent(new URL(this.target.url).username);
    const name = `${connection(this.target.url).database}_scratch_${randomBytes(4).toString('hex')}`;
    const admin = new pg.Client({ connectionString: this.adminUrl, connectionTimeoutMillis: 10_000 });
    await admin.connect();
    try {
      await admin.query(`CREATE DATABASE "${name}" OWNER "${owner.replace(/"/g, '""')}"`);
    } finally {
      await admin.end();
    }
    const url = new URL(this.target.url);
    url.pathname = `/${name}`;
    return {
      label: `scratch database ${name}`,
      url: url.toString(),
      disposable: true,
      drop: async () => {
        const a = new pg.Client({ connectionString: this.adminUrl, connectionTimeoutMillis: 10_000 });
        await a.connect();
        try {
          await a.query(`DROP DATABASE IF EXISTS "${name}"`);
        } finally {
          await a.end();
        }
      },
    };
  }
}
