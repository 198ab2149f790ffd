/**
 * The runbook's second section, automated and measured: restart gunicorn/uvicorn while the store is
 * under load; the remaining workers keep serving, the service is back after the restart, and its
 * answers are correct. Each scenario runs for the sync workers (project app-restart) and for
 * uvicorn workers (project app-restart-uvicorn).
 */
import { RUNBOOK_ORDER, newIdempotencyKey } from '../helpers/api/payloads';
import type { Config, ServerKind } from '../helpers/config';
import type { ServerIdentity } from '../helpers/drivers/types';
import { failedRecords as failed, type LoadExperimentRun } from '../helpers/experiment/load-experiment';
import { healthProbe, productsProbe } from '../helpers/experiment/steady-state';
import type { AppFaultName } from '../helpers/faults/catalog';
import type { FaultAction } from '../helpers/faults/fault';
import type { LoadRecord } from '../helpers/load/load-runner';
import { errorKind } from '../helpers/load/stats';
import type { StoreApi } from '../helpers/api/store-api';
import type { Target } from '../helpers/target';
import { expect, need, test, type Experiment, type Faults } from './fixtures';

/** Answers the load must get through before the fault and after the recovery. */
const OK_BEFORE = 20;
const OK_AFTER = 20;
/** requests under the fault before it may be recovered */
const REQUESTS_DURING = 10;

interface Run extends LoadExperimentRun {
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
  readonly anonApi: StoreApi;
  readonly storeKind: ServerKind;
}

/** The bound each fault's figures are held to, for the summary (the tests assert them). */
function boundsOf(faultName: AppFaultName, t: Config['thresholds']): Record<string, number> {
  if (faultName === 'app-kill-worker') return { downtimeMs: t.appWorkerKillGapMs };
  if (faultName === 'app-restart') return { downtimeMs: t.appRestartDowntimeMs };
  return { failed: 0 };
}

const describeFailures = (rs: readonly LoadRecord[]) =>
  rs.map((r) => `${r.op} started ${new Date(r.start).toISOString().slice(11, 23)}: ${errorKind(r)}`);

test.describe('application server under load @app', () => {
  /**
   * The app-server experiment: the store mix under load, the fault held for appFaultHoldMs (a restart
   * starts again at once: its downtime is what is measured), the server's identity before and after;
   * `verify` adds the scenario's own assertions.
   */
  async function underLoad(ctx: Ctx, faultName: AppFaultName, verify: (run: Run) => Promise<void> | void): Promise<void> {
    const { experiment, faults, target, cfg, anonApi, storeKind } = ctx;
    const fault = faults.create(faultName);
    const t = cfg.thresholds;
    const workers = (await target.server.expectedWorkers()) ?? '?';
    test.info().annotations.push({ type: 'fault', description: `${fault.description} (${storeKind} workers)` });
    await experiment.run(
      {
        fault,
        load: { concurrency: cfg.load.vus, timeoutMs: t.requestTimeoutMs, thinkTimeMs: cfg.load.thinkTimeMs },
        steadyState: [healthProbe(anonApi), productsProbe(anonApi)],
        okBefore: OK_BEFORE,
        okAfter: OK_AFTER,
        hold: { ms: faultName === 'app-restart' || faultName === 'app-reexec' ? 0 : t.appFaultHoldMs, requests: REQUESTS_DURING },
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
            firstSuccessAfterRecoverMs:
              stats.firstSuccessAfterRecoverMs === undefined ? null : Math.round(stats.firstSuccessAfterRecoverMs),
            p99Ms: Math.round(stats.overall.latencyMs.p99),
            injectMs: injected.endedAt - injected.startedAt,
            recoverMs: recovered.endedAt - recovered.startedAt,
            staleSocketRetries: stats.staleSocketRetries,
            ledger: verdict.valid ? 'valid' : 'INVALID',
          },
          bounds: boundsOf(faultName, t),
        }),
      },
      async (base) => {
        const run: Run = {
          ...base,
          storedKeys: new Set(base.stored.map((o) => o.idempotencyKey ?? '')),
          droppedInFlight: base.records.filter((r) => r.retriedStaleSocket && r.replayed),
        };
        // a retried order answered by a replay was written on its first try, whose answer was dropped in flight;
        // a worker killed with SIGKILL loses what it was serving by definition: its own test bounds that
        if (faultName !== 'app-kill-worker')
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
  function identities(run: Run): { before: ServerIdentity; after: ServerIdentity } {
    if (!run.before || !run.after) throw new Error('the server identity was not read before and after the fault');
    return { before: run.before, after: run.after };
  }
  const doneAt = (a: FaultAction) => a.observedAt ?? a.endedAt;

  test('should fail no request and complete a graceful reload (SIGHUP) @app', async ({
    experiment,
    faults,
    target,
    cfg,
    anonApi,
    storeKind,
  }) => {
    need(target.server.identity);
    await underLoad({ experiment, faults, target, cfg, anonApi, storeKind }, 'app-reload', (run) => {
      expect(describeFailures(failed(run.records)), 'no request fails while the workers are replaced').toEqual([]);
      const completeMs = doneAt(run.recovered) - run.injected.startedAt;
      expect(completeMs, `the reload completes: every old worker exited ${completeMs}ms after the reload began`).toBeLessThanOrEqual(
        cfg.thresholds.appReloadCompleteMs,
      );
      const { before, after } = identities(run);
      expect(before.workers.length, 'workers were seen before the reload').toBeGreaterThan(0);
      expect(
        after.workers.filter((w) => before.workers.includes(w)),
        `every worker was replaced (before ${before.workers.join(' ')})`,
      ).toEqual([]);
      expect(after.workers.length, 'as many workers as before').toBe(before.workers.length);
    });
  });

  test('should keep serving on the other workers when one worker is killed (SIGKILL) @app', async ({
    experiment,
    faults,
    target,
    cfg,
    anonApi,
    storeKind,
  }) => {
    need(target.server.identity);
    await underLoad({ experiment, faults, target, cfg, anonApi, storeKind }, 'app-kill-worker', (run) => {
      const killedAt = run.injected.endedAt;
      const afterKill = failed(run.records).filter((r) => r.start > killedAt);
      expect(describeFailures(afterKill), 'every request that started after the kill is served by another worker').toEqual([]);
      // what a dead worker can take down: sync workers serve one request at a time; an uvicorn worker
      // holds every connection it accepted, so the bound is what was in flight when it died
      const inFlight = run.records.filter((r) => r.start <= killedAt && r.end >= run.injected.startedAt).length;
      const bound = storeKind === 'gunicorn' ? 1 : inFlight;
      // lost with the worker: failures, and orders whose answer died with it (their safe retry replayed them)
      const lost = failed(run.records).length + run.droppedInFlight.length;
      expect(
        lost,
        `failures on any worker (${failed(run.records).length}) and answers lost and replayed (${run.droppedInFlight.length}) are at most what the killed worker could hold when it died (${bound})`,
      ).toBeLessThanOrEqual(bound);
      expect(
        Math.round(run.stats.downtimeMs),
        `the longest stretch without a successful answer (${Math.round(run.stats.downtimeMs)}ms) is within ${cfg.thresholds.appWorkerKillGapMs}ms`,
      ).toBeLessThanOrEqual(cfg.thresholds.appWorkerKillGapMs);
      const { before, after } = identities(run);
      const respawned = after.workers.filter((w) => !before.workers.includes(w));
      expect(respawned.length, `a worker was replaced (before ${before.workers.join(' ')}, after ${after.workers.join(' ')})`).toBe(1);
      expect(after.workers.length, 'as many workers as before').toBe(before.workers.length);
    });
  });

  test('should drop nothing in flight and come back with the same answers after a full restart (TERM, start) @app', async ({
    experiment,
    faults,
    target,
    cfg,
    anonApi,
    storeKind,
    api,
    evidence,
  }) => {
    await underLoad({ experiment, faults, target, cfg, anonApi, storeKind }, 'app-restart', async (run) => {
      if (run.before && run.after) {
        expect(run.after.instance, 'a new server instance runs').toBeDefined();
        expect(run.after.instance, 'the instance is not the one before the restart').not.toBe(run.before.instance);
      } else {
        // the driver cannot name the instance: the fault proved the store went down instead
        expect(run.injected.observation, 'the restart took the store down').toMatch(/stops answering health 200/);
      }
      // refused: the listener was closed, the client retries safely. Turned away: sent once the stop had
      // begun and reset unread (gunicorn closes its listener on TERM and the kernel resets what was
      // queued behind it; an order among them must not be in the database). Everything else was
      // accepted and lost (in flight at the stop, a 5xx, no answer, or written without an answer): dropped.
      const stopAt = run.injected.startedAt;
      const turnedAway = (r: LoadRecord) =>
        r.status === undefined && r.errorKind === 'reset' && r.start >= stopAt && !(r.key !== undefined && run.storedKeys.has(r.key));
      const refused = failed(run.records).filter((r) => r.status === undefined && r.errorKind === 'refused');
      const away = failed(run.records).filter(turnedAway);
      const dropped = failed(run.records).filter((r) => !refused.includes(r) && !away.includes(r));
      await evidence.json('failures during the restart by kind', {
        refused: refused.length,
        turnedAway: away.length,
        dropped: dropped.length,
        droppedRequests: describeFailures(dropped),
      });
      expect(
        describeFailures(dropped),
        `no request dropped in flight (${refused.length} refused and ${away.length} turned away unread: safe to retry)`,
      ).toEqual([]);
      expect(
        Math.round(run.stats.downtimeMs),
        `the restart's downtime (${Math.round(run.stats.downtimeMs)}ms: shutdown ${run.injected.endedAt - run.injected.startedAt}ms, boot ${run.recovered.endedAt - run.recovered.startedAt}ms) is within ${cfg.thresholds.appRestartDowntimeMs}ms`,
      ).toBeLessThanOrEqual(cfg.thresholds.appRestartDowntimeMs);
      const order = await api.createOrder(RUNBOOK_ORDER, { idempotencyKey: newIdempotencyKey('restart') });
      expect(order.status, 'a new order after the restart').toBe(201);
    });
  });

  test('should fail no request during a zero-downtime restart (USR2 re-exec, then TERM to the old master) @app', async ({
    experiment,
    faults,
    target,
    cfg,
    anonApi,
    storeKind,
  }) => {
    need(target.server.identity);
    await underLoad({ experiment, faults, target, cfg, anonApi, storeKind }, 'app-reexec', (run) => {
      expect(
        describeFailures(failed(run.records)),
        'no request fails while a new server takes over the socket and the old one drains',
      ).toEqual([]);
      const { before, after } = identities(run);
      expect(after.instance, 'a new server instance runs').toBeDefined();
      expect(after.instance, 'not the one before').not.toBe(before.instance);
      expect(
        after.workers.filter((w) => before.workers.includes(w)),
        'every worker is new',
      ).toEqual([]);
      expect(after.workers.length, 'as many workers as before').toBe(before.workers.length);
    });
  });

  test('should keep serving while scaled down and up (TTOU, TTIN) @app', async ({
    experiment,
    faults,
    target,
    cfg,
    anonApi,
    storeKind,
  }) => {
    need(target.server.identity);
    await underLoad({ experiment, faults, target, cfg, anonApi, storeKind }, 'app-scale-down', (run) => {
      expect(describeFailures(failed(run.records)), 'no request fails while a worker is retired and another started').toEqual([]);
      const { before, after } = identities(run);
      expect(before.workers.length, 'workers were seen before scaling').toBeGreaterThan(1);
      expect(after.workers.length, 'back to the full worker count').toBe(before.workers.length);
    });
  });
});
