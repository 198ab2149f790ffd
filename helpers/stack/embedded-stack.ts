/**
 * The embedded default target: a private PostgreSQL cluster, the fault proxy and the reference
 * store, started and stopped as one (its state file: stack-state.ts; cleaning up: stack-sweep.ts).
 */
import fs from 'node:fs';
import path from 'node:path';
import { type Config, type ServerKind } from '../config';
import { clusterFromTemplate, newPassword as secret } from './cluster-template';
import { findFreePort } from './ports';
import { PostgresCluster, postgresUrl } from './postgres-cluster';
import type { ProxyProcess } from './proxy-process';
import { isAlive } from './processes';
import {
  STATE_VERSION,
  ensureSafeStackRoot,
  readStackState,
  readStackStateSafe,
  writeStackState,
  type StackOwner,
  type StackState,
} from './stack-state';
import { stackParts } from './stack-parts';
import { cleanupStack, portsRecordedUnder } from './stack-sweep';
import { StoreServer } from './store-server';

/** the store's start until /api/health/ answers (the suite's own default: STORE_READY_TIMEOUT_MS) */
const STORE_READY_MS = 30_000;

/** A running (or recorded) embedded stack: its cluster, its store, its URLs. */
export class EmbeddedStack {
  readonly cluster: PostgresCluster;
  /** replaced by useServer() */
  store: StoreServer;
  readonly proxy: ProxyProcess;

  constructor(public state: StackState) {
    const parts = stackParts(state);
    this.cluster = parts.cluster;
    this.proxy = parts.proxy;
    this.store = parts.store;
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
   * Brings a fresh stack up in cfg's stack folder: a migrated cluster copied from its template
   * (built by the first stack: initdb, createdb, migrate), new passwords, seed, start gunicorn. A leftover of a killed run is cleaned first; a stack
   * whose owner still runs is refused. On failure everything started is stopped again.
   */
  static async up(cfg: Config, owner: StackOwner, log: (line: string) => void = () => {}): Promise<EmbeddedStack> {
    const dir = cfg.embedded.stackDir;
    // the root first: nothing inside it is read or cleaned before it is known to be ours alone
    ensureSafeStackRoot(path.dirname(dir));
    const previous = readStackStateSafe(dir);
    if (previous?.owner.pid !== undefined && previous.owner.pid !== process.pid && isAlive(previous.owner.pid)) {
      throw new Error(
        `stack folder ${dir} belongs to a running process (pid ${previous.owner.pid}, ${previous.owner.kind}); ` +
          'wait for it, or set STACK_NAME to use another folder',
      );
    }
    const cleaned = await cleanupStack(dir);
    if (cleaned.length > 0) log(`cleaned a leftover stack in ${dir}: ${cleaned.join('; ')}`);
    fs.mkdirSync(dir, { recursive: true, mode: 0o711 });

    const timings: Record<string, number> = {};
    const time = async <T>(name: string, step: () => Promise<T>): Promise<T> => {
      const t0 = Date.now();
      const value = await step();
      timings[name] = Date.now() - t0;
      return value;
    };
    const t0 = Date.now();
    // never a port another stack recorded: one of its servers may be down for a fault right now
    // (another lane's PostgreSQL in an outage) and come back to find its port taken
    const taken = portsRecordedUnder(path.dirname(dir), dir);
    const port = async () => {
      const p = await findFreePort(cfg.embedded.portRange, taken);
      taken.push(p);
      return p;
    };
    const pgPort = await port();
    const storePort = await port();
    const proxyPort = await port();
    const controlPort = await port();
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
        rateLimits: Object.fromEntries(Object.entries(cfg.rateLimits).map(([name, l]) => [name, l.text])),
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
      // the proxy (a node process) boots while the cluster is copied from its template
      const proxyStarted = time('proxyStartMs', () => stack.proxy.start());
      proxyStarted.catch(() => undefined); // awaited below; this only keeps an early failure from orphaning it
      const template = await time('clusterMs', () =>
        clusterFromTemplate(
          {
            root: path.dirname(dir),
            pgBin: cfg.embedded.pgBin,
            python: cfg.embedded.python,
            portRange: cfg.embedded.portRange,
            db: { name: withUrl.postgres.database, user: withUrl.postgres.user },
            // the store without its flaws: a template built by a flawed store kept what its flaw did at migrate
            migrate: (url) => new StoreServer({ ...stack.store.opts, flaws: [] }).manage(['migrate', '--noinput', '-v', '0'], 120_000, url),
          },
          stack.cluster,
          { superPassword: withUrl.postgres.superPassword, userPassword: withUrl.postgres.password },
        ),
      );
      if (template.buildMs !== undefined) timings.templateBuildMs = template.buildMs;
      timings.templateCopyMs = template.copyMs;
      await proxyStarted;
      // the users are seeded while gunicorn boots (its health check needs no user): two Python starts at once.
      // A flaw may act when migrate runs (idempotency_in_python drops a constraint in post_migrate, and
      // a template built without it hid the flaw): a store with flaws migrates its copy first
      const seeded = (async () => {
        if (withUrl.store.flaws.length > 0) await time('flawMigrateMs', () => stack.store.manage(['migrate', '--noinput', '-v', '0']));
        await time('seedMs', () => stack.store.manage(['seed']));
      })();
      seeded.catch(() => undefined); // awaited below; this only keeps a failed seed from being unhandled meanwhile
      await time('storeStartMs', () => stack.store.start(cfg.thresholds.storeReadyTimeoutMs));
      await seeded;
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
  async useServer(server: ServerKind, readyTimeoutMs = STORE_READY_MS): Promise<void> {
    if (this.state.store.server === server && this.store.isRunning()) return;
    await this.store.stop();
    this.state = { ...this.state, store: { ...this.state.store, server } };
    writeStackState(this.state);
    this.store = new StoreServer({ ...this.store.opts, server });
    await this.store.start(readyTimeoutMs);
  }

  /** Stops the store and the cluster (by PID / data directory) and removes the stack folder. Idempotent. */
  async down(): Promise<string[]> {
    return cleanupStack(this.state.dir);
  }

  /** `await using stack = await EmbeddedStack.up(...)`: down() when the scope ends, however it ends. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.down();
  }
}
