/**
 * The ONLY reader of process.env. Typed, validated, frozen.
 * A bad value stops the run before anything starts, naming the variable and what it accepts.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import dotenv from 'dotenv';
import { z } from 'zod';
import { parseExternal, type ExternalTarget } from './config-external';
import { PROJECT_ROOT } from './paths';

export type { ExternalTarget } from './config-external';

/** Flaw switches of the reference store (reference-store/storeproject/flaws.py holds the same list). */
export const KNOWN_FLAWS = [
  'non_atomic_orders',
  'no_db_timeout',
  'stale_db_connections',
  'leaky_errors',
  'duplicate_on_retry',
  'single_worker',
  'no_graceful_shutdown',
  'db_error_as_400',
  'no_statement_timeout',
  'idempotency_in_python',
  'data_error_as_outage',
  'jwt_unverified',
  'orders_not_scoped',
] as const;
export type FlawName = (typeof KNOWN_FLAWS)[number];

/** Ports at or above this are the kernel's ephemeral range: a retrying client can connect to itself there. */
export const EPHEMERAL_PORT_START = 32768;

export type Env = Readonly<Record<string, string | undefined>>;

export interface Credentials {
  readonly username: string;
  readonly password: string;
}

/** The app server's kind: gunicorn sync workers (WSGI) or gunicorn with uvicorn workers (ASGI). */
export type ServerKind = 'gunicorn' | 'uvicorn';

export interface EmbeddedSettings {
  readonly python: string;
  readonly pgBin: string;
  readonly server: ServerKind;
  readonly workers: number;
  readonly flaws: readonly FlawName[];
  /** non_atomic_orders: the pause between the order and its lines (0: none, as real split writes have) */
  readonly flawPauseMs: number;
  /** folder of this stack: data dir, sockets, logs, pidfiles, state file */
  readonly stackDir: string;
  readonly portRange: { readonly min: number; readonly max: number };
  /** use a healthy stack already running in stackDir and leave it running (STACK_REUSE=1) */
  readonly reuse: boolean;
}

/**
 * Named thresholds: every timing bound the suite asserts or waits for, set from measurements on
 * the reference machine (2 cores), overridable by the environment, and reported with each run.
 */
export const THRESHOLD_SPECS = {
  requestTimeoutMs: { env: 'REQUEST_TIMEOUT_MS', default: 10_000, doc: 'API client timeout (a hang shows up as this)' },
  storeReadyTimeoutMs: { env: 'STORE_READY_TIMEOUT_MS', default: 30_000, doc: 'store start until /api/health/ answers 200' },
  recoverTimeoutMs: { env: 'RECOVER_TIMEOUT_MS', default: 30_000, doc: "a fault's recovery until the service is reachable again" },
  dbRefusedErrorMs: {
    env: 'DB_REFUSED_ERROR_MS',
    default: 1_000,
    doc: 'DB stopped/crashed/link down or reset: the order answers 503 within this (measured 0.03 s)',
  },
  dbHangErrorMs: {
    env: 'DB_HANG_ERROR_MS',
    default: 2_500,
    doc: 'DB frozen or black-holed: the order answers 503 within this (connect_timeout 2 s)',
  },
  dbLockErrorMs: {
    env: 'DB_LOCK_ERROR_MS',
    default: 6_000,
    doc: "the orders table locked by another session: the order answers 503 within this (the store's statement_timeout 5 s; measured 5.0 s)",
  },
  loginThrottleAttempts: {
    env: 'LOGIN_THROTTLE_ATTEMPTS',
    default: 30,
    doc: 'bad logins for one username within which the store must answer 429 (the reference store allows 10 a minute)',
  },
  recoverToSuccessMs: {
    env: 'RECOVER_TO_SUCCESS_MS',
    default: 1_000,
    doc: 'time to recover: DB accepting connections until the same request answers 201',
  },
  recoverPollMs: { env: 'RECOVER_POLL_MS', default: 20, doc: 'resolution of the time-to-recover measurement' },
  streamRequestTimeoutMs: {
    env: 'STREAM_REQUEST_TIMEOUT_MS',
    default: 3_000,
    doc: 'client timeout of the concurrent order stream (a timeout is recorded as indeterminate)',
  },
  faultHoldMs: { env: 'FAULT_HOLD_MS', default: 3_000, doc: 'a fault under the order stream lasts at least this long' },
  appFaultHoldMs: { env: 'APP_FAULT_HOLD_MS', default: 1_500, doc: 'an app-server fault under load lasts at least this long' },
  appWorkerKillGapMs: {
    env: 'APP_WORKER_KILL_GAP_MS',
    default: 150,
    doc: 'one worker killed: the longest stretch without a successful answer (measured 30-40 ms with 3 workers; a replacement worker boots in 250-300 ms)',
  },
  appReloadCompleteMs: {
    env: 'APP_RELOAD_COMPLETE_MS',
    default: 5_000,
    doc: "graceful reload: every old worker has exited (the store's graceful_timeout is 5 s)",
  },
  faultObserveTimeoutMs: {
    env: 'FAULT_OBSERVE_TIMEOUT_MS',
    default: 10_000,
    doc: 'a fault must show its effect within this (database refusing or hanging, workers replaced, server down), else "fault not observed"',
  },
  driverCommandTimeoutMs: {
    env: 'DRIVER_COMMAND_TIMEOUT_MS',
    default: 60_000,
    doc: 'each command a fault driver runs (systemctl, docker compose, kubectl, your own) is killed after this',
  },
  appRestartDowntimeMs: {
    env: 'APP_RESTART_DOWNTIME_MS',
    default: 2_000,
    doc: 'full restart (TERM, exit, start): the longest stretch without a successful answer (measured 0.5-0.7 s sync, 0.8-1.1 s uvicorn)',
  },
} as const;
export type Thresholds = { readonly [K in keyof typeof THRESHOLD_SPECS]: number };

/** Shape of the load the app-server scenarios run through their faults. */
export interface LoadSettings {
  /** concurrent virtual users */
  readonly vus: number;
  /** pause between a user's requests */
  readonly thinkTimeMs: number;
  /** concurrent order writers of the db-outage ledger */
  readonly ledgerClients: number;
  /** concurrent requests with one Idempotency-Key, per round */
  readonly idempotencyClients: number;
  /** rounds of them per test: a race needs more than one chance */
  readonly idempotencyRounds: number;
}

export interface Config {
  readonly target: 'embedded' | 'external';
  readonly load: LoadSettings;
  readonly embedded: EmbeddedSettings;
  readonly external?: ExternalTarget;
  readonly thresholds: Thresholds;
  readonly reportsDir: string;
}

/** Thrown for invalid configuration; the message lists every bad variable. */
export class ConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`Invalid configuration (nothing was started):\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** Newest /usr/lib/postgresql/<version>/bin on this machine, or undefined. */
export function newestPgBin(root = '/usr/lib/postgresql'): string | undefined {
  let versions: string[];
  try {
    versions = fs.readdirSync(root).filter((v) => /^\d+(\.\d+)?$/.test(v));
  } catch {
    return undefined;
  }
  versions.sort((a, b) => Number(b) - Number(a));
  for (const v of versions) {
    const bin = path.join(root, v, 'bin');
    if (fs.existsSync(path.join(bin, 'pg_ctl'))) return bin;
  }
  return undefined;
}

const quoted = (v: string | undefined) => (v === undefined ? 'nothing' : JSON.stringify(v));

/** Parses and validates an environment into a frozen Config, or throws ConfigError. */
export function loadConfig(env: Env, opts: { checkFiles?: boolean } = {}): Config {
  const checkFiles = opts.checkFiles ?? true;
  const problems: string[] = [];
  const get = (name: string) => {
    const v = env[name];
    return v === undefined || v.trim() === '' ? undefined : v.trim();
  };
  function parse<T>(name: string, schema: z.ZodType<T>, accepts: string, fallback: T): T {
    const raw = get(name);
    if (raw === undefined) return fallback;
    const result = schema.safeParse(raw);
    if (result.success) return result.data;
    problems.push(`${name}: expected ${accepts}, got ${quoted(raw)}`);
    return fallback;
  }
  const int = (min: number, max: number) => z.string().regex(/^\d+$/).transform(Number).pipe(z.number().int().min(min).max(max));
  const httpUrl = z
    .string()
    .refine((s) => URL.canParse(s) && /^https?:$/.test(new URL(s).protocol))
    .transform((s) => s.replace(/\/+$/, ''));

  const target = parse('TARGET', z.enum(['embedded', 'external']), '"embedded" or "external"', 'embedded');

  // embedded stack
  const python = parse('PYTHON', z.string(), 'a path to a Python 3 interpreter', '/usr/bin/python3');
  const defaultPgBin = newestPgBin();
  const pgBin = parse('PG_BIN', z.string(), 'a folder holding initdb and pg_ctl', defaultPgBin ?? '');
  const server = parse('STORE_SERVER', z.enum(['gunicorn', 'uvicorn']), '"gunicorn" or "uvicorn"', 'gunicorn');
  const workers = parse('STORE_WORKERS', int(1, 32), 'an integer from 1 to 32', 3);
  const flaws = parse(
    'STORE_FLAWS',
    z
      .string()
      .transform((s) =>
        s
          .split(',')
          .map((f) => f.trim())
          .filter(Boolean),
      )
      .pipe(z.array(z.enum(KNOWN_FLAWS))),
    `a comma-separated list of: ${KNOWN_FLAWS.join(', ')}`,
    [] as FlawName[],
  );
  const flawPauseMs = parse('STORE_FLAW_PAUSE_MS', int(0, 10_000), 'milliseconds from 0 to 10000', 250);
  const stackName = parse('STACK_NAME', z.string().regex(/^[a-z0-9][a-z0-9-]{0,39}$/), 'lower-case letters, digits and -', 'test');
  const defaultRoot = path.join(
    os.tmpdir(),
    // per user and checkout: another user's stacks are never this run's
    `store-resilience-${typeof process.getuid === 'function' ? process.getuid() : 0}-${createHash('sha1').update(PROJECT_ROOT).digest('hex').slice(0, 8)}`,
  );
  const stackRoot = parse(
    'STACK_ROOT',
    z.string().refine((s) => path.isAbsolute(s)),
    'an absolute path',
    defaultRoot,
  );
  const portRange = parse(
    'STACK_PORT_RANGE',
    z
      .string()
      .regex(/^\d+-\d+$/)
      .transform((s) => {
        const [min, max] = s.split('-').map(Number) as [number, number];
        return { min, max };
      })
      .refine(({ min, max }) => min >= 1024 && max < EPHEMERAL_PORT_START && max - min >= 10),
    `MIN-MAX with 1024 <= MIN, MAX < ${EPHEMERAL_PORT_START} (the kernel's ephemeral range starts there) and at least 10 ports`,
    { min: 20000, max: 32000 },
  );

  const thresholds = Object.fromEntries(
    Object.entries(THRESHOLD_SPECS).map(([key, spec]) => [
      key,
      parse(spec.env, int(1, 3_600_000), 'milliseconds, an integer from 1 to 3600000', spec.default),
    ]),
  ) as Thresholds;
  const load: LoadSettings = {
    vus: parse('LOAD_VUS', int(1, 256), 'an integer from 1 to 256', 6),
    thinkTimeMs: parse('LOAD_THINK_MS', int(0, 10_000), 'milliseconds from 0 to 10000', 20),
    ledgerClients: parse('LEDGER_CLIENTS', int(1, 64), 'an integer from 1 to 64', 4),
    idempotencyClients: parse('IDEMPOTENCY_CLIENTS', int(2, 64), 'an integer from 2 to 64', 16),
    idempotencyRounds: parse('IDEMPOTENCY_ROUNDS', int(1, 100), 'an integer from 1 to 100', 8),
  };
  const reportsDir = parse(
    'REPORTS_DIR',
    z.string().refine((s) => path.isAbsolute(s)),
    'an absolute path',
    path.join(PROJECT_ROOT, 'reports'), // everything a run writes
  );
  const reuseStack = parse('STACK_REUSE', z.enum(['0', '1', 'true', 'false']), '1/true or 0/false', 'false');

  let external: ExternalTarget | undefined;
  if (target === 'external') {
    const baseUrl = parse('BASE_URL', httpUrl, 'an http(s) URL such as http://127.0.0.1:8000', '');
    if (!get('BASE_URL')) problems.push('BASE_URL: required when TARGET=external (the store to test)');
    const creds = (user: string, pass: string): Credentials | undefined => {
      const username = get(user);
      const password = get(pass);
      if (!username && !password) return undefined;
      if (!username || !password) {
        problems.push(`${username ? pass : user}: required together with ${username ? user : pass}`);
        return undefined;
      }
      return { username, password };
    };
    const customer = creds('STORE_USERNAME', 'STORE_PASSWORD');
    const jwtToken = parse('JWT_TOKEN', z.string().regex(/^[\w-]+\.[\w-]+\.[\w-]*$/), 'a JWT (three dot-separated parts)', '') || undefined;
    if (!customer && !jwtToken) {
      problems.push('STORE_USERNAME/STORE_PASSWORD or JWT_TOKEN: one is required when TARGET=external');
    }
    if (flaws.length > 0)
      problems.push('STORE_FLAWS: switches flaws of the embedded reference store; an external target runs what it runs');
    external = parseExternal(
      { get, parse, problems, checkFiles },
      {
        baseUrl,
        customer,
        jwtToken,
        secondCustomer: creds('STORE_USERNAME_2', 'STORE_PASSWORD_2'),
        staff: creds('STORE_STAFF_USERNAME', 'STORE_STAFF_PASSWORD'),
        server,
      },
    );
  } else {
    // external settings left in .env are ignored by an embedded run (the stack has its own drivers)
    if (checkFiles) {
      if (!fs.existsSync(python)) problems.push(`PYTHON: ${python} does not exist (Debian: /usr/bin/python3)`);
      if (!pgBin) {
        problems.push('PG_BIN: no /usr/lib/postgresql/*/bin found; install postgresql or set PG_BIN');
      } else if (!['initdb', 'pg_ctl', 'pg_dump', 'pg_restore'].every((b) => fs.existsSync(path.join(pgBin, b)))) {
        problems.push(`PG_BIN: ${pgBin} does not hold initdb, pg_ctl, pg_dump and pg_restore`);
      }
    }
  }
  if (target === 'external' && checkFiles && pgBin && !['pg_dump', 'pg_restore'].every((b) => fs.existsSync(path.join(pgBin, b)))) {
    problems.push(`PG_BIN: ${pgBin} does not hold pg_dump and pg_restore (the backup family runs them against DATABASE_URL)`);
  }

  if (problems.length > 0) throw new ConfigError(problems);
  return deepFreeze({
    target,
    load,
    embedded: {
      python,
      pgBin,
      server,
      workers,
      flaws,
      flawPauseMs,
      stackDir: path.join(stackRoot, stackName),
      portRange,
      reuse: reuseStack === '1' || reuseStack === 'true',
    },
    external,
    thresholds,
    reportsDir,
  });
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

/** The environment: process.env over the project's .env file (process.env wins). */
export function readEnv(): Env {
  const file = path.join(PROJECT_ROOT, '.env');
  const fromFile = fs.existsSync(file) ? dotenv.parse(fs.readFileSync(file)) : {};
  return { ...fromFile, ...process.env };
}

let cached: Config | undefined;
/** The run's configuration (validated once per process). */
export function config(): Config {
  cached ??= loadConfig(readEnv());
  return cached;
}

/** Environment for a child process: this process's variables (or only `keys` of them) plus extra. */
export function childEnv(extra: Readonly<Record<string, string>> = {}, keys?: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (v !== undefined && (!keys || keys.includes(k))) out[k] = v;
  }
  return { ...out, ...extra };
}
