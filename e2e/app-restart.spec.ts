/**
 * The runbook's second section, automated and measured: restart gunicorn/uvicorn while the store is
 * under load; the remaining workers keep serving, the service is back after the restart, and its
 * answers are correct. Each scenario runs for the sync workers (project app-restart) and for
 * uvicorn workers (project app-restart-uvicorn).
 */
import { RUNBOOK_ORDER, newIdempotencyKey, type OrderBody } from '../helpers/api/payloads';
import type { AppFaultName } from '../helpers/faults/catalog';
import type { FaultAction } from '../helpers/faults/fault';
import { attemptsFromRecords, checkLedger, verdictTable } from '../helpers/integrity/ledger';
import { LoadRunner, type LoadRecord } from '../helpers/load/load-runner';
import { storeMix } from '../helpers/load/mix';
import { errorKind, isOk, loadStats, statsTable, type LoadStats } from '../helpers/load/stats';
import { renderTimeline } from '../helpers/load/timeline';
import { phase } from '../helpers/report/evidence';
import { findLeaks } from '../helpers/report/leaks';
import { waitUntil } from '../helpers/wait';
import type { StoreApi } from '../helpers/api/store-api';
import type { Config, ServerKind } from '../helpers/config';
import type { ServerIdentity } from '../helpers/drivers/types';
import type { DbProbe } from '../helpers/integrity/db-probe';
import type { Evidence } from '../helpers/report/evidence';
import type { Target } from '../helpers/target';
import { shown } from '../helpers/report/redact';
import { expect, need, requireDb, test, type Faults, type UserIdentity, type Who } from './fixtures';

interface Run {
  readonly records: readonly LoadRecord[];
  readonly stats: LoadStats;
  readonly injected: FaultAction;
  readonly recovered: FaultAction;
  /** the server's identity before and after, where the target's driver can know it */
  readonly before?: ServerIdentity;
  readonly after?: ServerIdentity;
  readonly productsBefore: unknown;
  /** Idempotency-Keys of the orders the database holds after the run */
  readonly storedKeys: ReadonlySet<string>;
  /** orders whose answer was lost in flight and whose retry replayed them (written on the first try) */
  readonly droppedInFlight: readonly LoadRecord[];
}

/** The fixtures the common experiment uses. */
interface Ctx {
  readonly faults: Faults;
  readonly evidence: Evidence;
  readonly target: Target;
  readonly cfg: Config;
  readonly tokenFor: (who: Who) => Promise<string>;
  readonly userOf: (who: Who) => Promise<UserIdentity>;
  readonly db: DbProbe | undefined;
  readonly anonApi: StoreApi;
  readonly storeKind: ServerKind;
}

const failed = (rs: readonly LoadRecord[]) => rs.filter((r) => !isOk(r));
const describeFailures = (rs: readonly LoadRecord[]) =>
  rs.map((r) => `${r.op} started ${new Date(r.start).toISOString().slice(11, 23)}: ${errorKind(r)}`);

test.describe('application server under load @app', () => {
  /**
   * The common experiment: load through Baseline, Inject, During fault (held for appFaultHoldMs),
   * Recover; then statistics, the timeline picture and the ledger of the orders in Verify.
   * `verify` adds the scenario's own assertions.
   */
  async function underLoad(fixtures: Ctx, faultName: AppFaultName, verify: (run: Run) => Promise<void> | void): Promise<void> {
    const { faults, evidence, target, cfg, tokenFor, userOf, db, anonApi, storeKind } = fixtures;
    const probe = requireDb(db);
    const fault = faults.create(faultName);
    const t = cfg.thresholds;
    const identity = target.server.identity.ok ? target.server.identity.value : undefined;
    test.info().annotations.push({ type: 'fault', description: `${fault.description} (${storeKind} workers)` });
    const bodies = new Map<string, OrderBody>();
    let label = 'baseline';
    const runner = new LoadRunner({
      baseUrl: target.baseUrl,
      token: await tokenFor('customer'),
      concurrency: cfg.load.vus,
      thinkTimeMs: cfg.load.thinkTimeMs,
      timeoutMs: t.requestTimeoutMs,
      maxDurationMs: 120_000,
      maxRequests: 50_000,
      phase: () => label,
      ops: storeMix(bodies),
    });
    const okIn = (p: string) => runner.records.filter((r) => r.phase === p && isOk(r)).length;

    const base = await phase(evidence, 'Baseline', async () => {
      expect((await anonApi.health()).status).toBe(200);
      const products = await anonApi.products();
      expect(products.status).toBe(200);
      const maxOrderId = await probe.maxOrderId();
      const before = identity && (await identity());
      if (before) await evidence.json('server before', before);
      runner.start();
      await waitUntil(() => okIn('baseline') >= 20, { description: 'the load to get 20 answers through', timeoutMs: 15_000 });
      return { productsBefore: products.body, maxOrderId, before };
    });

    let injected: FaultAction | undefined;
    let recovered: FaultAction | undefined;
    try {
      injected = await phase(evidence, 'Inject', async () => {
        label = 'fault';
        return faults.inject(fault);
      });
      await phase(evidence, 'During fault', async () => {
        // a restart starts again at once (its downtime is what is measured); other faults are held under load
        const holdMs = faultName === 'app-restart' || faultName === 'app-reexec' ? 0 : t.appFaultHoldMs;
        const since = injected!.endedAt;
        await waitUntil(() => Date.now() - since >= holdMs && runner.records.filter((r) => r.phase === 'fault').length >= 10, {
          description: `the fault to hold ${holdMs}ms under load`,
          timeoutMs: holdMs + 30_000,
        });
      });
      recovered = await phase(evidence, 'Recover', async () => {
        const action = await faults.recover(fault);
        label = 'recovered';
        await waitUntil(() => okIn('recovered') >= 20, {
          description: 'the load to get 20 answers through after recovery',
          timeoutMs: t.recoverTimeoutMs,
        });
        return action;
      });
    } finally {
      await runner.stop();
    }

    await phase(evidence, 'Verify', async () => {
      const records = runner.records;
      const stats = loadStats(records, { startedAt: runner.startedAt, endedAt: runner.endedAt, recoveredAt: recovered.startedAt });
      const svg = renderTimeline(records, {
        title: `${fault.name} under load (${storeKind} workers x${(await target.server.expectedWorkers()) ?? '?'})`,
        subtitle: `${cfg.load.vus} virtual users; availability ${(stats.overall.availability * 100).toFixed(2)}%, ${failed(records).length} failed of ${records.length}; longest stretch without success ${stats.downtimeMs.toFixed(0)} ms`,
        startedAt: runner.startedAt,
        endedAt: runner.endedAt,
        markers: [
          { at: injected.startedAt, label: `inject ${fault.name}`, kind: 'inject' },
          { at: recovered.startedAt, label: 'recover', kind: 'recover' },
        ],
        downtime: { from: stats.downtimeFrom, to: stats.downtimeTo },
      });
      await evidence.file('timeline.svg', svg, 'image/svg+xml');
      await evidence.text('load statistics', statsTable(stats));
      if (failed(records).length > 0) await evidence.json('failed requests', failed(records));

      const customerId = (await userOf('customer')).userId;
      const stored = (await probe.ordersWithLines({ afterId: base.maxOrderId })).filter((o) => o.userId === customerId);
      const verdict = checkLedger(attemptsFromRecords(records), stored);
      await evidence.text('ledger verdict (table)', verdictTable(verdict));

      const run: Run = {
        records,
        stats,
        injected: injected,
        recovered: recovered,
        before: base.before,
        after: identity && (await identity()),
        productsBefore: base.productsBefore,
        storedKeys: new Set(stored.map((o) => o.idempotencyKey ?? '')),
        droppedInFlight: records.filter((r) => r.retriedStaleSocket && r.replayed),
      };
      if (run.after) await evidence.json('server after', run.after);
      await evidence.metrics({
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
        bounds:
          faultName === 'app-kill-worker'
            ? { downtimeMs: t.appWorkerKillGapMs }
            : faultName === 'app-restart'
              ? { downtimeMs: t.appRestartDowntimeMs }
              : { failed: 0 },
      });

      // HTTP error answers only: a client-side error message (ECONNREFUSED host:port) is not the store's
      // a retried order answered by a replay was written on its first try, whose answer was dropped in flight
      const { droppedInFlight } = run;
      // a worker killed with SIGKILL loses what it was serving by definition: its own test bounds that
      if (faultName !== 'app-kill-worker')
        expect(
          droppedInFlight.map(
            (r) =>
              `${r.op} started ${new Date(r.start).toISOString().slice(11, 23)}: first answer lost, the retry replayed order ${r.orderId}`,
          ),
          'no answer was dropped in flight (a retry replaying a written order)',
        ).toEqual([]);
      const leaky = failed(records).filter((r) => r.errorBody && findLeaks(r.errorBody, target.secrets).length > 0);
      expect(
        leaky.map((r) => shown(r.errorBody, 300)),
        'error bodies leak nothing',
      ).toEqual([]);
      expect(
        {
          lost: verdict.lost,
          unexpected: verdict.unexpected,
          duplicated: verdict.duplicated,
          partial: verdict.partial,
          mismatched: verdict.mismatched,
        },
        `ledger of ${verdict.attempts} orders (${verdict.ok} acknowledged): none lost, unexpected, duplicated or partial`,
      ).toEqual({ lost: [], unexpected: [], duplicated: [], partial: [], mismatched: [] });
      await verify(run);
    });
  }

  /** The server's identity before and after the fault (the test needs the capability: need() skipped it otherwise). */
  function identities(run: Run): { before: ServerIdentity; after: ServerIdentity } {
    if (!run.before || !run.after) throw new Error('the server identity was not read before and after the fault');
    return { before: run.before, after: run.after };
  }
  const doneAt = (a: FaultAction) => a.observedAt ?? a.endedAt;

  test('should fail no request and complete a graceful reload (SIGHUP) @app', async ({
    faults,
    evidence,
    target,
    cfg,
    tokenFor,
    userOf,
    db,
    anonApi,
    storeKind,
  }) => {
    need(target.server.identity);
    await underLoad({ faults, evidence, target, cfg, tokenFor, userOf, db, anonApi, storeKind }, 'app-reload', (run) => {
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
    faults,
    evidence,
    target,
    cfg,
    tokenFor,
    userOf,
    db,
    anonApi,
    storeKind,
  }) => {
    need(target.server.identity);
    await underLoad({ faults, evidence, target, cfg, tokenFor, userOf, db, anonApi, storeKind }, 'app-kill-worker', (run) => {
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
        `requests lost with the killed worker (${failed(run.records).length} failed, ${run.droppedInFlight.length} answers lost and replayed) are at most those in flight when it died (${bound})`,
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
    faults,
    evidence,
    target,
    cfg,
    tokenFor,
    userOf,
    db,
    anonApi,
    storeKind,
    api,
  }) => {
    await underLoad({ faults, evidence, target, cfg, tokenFor, userOf, db, anonApi, storeKind }, 'app-restart', async (run) => {
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
      const products = await anonApi.products();
      expect(products.body, 'products after the restart equal the baseline').toEqual(run.productsBefore);
      const order = await api.createOrder(RUNBOOK_ORDER, { idempotencyKey: newIdempotencyKey('restart') });
      expect(order.status, 'a new order after the restart').toBe(201);
    });
  });

  test('should fail no request during a zero-downtime restart (USR2 re-exec, then TERM to the old master) @app', async ({
    faults,
    evidence,
    target,
    cfg,
    tokenFor,
    userOf,
    db,
    anonApi,
    storeKind,
  }) => {
    need(target.server.identity);
    await underLoad({ faults, evidence, target, cfg, tokenFor, userOf, db, anonApi, storeKind }, 'app-reexec', (run) => {
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
    faults,
    evidence,
    target,
    cfg,
    tokenFor,
    userOf,
    db,
    anonApi,
    storeKind,
  }) => {
    need(target.server.identity);
    await underLoad({ faults, evidence, target, cfg, tokenFor, userOf, db, anonApi, storeKind }, 'app-scale-down', (run) => {
      expect(describeFailures(failed(run.records)), 'no request fails while a worker is retired and another started').toEqual([]);
      const { before, after } = identities(run);
      expect(before.workers.length, 'workers were seen before scaling').toBeGreaterThan(1);
      expect(after.workers.length, 'back to the full worker count').toBe(before.workers.length);
    });
  });
});
