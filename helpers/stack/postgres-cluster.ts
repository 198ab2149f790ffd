/** A private PostgreSQL cluster: own data and socket folders, 127.0.0.1 only, run as the postgres user. */
import { toolMajor } from '../config/pg-servers';
import fs from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { CommandRecord, runCommand } from './command';
import { argvHasMarker, argvOf, commandLine, isAlive, processState, readPidFile } from './processes';

export interface PostgresClusterOptions {
  /** folder owned by this cluster (data/, socket/, log/) */
  readonly dir: string;
  readonly pgBin: string;
  readonly port: number;
}

/** Database URL of a role on a cluster. */
export function postgresUrl(p: { user: string; password: string; port: number; database: string; host?: string }): string {
  return `postgres://${encodeURIComponent(p.user)}:${encodeURIComponent(p.password)}@${p.host ?? '127.0.0.1'}:${p.port}/${encodeURIComponent(p.database)}`;
}

/** Numeric uid/gid of the postgres user when we run as root (the server refuses root). */
function postgresOwner(): { uid: number; gid: number } | undefined {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return undefined;
  const line = fs
    .readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((l) => l.startsWith('postgres:'));
  if (!line) throw new Error('running as root needs a "postgres" user to run the server (install postgresql)');
  const [, , uid, gid] = line.split(':');
  return { uid: Number(uid), gid: Number(gid) };
}

/** The first line of the settings the suite appends to a cluster's postgresql.conf. */
const CONF_MARKER = '# store-resilience: a private cluster on loopback';

/** Runs initdb/pg_ctl for one private cluster and reports its state. */
export class PostgresCluster {
  readonly dataDir: string;
  readonly socketDir: string;
  readonly logFile: string;
  readonly port: number;

  constructor(private readonly opts: PostgresClusterOptions) {
    this.dataDir = path.join(opts.dir, 'data');
    this.socketDir = path.join(opts.dir, 'socket');
    this.logFile = path.join(opts.dir, 'log', 'postgres.log');
    this.port = opts.port;
  }

  private bin(name: string): string {
    return path.join(this.opts.pgBin, name);
  }

  /** initdb with scram auth on TCP, then our settings (port, 127.0.0.1, socket folder). */
  async init(superPassword: string): Promise<CommandRecord> {
    const owner = this.makeDirs();
    const pwfile = path.join(this.opts.dir, '.pwfile');
    fs.writeFileSync(pwfile, `${superPassword}\n`, { mode: 0o600 });
    if (owner) fs.chownSync(pwfile, owner.uid, owner.gid);
    try {
      const record = await runCommand(
        this.bin('initdb'),
        [
          '-D',
          this.dataDir,
          '-U',
          'postgres',
          `--pwfile=${pwfile}`,
          '--auth-local=peer',
          '--auth-host=scram-sha-256',
          '-E',
          'UTF8',
          '--locale=C',
          // a disposable cluster: no fsync of the new files (initdb's own option for tests)
          '--no-sync',
          // PostgreSQL 13's initdb has no --no-instructions (it prints them; nothing reads them)
          ...((toolMajor(this.opts.pgBin, 'initdb') ?? 99) >= 14 ? ['--no-instructions'] : []),
        ],
        { asPostgres: true, timeoutMs: 60_000 },
      );
      this.configure();
      return record;
    } finally {
      fs.rmSync(pwfile, { force: true });
    }
  }

  /**
   * The data directory as a copy of a stopped cluster's (cp -a keeps the postgres user as owner),
   * with this cluster's settings in place of the source's.
   */
  async initFromCopy(sourceDataDir: string): Promise<CommandRecord> {
    this.makeDirs();
    const record = await runCommand('cp', ['-a', '--', sourceDataDir, this.dataDir], { timeoutMs: 60_000 });
    this.configure();
    return record;
  }

  /** Changes the passwords of roles, connected as the superuser with its current password. */
  async setPasswords(superPassword: string, passwords: Readonly<Record<string, string>>): Promise<void> {
    const client = new pg.Client({ connectionString: this.url('postgres', superPassword, 'postgres'), connectionTimeoutMillis: 5_000 });
    await client.connect();
    try {
      for (const [role, password] of Object.entries(passwords))
        await client.query(`ALTER ROLE ${client.escapeIdentifier(role)} PASSWORD ${client.escapeLiteral(password)}`);
    } finally {
      await client.end();
    }
  }

  /** The cluster's folders, owned by the postgres user when we are root; returns that owner. */
  private makeDirs(): { uid: number; gid: number } | undefined {
    const owner = postgresOwner();
    for (const d of [this.opts.dir, this.socketDir, path.dirname(this.logFile)]) {
      fs.mkdirSync(d, { recursive: true, mode: 0o700 });
      if (owner) fs.chownSync(d, owner.uid, owner.gid);
    }
    return owner;
  }

  /** Our settings (port, 127.0.0.1, socket folder) at the end of postgresql.conf, replacing earlier ones. */
  private configure(): void {
    const file = path.join(this.dataDir, 'postgresql.conf');
    const text = fs.readFileSync(file, 'utf8');
    const at = text.indexOf(`\n${CONF_MARKER}`);
    fs.writeFileSync(
      file,
      [
        at >= 0 ? text.slice(0, at) : text,
        CONF_MARKER,
        `port = ${this.port}`,
        "listen_addresses = '127.0.0.1'",
        `unix_socket_directories = '${this.socketDir}'`,
        'max_connections = 100',
        "log_line_prefix = '%m [%p] %q%u@%d '",
        'log_connections = off',
        '',
      ].join('\n'),
    );
  }

  /** pg_ctl start, waiting until it accepts connections. */
  start(timeoutMs = 30_000): Promise<CommandRecord> {
    return runCommand(
      this.bin('pg_ctl'),
      ['start', '-D', this.dataDir, '-l', this.logFile, '-w', '-t', String(Math.ceil(timeoutMs / 1000))],
      {
        asPostgres: true,
        timeoutMs: timeoutMs + 5_000,
      },
    );
  }

  /** pg_ctl stop in the given mode (fast: roll back and disconnect; immediate: crash, recovery at next start). */
  /** `await using cluster = ...`: a fast stop when the scope ends, if it still runs. */
  async [Symbol.asyncDispose](): Promise<void> {
    if (this.isRunning()) await this.stop('fast');
  }

  stop(mode: 'smart' | 'fast' | 'immediate' = 'fast', timeoutMs = 30_000): Promise<CommandRecord> {
    // pg_ctl signals whatever PID postmaster.pid names: a stale file naming a reused PID (another
    // cluster's postmaster, as the postgres user) must never reach it
    const named = readPidFile(path.join(this.dataDir, 'postmaster.pid'));
    if (named !== undefined && isAlive(named) && this.postmasterPid() === undefined) {
      return Promise.reject(
        new Error(
          `pg_ctl stop refused: ${this.dataDir}/postmaster.pid names PID ${named}, which is not this cluster's postmaster (${commandLine(named) ?? '?'})`,
        ),
      );
    }
    return runCommand(this.bin('pg_ctl'), ['stop', '-D', this.dataDir, '-m', mode, '-w', '-t', String(Math.ceil(timeoutMs / 1000))], {
      asPostgres: true,
      timeoutMs: timeoutMs + 5_000,
    });
  }

  /**
   * PID of the postmaster from postmaster.pid, when that process is alive and is this cluster's
   * postmaster (its command line names this data directory): a pid file is never trusted alone,
   * since a reused PID would have a signal sent to a stranger.
   */
  postmasterPid(): number | undefined {
    const pid = readPidFile(path.join(this.dataDir, 'postmaster.pid'));
    return pid !== undefined && isAlive(pid) && argvHasMarker(argvOf(pid) ?? [], this.dataDir) ? pid : undefined;
  }

  /** True when a postmaster runs for this data directory. */
  isRunning(): boolean {
    return this.postmasterPid() !== undefined;
  }

  /** True when the postmaster is stopped by SIGSTOP. */
  isFrozen(): boolean {
    const pid = this.postmasterPid();
    return pid !== undefined && processState(pid) === 'T';
  }

  /** Creates a login role and a database it owns (idempotent), connected as the superuser. */
  async createDatabase(superPassword: string, db: { name: string; user: string; password: string }): Promise<void> {
    const client = new pg.Client({ connectionString: this.url('postgres', superPassword, 'postgres'), connectionTimeoutMillis: 5_000 });
    await client.connect();
    try {
      const role = await client.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [db.user]);
      const ident = (s: string) => `"${s.replace(/"/g, '""')}"`;
      const literal = (s: string) => `'${s.replace(/'/g, "''")}'`;
      if (role.rowCount === 0) {
        await client.query(`CREATE ROLE ${ident(db.user)} LOGIN PASSWORD ${literal(db.password)}`);
      }
      const exists = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [db.name]);
      if (exists.rowCount === 0) await client.query(`CREATE DATABASE ${ident(db.name)} OWNER ${ident(db.user)}`);
    } finally {
      await client.end();
    }
  }

  /** postgres:// URL of a role on this cluster over TCP. */
  url(user: string, password: string, database: string): string {
    return postgresUrl({ user, password, database, port: this.port });
  }
}
