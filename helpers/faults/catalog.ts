/**
 * The faults a scenario can name, composed from a target's service drivers. Each fault proves it
 * took effect (the database refuses or hangs, the link drops, workers are replaced, the server is
 * down) and that it was reverted, with probes of its own that do not ask the store under test;
 * "fault not observed" and "did not recover" are failures of their own (FaultNotObserved,
 * FaultDidNotRecover), never confused with a defect of the store.
 */
import type { LogWindow } from '../drivers/logs';
import type { AppService, DbService } from '../drivers/types';
import { type Fault } from './fault';
import type { ConnectionLog } from './proxy';
import type { ToxiproxyClient } from './toxiproxy-client';
import { appFault } from './app-faults';
import { dbFault, lockFault } from './db-faults';
import { CRASH_POINT_TOXIC, crashPointFault, linkFault } from './link-faults';

export const DB_FAULTS = [
  'db-stop',
  'db-crash',
  'db-freeze',
  'db-partition-down',
  'db-partition-blackhole',
  'db-partition-reset-peer',
  'db-latency',
  'db-crash-point',
  'db-lock',
] as const;
export type DbFaultName = (typeof DB_FAULTS)[number];
export const APP_FAULTS = ['app-reload', 'app-kill-worker', 'app-restart', 'app-scale-down', 'app-reexec'] as const;
export type AppFaultName = (typeof APP_FAULTS)[number];
export type FaultName = DbFaultName | AppFaultName;

export interface FaultOptions {
  /** db-latency: added delay */
  readonly latencyMs?: number;
  /** db-crash-point: the statement of each connection (from 1) at which the connection dies */
  readonly statement?: number;
  /** db-crash-point: true, the server executes that statement and its answer is lost; false, it never gets it */
  readonly afterStatement?: boolean;
}

/** The statements the store sends PostgreSQL, as this suite's fault proxy counts them. */
export interface StatementLog {
  /** false for a proxy that cannot count statements (a Toxiproxy) */
  supported(): Promise<boolean>;
  /** forget what was seen: every connection counts from 1 again */
  clear(): Promise<void>;
  connections(): Promise<ConnectionLog[]>;
  /** how many times the armed crash point cut a connection */
  fired(): Promise<number>;
}

/** The statement log of a link through this suite's fault proxy. */
export function statementLogOf(link: LinkService): StatementLog {
  return {
    supported: async () => (await link.client.version().catch(() => '')).startsWith('store-resilience-fault-proxy'),
    clear: () => link.client.clearConnections(link.proxy),
    connections: () => link.client.connections(link.proxy),
    fired: async () => (await link.client.proxy(link.proxy)).toxics.find((t) => t.name === CRASH_POINT_TOXIC)?.attributes.fired ?? 0,
  };
}

/** A fault, or the setting that would make it possible on this target. */
export type FaultOrMissing = { readonly ok: true; readonly value: Fault } | { readonly ok: false; readonly missing: string };

/** The link between the store and PostgreSQL: a Toxiproxy-compatible proxy the store connects through. */
export interface LinkService {
  readonly label: string;
  readonly client: ToxiproxyClient;
  readonly proxy: string;
  /** the address the store connects to */
  listen(): Promise<{ host: string; port: number }>;
  /** the store's own database URL through the proxy, when known: recovery waits until it accepts */
  readonly storePathUrl?: string;
}

export interface FaultContext {
  readonly db?: DbService;
  /** why there is no database driver: the setting to give */
  readonly dbMissing: string;
  readonly app?: AppService;
  readonly appMissing: string;
  readonly link?: LinkService;
  readonly linkMissing: string;
  /** the database itself (DATABASE_URL's host:port): observed directly, not through the store */
  readonly dbAddress?: { readonly host: string; readonly port: number };
  /** read-only URL: "accepts queries again" */
  readonly dbProbeUrl?: string;
  /** a role that may lock the store's tables (a disposable database only), for db-lock */
  readonly lockUrl?: string;
  /** why there is no lockUrl */
  readonly lockMissing?: string;
  /** the store's /api/health/ status, undefined when nothing answers */
  readonly health: () => Promise<number | undefined>;
  /** opens a window on the store's log, when the target has it (a broken deployment's evidence) */
  readonly storeLog?: () => LogWindow;
  /** the workers the app server runs in its steady state, when known */
  readonly expectedWorkers: () => Promise<number | undefined>;
  readonly observeTimeoutMs: number;
  /** no answer within this to a connection's first message: the database or the link hangs */
  readonly hangProbeMs: number;
  readonly recoverTimeoutMs: number;
}

/** The named fault on this target, or the setting that would make it possible. */
export function createFault(ctx: FaultContext, name: FaultName, opts: FaultOptions = {}): FaultOrMissing {
  switch (name) {
    case 'db-stop':
      return dbFault(ctx, name, 'stop', 'PostgreSQL stopped, then started again');
    case 'db-crash':
      return dbFault(ctx, name, 'crash', 'PostgreSQL crashed (no clean shutdown), then started with crash recovery');
    case 'db-freeze':
      return dbFault(ctx, name, 'freeze', 'PostgreSQL frozen (every process stopped, connections hang), then thawed');
    case 'db-partition-down':
    case 'db-partition-blackhole':
    case 'db-partition-reset-peer':
    case 'db-latency':
      return linkFault(ctx, name, opts);
    case 'db-crash-point':
      return crashPointFault(ctx, opts);
    case 'db-lock':
      return lockFault(ctx);
    case 'app-reload':
    case 'app-kill-worker':
    case 'app-restart':
    case 'app-scale-down':
    case 'app-reexec':
      return appFault(ctx, name);
  }
}
