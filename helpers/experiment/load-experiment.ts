/**
 * One fault experiment under load, the unit both load families (db-outage, app-restart) are written
 * in: the steady state checked in Baseline; load started; the fault injected, held and recovered
 * while the load runs; then in Verify the statistics, the timeline picture, the ledger of every
 * order, the steady state again and the scenario's own checks. Each phase is a Playwright/Allure
 * step with its evidence. The fault is reverted by the faults fixture even when a phase throws.
 *
 * Over 250 lines: the five phases of one experiment and the evidence of each, read top to bottom in
 * the order they run; cut apart, a phase's evidence would be written far from the phase.
 */
import { expect } from '@playwright/test';
import type { OrderBody } from '../api/payloads';
import type { ServerIdentity } from '../drivers/types';
import type { Fault, FaultAction } from '../faults/fault';
import type { DbProbe, OrderRow } from '../integrity/db-probe';
import { answerTable, describeFalse, judgeAnswers, type AnswerVerdict } from '../integrity/answers';
import { attemptsFromRecords, checkLedger, verdictTable, type LedgerAttempt, type LedgerVerdict } from '../integrity/ledger';
import { readCatalog } from '../integrity/store-truth';
import { LoadRunner, type LoadRecord } from '../load/load-runner';
import { storeMix } from '../load/mix';
import { isOk, loadStats, statsTable, type LoadStats } from '../load/stats';
import { renderTimeline } from '../load/timeline';
import { phase, type Evidence } from '../report/evidence';
import { findLeaks } from '../report/leaks';
import type { ScenarioMetrics } from '../report/metrics';
import { shown } from '../report/redact';
import { waitUntil } from '../wait';
import { checkSteadyState, type SteadyStateProbe, type SteadyStateReadings } from './steady-state';

/** Backstops of the load (the test's own timeout ends it sooner): never an unbounded loop. */
const LOAD_MAX_DURATION_MS = 120_000;
const LOAD_MAX_REQUESTS = 50_000;
/**
 * How much longer than its hold a fault may take to show its minimum of requests: a request into a
 * black hole or a frozen database waits for its timeout before it counts.
 */
const HOLD_SLACK_MS = 30_000;

/** What the experiment needs from the fixtures (the faults fixture reverts what it injected). */
export interface ExperimentContext {
  readonly faults: { inject(fault: Fault): Promise<FaultAction>; recover(fault: Fault): Promise<FaultAction> };
  readonly evidence: Evidence;
  readonly baseUrl: string;
  readonly secrets: readonly string[];
  readonly db: DbProbe;
  /** the customer whose orders the ledger reads */
  readonly token: string;
  readonly customerId: number;
  readonly recoverTimeoutMs: number;
  /**
   * Runs the part under load (Baseline to Recover, the load's whole life) with the machine to itself:
   * its bounds are timings (lanes: helpers/stack/lane-slots.ts). Verify, after the load, does not need it.
   */
  readonly alone?: <T>(underLoad: () => Promise<T>) => Promise<T>;
}

export interface LoadExperiment {
  readonly fault: Fault;
  readonly load: {
    readonly concurrency: number;
    readonly timeoutMs: number;
    readonly thinkTimeMs: number;
    /** weights of the store mix (0 leaves an operation out) */
    readonly weights?: Parameters<typeof storeMix>[1];
  };
  readonly steadyState: readonly SteadyStateProbe[];
  /** successful answers the load must get in Baseline before the fault, and after the recovery */
  readonly okBefore: number;
  readonly okAfter: number;
  /**
   * how long the fault is held under load, and how many requests (failing ones, when `failing`; of one
   * operation, when `op`) it must see
   */
  readonly hold: { readonly ms: number; readonly requests: number; readonly failing?: boolean; readonly op?: string };
  /** the server's identity, read before and after (a reload, a killed worker) */
  readonly identity?: () => Promise<ServerIdentity>;
  /** the scenario's checks while the fault holds */
  readonly duringFault?: (records: readonly LoadRecord[]) => Promise<void> | void;
  readonly timeline: (run: Omit<LoadExperimentRun, 'timelineSvg'>) => { title: string; subtitle: string };
  readonly metrics: (run: LoadExperimentRun) => ScenarioMetrics;
}

export interface LoadExperimentRun {
  readonly records: readonly LoadRecord[];
  readonly stats: LoadStats;
  readonly injected: FaultAction;
  readonly recovered: FaultAction;
  readonly before?: ServerIdentity;
  readonly after?: ServerIdentity;
  readonly steady: SteadyStateReadings;
  /** the customer's orders written since Baseline, and the ledger's verdict on them */
  readonly stored: readonly OrderRow[];
  readonly attempts: readonly LedgerAttempt[];
  readonly verdict: LedgerVerdict;
  /** every successful answer judged against the database */
  readonly answers: AnswerVerdict;
  readonly baselineMaxOrderId: number;
  /** reads the customer's orders written since Baseline again (after retries, say) */
  readonly readOrders: () => Promise<OrderRow[]>;
  /** the body sent under each Idempotency-Key (for retries with the same key) */
  readonly bodies: ReadonlyMap<string, OrderBody>;
  readonly timelineSvg: string;
}

export const failedRecords = (rs: readonly LoadRecord[]) => rs.filter((r) => !isOk(r));

/**
 * Runs the experiment; `verify` adds the scenario's checks inside Verify, after the common ones
 * (steady state, no leak in any error body, a valid ledger).
 */
export async function runLoadExperiment(
  ctx: ExperimentContext,
  spec: LoadExperiment,
  verify: (run: LoadExperimentRun) => Promise<void> | void,
): Promise<LoadExperimentRun> {
  const { evidence, db } = ctx;
  const bodies = new Map<string, OrderBody>();
  let label = 'baseline';
  const runner = new LoadRunner({
    baseUrl: ctx.baseUrl,
    token: ctx.token,
    concurrency: spec.load.concurrency,
    timeoutMs: spec.load.timeoutMs,
    thinkTimeMs: spec.load.thinkTimeMs,
    maxDurationMs: LOAD_MAX_DURATION_MS,
    maxRequests: LOAD_MAX_REQUESTS,
    phase: () => label,
    ops: storeMix(bodies, spec.load.weights),
  });
  const okIn = (p: string) => runner.records.filter((r) => r.phase === p && isOk(r)).length;

  // everything the load runs through; the runner is stopped however it ends (a failed Baseline too)
  const underLoad = async () => {
    const base = await phase(evidence, 'Baseline', async () => {
      const steady = await checkSteadyState(spec.steadyState, 'before the fault');
      const baselineMaxOrderId = await db.maxOrderId();
      // what the load's reads may show: the catalogue and the customer's orders before it begins
      const catalogBefore = await readCatalog(db);
      const ordersBefore = await db.orderCount(ctx.customerId);
      const before = spec.identity && (await spec.identity());
      if (before) await evidence.json('server before', before);
      runner.start();
      await waitUntil(() => okIn('baseline') >= spec.okBefore, {
        description: `the load to get ${spec.okBefore} answers through`,
        timeoutMs: ctx.recoverTimeoutMs,
      });
      return { steady, baselineMaxOrderId, before, catalogBefore, ordersBefore };
    });

    const injected = await phase(evidence, 'Inject', async () => {
      label = 'fault';
      return ctx.faults.inject(spec.fault);
    });
    const since = injected.endedAt;
    await phase(evidence, 'During fault', async () => {
      const seen = () =>
        runner.records.filter((r) => r.phase === 'fault' && (!spec.hold.failing || !isOk(r)) && (!spec.hold.op || r.op === spec.hold.op))
          .length;
      await waitUntil(() => Date.now() - since >= spec.hold.ms && seen() >= spec.hold.requests, {
        description: `the fault to hold ${spec.hold.ms}ms under load and see ${spec.hold.requests} ${spec.hold.failing ? 'failed ' : ''}requests`,
        timeoutMs: spec.hold.ms + HOLD_SLACK_MS,
      });
      await spec.duringFault?.(runner.records.filter((r) => r.phase === 'fault'));
    });
    const recovered = await phase(evidence, 'Recover', async () => {
      const action = await ctx.faults.recover(spec.fault);
      label = 'recovered';
      await waitUntil(() => okIn('recovered') >= spec.okAfter, {
        description: `the load to get ${spec.okAfter} answers through after recovery`,
        timeoutMs: ctx.recoverTimeoutMs,
      });
      return action;
    });
    return { base, injected, recovered };
  };
  const alone = ctx.alone ?? ((f) => f());
  const { base, injected, recovered } = await alone(() => underLoad().finally(() => runner.stop()));

  return phase(evidence, 'Verify', async () => {
    const records = runner.records;
    const stats = loadStats(records, { startedAt: runner.startedAt, endedAt: runner.endedAt, recoveredAt: recovered.startedAt });
    const readOrders = async () =>
      (await db.ordersWithLines({ afterId: base.baselineMaxOrderId })).filter((o) => o.userId === ctx.customerId);
    const stored = await readOrders();
    const attempts = attemptsFromRecords(records);
    const verdict = checkLedger(attempts, stored);
    const after = spec.identity && (await spec.identity());
    if (after) await evidence.json('server after', after);
    const answers = await judgeAnswers(records, runner.answers, {
      db,
      customerId: ctx.customerId,
      ordersBefore: base.ordersBefore,
      catalogBefore: base.catalogBefore,
      bodies,
    });
    const partial = {
      records,
      stats,
      injected,
      recovered,
      before: base.before,
      after,
      steady: base.steady,
      stored,
      attempts,
      verdict,
      answers,
      baselineMaxOrderId: base.baselineMaxOrderId,
      readOrders,
      bodies,
    };
    const { title, subtitle } = spec.timeline(partial);
    const timelineSvg = renderTimeline(records, {
      title,
      subtitle,
      startedAt: runner.startedAt,
      endedAt: runner.endedAt,
      markers: [
        { at: injected.startedAt, label: `inject ${spec.fault.name}`, kind: 'inject' },
        { at: recovered.startedAt, label: 'recover', kind: 'recover' },
      ],
      downtime: { from: stats.downtimeFrom, to: stats.downtimeTo },
    });
    const run: LoadExperimentRun = { ...partial, timelineSvg };
    await evidence.file('timeline.svg', timelineSvg, 'image/svg+xml');
    await evidence.text('load statistics', statsTable(stats));
    const failed = failedRecords(records);
    if (failed.length > 0) await evidence.json('failed requests', failed);
    await evidence.json('ledger verdict', verdict);
    await evidence.text('ledger verdict (table)', verdictTable(verdict));
    await evidence.json(
      'ledger attempts',
      attempts.map((a) => ({ ...a, start: new Date(a.start).toISOString() })),
    );
    await evidence.text('answers judged against the database', answerTable(answers));
    if (answers.false.length > 0) await evidence.json('false answers', answers.false);
    const m = spec.metrics(run);
    await evidence.metrics({
      ...m,
      figures: { ...m.figures, answersJudged: answers.judged, falseAnswers: answers.false.length },
      bounds: { ...m.bounds, falseAnswers: 0 },
    });

    await checkSteadyState(spec.steadyState, 'after the fault', base.steady);
    // HTTP error answers only: a client-side message (ECONNREFUSED host:port) is not the store's
    const leaky = failed.filter((r) => r.errorBody && findLeaks(r.errorBody, ctx.secrets).length > 0);
    expect(
      leaky.map((r) => `${r.status} (${r.phase}): ${shown(r.errorBody, 300)}`),
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
      `ledger of ${verdict.attempts} orders (${verdict.ok} acknowledged): none lost, unexpected, duplicated, partial or mismatched`,
    ).toEqual({ lost: [], unexpected: [], duplicated: [], partial: [], mismatched: [] });
    expect(answers.judged, 'successful answers were judged (a run without any proves nothing)').toBeGreaterThan(0);
    expect(
      describeFalse(answers.false),
      `every successful answer (${answers.judged}, every phase) tells what the database holds: ${answers.false.length} do not`,
    ).toEqual([]);
    await verify(run);
    return run;
  });
}
