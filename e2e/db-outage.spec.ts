/**
 * The runbook's first section, automated: while PostgreSQL is unavailable an order gets a
 * controlled error, nothing is partially written, and the same request answers 201 once the
 * database is back (under concurrent writes: db-outage-ledger.spec.ts); a lock gets a 503 within the
 * statement timeout; an idle restart leaves no stale connection; a slow link only slows.
 *
 * Over 250 lines: the runbook order under each database fault, then the lock, the idle restart and the
 * slow link, each writing its own five phases (not yet on one experiment runner: issue 20).
 */
import { RUNBOOK_ORDER, newIdempotencyKey } from '../helpers/api/payloads';
import { bound } from '../helpers/config';
import { STORE_TABLES, orderLineProblems } from '../helpers/integrity/db-probe';
import { phase } from '../helpers/report/evidence';
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
/** Requests per worker right after a recovery: a worker with a dead connection fails one of them. */
const ROUNDS_PER_WORKER = 2;
/** Health rounds per worker before an idle bounce: every worker opens (and keeps) its connection. */
const WARM_ROUNDS = 3;

test.describe('database outage', { tag: '@db' }, () => {
  for (const sc of SCENARIOS) {
    test(
      `should answer the runbook order with a controlled error, write nothing, and answer 201 again when ${sc.what}`,
      { tag: sc.link ? ['@link'] : [] },
      async ({ api, anonApi, db, evidence, faults, target, cfg, userOf }) => {
        const probe = requireDb(db);
        const fault = faults.create(sc.fault);
        const t = cfg.thresholds;
        const boundKey = sc.kind === 'refused' ? 'dbRefusedErrorMs' : 'dbHangErrorMs';
        const boundMs = t[boundKey];
        const boundName = bound(cfg, boundKey);
        const secrets = target.secrets;
        const me = (await userOf('customer')).userId;
        const workers = await workersOf(target);
        const key = newIdempotencyKey('runbook');
        test.info().annotations.push({ type: 'fault', description: fault.description });

        const before = await phase(evidence, 'Baseline', async () => {
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
          const fp = await probe.fingerprint(ORDER_TABLES);
          await evidence.json('fingerprint before', fp);
          return { fp, truth };
        });

        await phase(evidence, 'Inject', async () => {
          await faults.inject(fault);
        });

        const during = await phase(evidence, 'During fault', async () => {
          const order = await api.createOrder(RUNBOOK_ORDER, { idempotencyKey: key });
          expectControlledError(order, 'POST order-requests (the runbook order)', boundMs, secrets, boundName);
          // reads: an error, or the truth (an empty catalogue is not "fine"); JWT authentication reads the user
          // from the database, so one's own orders are a 503 or the orders held before the fault
          const [health, ...xs] = await reads(api, anonApi, true);
          for (const x of xs) expectControlledOrTrue(x, before.truth, secrets, t.requestTimeoutMs);
          expect(health!.status, `health during the fault: ${shown(health!.rawBody)}`).toBe(503);
          expect(findLeaks(health!.rawBody ?? '', secrets), 'health body').toEqual([]);
          return { errorLatencyMs: order.durationMs };
        });

        const recovery = await phase(evidence, 'Recover', async () => {
          const action = await faults.recover(fault);
          // first: what the failed request left behind (nothing may have been written)
          const fp = await probe.fingerprint(ORDER_TABLES);
          await evidence.json('fingerprint after recovery, before the retry', fp);
          const { first, tries } = await retryUntilCreated(api, key, t);
          const timeToRecoverMs = first.startedAt + first.durationMs - action.endedAt;
          // right after recovery, every worker must serve: stale persistent connections fail here
          const after = await burst(
            () => api.createOrder(RUNBOOK_ORDER, { idempotencyKey: newIdempotencyKey('after') }),
            workers,
            ROUNDS_PER_WORKER,
          );
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
          expect(recovery.fp, 'the failed request wrote nothing: orders and lines unchanged').toEqual(before.fp);
          const firstId = (recovery.first.body as { id: number }).id;
          expect(await probe.orderIdsByKey(key), 'exactly one order for the retried key').toEqual([firstId]);
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
        });
      },
    );
  }

  test('should answer a controlled 503 within the statement timeout, write nothing, and answer 201 again when a lock on the orders table is released', async ({
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
      expectControlledError(order, 'POST order-requests behind the lock', t.dbLockErrorMs, target.secrets, bound(cfg, 'dbLockErrorMs'));
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
      const ids = await probe.orderIdsByKey(key);
      expect(ids.length, 'exactly one order for the key').toBe(1);
      await expectTrueOrder(probe, again, RUNBOOK_ORDER, 'the order once the lock is gone');
      const [stored] = await probe.ordersWithLines({ ids });
      expect(orderLineProblems(stored!), 'the order has exactly its lines').toEqual([]);
    });
  });

  test('should serve every request right after PostgreSQL restarts while the store is idle', async ({
    api,
    anonApi,
    evidence,
    faults,
    target,
  }) => {
    const fault = faults.create('db-stop');
    // one request per worker, so that each one's connection is exercised
    const workers = await workersOf(target);
    await phase(evidence, 'Baseline', async () => {
      // every worker opens (and, with persistent connections, keeps) a database connection
      const warm = await burst(() => anonApi.health(), workers, WARM_ROUNDS);
      expect(statuses(warm)).toEqual(warm.map(() => 200));
    });
    await phase(evidence, 'Inject', async () => {
      await faults.inject(fault);
    });
    await phase(evidence, 'Recover', async () => {
      await faults.recover(fault);
    });
    await phase(evidence, 'Verify', async () => {
      const after = await burst(
        () => api.createOrder(RUNBOOK_ORDER, { idempotencyKey: newIdempotencyKey('bounce') }),
        workers,
        ROUNDS_PER_WORKER,
      );
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

  test('should keep serving, slower, while answers from PostgreSQL are delayed', { tag: '@link' }, async ({ api, evidence, faults }) => {
    // added to every answer from PostgreSQL: one is well above this machine's jitter, and an order makes several
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
