/**
 * The ONLY reader of process.env. Typed, validated, frozen.
 * A bad value stops the run before anything starts, naming the variable and what it accepts.
 * The parts: helpers/config/parse.ts (how a setting is read), thresholds.ts (the named bounds),
 * embedded.ts (the embedded stack), external*.ts (an external target and its drivers).
 */
import fs from 'node:fs';
import path from 'node:path';
import dotenv from 'dotenv';
import { z } from 'zod';
import { parseEmbedded, type EmbeddedSettings } from './config/embedded';
import { parseExternalTarget, type ExternalTarget } from './config/external';
import { ConfigError, int, parseContext, type Env } from './config/parse';
import { THRESHOLD_SPECS, boundText, type LoadSettings, type ThresholdSources, type Thresholds } from './config/thresholds';
import { PROJECT_ROOT } from './paths';

import { laneStackDir } from './config/embedded';
export { EPHEMERAL_PORT_START, KNOWN_FLAWS, laneStackDir, newestPgBin } from './config/embedded';
export type { Credentials, EmbeddedSettings, FlawName, ServerKind } from './config/embedded';
export type { ExternalTarget } from './config/external';
export { ConfigError, MIN_SECRET_LENGTH, type Env } from './config/parse';
export type { LoadSettings, ThresholdSources, Thresholds } from './config/thresholds';

/** A rate limit as DRF writes it (`10/min`): so many requests per window. */
export interface RateLimit {
  readonly count: number;
  readonly windowMs: number;
  readonly text: string;
}

const WINDOW_MS: Record<string, number> = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };
/** A DRF rate (`10/min`, `100/hour`) as a count per window; undefined when it is not one. */
export function parseRateLimit(text: string): RateLimit | undefined {
  const m = /^(\d+)\/(s|sec|second|m|min|minute|h|hour|d|day)$/.exec(text);
  const count = Number(m?.[1]);
  return m && count >= 1 && count <= 1000 ? { count, windowMs: WINDOW_MS[m[2]![0]!]!, text } : undefined;
}
const rateLimit = z
  .string()
  .refine((s) => parseRateLimit(s) !== undefined)
  .transform((s) => parseRateLimit(s)!);

/** The store's limits the suite counts, the settings that name them, and the embedded store's values. */
export const RATE_LIMITS = {
  login: { env: 'LOGIN_RATE_LIMIT', store: 'STORE_LOGIN_RATE', embedded: '10/min', what: 'bad logins per username and client address' },
  loginAddress: {
    env: 'LOGIN_ADDRESS_RATE_LIMIT',
    store: 'STORE_LOGIN_ADDRESS_RATE',
    // the store's own default is 60/min; the embedded store runs with 20 so that a spray is counted in 22 logins
    embedded: '20/min',
    what: 'logins per client address, whatever the username',
  },
  refresh: { env: 'REFRESH_RATE_LIMIT', store: 'STORE_REFRESH_RATE', embedded: '10/min', what: 'token refreshes per user' },
} as const;
export type LimitName = keyof typeof RATE_LIMITS;

export interface Config {
  readonly target: 'embedded' | 'external';
  /**
   * the store's limits the security family counts exactly: bad logins per username and address
   * (LOGIN_RATE_LIMIT), logins per address over any usernames (LOGIN_ADDRESS_RATE_LIMIT), refreshes per
   * user (REFRESH_RATE_LIMIT). The embedded store is started with them (10/min, 20/min, 10/min); an
   * external store's must be given for a limit to be counted
   */
  readonly rateLimits: Readonly<Partial<Record<LimitName, RateLimit>>>;
  readonly load: LoadSettings;
  readonly embedded: EmbeddedSettings;
  readonly external?: ExternalTarget;
  readonly thresholds: Thresholds;
  /** which thresholds the environment set (a bound's message names its variable and whether it was set) */
  readonly thresholdSources: ThresholdSources;
  readonly reportsDir: string;
  /** every test runs this many times (REPEAT; Playwright's --repeat-each overrides it); the report states what the runs prove */
  readonly repeat: number;
  /** the fuzz family: requests per endpoint (FUZZ_RUNS), and the seed (FUZZ_SEED: replays a failure; default a new one) */
  readonly fuzz: { readonly runs: number; readonly seed?: number };
  /** running in CI (CI set): test.only fails the run there, and only there */
  readonly ci: boolean;
  /** the CI matrix cell this run is (CI_CELL, e.g. pg16-uvicorn-2): its blob report is named for it */
  readonly ciCell?: string;
}

/** Parses and validates an environment into a frozen Config, or throws ConfigError listing every problem. */
export function loadConfig(env: Env, opts: { checkFiles?: boolean } = {}): Config {
  const ctx = parseContext(env, opts.checkFiles ?? true);
  const { parse, problems } = ctx;
  const target = parse('TARGET', z.enum(['embedded', 'external']), '"embedded" or "external"', 'embedded');
  // external settings left in .env are ignored by an embedded run (the stack has its own drivers)
  const parsedEmbedded = parseEmbedded(ctx, target === 'embedded' && ctx.checkFiles);
  // a deployment is one target: a fault on it reaches every client, so its tests run one at a time
  if (target === 'external' && ctx.get('STACK_LANES') !== undefined && parsedEmbedded.lanes > 1)
    problems.push(`STACK_LANES: an external target is one deployment, and a fault on it reaches every lane; set STACK_LANES=1`);
  const embedded = target === 'external' ? { ...parsedEmbedded, lanes: 1 } : parsedEmbedded;
  const thresholds = Object.fromEntries(
    Object.entries(THRESHOLD_SPECS).map(([key, spec]) => [
      key,
      parse(spec.env, int(1, 3_600_000), 'milliseconds, an integer from 1 to 3600000', spec.default),
    ]),
  ) as Thresholds;
  const thresholdSources = Object.fromEntries(
    Object.entries(THRESHOLD_SPECS).map(([key, spec]) => [key, ctx.get(spec.env) === undefined ? 'default' : 'set']),
  ) as unknown as ThresholdSources;
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
  const external = target === 'external' ? parseExternalTarget(ctx, embedded) : undefined;
  const rateLimits = Object.fromEntries(
    Object.entries(RATE_LIMITS).map(([name, l]) => [
      name,
      parse(
        l.env,
        rateLimit.optional(),
        'a limit such as 10/min (1 to 1000 per s, min, hour or day)',
        target === 'embedded' ? parseRateLimit(l.embedded) : undefined,
      ),
    ]),
  ) as Partial<Record<LimitName, RateLimit>>;
  const repeat = parse('REPEAT', int(1, 1000), 'an integer from 1 to 1000 (runs of each test)', 1);
  const fuzz = {
    runs: parse('FUZZ_RUNS', int(1, 10_000), 'an integer from 1 to 10000 (requests per endpoint)', 25),
    seed: parse(
      'FUZZ_SEED',
      z
        .string()
        .regex(/^-?\d+$/)
        .transform(Number),
      'an integer (the seed a failure printed)',
      undefined as number | undefined,
    ),
  };
  const ci = ['1', 'true'].includes((ctx.get('CI') ?? '').toLowerCase());
  const ciCell =
    parse('CI_CELL', z.string().regex(/^[a-z0-9][a-z0-9.-]{0,39}$/), 'lower-case letters, digits, dots and dashes (pg16-uvicorn-2)', '') ||
    undefined;
  if (problems.length > 0) throw new ConfigError(problems);
  return deepFreeze({ target, rateLimits, load, embedded, external, thresholds, thresholdSources, reportsDir, repeat, fuzz, ci, ciCell });
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

/** A bound of this configuration as a failure message names it: value, variable, set or default. */
export const bound = (cfg: Pick<Config, 'thresholds' | 'thresholdSources'>, key: keyof Thresholds): string =>
  boundText(cfg.thresholds, cfg.thresholdSources, key);

/** The configuration as a lane's worker sees it: its own stack folder (lane 0: STACK_NAME's). */
export function laneConfig(cfg: Config, lane: number): Config {
  if (lane === 0) return cfg;
  return deepFreeze({ ...cfg, embedded: { ...cfg.embedded, stackDir: laneStackDir(cfg.embedded.stackDir, lane) } });
}
