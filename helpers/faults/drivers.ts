/**
 * Drivers decide HOW a fault is applied to a target; a scenario names the fault.
 * `local` drives the embedded stack by PID, data directory and the fault proxy.
 */
import type { Config } from '../config';
import { healStack } from '../stack/heal';
import type { Target } from '../target';
import { dbPartitionFault, pgFreezeFault, pgStopFault, type DbFaultContext } from './database-faults';
import { appKillWorkerFault, appReloadFault, appRestartFault, appScaleDownFault, type AppFaultContext } from './app-faults';
import type { Fault } from './fault';

export const DB_FAULTS = [
  'db-stop',
  'db-crash',
  'db-freeze',
  'db-partition-down',
  'db-partition-blackhole',
  'db-partition-reset-peer',
  'db-latency',
] as const;
export type DbFaultName = (typeof DB_FAULTS)[number];

export const APP_FAULTS = ['app-reload', 'app-kill-worker', 'app-restart', 'app-scale-down'] as const;
export type AppFaultName = (typeof APP_FAULTS)[number];
export type FaultName = DbFaultName | AppFaultName;

export interface FaultOptions {
  /** db-latency: added delay */
  readonly latencyMs?: number;
}

export interface FaultDriver {
  readonly name: string;
  create(fault: FaultName, opts?: FaultOptions): Fault;
  /** backstop: brings every service back, returns what it had to do */
  heal(): Promise<string[]>;
}

/** The driver for the target, or undefined when the target has no way to apply faults. */
export function faultDriverFor(target: Target, cfg: Config): FaultDriver | undefined {
  const stack = target.stack;
  if (!stack) return undefined;
  const ctx: DbFaultContext = {
    cluster: stack.cluster,
    storeDatabaseUrl: stack.storeDatabaseUrl,
    proxy: stack.proxy.client,
    proxyName: stack.state.proxy.name,
    recoverTimeoutMs: cfg.thresholds.recoverTimeoutMs,
  };
  const app: AppFaultContext = { store: () => stack.store, recoverTimeoutMs: cfg.thresholds.recoverTimeoutMs };
  return {
    name: 'local',
    create(fault, opts = {}) {
      switch (fault) {
        case 'db-stop':
          return pgStopFault(ctx, 'fast');
        case 'db-crash':
          return pgStopFault(ctx, 'immediate');
        case 'db-freeze':
          return pgFreezeFault(ctx);
        case 'db-partition-down':
          return dbPartitionFault(ctx, 'down');
        case 'db-partition-blackhole':
          return dbPartitionFault(ctx, 'blackhole');
        case 'db-partition-reset-peer':
          return dbPartitionFault(ctx, 'reset_peer');
        case 'db-latency':
          return dbPartitionFault(ctx, 'latency', { latencyMs: opts.latencyMs });
        case 'app-reload':
          return appReloadFault(app);
        case 'app-kill-worker':
          return appKillWorkerFault(app);
        case 'app-restart':
          return appRestartFault(app);
        case 'app-scale-down':
          return appScaleDownFault(app);
      }
    },
    heal: () => healStack(stack, cfg.thresholds.recoverTimeoutMs),
  };
}
