/**
 * The runbook's first section, automated: while PostgreSQL is unavailable an order gets a
 * controlled error, nothing is partially written, and the same request answers 201 once the
 * database is back (under concurrent writes: db-outage-ledger.spec.ts); a lock gets a 503 within the
 * statement timeout; an idle restart leaves no stale connection; a slow link only slows.
 * Each is a probe experiment (helpers/experiment/probe-experiment.ts): the runner owns the phases,
 * the fault and the report row; a test declares its steady state, its probe and its checks.
 */
import { RUNBOOK_ORDER, newIdempotencyKey } from '../helpers/api/payloads';
import { bound } from '../helpers/config';
import { STORE_TABLES, orderLineProblems, type DbProbe } from '../helpers/integrity/db-probe';
import type { Evidence } from '../helpers/report/evidence';
import { findLeaks } from '../helpers/report/leaks';
import { shown } from '../helpers/report/redact';
import {
  SCENARIOS,
  burst,
  expectControlledError,
  expectControlledOrTrue,
  expectReadsTrue,
  expectTrueOrder,
  readTruth,
  reads,
  retryUntilCreated,
  statuses,
  workersOf,
} from './support/db-scenarios';
import { expect, requireDb, test } from './fixtures';

const ORDER_TABLES = [STORE_TABLES.orders, STORE_TABLES.orderLines];
/** The orders and their lines, attached under a name. */
async function fingerprint(probe: DbProbe, evidence: Evidence, name: string) {
  const fp = await probe.fingerprint(ORDER_TABLES);
  await evidence.json(name, fp);
  return fp;
}
/** Requests per worker right after a recovery: a worker with a dead connection fails one of them. */
const ROUNDS_PER_WORKER = 2;
/** Health rounds per worker before an idle bounce: every worker opens (and keeps) its connection. */
const WARM_ROUNDS = 3;

test.describe('database outage', { tag: '@db' }, () => {
  for (const sc of SCENARIOS) {
    test(
      `should answer the runbook order with a controlled error, write nothing, and answer 201 again when ${sc.what}`,
      { tag: sc.link ? ['@link'] : [] },
      async ({ api, anonApi, db, evidence, experiment, faults, target, cfg, userOf }) => {
        const probe = requireDb(db);
        const fault = faults.create(sc.fault);
        const t = cfg.thresholds;
        const boundKey = sc.kind === 'refused' ? 'dbRefusedErrorMs' : 'dbHangErrorMs';
        const boundMs = t[boundKey];
        const secrets = target.secrets;
        const me = (await userOf('customer')).userId;
        const workers = await workersOf(target);
        const key = newIdempotencyKey('runbook');
        test.info().annotations.push({ type: 'fault', description: fault.description });

        await experiment.probe({
          fault,
          baseline: async () => {
            expect((await anonApi.health()).status, 'health before the fault').toBe(200);
            await expectTrueOrder(
              probe,
              await api.createOrder(RUNBOOK_ORDER, { idempotencyKey: newIdempotencyKey('baseline') }),
              RUNBOOK_ORDER,
              'the baseline order',
            );
            // what a read may show while the database is out: what it holds now
            const truth = await readTruth(probe, me);
            expectReadsTrue(await reads(api, anonApi), truth, 'before the fault');
            return { fp: await fingerprint(probe, evidence, 'fingerprint before'), truth };
          },
          during: async (before) => {
            const order = await api.createOrder(RUNBOOK_ORDER, { idempotencyKey: key });
            expectControlledError(order, 'POST order-requests (the runbook order)', boundMs, secrets, bound(cfg, boundKey));
            // reads: an error, or the truth (an empty catalogue is not "fine"); JWT authentication reads the user
            // from the database, so one's own orders are a 503 or the orders held before the fault
            const [health, ...xs] = await reads(api, anonApi, true);
            for (const x of xs) expectControlledOrTrue(x, before.truth, secrets, t.requestTimeoutMs);
            expect(health!.status, `health during the fault: ${shown(health!.rawBody)}`).toBe(503);
            expect(findLeaks(health!.rawBody ?? '', secrets), 'health body').toEqual([]);
            return { errorLatencyMs: order.durationMs };
          },
          recover: async ({ recovered }) => {
            // first: what the failed request left behind (nothing may have been written)
            const fp = await fingerprint(probe, evidence, 'fingerprint after recovery, before the retry');
            const { first, tries } = await retryUntilCreated(api, key, t);
            const timeToRecoverMs = first.startedAt + first.durationMs - recovered.endedAt;
            // right after recovery, every worker must serve: stale persistent connections fail here
            const after = await burst(
              () => api.createOrder(RUNBOOK_ORDER, { idempotencyKey: newIdempotencyKey('after') }),
              workers,
              ROUNDS_PER_WORKER,
            );
            return { fp, first, tries, timeToRecoverMs, after };
          },
          metrics: ({ during, recovery }) => ({
            scenario: `${sc.fault}: runbook order`,
            fault: sc.fault,
            figures: {
              errorLatencyMs: Math.round(during.errorLatencyMs),
              timeToRecoverMs: Math.round(recovery.timeToRecoverMs),
              triesUntil201: recovery.tries.length,
            },
            bounds: { errorLatencyMs: boundMs, timeToRecoverMs: t.recoverToSuccessMs },
          }),
          verify: async ({ before, recovery }) => {
            expect(recovery.fp, 'the failed request wrote nothing: orders and lines unchanged').toEqual(before.fp);
            const firstId = (recovery.first.body as { id: number }).id;
            expect(
              (await probe.ordersByKey(key)).map((o) => o.id),
              'exactly one order for the retried key',
            ).toEqual([firstId]);
            await expectTrueOrder(probe, recovery.first, RUNBOOK_ORDER, 'the retried runbook order');
            const replay = await api.createOrder(RUNBOOK_ORDER, { idempotencyKey: key });
            await expectTrueOrder(probe, replay, RUNBOOK_ORDER, 'a replay of the key');
            expect((replay.body as { id: number }).id, 'a replay of the key answers with the same order, not a duplicate').toBe(firstId);
            expect(
              recovery.tries.map((x) => x.status).filter((s) => s !== 201 && s !== 503),
              'no uncontrolled answer while recovering',
            ).toEqual([]);
            expect(
              recovery.timeToRecoverMs,
              `time to recover ${Math.round(recovery.timeToRecoverMs)}ms is within ${bound(cfg, 'recoverToSuccessMs')}`,
            ).toBeLessThanOrEqual(t.recoverToSuccessMs);
            expect(statuses(recovery.after), `${recovery.after.length} orders right after recovery all answer 201`).toEqual(
              recovery.after.map(() => 201),
            );
            // after recovery the reads show what the database holds now
            expectReadsTrue(await reads(api, anonApi), await readTruth(probe, me), 'after recovery');
          },
        });
      },
    );
  }

  test('should answer a controlled 503 within the statement timeout, write nothing, and answer 201 again when a lock on the orders table is released', async ({
    api,
    anonApi,
    db,
    evidence,
    experiment,
    faults,
    target,
    cfg,
  }) => {
    const probe = requireDb(db);
    const t = cfg.thresholds;
    const key = newIdempotencyKey('lock');
    await experiment.probe({
      fault: faults.create('db-lock'),
      baseline: async () => {
        expect((await anonApi.health()).status).toBe(200);
        expect((await api.createOrder(RUNBOOK_ORDER, { idempotencyKey: newIdempotencyKey('baseline') })).status).toBe(201);
        return fingerprint(probe, evidence, 'fingerprint before');
      },
      during: async () => {
        const order = await api.createOrder(RUNBOOK_ORDER, { idempotencyKey: key });
        expectControlledError(order, 'POST order-requests behind the lock', t.dbLockErrorMs, target.secrets, bound(cfg, 'dbLockErrorMs'));
        return order;
      },
      metrics: ({ during }) => ({
        scenario: 'db-lock: runbook order',
        fault: 'db-lock',
        figures: { errorLatencyMs: Math.round(during.durationMs) },
        bounds: { errorLatencyMs: t.dbLockErrorMs },
      }),
      verify: async ({ before }) => {
        expect(await probe.fingerprint(ORDER_TABLES), 'the cancelled request wrote nothing').toEqual(before);
        const again = await api.createOrder(RUNBOOK_ORDER, { idempotencyKey: key });
        expect(again.status, `the same request once the lock is gone: ${shown(again.rawBody, 200)}`).toBe(201);
        const ids = (await probe.ordersByKey(key)).map((o) => o.id);
        expect(ids.length, 'exactly one order for the key').toBe(1);
        await expectTrueOrder(probe, again, RUNBOOK_ORDER, 'the order once the lock is gone');
        const [stored] = await probe.ordersWithLines({ ids });
        expect(orderLineProblems(stored!), 'the order has exactly its lines').toEqual([]);
      },
    });
  });

  test('should serve every request right after PostgreSQL restarts while the store is idle', async ({
    api,
    anonApi,
    experiment,
    faults,
    target,
  }) => {
    // one request per worker, so that each one's connection is exercised
    const workers = await workersOf(target);
    await experiment.probe({
      fault: faults.create('db-stop'),
      baseline: async () => {
        // every worker opens (and, with persistent connections, keeps) a database connection
        const warm = await burst(() => anonApi.health(), workers, WARM_ROUNDS);
        expect(statuses(warm)).toEqual(warm.map(() => 200));
      },
      // no probe while it is down: the store is idle, which is what leaves its connections stale
      recover: () =>
        burst(() => api.createOrder(RUNBOOK_ORDER, { idempotencyKey: newIdempotencyKey('bounce') }), workers, ROUNDS_PER_WORKER),
      metrics: ({ recovery: after }) => ({
        scenario: 'db-stop: idle bounce',
        fault: 'db-stop',
        figures: { requestsAfter: after.length, failures: after.filter((x) => x.status !== 201).length },
      }),
      verify: ({ recovery: after }) => {
        expect(statuses(after), `${after.length} orders right after the bounce all answer 201 (a stale connection fails here)`).toEqual(
          after.map(() => 201),
        );
      },
    });
  });

  test('should keep serving, slower, while answers from PostgreSQL are delayed', { tag: '@link' }, async ({ api, experiment, faults }) => {
    // added to every answer from PostgreSQL: one is well above this machine's jitter, and an order makes several
    const latencyMs = 100;
    const order = () => api.createOrder(RUNBOOK_ORDER, { idempotencyKey: newIdempotencyKey('latency') });
    await experiment.probe({
      fault: faults.create('db-latency', { latencyMs }),
      baseline: async () => {
        const ex = await order();
        expect(ex.status).toBe(201);
        return ex.durationMs;
      },
      during: async () => {
        const ex = await order();
        expect(ex.status, 'orders still succeed').toBe(201);
        // an order is several round trips to the database (connect, auth, validation, insert): each is delayed
        expect(ex.durationMs, 'the delay reaches the client').toBeGreaterThanOrEqual(latencyMs);
        return ex.durationMs;
      },
      recover: order,
      metrics: ({ before, during, recovery }) => ({
        scenario: 'db-latency: orders under a slow link',
        fault: 'db-latency',
        figures: {
          addedLatencyMs: latencyMs,
          orderMsBefore: Math.round(before),
          orderMsDuring: Math.round(during),
          orderMsAfter: Math.round(recovery.durationMs),
        },
      }),
      verify: ({ during, recovery }) => {
        expect(recovery.status).toBe(201);
        expect(recovery.durationMs, 'back to normal speed').toBeLessThan(during);
      },
    });
  });
});
