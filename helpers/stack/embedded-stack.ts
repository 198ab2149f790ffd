/**
 * The embedded default target: a private PostgreSQL cluster and the reference store,
 * described by a state file in the stack folder so that any process (test worker,
 * teardown, scripts/recover, the next run) can find and act on exactly what was started.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { config, type Config, type Credentials, type FlawName } from '../config';
import { findFreePort } from './ports';
import { PostgresCluster, postgresUrl } from './postgres-cluster';
import { ProxyProcess } from './proxy-process';
import { isAlive, pidsWithMarker, signalIfOurs, waitForExit, wakeProcessTree } from './processes';
import { StoreServer } from './store-server';

export const STATE_FILE = 'stack.json';
const STATE_VERSION = 2;

export interface StackOwner {
  /** the process whose exit makes the stack a leftover (the test runner), or undefined for a playground */
  readonly pid?: number;
  readonly kind: 'test' | 'playground' | 'helper-test';
}

export interface StackState {
  readonly version: number;
  readonly dir: string;
  readonly owner: StackOwner;
  readonly createdAt: string;
  readonly pgBin: string;
  readonly python: string;
  readonly postgres: {
    readonly port: number;
    readonly superPassword: string;
    readonly database: string;
    readonly user: string;
    readonly password: string;
  };
  /** the fault proxy the store reaches PostgreSQL through */
  readonly proxy: { readonly name: string; readonly port: number; readonly controlPort: number };
  readonly store: {
    readonly port: number;
    readonly server: 'gunicorn' | 'uvicorn';
    readonly workers: number;
    readonly flaws: readonly FlawName[];
    readonly flawPauseMs?: number;
    readonly secretKey: string;
    /** the database URL the store uses (through the proxy) */
    readonly databaseUrl: string;
  };
  readonly users: { readonly customer: Credentials; readonly secondCustomer: Credentials; readonly staff: Credentials };
  readonly timings: Readonly<Record<string, number>>;
}

const secret = () => randomBytes(18).toString('base64url');

/**
 * The folder that holds the stacks must be this user's and writable by nobody else: a stack.json
 * another local user planted there would otherwise steer what the suite signals and where it
 * connects. Created 0711: only the owner lists or writes it; the postgres user (the server refuses
 * root) can still traverse to its data directory.
 */
export function ensureSafeStackRoot(root: string): void {
  if (!fs.existsSync(root)) fs.mkdirSync(root, { recursive: true, mode: 0o711 });
  const st = fs.statSync(root);
  const uid = typeof process.getuid === 'function' ? process.getuid() : st.uid;
  if (!st.isDirectory() || st.uid !== uid || (st.mode & 0o022) !== 0) {
    throw new Error(
      `STACK_ROOT ${root} is not safe to use: it must be a directory owned by uid ${uid} and writable by nobody else ` +
        `(it is owned by uid ${st.uid}, mode ${(st.mode & 0o777).toString(8)}); remove it or set STACK_ROOT`,
    );
  }
}

/** The binaries a stack runs: from this run's validated configuration, never from a state file. */
function binaries(): { pgBin: string; python: string } {
  const e = config().embedded;
  return { pgBin: e.pgBin, python: e.python };
}

/** Reads a stack's state file, or undefined when there is none. */
export function readStackState(dir: string): StackState | undefined {
  ensureSafeStackRoot(path.dirname(dir));
  const file = path.join(dir, STATE_FILE);
  if (!fs.existsSync(file)) return undefined;
  const state = JSON.parse(fs.readFileSync(file, 'utf8')) as StackState;
  if (state.version !== STATE_VERSION) throw new Error(`${file}: state version ${state.version}, expected ${STATE_VERSION}`);
  return state;
}

function writeStackState(state: StackState): void {
  const file = path.join(state.dir, STATE_FILE);
  fs.writeFileSync(`${file}.tmp`, JSON.stringify(state, null, 2), { mode: 0o600 });
  fs.renameSync(`${file}.tmp`, file);
}

/** A running (or recorded) embedded stack: its cluster, its store, its URLs. */
export class EmbeddedStack {
  readonly cluster: PostgresCluster;
  /** replaced by useServer() */
  store: StoreServer;
  readonly proxy: ProxyProcess;

  constructor(public state: StackState) {
    const bin = binaries();
    this.cluster = new PostgresCluster({ dir: path.join(state.dir, 'pg'), pgBin: bin.pgBin, port: state.postgres.port });
    this.proxy = new ProxyProcess({
      dir: path.join(state.dir, 'proxy'),
      name: state.proxy.name,
      listenPort: state.proxy.port,
      upstreamPort: state.postgres.port,
      controlPort: state.proxy.controlPort,
    });
    this.store = new StoreServer({
      dir: path.join(state.dir, 'store'),
      python: bin.python,
      port: state.store.port,
      server: state.store.server,
      workers: state.store.workers,
      flaws: state.store.flaws,
      flawPauseMs: state.store.flawPauseMs,
      databaseUrl: state.store.databaseUrl,
      seedPassword: state.users.customer.password,
      secretKey: state.store.secretKey,
    });
  }

  get baseUrl(): string {
    return this.store.baseUrl;
  }

  /** Direct URL of the store's database (bypasses the fault proxy): for integrity probes, dumps, restores. */
  get databaseUrl(): string {
    const p = this.state.postgres;
    return this.cluster.url(p.user, p.password, p.database);
  }

  /** The store's own path to its database: through the fault proxy. */
  get storeDatabaseUrl(): string {
    const p = this.state.postgres;
    return postgresUrl({ user: p.user, password: p.password, database: p.database, port: this.state.proxy.port });
  }

  /** Loads the stack recorded in dir, or undefined. */
  static open(dir: string): EmbeddedStack | undefined {
    const state = readStackState(dir);
    return state && new EmbeddedStack(state);
  }

  /**
   * Brings a fresh stack up in cfg's stack folder: initdb, start, create the store's DB,
   * migrate, seed, start gunicorn. A leftover of a killed run is cleaned first; a stack
   * whose owner still runs is refused. On failure everything started is stopped again.
   */
  static async up(cfg: Config, owner: StackOwner, log: (line: string) => void = () => {}): Promise<EmbeddedStack> {
    const dir = cfg.embedded.stackDir;
    const previous = readStackStateSafe(dir);
    if (previous?.owner.pid !== undefined && previous.owner.pid !== process.pid && isAlive(previous.owner.pid)) {
      throw new Error(
        `stack folder ${dir} belongs to a running process (pid ${previous.owner.pid}, ${previous.owner.kind}); ` +
          'wait for it, or set STACK_NAME to use another folder',
      );
    }
    const cleaned = await cleanupStack(dir);
    if (cleaned.length > 0) log(`cleaned a leftover stack in ${dir}: ${cleaned.join('; ')}`);
    ensureSafeStackRoot(path.dirname(dir));
    fs.mkdirSync(dir, { recursive: true, mode: 0o711 });

    const timings: Record<string, number> = {};
    const time = async <T>(name: string, step: () => Promise<T>): Promise<T> => {
      const t0 = Date.now();
      const value = await step();
      timings[name] = Date.now() - t0;
      return value;
    };
    const t0 = Date.now();
    const pgPort = await findFreePort(cfg.embedded.portRange);
    const storePort = await findFreePort(cfg.embedded.portRange, [pgPort]);
    const proxyPort = await findFreePort(cfg.embedded.portRange, [pgPort, storePort]);
    const controlPort = await findFreePort(cfg.embedded.portRange, [pgPort, storePort, proxyPort]);
    const customerPassword = secret();
    const state: StackState = {
      version: STATE_VERSION,
      dir,
      owner,
      createdAt: new Date().toISOString(),
      pgBin: cfg.embedded.pgBin,
      python: cfg.embedded.python,
      postgres: { port: pgPort, superPassword: secret(), database: 'store', user: 'store', password: secret() },
      proxy: { name: 'postgres', port: proxyPort, controlPort },
      store: {
        port: storePort,
        server: cfg.embedded.server,
        workers: cfg.embedded.workers,
        flaws: cfg.embedded.flaws,
        flawPauseMs: cfg.embedded.flawPauseMs,
        secretKey: secret() + secret(),
        databaseUrl: '',
      },
      users: {
        customer: { username: 'customer1', password: customerPassword },
        secondCustomer: { username: 'customer2', password: customerPassword },
        staff: { username: 'staff', password: customerPassword },
      },
      timings,
    };
    const withUrl: StackState = {
      ...state,
      store: { ...state.store, databaseUrl: new EmbeddedStack(state).storeDatabaseUrl },
    };
    writeStackState(withUrl);
    const stack = new EmbeddedStack(withUrl);
    try {
      // the proxy (a node process) boots while initdb runs
      const proxyStarted = time('proxyStartMs', () => stack.proxy.start());
      proxyStarted.catch(() => undefined); // awaited below; this only keeps an early initdb failure from orphaning it
      await time('initdbMs', () => stack.cluster.init(withUrl.postgres.superPassword));
      await proxyStarted;
      await time('pgStartMs', () => stack.cluster.start());
      await time('createDbMs', () =>
        stack.cluster.createDatabase(withUrl.postgres.superPassword, {
          name: withUrl.postgres.database,
          user: withUrl.postgres.user,
          password: withUrl.postgres.password,
        }),
      );
      await time('migrateMs', () => stack.store.manage(['migrate', '--noinput', '-v', '0']));
      await time('seedMs', () => stack.store.manage(['seed']));
      await time('storeStartMs', () => stack.store.start(cfg.thresholds.storeReadyTimeoutMs));
    } catch (error) {
      await cleanupStack(dir);
      throw error;
    }
    timings.totalMs = Date.now() - t0;
    writeStackState({ ...withUrl, timings });
    log(`embedded stack up in ${timings.totalMs}ms: store ${stack.baseUrl}, postgres 127.0.0.1:${pgPort}`);
    return EmbeddedStack.open(dir) as EmbeddedStack;
  }

  /** Restarts the store under another server kind (gunicorn sync or uvicorn workers) and records it. */
  async useServer(server: 'gunicorn' | 'uvicorn', readyTimeoutMs = 30_000): Promise<void> {
    if (this.state.store.server === server && this.store.isRunning()) return;
    await this.store.stop();
    this.state = { ...this.state, store: { ...this.state.store, server } };
    writeStackState(this.state);
    this.store = new StoreServer({ ...this.store.opts, server });
    await this.store.start(readyTimeoutMs);
  }

  /** Stops the store and the cluster (by PID / data directory) and removes the stack folder. */
  async down(): Promise<string[]> {
    return cleanupStack(this.state.dir);
  }
}

function readStackStateSafe(dir: string): StackState | undefined {
  try {
    return readStackState(dir);
  } catch {
    return undefined;
  }
}

/**
 * Stops everything a stack folder started and removes the folder. Works from the state file
 * when there is one, and from the processes marked with the folder's path when there is not
 * (a run killed before it wrote state). Returns what it did.
 */
export async function cleanupStack(dir: string): Promise<string[]> {
  const done: string[] = [];
  if (!fs.existsSync(dir)) return done;
  const state = readStackStateSafe(dir);
  if (state) {
    const stack = new EmbeddedStack(state);
    const master = stack.store.masterPid();
    if (master !== undefined || pidsWithMarker(stack.store.pidFile).length > 0) {
      await stack.store.stop(5_000);
      done.push(`stopped store (master ${master ?? 'gone'})`);
    }
    if (stack.proxy.pid() !== undefined) {
      await stack.proxy.stop();
      done.push('stopped fault proxy');
    }
  }
  // the postmaster's command line names its data directory, gunicorn's names the pidfile: both are under dir
  const dataDir = path.join(dir, 'pg', 'data');
  const postmasters = pidsWithMarker(dataDir);
  if (postmasters.length > 0 || fs.existsSync(path.join(dataDir, 'postmaster.pid'))) {
    const cluster = state
      ? new PostgresCluster({ dir: path.join(dir, 'pg'), pgBin: binaries().pgBin, port: state.postgres.port })
      : undefined;
    // a frozen server cannot stop: wake the postmaster and its backends first
    for (const pid of postmasters) wakeProcessTree(pid, dataDir);
    try {
      if (cluster?.isRunning()) {
        await cluster.stop('immediate', 10_000);
        done.push('stopped postgres (immediate)');
      }
    } catch (error) {
      done.push(`pg_ctl stop failed: ${(error as Error).message.split('\n')[0]}`);
    }
  }
  for (const pid of pidsWithMarker(dir)) {
    if (signalIfOurs(pid, 'SIGKILL', dir)) done.push(`killed ${pid}`);
  }
  for (const pid of pidsWithMarker(dir)) await waitForExit(pid, 5_000);
  fs.rmSync(dir, { recursive: true, force: true });
  return done;
}

/** True when the stack belongs to a test run that is gone (a leftover to clean). */
export function isLeftover(state: StackState): boolean {
  return state.owner.kind !== 'playground' && state.owner.pid !== undefined && !isAlive(state.owner.pid);
}

/** Stack folders under root (each holding a state file, or at least a data directory). */
export function stackFolders(root: string): string[] {
  if (!fs.existsSync(root)) return [];
  ensureSafeStackRoot(root);
  return fs
    .readdirSync(root)
    .map((name) => path.join(root, name))
    .filter((dir) => fs.existsSync(path.join(dir, STATE_FILE)) || fs.existsSync(path.join(dir, 'pg', 'data')));
}

/** Cleans every leftover of a killed run under root; returns one line per stack cleaned. */
export async function sweepLeftovers(root: string): Promise<string[]> {
  const out: string[] = [];
  for (const dir of stackFolders(root)) {
    const state = readStackStateSafe(dir);
    if (state && !isLeftover(state)) continue;
    const done = await cleanupStack(dir);
    out.push(`${path.basename(dir)}: ${done.join('; ') || 'removed'}`);
  }
  return out;
}
