/** The reference store under gunicorn (sync workers) or gunicorn + uvicorn workers, started detached. */
import fs from 'node:fs';
import path from 'node:path';
import { childEnv, type FlawName, type ServerKind } from '../config';
import { healthStatus } from '../api/token';
import { REFERENCE_STORE_DIR } from '../paths';
import { CommandRecord, runCommand } from './command';
import { childPids, isAlive, pidsWithMarker, readPidFile, signalIfOurs, startDetached, waitForExit } from './processes';

export interface StoreServerOptions {
  /** folder of this server: pidfile, log */
  readonly dir: string;
  readonly python: string;
  readonly port: number;
  readonly server: ServerKind;
  readonly workers: number;
  readonly flaws: readonly FlawName[];
  /** non_atomic_orders: pause between the order and its lines */
  readonly flawPauseMs?: number;
  /** the store's rate limits as its settings name them (STORE_LOGIN_RATE=10/min ...) */
  readonly rateEnv?: Readonly<Record<string, string>>;
  /** the store's own database URL (through the fault proxy when there is one) */
  readonly databaseUrl: string;
  readonly seedPassword: string;
  readonly secretKey: string;
  /** extra STORE_* settings (timeouts, graceful_timeout ...) */
  readonly extraEnv?: Readonly<Record<string, string>>;
}

/** Starts, stops and inspects one gunicorn master and its workers, by PID. */
export class StoreServer {
  readonly pidFile: string;
  readonly logFile: string;
  readonly baseUrl: string;

  constructor(readonly opts: StoreServerOptions) {
    this.pidFile = path.join(opts.dir, 'gunicorn.pid');
    this.logFile = path.join(opts.dir, 'store.log');
    this.baseUrl = `http://127.0.0.1:${opts.port}`;
  }

  /** Environment of every store process (settings come from the environment). */
  env(): Record<string, string> {
    return childEnv(
      {
        DJANGO_SETTINGS_MODULE: 'storeproject.settings',
        PYTHONDONTWRITEBYTECODE: '1',
        PYTHONUNBUFFERED: '1',
        STORE_DATABASE_URL: this.opts.databaseUrl,
        STORE_SEED_PASSWORD: this.opts.seedPassword,
        STORE_SECRET_KEY: this.opts.secretKey,
        STORE_SERVER: this.opts.server,
        STORE_WORKERS: String(this.opts.workers),
        STORE_FLAWS: this.opts.flaws.join(','),
        ...(this.opts.flawPauseMs === undefined ? {} : { STORE_FLAW_PAUSE_MS: String(this.opts.flawPauseMs) }),
        ...this.opts.rateEnv,
        STORE_BIND: `127.0.0.1:${this.opts.port}`,
        STORE_PIDFILE: this.pidFile,
        // the login throttle's counters, shared by the workers, inside the stack folder
        STORE_CACHE_DIR: path.join(this.opts.dir, 'cache'),
        ...this.opts.extraEnv,
      },
      ['PATH', 'LANG', 'LC_ALL', 'HOME', 'TZ'],
    );
  }

  /** Runs a manage.py command (migrate, seed, migrate --check ...), optionally against another database. */
  manage(args: readonly string[], timeoutMs = 120_000, databaseUrl?: string): Promise<CommandRecord> {
    return runCommand(this.opts.python, ['manage.py', ...args], {
      cwd: REFERENCE_STORE_DIR,
      env: databaseUrl ? { ...this.env(), STORE_DATABASE_URL: databaseUrl } : this.env(),
      timeoutMs,
      secrets: [this.opts.seedPassword],
    });
  }

  /** Starts gunicorn detached (its own process group) and waits until /api/health/ answers 200. */
  async start(readyTimeoutMs = 30_000): Promise<{ pid: number; readyMs: number }> {
    fs.mkdirSync(this.opts.dir, { recursive: true });
    fs.rmSync(this.pidFile, { force: true });
    const started = Date.now();
    try {
      // --pid on the command line marks every process of this server with our stack folder
      const pid = await startDetached({
        file: this.opts.python,
        args: ['serve.py', '-c', 'gunicorn.conf.py', '--pid', this.pidFile],
        cwd: REFERENCE_STORE_DIR,
        env: this.env(),
        logFile: this.logFile,
        ready: async () => (await this.healthStatus()) === 200,
        description: `store on ${this.baseUrl} to answer /api/health/ 200`,
        timeoutMs: readyTimeoutMs,
      });
      return { pid, readyMs: Date.now() - started };
    } catch (error) {
      await this.stop();
      throw error;
    }
  }

  /** HTTP status of /api/health/, or undefined when nothing answers. */
  healthStatus(timeoutMs = 3_000): Promise<number | undefined> {
    return healthStatus(this.baseUrl, timeoutMs);
  }

  /** PID of the gunicorn master, when it runs. */
  masterPid(): number | undefined {
    const pid = readPidFile(this.pidFile);
    return pid !== undefined && isAlive(pid) && this.isOurs(pid) ? pid : undefined;
  }

  /** PIDs of the master's live workers. */
  workerPids(): number[] {
    const master = this.masterPid();
    return master === undefined ? [] : childPids(master).filter((p) => isAlive(p) && this.isOurs(p));
  }

  /** Workers the master should run (the single_worker flaw forces one). */
  get expectedWorkers(): number {
    return this.opts.flaws.includes('single_worker') ? 1 : this.opts.workers;
  }

  /** True while the master runs. */
  isRunning(): boolean {
    return this.masterPid() !== undefined;
  }

  private isOurs(pid: number): boolean {
    return pidsWithMarker(this.pidFile).includes(pid);
  }

  /**
   * Stops the master with TERM (workers finish in-flight requests), then KILLs whatever of
   * this server is left (orphaned workers included), found by the pidfile path on their command line.
   */
  async stop(graceMs = 10_000): Promise<void> {
    const master = readPidFile(this.pidFile);
    if (master !== undefined && signalIfOurs(master, 'SIGTERM', this.pidFile)) {
      await waitForExit(master, graceMs);
    }
    for (const pid of pidsWithMarker(this.pidFile)) signalIfOurs(pid, 'SIGKILL', this.pidFile);
    for (const pid of pidsWithMarker(this.pidFile)) await waitForExit(pid, 2_000);
    fs.rmSync(this.pidFile, { force: true });
  }

  /** `await using server = ...`: stopped when the scope ends (stop is idempotent). */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }
}
