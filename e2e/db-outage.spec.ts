/**
 * The runbook's first section, automated: while PostgreSQL is unavailable an order gets a
 * controlled error, nothing is partially written, and the same request answers 201 once the
 * database is back; under concurrent writes, a ledger proves that no order is lost.
 */
import { RUNBOOK_ORDER, newIdempotencyKey } from '../helpers/api/payloads';
import type { Exchange } from '../helpers/api/store-api';
import type { DbFaultName } from '../helpers/faults/catalog';
import { STORE_TABLES, orderLineProblems } from '../helpers/integrity/db-probe';
import { healthProbe } from '../helpers/experiment/steady-state';
import { keysToRetry, retryProblems, retryWithSameKey } from '../helpers/integrity/retry';
import { phase } from '../helpers/report/evidence';
import { findLeaks } from '../helpers/report/leaks';
import { waitUntil } from '../helpers/wait';
import { shown } from '../helpers/report/redact';
import { expect, requireDb, test } from './fixtures';

const ORDER_TABLES = [STORE_TABLES.orders, STORE_TABLES.orderLines];
/** The ledger experiment: orders through before the fault and after it, and failed orders while it holds. */
const LEDGER_ORDERS_BEFORE = 8;
const LEDGER_ORDERS_AFTER = 8;
const LEDGER_FAILED_DURING = 4;
/** a hold of a few seconds, a black hole's request timeouts, the recovery and the retries */
const LEDGER_TEST_TIMEOUT_MS = 120_000;

interface Scenario {
  readonly fault: DbFaultName;
  readonly what: string;
  /** refused: the store learns at once; hang: only connect_timeout tells it */
  readonly kind: 'refused' | 'hang';
  /** a fault of the link through the proxy (tag @link), not of the database server */
  readonly link?: boolean;
}

const SCENARIOS: readonly Scenario[] = [
  { fault: 'db-stop', what: 'PostgreSQL stops', kind: 'refused' },
  { fault: 'db-crash', what: 'PostgreSQL crashes', kind: 'refused' },
  { fault: 'db-freeze', what: 'PostgreSQL freezes', kind: 'hang' },
  { fault: 'db-partition-down', what: 'the link to PostgreSQL goes down', kind: 'refused', link: true },
  { fault: 'db-partition-blackhole', what: 'the link to PostgreSQL turns into a black hole', kind: 'hang', link: true },
  { fault: 'db-partition-reset-peer', what: 'every connection to PostgreSQL is reset', kind: 'refused', link: true },
];

/** Asserts one answer is a controlled database error: JSON 503 with Retry-After, nothing leaked, within bound. */
function expectControlledError(ex: Exchange, what: string, boundMs: number, secrets: readonly string[]): void {
  const took = Math.round(ex.durationMs);
  expect(ex.error, `${what} gets an answer, not a hang (waited ${took}ms)`).toBeUndefined();
  const leaks = findLeaks(ex.rawBody ?? '', secrets);
  expect(
    leaks,
    `${what}: the error body leaks nothing${leaks.length ? ` (it leaks ${leaks.join(', ')}: ${shown(ex.rawBody, 300)})` : ''}`,
  ).toEqual([]);
  expect(ex.status, `${what} is a controlled 503${ex.status === 503 ? '' : `: ${shown(ex.rawBody, 200)}`}`).toBe(503);
  expect(ex.responseHeaders?.['content-type'], `${what} is JSON`).toContain('application/json');
  expect(ex.responseHeaders?.['retry-after'], `${what} carries Retry-After`).toMatch(/^\d+$/);
  expect(ex.durationMs, `${what} answered within ${boundMs}ms (took ${took}ms)`).toBeLessThanOrEqual(boundMs);
}

/** Every worker gets requests: `rounds` batches of `workers` concurrent calls, each must be 2xx. */
async function burst(call: () => Promise<Exchange>, workers: number, rounds: number): Promise<Exchange[]> {
  const all: Exchange[] = [];
  for (let r = 0; r < rounds; r++) all.push(...(await Promise.all(Array.from({ length: workers }, call))));
  return all;
}

const statuses = (xs: readonly Exchange[]) => xs.map((x) => x.status ?? x.error?.kind ?? '?');

test.describe('database outage @db', () => {
  for (const sc of SCENARIOS) {
    test(`should answer the runbook order with a controlled error, write nothing, and answer 201 again when ${sc.what} @db${sc.link ? ' @link' : ''}`, async ({
      api,
      anonApi,
      db,
      evidence,
      faults,
      target,
      cfg,
    }) => {
      const probe = requireDb(db);
      const fault = faults.create(sc.fault);
      const t = cfg.thresholds;
      const boundMs = sc.kind === 'refused' ? t.dbRefusedErrorMs : t.dbHangErrorMs;
      const secrets = target.secrets;
      // requests per round right after recovery: one per worker when the target knows its workers
      const workers = (await target.server.expectedWorkers()) ?? cfg.load.vus;
      const key = newIdempotencyKey('runbook');
      test.info().annotations.push({ type: 'fault', description: fault.description });

      const before = await phase(evidence, 'Baseline', async () => {
        expect((await anonApi.health()).status, 'health before the fault').toBe(200);
        expect((await api.createOrder(RUNBOOK_ORDER, { idempotencyKey: newIdempotencyKey('baseline') })).status).toBe(201);
        const fp = await probe.fingerprint(ORDER_TABLES);
        await evidence.json('fingerprint before', fp);
        return fp;
      });

      await phase(evidence, 'Inject', async () => {
        await faults.inject(fault);
      });

      const during = await phase(evidence, 'During fault', async () => {
        const order = await api.createOrder(RUNBOOK_ORDER, { idempotencyKey: key });
        expectControlledError(order, 'POST order-requests (the runbook order)', boundMs, secrets);
        // JWT authentication reads the user from the database: that must be a 503 too, not a 401 or 500
        const [list, health] = await Promise.all([api.orders(), anonApi.health()]);
        expectControlledError(list, 'GET order-requests with the token', boundMs, secrets);
        expect(health.status, `health during the fault: ${shown(health.rawBody)}`).toBe(503);
        expect(findLeaks(health.rawBody ?? '', secrets), 'health body').toEqual([]);
        return { errorLatencyMs: order.durationMs, healthStatus: health.status };
      });

      const recovery = await phase(evidence, 'Recover', async () => {
        const action = await faults.recover(fault);
        const dbBackAt = action.endedAt;
        // first: what the failed request left behind (nothing may have been written)
        const fp = await probe.fingerprint(ORDER_TABLES);
        await evidence.json('fingerprint after recovery, before the retry', fp);
        const tries: Exchange[] = [];
        const first = await waitUntil(
          async () => {
            const ex = await api.createOrder(RUNBOOK_ORDER, { idempotencyKey: key, timeoutMs: t.dbHangErrorMs });
            tries.push(ex);
            return ex.status === 201 ? ex : undefined;
          },
          {
            description: 'the same request (same body, same Idempotency-Key) to answer 201',
            timeoutMs: t.recoverTimeoutMs,
            intervalMs: t.recoverPollMs,
          },
        );
        const timeToRecoverMs = first.startedAt + first.durationMs - dbBackAt;
        // right after recovery, every worker must serve: stale persistent connections fail here
        const after = await burst(() => api.createOrder(RUNBOOK_ORDER, { idempotencyKey: newIdempotencyKey('after') }), workers, 2);
        return { fp, first, tries, timeToRecoverMs, after };
      });

      await phase(evidence, 'Verify', async () => {
        await evidence.metrics({
          scenario: `${sc.fault}: runbook order`,
          fault: sc.fault,
          figures: {
            errorLatencyMs: Math.round(during.errorLatencyMs),
            timeToRecoverMs: Math.round(recovery.timeToRecoverMs),
            triesUntil201: recovery.tries.length,
          },
          bounds: { errorLatencyMs: boundMs, timeToRecoverMs: t.recoverToSuccessMs },
        });
        expect(recovery.fp, 'the failed request wrote nothing: orders and lines unchanged').toEqual(before);
        const rows = await probe.query<{ id: string }>('SELECT id FROM store_orderrequest WHERE idempotency_key = $1', [key]);
        expect(
          rows.map((r) => Number(r.id)),
          'exactly one order for the retried key',
        ).toEqual([(recovery.first.body as { id: number }).id]);
        const [stored] = await probe.ordersWithLines({ ids: [Number(rows[0]!.id)] });
        expect(orderLineProblems(stored!), 'the order has exactly its lines').toEqual([]);
        const replay = await api.createOrder(RUNBOOK_ORDER, { idempotencyKey: key });
        expect(replay.status).toBe(201);
        expect((replay.body as { id: number }).id, 'a replay of the key answers with the same order, not a duplicate').toBe(
          (recovery.first.body as { id: number }).id,
        );
        expect(
          recovery.tries.map((x) => x.status).filter((s) => s !== 201 && s !== 503),
          'no uncontrolled answer while recovering',
        ).toEqual([]);
        expect(
          recovery.timeToRecoverMs,
          `time to recover ${Math.round(recovery.timeToRecoverMs)}ms is within ${t.recoverToSuccessMs}ms`,
        ).toBeLessThanOrEqual(t.recoverToSuccessMs);
        expect(statuses(recovery.after), `${recovery.after.length} orders right after recovery all answer 201`).toEqual(
          recovery.after.map(() => 201),
        );
      });
    });
  }

  for (const sc of SCENARIOS) {
    test(`should lose, duplicate and half-write no order under concurrent writes when ${sc.what} @db${sc.link ? ' @link' : ''}`, async ({
      experiment,
      faults,
      target,
      cfg,
      api,
      db,
      evidence,
      userOf,
    }) => {
      test.setTimeout(LEDGER_TEST_TIMEOUT_MS);
      const probe = requireDb(db);
      const fault = faults.create(sc.fault);
      const t = cfg.thresholds;
      test.info().annotations.push({ type: 'fault', description: fault.description });
      await experiment.run(
        {
          fault,
          // orders only: every request is an entry of the ledger
          load: {
            concurrency: cfg.load.ledgerClients,
            timeoutMs: t.streamRequestTimeoutMs,
            thinkTimeMs: cfg.load.thinkTimeMs,
            weights: { products: 0, brands: 0, ownOrders: 0 },
          },
          steadyState: [healthProbe(api)],
          okBefore: LEDGER_ORDERS_BEFORE,
          okAfter: LEDGER_ORDERS_AFTER,
          hold: { ms: t.faultHoldMs, requests: LEDGER_FAILED_DURING, failing: true },
          duringFault: (records) => {
            const errors = records.filter((r) => r.errorBody !== undefined);
            expect(
              errors.filter((r) => r.status !== 503).map((r) => `${r.status}: ${shown(r.errorBody, 200)}`),
              'every error answer is a 503',
            ).toEqual([]);
          },
          timeline: ({ verdict: v }) => ({
            title: `${fault.name}: orders from ${cfg.load.ledgerClients} concurrent clients`,
            subtitle: `${v.attempts} attempts: ${v.ok} acknowledged, ${v.fail} failed, ${v.indeterminate} indeterminate; ledger ${v.valid ? 'valid' : 'INVALID'}`,
          }),
          metrics: ({ verdict: v }) => ({
            scenario: `${sc.fault}: ledger`,
            fault: sc.fault,
            figures: {
              attempts: v.attempts,
              ok: v.ok,
              fail: v.fail,
              indeterminate: v.indeterminate,
              lost: v.lost.length,
              unexpected: v.unexpected.length,
              duplicated: v.duplicated.length,
              partial: v.partial.length,
              recovered: v.recovered.length,
              failedButPresent: v.failedButPresent.length,
              verdict: v.valid ? 'valid' : 'INVALID',
            },
          }),
        },
        async (run) => {
          // every answer, in every phase: a valid order is written (201) or refused as unavailable (503);
          // a 4xx or a 500 is an order the client will not retry, silently lost
          expect(
            run.records
              .filter((r) => r.status !== undefined && r.status !== 201 && r.status !== 503)
              .map((r) => `${r.key} (${r.phase}): ${r.status} ${shown(r.errorBody, 120)}`),
            'every answer is 201 or a controlled 503',
          ).toEqual([]);
          // the same request again, with the same key: indeterminate and written-though-failed orders, and samples
          const retries = await retryWithSameKey({
            baseUrl: target.baseUrl,
            token: api.accessToken,
            keys: keysToRetry(run.attempts, run.verdict),
            bodies: run.bodies,
            stored: run.stored,
            timeoutMs: t.requestTimeoutMs,
          });
          await evidence.json('retries with the same key', retries);
          const customerId = (await userOf('customer')).userId;
          const after = (await probe.ordersWithLines({ afterId: run.baselineMaxOrderId })).filter((o) => o.userId === customerId);
          const problems = retryProblems(retries, after);
          expect(problems.notCreated, `every retry (${retries.length}) answers 201`).toEqual([]);
          expect(problems.answeredAnother, 'a retry of a written order answers with that order').toEqual([]);
          expect(problems.duplicated, 'no duplicate order for any key after the retries').toEqual([]);
          expect(problems.partial, 'every order has exactly its lines after the retries').toEqual([]);
        },
      );
    });
  }

  test('should answer a controlled 503 within the statement timeout, write nothing, and answer 201 again when a lock on the orders table is released @db', async ({
    api,
    anonApi,
    db,
    evidence,
    faults,
    target,
    cfg,
  }) => {
    const probe = requireDb(db);
    const fault = faults.create('db-lock');
    const t = cfg.thresholds;
    const key = newIdempotencyKey('lock');
    const before = await phase(evidence, 'Baseline', async () => {
      expect((await anonApi.health()).status).toBe(200);
      expect((await api.createOrder(RUNBOOK_ORDER, { idempotencyKey: newIdempotencyKey('baseline') })).status).toBe(201);
      return probe.fingerprint(ORDER_TABLES);
    });
    await phase(evidence, 'Inject', async () => {
      await faults.inject(fault);
    });
    const during = await phase(evidence, 'During fault', async () => {
      const order = await api.createOrder(RUNBOOK_ORDER, { idempotencyKey: key });
      expectControlledError(order, 'POST order-requests behind the lock', t.dbLockErrorMs, target.secrets);
      return order;
    });
    await phase(evidence, 'Recover', async () => {
      await faults.recover(fault);
    });
    await phase(evidence, 'Verify', async () => {
      await evidence.metrics({
        scenario: 'db-lock: runbook order',
        fault: 'db-lock',
        figures: { errorLatencyMs: Math.round(during.durationMs) },
        bounds: { errorLatencyMs: t.dbLockErrorMs },
      });
      expect(await probe.fingerprint(ORDER_TABLES), 'the cancelled request wrote nothing').toEqual(before);
      const again = await api.createOrder(RUNBOOK_ORDER, { idempotencyKey: key });
      expect(again.status, `the same request once the lock is gone: ${shown(again.rawBody, 200)}`).toBe(201);
      const rows = await probe.query<{ id: string }>('SELECT id FROM store_orderrequest WHERE idempotency_key = $1', [key]);
      expect(rows.length, 'exactly one order for the key').toBe(1);
      const [stored] = await probe.ordersWithLines({ ids: [Number(rows[0]!.id)] });
      expect(orderLineProblems(stored!), 'the order has exactly its lines').toEqual([]);
    });
  });

  test('should serve every request right after PostgreSQL restarts while the store is idle @db', async ({
    api,
    anonApi,
    evidence,
    faults,
    target,
    cfg,
  }) => {
    const fault = faults.create('db-stop');
    // one request per worker when the target knows its workers, so that each one's connection is exercised
    const workers = (await target.server.expectedWorkers()) ?? cfg.load.vus;
    await phase(evidence, 'Baseline', async () => {
      // every worker opens (and, with persistent connections, keeps) a database connection
      const warm = await burst(() => anonApi.health(), workers, 3);
      expect(statuses(warm)).toEqual(warm.map(() => 200));
    });
    await phase(evidence, 'Inject', async () => {
      await faults.inject(fault);
    });
    await phase(evidence, 'Recover', async () => {
      await faults.recover(fault);
    });
    await phase(evidence, 'Verify', async () => {
      const after = await burst(() => api.createOrder(RUNBOOK_ORDER, { idempotencyKey: newIdempotencyKey('bounce') }), workers, 2);
      expect(statuses(after), `${after.length} orders right after the bounce all answer 201 (a stale connection fails here)`).toEqual(
        after.map(() => 201),
      );
      await evidence.metrics({
        scenario: 'db-stop: idle bounce',
        fault: 'db-stop',
        figures: { requestsAfter: after.length, failures: after.filter((x) => x.status !== 201).length },
      });
    });
  });

  test('should keep serving, slower, while answers from PostgreSQL are delayed @db @link', async ({ api, evidence, faults }) => {
    const latencyMs = 100;
    const fault = faults.create('db-latency', { latencyMs });
    const baseline = await phase(evidence, 'Baseline', async () => {
      const ex = await api.createOrder(RUNBOOK_ORDER, { idempotencyKey: newIdempotencyKey('latency') });
      expect(ex.status).toBe(201);
      return ex.durationMs;
    });
    await phase(evidence, 'Inject', async () => {
      await faults.inject(fault);
    });
    const slow = await phase(evidence, 'During fault', async () => {
      const ex = await api.createOrder(RUNBOOK_ORDER, { idempotencyKey: newIdempotencyKey('latency') });
      expect(ex.status, 'orders still succeed').toBe(201);
      // an order is several round trips to the database (connect, auth, validation, insert): each is delayed
      expect(ex.durationMs, 'the delay reaches the client').toBeGreaterThanOrEqual(latencyMs);
      return ex.durationMs;
    });
    await phase(evidence, 'Recover', async () => {
      await faults.recover(fault);
    });
    await phase(evidence, 'Verify', async () => {
      const ex = await api.createOrder(RUNBOOK_ORDER, { idempotencyKey: newIdempotencyKey('latency') });
      expect(ex.status).toBe(201);
      expect(ex.durationMs, 'back to normal speed').toBeLessThan(slow);
      await evidence.metrics({
        scenario: 'db-latency: orders under a slow link',
        fault: 'db-latency',
        figures: {
          addedLatencyMs: latencyMs,
          orderMsBefore: Math.round(baseline),
          orderMsDuring: Math.round(slow),
          orderMsAfter: Math.round(ex.durationMs),
        },
      });
    });
  });
});
