/** The fault proxy between the store and PostgreSQL, as a detached process of the stack. */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { ToxiproxyClient } from '../faults/toxiproxy-client';
import { PROJECT_ROOT } from '../paths';
import { isAlive, pidsWithMarker, readPidFile, signalIfOurs, startDetached, waitForExit } from './processes';

export interface ProxyProcessOptions {
  readonly dir: string;
  readonly name: string;
  readonly listenPort: number;
  readonly upstreamPort: number;
  readonly controlPort: number;
}

/** Starts/stops the fault-proxy process by PID; `client` drives it. */
export class ProxyProcess {
  readonly pidFile: string;
  readonly logFile: string;
  readonly client: ToxiproxyClient;
  readonly tokenFile: string;

  constructor(readonly opts: ProxyProcessOptions) {
    this.pidFile = path.join(opts.dir, 'fault-proxy.pid');
    this.logFile = path.join(opts.dir, 'fault-proxy.log');
    this.tokenFile = path.join(opts.dir, 'statement-log.token');
    this.client = new ToxiproxyClient(`http://127.0.0.1:${opts.controlPort}`, 5_000, () => this.token());
  }

  /** The statement log's token of this run (0600 next to the pidfile), undefined before the proxy started. */
  token(): string | undefined {
    try {
      return fs.readFileSync(this.tokenFile, 'utf8').trim();
    } catch {
      return undefined;
    }
  }

  async start(timeoutMs = 15_000): Promise<number> {
    fs.mkdirSync(this.opts.dir, { recursive: true });
    // a new token per start: the statement log holds password hashes and customers' data
    fs.writeFileSync(this.tokenFile, randomBytes(24).toString('hex'), { mode: 0o600 });
    fs.chmodSync(this.tokenFile, 0o600);
    return startDetached({
      file: process.execPath,
      args: [
        '--import',
        'tsx',
        path.join(PROJECT_ROOT, 'scripts', 'fault-proxy.ts'),
        '--name',
        this.opts.name,
        '--listen',
        String(this.opts.listenPort),
        '--upstream',
        `127.0.0.1:${this.opts.upstreamPort}`,
        '--control',
        String(this.opts.controlPort),
        '--pidfile',
        this.pidFile,
        '--token-file',
        this.tokenFile,
      ],
      cwd: PROJECT_ROOT,
      logFile: this.logFile,
      ready: async () => (await this.client.proxies().catch((): Record<string, unknown> => ({})))[this.opts.name] !== undefined,
      description: `fault proxy control API on 127.0.0.1:${this.opts.controlPort}`,
      timeoutMs,
    });
  }

  pid(): number | undefined {
    const pid = readPidFile(this.pidFile);
    return pid !== undefined && isAlive(pid) ? pid : undefined;
  }

  async stop(): Promise<void> {
    const pid = readPidFile(this.pidFile);
    if (pid !== undefined && signalIfOurs(pid, 'SIGTERM', this.pidFile)) await waitForExit(pid, 3_000);
    for (const p of pidsWithMarker(this.pidFile)) signalIfOurs(p, 'SIGKILL', this.pidFile);
    fs.rmSync(this.pidFile, { force: true });
  }

  /** `await using proxy = ...`: stopped when the scope ends (stop is idempotent). */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }
}
