/**
 * Shared machinery of the fault-driver test doubles (systemctl, journalctl, docker, kubectl):
 * config, argv recording, flag parsing, state files, /proc helpers, and the REAL actions on a
 * Debian PostgreSQL cluster (pg_ctlcluster) and a gunicorn master (pidfile) started outside the suite.
 *
 * Safety rule: a signal only ever goes to a process proven to be the service's, by its command line
 * (the main process) or its parentage (children), and by (pid, start time) when it was recorded earlier.
 *
 * Over 250 lines: the doubles' shared machinery, and above all the one place where a signal may reach a
 * process, after its identity is proven; kept whole so that the rule is read in one sitting.
 */
import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

// the doubles run bundled, from .build/ beside bin/ (build.ts): bin/ is a sibling of the running file
const BIN_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'bin');
export const DEFAULT_TIMEOUT_MS = 60_000;
export const POLL_MS = 25;
const CLK_TCK = 100;
const MAX_LOG_LINES = 5000;
const MAX_LOG_BYTES = 32 * 1024 * 1024;
const MINIMAL_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
// signals after which both postgres and gunicorn shut down cleanly (exit status 0)
const GRACEFUL_SIGNALS = new Set(['SIGTERM', 'SIGINT', 'SIGQUIT']);

// ---------------------------------------------------------------- the config (written by outside-store.ts)

/** How a gunicorn service is started: its file, arguments, folder and environment. */
export interface CommandSpec {
  readonly file: string;
  readonly args?: readonly string[];
  readonly cwd?: string;
  readonly env?: Readonly<Record<string, string>>;
}

/** A Debian PostgreSQL cluster (pg_ctlcluster VERSION CLUSTER). */
export interface PostgresSpec {
  readonly kind: 'postgres';
  readonly version: number | string;
  readonly cluster: string;
  readonly dataDir: string;
  readonly port: number;
  readonly logFile: string;
}

/** A gunicorn master with a pidfile. */
export interface GunicornSpec {
  readonly kind: 'gunicorn';
  readonly pidFile: string;
  readonly logFile: string;
  readonly healthUrl: string;
  readonly command: CommandSpec;
  /** the worker count it is configured with (default 1) */
  readonly workers?: number;
}

export type ServiceSpec = PostgresSpec | GunicornSpec;

/** A Kubernetes workload of the kubectl double, backed by a service. */
export interface WorkloadSpec {
  readonly service: string;
  readonly selector?: string;
  readonly container?: string;
}

/** The doubles' JSON config (STORE_DOUBLES_CONFIG): services, and which unit, compose service and workload is which. */
export interface DoublesConfig {
  /** every invocation's argv is appended here, one JSON line each */
  readonly argvLog: string;
  /** the doubles' shared state (one JSON file per service) */
  readonly stateDir: string;
  readonly services: Readonly<Record<string, ServiceSpec>>;
  /** unit name -> service */
  readonly systemd?: { readonly units: Readonly<Record<string, string>> };
  readonly compose?: { readonly project: string; readonly files?: readonly string[]; readonly services: Readonly<Record<string, string>> };
  readonly kubernetes?: {
    readonly context?: string;
    readonly namespace: string;
    readonly statefulsets?: Readonly<Record<string, WorkloadSpec>>;
    readonly deployments?: Readonly<Record<string, WorkloadSpec>>;
  };
}

/** A process known by pid and start time: `key` ("pid:ticks") names this very process. */
export interface ProcessId {
  readonly pid: number;
  readonly ticks: number;
  readonly startMs: number;
  readonly key: string;
}

/** What the kubectl double records of a workload. */
export interface K8sState {
  replicas?: number;
  generation?: number;
  restartedAtMs?: number;
  restartedAtTicks?: number;
}

/** A service's state file, shared by every double. */
export interface ServiceState {
  createdMs?: number;
  lastMain?: { key: string; pid: number; startMs: number };
  expectRunning?: boolean;
  stopRequested?: boolean;
  exit?: { key: string; code: number; atMs: number };
  pendingExit?: { key: string; code: number };
  nRestarts?: number;
  workerTarget?: { key: string; n: number };
  k8s?: K8sState;
}

// ---------------------------------------------------------------- errors and the tool runner

/** An error that ends the tool with exit `code`, `message` on stderr (and `stdout` first, if any). */
export class ToolError extends Error {
  constructor(
    readonly code: number,
    message: string,
    readonly stdout = '',
  ) {
    super(message);
  }
}

/** An argv form the double does not implement: exit 2 with `<tool> double: unsupported: <argv>`. */
export class Unsupported extends Error {}

/** Writes text to stdout (synchronous on Linux pipes and files, so process.exit loses nothing). */
export function out(text: string | undefined): void {
  if (text) process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
}

/** Writes text to stderr. */
export function err(text: string | undefined): void {
  if (text) process.stderr.write(text.endsWith('\n') ? text : `${text}\n`);
}

function shellQuote(argv: readonly string[]): string {
  return argv.map((a) => (a === '' || /[\s'"\\$`]/.test(a) ? JSON.stringify(a) : a)).join(' ');
}

/**
 * Runs a double: loads the config, calls handler({argv, cfg, tool}) for its exit code, maps errors to
 * exit codes, and appends the argv record at exit (also on errors and when the double is signalled).
 */
export type ToolHandler = (call: { argv: string[]; cfg: DoublesConfig; tool: string }) => Promise<number | undefined>;

export async function runTool(tool: string, handler: ToolHandler): Promise<void> {
  const argv = process.argv.slice(2);
  const startedAt = Date.now();
  let cfg: DoublesConfig | undefined;
  let recorded = false;
  const finish = (code: number): never => {
    releaseHeldLock();
    if (!recorded) {
      recorded = true;
      if (cfg?.argvLog) {
        const rec = { tool, argv, at: new Date(startedAt).toISOString(), exitCode: code, durationMs: Date.now() - startedAt };
        try {
          // one write on an O_APPEND file: concurrent doubles do not interleave their lines
          fs.appendFileSync(cfg.argvLog, `${JSON.stringify(rec)}\n`);
        } catch (e) {
          err(`${tool} double: cannot append to argvLog ${cfg.argvLog}: ${(e as Error).message}`);
        }
      }
    }
    process.exit(code);
  };
  // a driver that gives up on a slow double still gets its argv recorded
  for (const sig of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) process.on(sig, () => finish(128 + os.constants.signals[sig]));
  let code: number;
  try {
    cfg = loadConfig();
    bootFileDir = cfg.stateDir;
    code = (await handler({ argv, cfg, tool })) ?? 0;
  } catch (e) {
    if (e instanceof Unsupported) {
      err(`${tool} double: unsupported: ${shellQuote(argv)}`);
      if (e.message) err(`${tool} double: (${e.message})`);
      code = 2;
    } else if (e instanceof ToolError) {
      if (e.stdout) out(e.stdout);
      err(e.message);
      code = e.code;
    } else {
      err(`${tool} double: internal error: ${e instanceof Error ? e.stack : String(e)}`);
      code = 1;
    }
  }
  finish(code);
}

// ---------------------------------------------------------------- config

/** Reads and checks the JSON config named by STORE_DOUBLES_CONFIG. */
export function loadConfig(): DoublesConfig {
  const file = process.env.STORE_DOUBLES_CONFIG;
  if (!file) throw new ToolError(2, 'store doubles: STORE_DOUBLES_CONFIG is not set (path of the doubles JSON config)');
  let cfg: DoublesConfig;
  try {
    cfg = JSON.parse(fs.readFileSync(file, 'utf8')) as DoublesConfig;
  } catch (e) {
    throw new ToolError(2, `store doubles: cannot read config ${file}: ${(e as Error).message}`);
  }
  const bad = (what: string): never => {
    throw new ToolError(2, `store doubles: config ${file}: ${what}`);
  };
  if (typeof cfg.argvLog !== 'string' || !path.isAbsolute(cfg.argvLog)) bad('argvLog must be an absolute path');
  if (typeof cfg.stateDir !== 'string' || !path.isAbsolute(cfg.stateDir)) bad('stateDir must be an absolute path');
  if (!cfg.services || typeof cfg.services !== 'object') bad('services is missing');
  // read as it is on disk: the types say what it should hold, these checks that it does
  for (const [name, s] of Object.entries(cfg.services as Record<string, Partial<PostgresSpec> | Partial<GunicornSpec>>)) {
    if (!/^[A-Za-z0-9_.-]+$/.test(name)) bad(`service name ${JSON.stringify(name)} must be [A-Za-z0-9_.-]+`);
    if (s.kind === 'postgres') {
      for (const k of ['version', 'cluster', 'dataDir', 'logFile'] as const) if (!s[k]) bad(`services.${name}.${k} is missing`);
      if (!Number.isInteger(s.port)) bad(`services.${name}.port must be an integer`);
    } else if (s.kind === 'gunicorn') {
      for (const k of ['pidFile', 'logFile', 'healthUrl'] as const) if (!s[k]) bad(`services.${name}.${k} is missing`);
      if (!s.command?.file) bad(`services.${name}.command.file is missing`);
    } else bad(`services.${name}.kind must be postgres or gunicorn`);
  }
  const refs = [
    ...Object.values(cfg.systemd?.units ?? {}),
    ...Object.values(cfg.compose?.services ?? {}),
    ...Object.values(cfg.kubernetes?.statefulsets ?? {}).map((w) => w.service),
    ...Object.values(cfg.kubernetes?.deployments ?? {}).map((w) => w.service),
  ];
  for (const r of refs) if (!cfg.services[r]) bad(`${JSON.stringify(r)} is not a key of services`);
  return cfg;
}

// ---------------------------------------------------------------- argv parsing

/**
 * Parses argv against table ({'--name': {key, value?: true, multi?: true}}); a flag without `value` is a
 * boolean (`--x`, `--x=true|false`). Accepts `--x=v`, `--x v`, `-x v`, `-xv`, `-x=v`. Unknown flag: Unsupported.
 * With stopAtPositional the first positional and everything after it are returned untouched in args.
 */
export interface FlagSpec {
  readonly key: string;
  /** takes a value (else a boolean) */
  readonly value?: true;
  /** may repeat: the values in a list */
  readonly multi?: true;
}
export type FlagTable = Readonly<Record<string, FlagSpec>>;
type FlagValue<S> = S extends { multi: true } ? string[] : S extends { value: true } ? string : boolean;
/** The parsed flags of a table, by key: a string (value flags), a list (multi), a boolean (the rest). */
export type Flags<T extends FlagTable> = { [K in T[keyof T]['key']]?: FlagValue<Extract<T[keyof T], { key: K }>> };

export function parseFlags<const T extends FlagTable>(
  argv: readonly string[],
  table: T,
  { stopAtPositional = false } = {},
): { flags: Flags<T>; args: string[] } {
  const flags: Record<string, string | boolean | (string | boolean)[]> = {};
  const args: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    if (a === '--') {
      args.push(...argv.slice(i + 1));
      break;
    }
    if (!a.startsWith('-') || a === '-') {
      if (stopAtPositional) {
        args.push(...argv.slice(i));
        break;
      }
      args.push(a);
      continue;
    }
    let name = a;
    let value: string | boolean | undefined;
    const eq = a.indexOf('=');
    if (a.startsWith('--') && eq > 0) {
      name = a.slice(0, eq);
      value = a.slice(eq + 1);
    }
    let spec: FlagSpec | undefined = table[name];
    if (!spec && !a.startsWith('--') && a.length > 2 && table[a.slice(0, 2)]?.value) {
      name = a.slice(0, 2);
      spec = table[name];
      value = a.slice(2);
      if (value.startsWith('=')) value = value.slice(1); // -o=json, as pflag reads it
    }
    if (!spec) throw new Unsupported(`unknown flag ${a}`);
    if (spec.value) {
      if (value === undefined) {
        const next = argv[++i];
        if (next === undefined) throw new Unsupported(`flag ${name} needs a value`);
        value = next;
      }
    } else {
      value = value ?? 'true';
      if (value !== 'true' && value !== 'false') throw new Unsupported(`flag ${name} takes true or false`);
      value = value === 'true';
    }
    if (spec.multi) ((flags[spec.key] ??= []) as (string | boolean)[]).push(value);
    else flags[spec.key] = value;
  }
  return { flags: flags as Flags<T>, args };
}

/** Throws Unsupported unless every parsed flag key is in allowed. */
export function onlyFlags(flags: object, allowed: readonly string[], what: string): void {
  for (const k of Object.keys(flags)) if (!allowed.includes(k)) throw new Unsupported(`${what} does not take that flag (${k})`);
}

/** Canonical signal name (SIGKILL) from KILL, SIGKILL, sigkill or 9; ToolError(1) when unknown. */
export function signalName(s: string, tool: string): NodeJS.Signals {
  const sigs = os.constants.signals as Record<string, number>;
  if (/^\d+$/.test(s)) {
    const name = Object.keys(sigs).find((k) => sigs[k] === Number(s));
    if (name) return name as NodeJS.Signals;
  } else {
    const up = String(s).toUpperCase();
    const name = up.startsWith('SIG') ? up : `SIG${up}`;
    if (name in sigs) return name as NodeJS.Signals;
  }
  throw new ToolError(1, `${tool}: failed to parse signal string ${s}`);
}

/** Signal number of a canonical name. */
export function signalNumber(name: NodeJS.Signals): number {
  return os.constants.signals[name];
}

// ---------------------------------------------------------------- time

/** Promise that resolves after ms. */
export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** Polls fn (may be async) every intervalMs until it returns a truthy value (returned) or timeoutMs passes (undefined). */
export async function waitFor<T>(fn: () => T | Promise<T>, timeoutMs: number, intervalMs = POLL_MS): Promise<T | undefined> {
  const deadline = Date.now() + Math.max(0, timeoutMs);
  for (;;) {
    const v = await fn();
    if (v) return v;
    const left = deadline - Date.now();
    if (left <= 0) return undefined;
    await sleep(Math.min(intervalMs, left));
  }
}

/** ISO time with whole seconds: 2026-11-27T05:40:00Z. */
export const isoSeconds = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

/** ISO time with 9 fractional digits (RFC3339Nano as docker and kubectl print it). */
export const isoNanos = (ms: number) => new Date(ms).toISOString().replace(/Z$/, '000000Z');

/** Milliseconds of a Go duration (90s, 1m30s, 500ms, 2h, 0), or undefined when malformed. */
export function parseGoDuration(s: string): number | undefined {
  if (s === '0') return 0;
  if (!/^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$/.test(s)) return undefined;
  const unit: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  let ms = 0;
  for (const [, n, , u] of s.matchAll(/(\d+(\.\d+)?)(ns|us|µs|ms|s|m|h)/g)) ms += Number(n) * (unit[u as string] as number);
  return ms;
}

/** Milliseconds of an RFC3339 time (fraction and offset optional), or undefined when malformed. */
export function parseRfc3339(s: string): number | undefined {
  const m = /^(\d{4}-\d{2}-\d{2})[Tt ](\d{2}:\d{2}:\d{2})(\.\d+)?([Zz]|[+-]\d{2}:?\d{2})$/.exec(s);
  if (!m) return undefined;
  const zone = m[4] as string;
  const tz = /^[Zz]$/.test(zone) ? 'Z' : zone.replace(/^([+-]\d{2})(\d{2})$/, '$1:$2');
  const ms = Date.parse(`${m[1]}T${m[2]}${(m[3] ?? '').slice(0, 4)}${tz}`);
  return Number.isNaN(ms) ? undefined : ms;
}

/** docker's human duration (go-units HumanDuration): "Less than a second", "3 seconds", "About a minute". */
export function humanDuration(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  if (seconds < 1) return 'Less than a second';
  if (seconds === 1) return '1 second';
  if (seconds < 60) return `${seconds} seconds`;
  const minutes = Math.floor(seconds / 60);
  if (minutes === 1) return 'About a minute';
  if (minutes < 60) return `${minutes} minutes`;
  const hours = Math.floor(ms / 3_600_000 + 0.5);
  if (hours === 1) return 'About an hour';
  if (hours < 48) return `${hours} hours`;
  if (hours < 24 * 7 * 2) return `${Math.floor(hours / 24)} days`;
  if (hours < 24 * 30 * 2) return `${Math.floor(hours / 24 / 7)} weeks`;
  if (hours < 24 * 365 * 2) return `${Math.floor(hours / 24 / 30)} months`;
  return `${Math.floor(ms / 3_600_000 / 24 / 365)} years`;
}

/** A UUID-shaped string derived from text (stable for the same text). */
export function uuidFrom(text: string): string {
  const h = crypto.createHash('sha1').update(text).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

/** Hex sha256 of text. */
export const sha256 = (text: string) => crypto.createHash('sha256').update(text).digest('hex');

// ---------------------------------------------------------------- state files

function statePath(cfg: DoublesConfig, name: string): string {
  return path.join(cfg.stateDir, `${name}.json`);
}

/** The state of service name ({} before anything was recorded). */
export function readState(cfg: DoublesConfig, name: string): ServiceState {
  try {
    return JSON.parse(fs.readFileSync(statePath(cfg, name), 'utf8')) as ServiceState;
  } catch {
    return {};
  }
}

// the lock this process holds, released also when it exits on a signal
let heldLock: string | undefined;
function releaseHeldLock(): void {
  if (heldLock) {
    try {
      fs.rmdirSync(heldLock);
    } catch {
      /* gone */
    }
    heldLock = undefined;
  }
}

/**
 * Read-modify-write of a service's state under a lock directory (doubles may run concurrently);
 * written atomically (temp file + rename). mutate changes the object in place. Returns the new state.
 */
export function updateState(cfg: DoublesConfig, name: string, mutate: (st: ServiceState) => unknown): ServiceState {
  fs.mkdirSync(cfg.stateDir, { recursive: true });
  const lock = path.join(cfg.stateDir, `${name}.lock`);
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      fs.mkdirSync(lock);
      heldLock = lock;
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      try {
        // a double killed while holding the lock (it is held for microseconds) must not wedge the rest
        if (Date.now() - fs.statSync(lock).mtimeMs > 30_000) fs.rmdirSync(lock);
      } catch {
        /* gone already */
      }
      if (Date.now() > deadline) throw new ToolError(1, `store doubles: state lock ${lock} held for more than 10 s`);
      sleepSync(POLL_MS);
    }
  }
  try {
    const st = readState(cfg, name);
    mutate(st);
    const file = statePath(cfg, name);
    const tmp = `${file}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, `${JSON.stringify(st, null, 2)}\n`);
    fs.renameSync(tmp, file);
    return st;
  } finally {
    releaseHeldLock();
  }
}

// ---------------------------------------------------------------- /proc

/** {state, ppid, ticks} from /proc/<pid>/stat (ticks = field 22, start time since boot), or undefined. */
export function procStat(pid: number): { state: string; ppid: number; ticks: number } | undefined {
  try {
    const s = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // the command name may contain spaces and parentheses: fields start after the last ')'
    const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
    return { state: f[0] ?? '', ppid: Number(f[1]), ticks: Number(f[19]) };
  } catch {
    return undefined;
  }
}

/** The command line of pid, arguments joined by spaces, or undefined when it is gone. */
export function cmdline(pid: number): string | undefined {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean).join(' ');
  } catch {
    return undefined;
  }
}

let bootMs: number | undefined;
let bootFileDir: string | undefined;
/**
 * Boot time in ms. btime of /proc/stat is whole seconds (process times derived from it could be up to
 * 1 s early), so the first double measures it to ~10 ms (now - /proc/uptime) and keeps it in stateDir:
 * every later call derives the same, stable process start times.
 */
export function bootTimeMs(): number {
  if (bootMs !== undefined) return bootMs;
  const btime = Number(/^btime (\d+)$/m.exec(fs.readFileSync('/proc/stat', 'utf8'))?.[1]);
  const file = bootFileDir ? path.join(bootFileDir, 'boot.json') : undefined;
  try {
    const saved = JSON.parse(fs.readFileSync(file as string, 'utf8')) as { btime: number; bootMs: number };
    if (saved.btime === btime) return (bootMs = saved.bootMs);
  } catch {
    /* first call, or another boot */
  }
  const measured = Date.now() - Number(fs.readFileSync('/proc/uptime', 'utf8').split(' ')[0]) * 1000;
  // sanity: the kernel's own figure is the same within a second
  bootMs = Math.abs(measured - btime * 1000) < 1500 ? Math.round(measured) : btime * 1000;
  if (file) {
    try {
      fs.mkdirSync(path.dirname(file), { recursive: true });
      const tmp = `${file}.${process.pid}.tmp`;
      fs.writeFileSync(tmp, JSON.stringify({ btime, bootMs }));
      fs.renameSync(tmp, file);
    } catch {
      /* still fine for this call */
    }
  }
  return bootMs;
}

/** Wall-clock ms of a start time in clock ticks since boot. */
export const ticksToMs = (ticks: number) => bootTimeMs() + (ticks * 1000) / CLK_TCK;

/**
 * Now, in the clock of process start times (ticks since boot). Used to compare "started after X":
 * btime is truncated to whole seconds, so comparing wall clock with btime+ticks could be off by 1 s.
 */
export function uptimeTicks(): number {
  return Math.floor(Number(fs.readFileSync('/proc/uptime', 'utf8').split(' ')[0]) * CLK_TCK);
}

type Stat = ReturnType<typeof procStat>;
const dead = (s: Stat): s is undefined => !s || s.state === 'Z' || s.state === 'X';

/** {pid, ticks, startMs, key} of a live pid (key = "pid:ticks" names this very process), or undefined. */
export function identify(pid: number): ProcessId | undefined {
  const s = procStat(pid);
  if (dead(s)) return undefined;
  return { pid, ticks: s.ticks, startMs: ticksToMs(s.ticks), key: `${pid}:${s.ticks}` };
}

/** True while the process identified earlier (same pid AND start time) is alive. */
export function sameProcess(id: ProcessId): boolean {
  const s = procStat(id.pid);
  return !dead(s) && s.ticks === id.ticks;
}

/** Process state letter of an identified process (T = stopped), undefined when gone. */
export function stateOf(id: ProcessId): string | undefined {
  return sameProcess(id) ? procStat(id.pid)?.state : undefined;
}

/** Identities of the live children of pid (field 4 of /proc/<child>/stat is pid), sorted by pid. */
export function childrenOf(pid: number): ProcessId[] {
  const kids: ProcessId[] = [];
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    const s = procStat(Number(d));
    if (!dead(s) && s.ppid === pid) kids.push({ pid: Number(d), ticks: s.ticks, startMs: ticksToMs(s.ticks), key: `${d}:${s.ticks}` });
  }
  return kids.sort((a, b) => a.pid - b.pid);
}

/** Identities of live processes (not this one) whose command line is exactly line. */
export function processesWithCmdline(line: string): ProcessId[] {
  const found: ProcessId[] = [];
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d) || Number(d) === process.pid) continue;
    if (cmdline(Number(d)) === line) {
      const id = identify(Number(d));
      if (id) found.push(id);
    }
  }
  return found;
}

/** Sends sig to an identified process only if it is still that process; returns whether it was sent. */
export function sendSignal(id: ProcessId, sig: NodeJS.Signals): boolean {
  if (!sameProcess(id)) return false;
  try {
    process.kill(id.pid, sig);
    return true;
  } catch {
    return false;
  }
}

// ---------------------------------------------------------------- subprocesses

let cleanPath: string | undefined;
/** PATH without the doubles' bin dir: what we run (pg_ctlcluster, pg_isready, gunicorn) must reach the real tools. */
export function childPath(): string {
  if (cleanPath === undefined) {
    const real = (d: string) => {
      try {
        return fs.realpathSync(d);
      } catch {
        return path.resolve(d);
      }
    };
    const bin = real(BIN_DIR);
    cleanPath =
      (process.env.PATH ?? MINIMAL_PATH)
        .split(':')
        .filter((d) => d && real(d) !== bin)
        .join(':') || MINIMAL_PATH;
  }
  return cleanPath;
}

/** Absolute path of an executable on childPath(), else fallback. */
export function which(name: string, fallback: string): string {
  for (const d of childPath().split(':')) {
    const p = path.join(d, name);
    try {
      fs.accessSync(p, fs.constants.X_OK);
      return p;
    } catch {
      /* next */
    }
  }
  return fallback;
}

/**
 * Runs file with args to its exit, bounded by timeoutMs (then SIGKILL): {code, signal, stdout, stderr, timedOut}.
 * Resolves on exit, not on pipe close: a daemon it leaves behind may hold an inherited pipe.
 */
export interface RunResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly timedOut: boolean;
}

export function run(file: string, args: readonly string[], { timeoutMs = DEFAULT_TIMEOUT_MS } = {}): Promise<RunResult> {
  return new Promise((resolve) => {
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    const child = spawn(file, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, PATH: childPath() } });
    child.stdout.on('data', (d) => (stdout += String(d)));
    child.stderr.on('data', (d) => (stderr += String(d)));
    const timer = setTimeout(
      () => {
        timedOut = true;
        child.kill('SIGKILL');
      },
      Math.max(1, timeoutMs),
    );
    child.on('error', (e) => {
      clearTimeout(timer);
      resolve({ code: 127, signal: null, stdout, stderr: `${stderr}${e.message}\n`, timedOut });
    });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      const done = () => {
        child.stdout.destroy();
        child.stderr.destroy();
        resolve({ code, signal, stdout, stderr, timedOut });
      };
      // give buffered output a moment to arrive, but do not wait for a pipe a daemon keeps open
      const t = setTimeout(done, 200);
      child.on('close', () => {
        clearTimeout(t);
        done();
      });
    });
  });
}

/** HTTP status of a GET of url (undefined on a connection error or after timeoutMs). */
export function httpStatus(url: string, timeoutMs = 3000): Promise<number | undefined> {
  return new Promise((resolve) => {
    const mod = url.startsWith('https:') ? https : http;
    let settled = false;
    const settle = (v: number | undefined) => {
      if (!settled) {
        settled = true;
        resolve(v);
      }
    };
    try {
      const req = mod.get(url, { agent: false, timeout: timeoutMs, rejectUnauthorized: false }, (res) => {
        res.resume();
        settle(res.statusCode);
      });
      req.on('timeout', () => {
        req.destroy();
        settle(undefined);
      });
      req.on('error', () => settle(undefined));
    } catch {
      settle(undefined);
    }
  });
}

// ---------------------------------------------------------------- log files

// 2026-11-27 05:40:00.123 UTC  (postgres log_line_prefix %m / %t)
const PG_TS = /^(\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}:\d{2})(\.\d+)? ([A-Za-z]{1,6}|[+-]\d{2}(?::?\d{2})?)(?=\s|$)/;
// [2026-11-27 05:40:00 +0000]  (gunicorn's error log)
const GUNICORN_TS = /^\[(\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}:\d{2})(\.\d+)? ([+-]\d{2}:?\d{2}|[A-Za-z]{1,6})\]/;
// 2026-11-27T05:40:00.123Z  (anything ISO)
const ISO_TS = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2}:\d{2})(\.\d+)?([Zz]|[+-]\d{2}:?\d{2})/;

function zoneOffset(z: string | undefined): string {
  if (z === undefined || /^(Z|UTC|GMT|UT)$/i.test(z)) return 'Z';
  const m = /^([+-]\d{2}):?(\d{2})?$/.exec(z);
  // other abbreviations (CET, EST...) cannot be resolved: read as UTC (the README says: log in UTC)
  return m ? `${m[1]}:${m[2] ?? '00'}` : 'Z';
}

/** {ms, precisionMs} of the timestamp a log line starts with, or undefined. */
export interface LogLine {
  readonly ms: number;
  readonly text: string;
}

export function lineTimestamp(line: string): { ms: number; precisionMs: number } | undefined {
  const m = PG_TS.exec(line) ?? GUNICORN_TS.exec(line) ?? ISO_TS.exec(line);
  if (!m) return undefined;
  const ms = Date.parse(`${m[1]}T${m[2]}${(m[3] ?? '').slice(0, 4)}${zoneOffset(m[4])}`);
  if (Number.isNaN(ms)) return undefined;
  return { ms, precisionMs: m[3] ? 1 : 1000 };
}

/** The pid a log line names: postgres `[123]`, gunicorn `[123]`, access log `pid=123`; else undefined. */
export function linePid(line: string): number | undefined {
  const m = /^(?:\[[^\]]*\]|\S+ \S+ \S+) \[(\d+)\]/.exec(line) ?? /\bpid=(\d+)\b/.exec(line);
  return m ? Number(m[1]) : undefined;
}

/**
 * Lines of logFile with a timestamp >= sinceMs (undefined: all), as [{ms, text}]. A line without a
 * timestamp inherits the previous line's; lines before the first timestamp are dropped. The comparison
 * is at the line's precision (a gunicorn line of the same second is kept). At most the last 5000 lines.
 */
export function readLogLines(logFile: string, sinceMs?: number): LogLine[] {
  let text: string;
  try {
    const fd = fs.openSync(logFile, 'r');
    try {
      const size = fs.fstatSync(fd).size;
      const start = Math.max(0, size - MAX_LOG_BYTES);
      const buf = Buffer.alloc(size - start);
      let got = 0;
      while (got < buf.length) {
        const n = fs.readSync(fd, buf, got, buf.length - got, start + got);
        if (n === 0) break;
        got += n;
      }
      text = buf.subarray(0, got).toString('utf8');
      if (start > 0) text = text.slice(text.indexOf('\n') + 1); // drop the partial first line
    } finally {
      fs.closeSync(fd);
    }
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
  const lines: LogLine[] = [];
  let cur: { ms: number; precisionMs: number } | undefined;
  for (const raw of text.split('\n')) {
    const line = raw.replace(/\r$/, '');
    const ts = lineTimestamp(line);
    if (ts) cur = ts;
    if (!cur || (line === '' && !ts)) continue;
    if (sinceMs !== undefined && cur.ms < Math.floor(sinceMs / cur.precisionMs) * cur.precisionMs) continue;
    lines.push({ ms: cur.ms, text: line });
  }
  return lines.slice(-MAX_LOG_LINES);
}

// ---------------------------------------------------------------- services

/**
 * A service of the config with the real actions on it. Subclasses say how to find the main process
 * and how to start/stop/reload it; this class keeps the state (exit records, stop requests) shared by
 * every double, and sends the signals.
 */
abstract class BaseService<S extends ServiceSpec> {
  constructor(
    readonly cfg: DoublesConfig,
    readonly name: string,
    readonly spec: S,
  ) {}

  /** The state file's content. */
  state(): ServiceState {
    return readState(this.cfg, this.name);
  }

  /** Read-modify-write of the state file. */
  update(mutate: (st: ServiceState) => unknown): ServiceState {
    return updateState(this.cfg, this.name, mutate);
  }

  /** Live children of the main process (postgres backends and auxiliaries, gunicorn workers). */
  children(): ProcessId[] {
    const m = this.main();
    return m ? childrenOf(m.pid) : [];
  }

  /** True when the main process is stopped by SIGSTOP (state T). */
  frozen(): boolean {
    const m = this.main();
    return !!m && stateOf(m) === 'T';
  }

  /**
   * Records what is seen now: a (new) main process, or the end of the last one seen, so that
   * "exited"/"failed" and FinishedAt can be told later. Every double calls this before acting.
   */
  observe(): ServiceState {
    const m = this.main();
    const now = Date.now();
    return this.update((st) => {
      st.createdMs ??= m ? m.startMs : now;
      if (m) {
        st.lastMain = { key: m.key, pid: m.pid, startMs: m.startMs };
        st.expectRunning = true;
        st.stopRequested = false;
      } else if (st.lastMain && st.exit?.key !== st.lastMain.key) {
        const pending = st.pendingExit?.key === st.lastMain.key ? st.pendingExit : undefined;
        // 1: it ended for a reason no double caused (a crash we did not see)
        st.exit = { key: st.lastMain.key, code: pending ? pending.code : 1, atMs: now };
      }
    });
  }

  /** Starts the service unless its main process runs; returns whether it was started. */
  async start(): Promise<boolean> {
    this.observe();
    if (this.main()) return false;
    await this.doStart();
    const m = this.main();
    this.update((st) => {
      st.stopRequested = false;
      st.expectRunning = true;
      if (m) st.lastMain = { key: m.key, pid: m.pid, startMs: m.startMs };
      this.onStarted(st, m);
    });
    return true;
  }

  /**
   * Stops the service (postgres: pg_ctlcluster stop -m mode; gunicorn: SIGTERM), SIGKILLs what is left
   * after timeoutMs, records a requested stop. No-op when not running; returns whether it stopped it.
   */
  async stop({ mode = 'fast', timeoutMs = this.stopTimeoutMs }: { mode?: string; timeoutMs?: number } = {}): Promise<boolean> {
    this.observe();
    const m = this.main();
    if (!m) return false;
    // a SIGSTOPped process cannot act on a shutdown request (systemd and docker thaw first too)
    if (stateOf(m) === 'T') await this.thaw();
    const forced = await this.doStop(m, mode, timeoutMs);
    this.update((st) => {
      st.lastMain = { key: m.key, pid: m.pid, startMs: m.startMs };
      st.stopRequested = true;
      st.exit = { key: m.key, code: forced ? 137 : 0, atMs: Date.now() };
    });
    return true;
  }

  /**
   * Sends sig to the main process only. After a SIGKILL the rest of the unit/container dies with it
   * (systemd's cgroup cleanup, a container's PID namespace): leftover children are SIGKILLed.
   * Returns false when nothing runs.
   */
  async signalMain(sig: NodeJS.Signals): Promise<boolean> {
    this.observe();
    const m = this.main();
    if (!m) return false;
    const kids = childrenOf(m.pid); // before the signal: once the main dies they are reparented
    sendSignal(m, sig);
    this.noteSignal(sig, m);
    if (sig === 'SIGKILL') await this.afterKill(m, kids);
    else if (GRACEFUL_SIGNALS.has(sig)) this.update((st) => (st.pendingExit = { key: m.key, code: 0 }));
    return true;
  }

  /** Sends sig to the main process, then to every child. Returns false when nothing runs. */
  async signalAll(sig: NodeJS.Signals): Promise<boolean> {
    this.observe();
    const m = this.main();
    if (!m) return false;
    const kids = childrenOf(m.pid);
    sendSignal(m, sig);
    this.noteSignal(sig, m);
    for (const k of kids) sendSignal(k, sig);
    // a child forked between the listing and the main's signal
    for (const k of childrenOf(m.pid)) if (!kids.some((o) => o.key === k.key)) sendSignal(k, sig);
    if (sig === 'SIGKILL') await this.afterKill(m, kids);
    else if (GRACEFUL_SIGNALS.has(sig)) this.update((st) => (st.pendingExit = { key: m.key, code: 0 }));
    return true;
  }

  async afterKill(m: ProcessId, kids: readonly ProcessId[]): Promise<void> {
    await waitFor(() => !sameProcess(m), 2000);
    for (const k of kids) sendSignal(k, 'SIGKILL');
    await waitFor(() => kids.every((k) => !sameProcess(k)), 5000);
    this.update((st) => {
      st.lastMain = { key: m.key, pid: m.pid, startMs: m.startMs };
      st.exit = { key: m.key, code: 128 + signalNumber('SIGKILL'), atMs: Date.now() };
      st.stopRequested = false;
    });
  }

  /** SIGSTOPs the main process FIRST (so it forks no more), then every child. Returns false when nothing runs. */
  async freeze(): Promise<boolean> {
    const m = this.main();
    if (!m) return false;
    sendSignal(m, 'SIGSTOP');
    const all = await waitFor(() => {
      let stopped = stateOf(m) === 'T';
      for (const k of childrenOf(m.pid)) {
        if (stateOf(k) !== 'T') {
          sendSignal(k, 'SIGSTOP');
          stopped = false;
        }
      }
      return stopped;
    }, 5000);
    if (!all) throw new ToolError(1, `store doubles: ${this.name}: not every process stopped within 5 s`);
    return true;
  }

  /** SIGCONTs every child, then the main process. Returns false when nothing runs. */
  async thaw(): Promise<boolean> {
    const m = this.main();
    if (!m) return false;
    for (const k of childrenOf(m.pid)) sendSignal(k, 'SIGCONT');
    sendSignal(m, 'SIGCONT');
    await waitFor(() => stateOf(m) !== 'T', 2000);
    return true;
  }

  /** Log lines since sinceMs (undefined: all) of the service's log file. */
  logLines(sinceMs?: number): LogLine[] {
    return readLogLines(this.spec.logFile, sinceMs);
  }

  /** Identity of the main process, or undefined when it does not run (per kind). */
  abstract main(): ProcessId | undefined;

  /** Starts the stopped service and waits until it is up (per kind). */
  protected abstract doStart(): Promise<void>;

  /** Stops main process m within timeoutMs; true when it had to SIGKILL (per kind). */
  protected abstract doStop(m: ProcessId, mode: string, timeoutMs: number): Promise<boolean>;

  /** Reloads the service (its own way); false when it does not run. */
  abstract reload(): Promise<boolean>;

  /** The service answers (accepting connections, health 200). */
  abstract ready(): Promise<boolean>;

  /** Name journald would give the lines. */
  abstract get logIdentifier(): string;

  /** Default bound of a stop before SIGKILL. */
  get stopTimeoutMs(): number {
    return DEFAULT_TIMEOUT_MS;
  }

  /** Hook: a signal was sent to main process m. */
  noteSignal(_sig: NodeJS.Signals, _m: ProcessId): void {}

  /** Hook: the state after a start, with the new main process m. */
  protected onStarted(_st: ServiceState, _m: ProcessId | undefined): void {}
}

/** A Debian PostgreSQL cluster driven with pg_ctlcluster. */
class PostgresService extends BaseService<PostgresSpec> {
  /** The postmaster: first line of <dataDir>/postmaster.pid, alive, its command line naming dataDir. */
  main(): ProcessId | undefined {
    const pid = this.stalePid();
    if (pid === undefined || !(pid > 0) || !cmdline(pid)?.includes(this.spec.dataDir)) return undefined;
    return identify(pid);
  }

  /** The pid a leftover postmaster.pid names, if any. */
  stalePid(): number | undefined {
    try {
      return parseInt(fs.readFileSync(path.join(this.spec.dataDir, 'postmaster.pid'), 'utf8').split('\n')[0] ?? '', 10) || undefined;
    } catch {
      return undefined;
    }
  }

  pgCtl(args: readonly string[], timeoutMs: number): Promise<RunResult> {
    const s = this.spec;
    // --skip-systemctl-redirect: on a systemd host pg_ctlcluster would call `systemctl`, i.e. maybe us
    return run(which('pg_ctlcluster', '/usr/bin/pg_ctlcluster'), ['--skip-systemctl-redirect', String(s.version), s.cluster, ...args], {
      timeoutMs,
    });
  }

  protected async doStart(): Promise<void> {
    const deadline = Date.now() + DEFAULT_TIMEOUT_MS;
    // a killed postmaster that its parent has not reaped yet (here PID 1 reaps lazily) still "exists"
    // for postgres' lock-file check (kill(pid, 0)), and the start fails: wait for the zombie to go
    const old = this.stalePid();
    if (old) await waitFor(() => procStat(old)?.state !== 'Z', 5000);
    for (let attempt = 1; ; attempt++) {
      const r = await this.pgCtl(['start'], deadline - Date.now());
      if (this.main()) return;
      const text = `${r.stdout}${r.stderr}`;
      // right after a SIGKILL a dying backend can still hold the shared memory or the lock file
      if (attempt < 5 && Date.now() < deadline - 2000 && /shared memory|lock file|already running|Port conflict/i.test(text)) {
        // wait for the old server's processes (their titles name version/cluster) to be gone, then retry
        const marker = `${this.spec.version}/${this.spec.cluster}`;
        await waitFor(
          () =>
            !fs
              .readdirSync('/proc')
              .some(
                (d) => /^\d+$/.test(d) && !/^Z?$/.test(procStat(Number(d))?.state ?? '') && (cmdline(Number(d)) ?? '').includes(marker),
              ),
          5000,
        );
        continue;
      }
      throw new ToolError(
        1,
        `store doubles: pg_ctlcluster ${this.spec.version} ${this.spec.cluster} start failed (exit ${r.code}${r.timedOut ? ', timed out' : ''}):\n${text}`,
      );
    }
  }

  protected async doStop(m: ProcessId, mode: string, timeoutMs: number): Promise<boolean> {
    const r = await this.pgCtl(['stop', '-m', mode], timeoutMs);
    if (await waitFor(() => !sameProcess(m), r.timedOut ? 0 : 5000)) return false;
    // like a stop timeout in systemd or docker: kill what is left
    const kids = childrenOf(m.pid);
    sendSignal(m, 'SIGKILL');
    for (const k of kids) sendSignal(k, 'SIGKILL');
    await waitFor(() => !sameProcess(m) && kids.every((k) => !sameProcess(k)), 5000);
    return true;
  }

  /** pg_ctlcluster reload (SIGHUP to the postmaster after a config check). */
  async reload(): Promise<boolean> {
    if (!this.main()) return false;
    const r = await this.pgCtl(['reload'], DEFAULT_TIMEOUT_MS);
    if (r.code !== 0) throw new ToolError(1, `store doubles: pg_ctlcluster reload failed (exit ${r.code}):\n${r.stdout}${r.stderr}`);
    return true;
  }

  /** Accepting connections: pg_isready -h 127.0.0.1 -p port exits 0. */
  async ready(): Promise<boolean> {
    const bin = which('pg_isready', `/usr/lib/postgresql/${this.spec.version}/bin/pg_isready`);
    const r = await run(bin, ['-q', '-h', '127.0.0.1', '-p', String(this.spec.port), '-t', '2'], { timeoutMs: 5000 });
    return r.code === 0;
  }

  get logIdentifier(): string {
    return 'postgres';
  }
}

/** A gunicorn master with a pidfile, started detached from `command`. */
class GunicornService extends BaseService<GunicornSpec> {
  /** The master: pid in pidFile, alive, its command line naming the pidFile. */
  main(): ProcessId | undefined {
    let pid: number;
    try {
      pid = parseInt(fs.readFileSync(this.spec.pidFile, 'utf8').trim(), 10);
    } catch {
      return undefined;
    }
    if (!(pid > 0) || !cmdline(pid)?.includes(this.spec.pidFile)) return undefined;
    return identify(pid);
  }

  override get stopTimeoutMs(): number {
    return 30_000;
  }

  /** Worker count gunicorn is configured with (services.<name>.workers). */
  configuredWorkers(): number {
    return this.spec.workers ?? 1;
  }

  /**
   * The worker count the master is aiming at, as far as the doubles know: configured at start and after
   * a SIGHUP, +1 per SIGTTIN, -1 per SIGTTOU (never below 1, as gunicorn).
   */
  targetWorkers(): number {
    const m = this.main();
    const t = this.state().workerTarget;
    return m && t?.key === m.key ? t.n : this.configuredWorkers();
  }

  /** Overrides the tracked target (when observation shows the tracking was wrong). */
  setTargetWorkers(n: number): void {
    const m = this.main();
    if (m) this.update((st) => (st.workerTarget = { key: m.key, n }));
  }

  override noteSignal(sig: NodeJS.Signals, m: ProcessId): void {
    if (!['SIGHUP', 'SIGTTIN', 'SIGTTOU'].includes(sig)) return;
    this.update((st) => {
      const cur = st.workerTarget?.key === m.key ? st.workerTarget.n : this.configuredWorkers();
      // gunicorn's reload re-reads the config: the worker count goes back to the configured one
      const n = sig === 'SIGHUP' ? this.configuredWorkers() : sig === 'SIGTTIN' ? cur + 1 : Math.max(1, cur - 1);
      st.workerTarget = { key: m.key, n };
    });
  }

  protected override onStarted(st: ServiceState, m: ProcessId | undefined): void {
    if (m) st.workerTarget = { key: m.key, n: this.configuredWorkers() };
  }

  protected async doStart(): Promise<void> {
    const s = this.spec;
    const c = s.command;
    // a stale pidfile naming some other live process would make gunicorn refuse to start
    if (fs.existsSync(s.pidFile)) fs.rmSync(s.pidFile, { force: true });
    // workers of a master killed outside the doubles live on (uvicorn workers do not notice the
    // master's death) and keep the port: systemd or docker would have killed them with the master
    // (known by their command line: the configured one, which names the pidfile)
    const line = [c.file, ...(c.args ?? [])].join(' ');
    const orphans = line.includes(s.pidFile) ? processesWithCmdline(line) : [];
    for (const o of orphans) sendSignal(o, 'SIGKILL');
    await waitFor(() => orphans.every((o) => !sameProcess(o)), 5000);
    fs.mkdirSync(path.dirname(s.logFile), { recursive: true });
    const fd = fs.openSync(s.logFile, 'a');
    const env = { PATH: MINIMAL_PATH, LANG: 'C.UTF-8', HOME: process.env.HOME || '/root', ...(c.env ?? {}) };
    let exited: string | undefined;
    let child: ReturnType<typeof spawn>;
    try {
      // own process group and session: the caller's process-group kill or terminal must not reach it
      child = spawn(c.file, c.args ?? [], { cwd: c.cwd, env, detached: true, stdio: ['ignore', fd, fd] });
    } finally {
      fs.closeSync(fd);
    }
    child.on('error', (e) => (exited = `could not run ${c.file}: ${e.message}`));
    child.on('exit', (code, sig) => (exited = `exited (${sig ?? code}) before it was up`));
    const tail = () =>
      readLogLines(s.logFile)
        .slice(-20)
        .map((l) => l.text)
        .join('\n');
    const up = await waitFor(() => {
      if (exited) return true;
      const m = this.main();
      // a worker proves the master bound its socket (gunicorn writes the pidfile before binding)
      return m && childrenOf(m.pid).length > 0;
    }, 30_000);
    child.removeAllListeners('exit');
    child.unref();
    if (exited) throw new ToolError(1, `store doubles: gunicorn ${exited}; last log lines:\n${tail()}`);
    if (!up) {
      // ours for sure: we created that process group
      try {
        if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
      } catch {
        /* gone */
      }
      throw new ToolError(1, `store doubles: gunicorn not up (pidfile + a worker) within 30 s; killed it; last log lines:\n${tail()}`);
    }
  }

  protected async doStop(m: ProcessId, _mode: string, timeoutMs: number): Promise<boolean> {
    const workers = childrenOf(m.pid);
    sendSignal(m, 'SIGTERM');
    let forced = false;
    if (!(await waitFor(() => !sameProcess(m), timeoutMs))) {
      sendSignal(m, 'SIGKILL');
      forced = true;
      await waitFor(() => !sameProcess(m), 2000);
    }
    // a worker the master did not take down (they are orphans now: known by pid + start time)
    const left = workers.filter(sameProcess);
    for (const w of left) sendSignal(w, 'SIGKILL');
    await waitFor(() => left.every((w) => !sameProcess(w)), 5000);
    return forced;
  }

  /** SIGHUP to the master: gunicorn re-reads its config and replaces every worker. */
  async reload(): Promise<boolean> {
    const m = this.main();
    if (!m) return false;
    sendSignal(m, 'SIGHUP');
    this.noteSignal('SIGHUP', m);
    return true;
  }

  /** The health URL answers 200. */
  async ready(): Promise<boolean> {
    return (await httpStatus(this.spec.healthUrl)) === 200;
  }

  get logIdentifier(): string {
    return 'gunicorn';
  }
}

/** A service of the config: a PostgreSQL cluster or a gunicorn master, with the real actions on it. */
export type Service = PostgresService | GunicornService;
export type { GunicornService, PostgresService };

const services = new Map<string, Service>();
/** The Service object of services[name] (one per invocation). */
export function service(cfg: DoublesConfig, name: string): Service {
  let svc = services.get(name);
  if (!svc) {
    const spec = cfg.services[name];
    if (!spec) throw new ToolError(2, `store doubles: no service ${JSON.stringify(name)} in the config`);
    svc = spec.kind === 'postgres' ? new PostgresService(cfg, name, spec) : new GunicornService(cfg, name, spec);
    services.set(name, svc);
  }
  return svc;
}

/** Host name as journald prints it. */
export const hostName = () => os.hostname().split('.')[0];
