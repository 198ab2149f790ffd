/**
 * The app-server experiment (e2e/app-restart.spec.ts runs it per fault): the store mix under load
 * through the fault, the server's identity before and after, the figures and bounds of each fault.
 */
import type { Config, ServerKind } from '../../helpers/config';
import type { ServerIdentity } from '../../helpers/drivers/types';
import { failedRecords as failed, type LoadExperimentRun } from '../../helpers/experiment/load-experiment';
import { catalogProbe, healthProbe, ownOrdersProbe } from '../../helpers/experiment/steady-state';
import type { AppFaultName } from '../../helpers/faults/catalog';
import type { FaultAction } from '../../helpers/faults/fault';
import type { LoadRecord } from '../../helpers/load/load-runner';
import { errorKind } from '../../helpers/load/stats';
import type { StoreApi } from '../../helpers/api/store-api';
import { FreshReader } from '../../helpers/api/fresh';
import type { DbProbe } from '../../helpers/integrity/db-probe';
import type { Evidence } from '../../helpers/report/evidence';
import type { Target } from '../../helpers/target';
import { expect, requireDb, test as base, type Experiment, type Faults, type UserIdentity, type Who } from '../fixtures';

/** Answers the load must get through before the fault and after the recovery. */
const OK_BEFORE = 20;
const OK_AFTER = 20;
/** requests under the fault before it may be recovered */
const REQUESTS_DURING = 10;
const IN_FLIGHT_WEIGHTS = { products: 1, brands: 1, orders: 4, ownOrders: 1 };

/** What an app-server fault asks of the experiment: its own declaration, no fault named in the code that runs it. */
interface AppFaultPlan {
  /**
   * held for appFaultHoldMs under load; a restart or a re-exec is not: it comes back at once, and
   * its downtime is what is measured
   */
  readonly held: boolean;
  /**
   * its check is about the requests in flight when it strikes (a reload, a stop): the load runs
   * without think time, so that every virtual user has a request in flight at every moment. With
   * 20 ms of think time and 5 ms answers (kept database connections), a stop found nothing in flight
   * one time in four, and a store that drops in-flight requests passed (the meta-test saw it)
   */
  readonly inFlight: boolean;
  /** it loses what it was serving by definition (a worker killed with SIGKILL): its own test bounds that */
  readonly losesInFlight: boolean;
  /** the bound its figures are held to, for the summary (the tests assert them) */
  readonly bounds: (t: Config['thresholds']) => Record<string, number>;
}

const NO_FAILURE = () => ({ failed: 0 });
const APP_FAULT_PLANS: Readonly<Record<AppFaultName, AppFaultPlan>> = {
  'app-reload': { held: true, inFlight: true, losesInFlight: false, bounds: NO_FAILURE },
  'app-kill-worker': { held: true, inFlight: false, losesInFlight: true, bounds: (t) => ({ downtimeMs: t.appWorkerKillGapMs }) },
  'app-restart': { held: false, inFlight: true, losesInFlight: false, bounds: (t) => ({ downtimeMs: t.appRestartDowntimeMs }) },
  'app-reexec': { held: false, inFlight: false, losesInFlight: false, bounds: NO_FAILURE },
  'app-scale-down': { held: true, inFlight: false, losesInFlight: false, bounds: NO_FAILURE },
};

/** The requests in flight at a moment: started at or before it, and ended after it. */
export const inFlightAt = (records: readonly LoadRecord[], at: number) => records.filter((r) => r.start <= at && r.end > at);

export interface Run extends LoadExperimentRun {
  /** Idempotency-Keys of the orders the database holds after the run */
  readonly storedKeys: ReadonlySet<string>;
  /** orders whose answer was lost in flight and whose retry replayed them (written on the first try) */
  readonly droppedInFlight: readonly LoadRecord[];
}

/** The fixtures the app-restart experiment uses. */
interface Ctx {
  readonly experiment: Experiment;
  readonly faults: Faults;
  readonly target: Target;
  readonly cfg: Config;
  readonly api: StoreApi;
  readonly db: DbProbe | undefined;
  readonly userOf: (who: Who) => Promise<UserIdentity>;
  readonly storeKind: ServerKind;
  readonly evidence: Evidence;
}

export const describeFailures = (rs: readonly LoadRecord[]) =>
  rs.map((r) => `${r.op} started ${new Date(r.start).toISOString().slice(11, 23)}: ${errorKind(r)}`);

/**
 * The app-server experiment: the store mix under load, the fault held for appFaultHoldMs (a restart
 * starts again at once: its downtime is what is measured), the server's identity before and after;
 * `verify` adds the scenario's own assertions.
 */
async function underLoad(ctx: Ctx, faultName: AppFaultName, verify: (run: Run) => Promise<void> | void): Promise<void> {
  const { experiment, faults, target, cfg, api, storeKind } = ctx;
  const db = requireDb(ctx.db);
  const fresh = new FreshReader(target.baseUrl, {
    token: api.accessToken,
    timeoutMs: cfg.thresholds.requestTimeoutMs,
    record: ctx.evidence.record,
  });
  const fault = faults.create(faultName);
  const plan = APP_FAULT_PLANS[faultName];
  const t = cfg.thresholds;
  const workers = (await target.server.expectedWorkers()) ?? '?';
  base.info().annotations.push({ type: 'fault', description: `${fault.description} (${storeKind} workers)` });
  await experiment.run(
    {
      fault,
      load: {
        concurrency: cfg.load.vus,
        timeoutMs: t.requestTimeoutMs,
        thinkTimeMs: plan.inFlight ? 0 : cfg.load.thinkTimeMs,
        // and mostly orders (writes of 10-20 ms): every worker is busy when the signal reaches it (with
        // the catalogue read anonymously in 2-3 ms, a stop found idle workers once and a store that
        // drops in-flight requests went green in the meta-test)
        ...(plan.inFlight ? { weights: IN_FLIGHT_WEIGHTS } : {}),
      },
      // each probe on a connection of its own: a kept one to a worker the fault retired would be reset
      steadyState: [healthProbe(fresh), catalogProbe(fresh, db), ownOrdersProbe(fresh, db, (await ctx.userOf('customer')).userId)],
      okBefore: OK_BEFORE,
      okAfter: OK_AFTER,
      hold: { ms: plan.held ? t.appFaultHoldMs : 0, requests: REQUESTS_DURING },
      identity: target.server.identity.ok ? target.server.identity.value : undefined,
      timeline: ({ records, stats }) => ({
        title: `${fault.name} under load (${storeKind} workers x${workers})`,
        subtitle: `${cfg.load.vus} virtual users; availability ${(stats.overall.availability * 100).toFixed(2)}%, ${failed(records).length} failed of ${records.length}; longest stretch without success ${stats.downtimeMs.toFixed(0)} ms`,
      }),
      metrics: ({ records, stats, injected, recovered, verdict }) => ({
        scenario: `${fault.name} (${storeKind})`,
        fault: fault.name,
        figures: {
          requests: records.length,
          failed: failed(records).length,
          availabilityPct: Number((stats.overall.availability * 100).toFixed(3)),
          downtimeMs: Math.round(stats.downtimeMs),
          firstSuccessAfterRecoverMs: stats.firstSuccessAfterRecoverMs === undefined ? null : Math.round(stats.firstSuccessAfterRecoverMs),
          p99Ms: Math.round(stats.overall.latencyMs.p99),
          injectMs: injected.endedAt - injected.startedAt,
          recoverMs: recovered.endedAt - recovered.startedAt,
          staleSocketRetries: stats.staleSocketRetries,
          ledger: verdict.valid ? 'valid' : 'INVALID',
        },
        bounds: plan.bounds(t),
      }),
    },
    async (base) => {
      const run: Run = {
        ...base,
        storedKeys: new Set(base.stored.map((o) => o.idempotencyKey ?? '')),
        droppedInFlight: base.records.filter((r) => r.retriedStaleSocket && r.replayed),
      };
      // a retried order answered by a replay was written on its first try, whose answer was dropped in flight
      if (!plan.losesInFlight)
        expect(
          run.droppedInFlight.map(
            (r) =>
              `${r.op} started ${new Date(r.start).toISOString().slice(11, 23)}: first answer lost, the retry replayed order ${r.orderId}`,
          ),
          'no answer was dropped in flight (a retry replaying a written order)',
        ).toEqual([]);
      await verify(run);
    },
  );
}

/** The server's identity before and after the fault (the test needs the capability: need() skipped it otherwise). */
export function identities(run: Run): { before: ServerIdentity; after: ServerIdentity } {
  if (!run.before || !run.after) throw new Error('the server identity was not read before and after the fault');
  return { before: run.before, after: run.after };
}
export const doneAt = (a: FaultAction) => a.observedAt ?? a.endedAt;

/** The app-restart spec's test: `underLoad(fault, verify)` with this test's fixtures bound. */
export const test = base.extend<{ underLoad: (faultName: AppFaultName, verify: (run: Run) => Promise<void> | void) => Promise<void> }>({
  underLoad: [
    async ({ experiment, faults, target, cfg, api, db, userOf, storeKind, evidence }, use) => {
      await use((faultName, verify) =>
        underLoad({ experiment, faults, target, cfg, api, db, userOf, storeKind, evidence }, faultName, verify),
      );
    },
    { box: true },
  ],
});
