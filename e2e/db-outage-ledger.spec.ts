/**
 * The runbook's first section under concurrent writes: clients write orders through every database
 * fault; a ledger of every attempt against the database proves no order is lost, duplicated or
 * half-written, and a retry with the same key answers with the order that was written.
 */
import { FreshReader } from '../helpers/api/fresh';
import { catalogProbe, healthProbe, ownOrdersProbe } from '../helpers/experiment/steady-state';
import { keysToRetry, retryProblems, retryWithSameKey } from '../helpers/integrity/retry';
import { shown } from '../helpers/report/redact';
import { SCENARIOS } from './support/db-scenarios';
import { expect, requireDb, test } from './fixtures';

/** The ledger experiment: orders through before the fault and after it, and failed orders while it holds. */
const LEDGER_ORDERS_BEFORE = 8;
const LEDGER_ORDERS_AFTER = 8;
const LEDGER_FAILED_DURING = 4;
/**
 * The load: orders, and a read of the catalogue and of one's own orders for every four of them, so
 * that what a read says during the outage (an error, or the truth: never an empty list) is judged.
 */
const LEDGER_WEIGHTS = { orders: 4, products: 1, brands: 0, ownOrders: 1 };
/** a hold of a few seconds, a black hole's request timeouts, the recovery and the retries */
const LEDGER_TEST_TIMEOUT_MS = 120_000;

test.describe('database outage under concurrent writes', { tag: '@db' }, () => {
  for (const sc of SCENARIOS) {
    test(
      `should lose, duplicate and half-write no order under concurrent writes when ${sc.what}`,
      { tag: sc.link ? ['@link'] : [] },
      async ({ experiment, faults, target, cfg, api, db, userOf, evidence }) => {
        test.setTimeout(LEDGER_TEST_TIMEOUT_MS);
        const probe = requireDb(db);
        const fresh = new FreshReader(target.baseUrl, {
          token: api.accessToken,
          timeoutMs: cfg.thresholds.requestTimeoutMs,
          record: evidence.record,
        });
        const fault = faults.create(sc.fault);
        const t = cfg.thresholds;
        test.info().annotations.push({ type: 'fault', description: fault.description });
        await experiment.run(
          {
            fault,
            // every order is an entry of the ledger; the reads are judged against the database
            load: {
              concurrency: cfg.load.ledgerClients,
              timeoutMs: t.streamRequestTimeoutMs,
              thinkTimeMs: cfg.load.thinkTimeMs,
              weights: LEDGER_WEIGHTS,
            },
            steadyState: [healthProbe(fresh), catalogProbe(fresh, probe), ownOrdersProbe(fresh, probe, (await userOf('customer')).userId)],
            okBefore: LEDGER_ORDERS_BEFORE,
            okAfter: LEDGER_ORDERS_AFTER,
            hold: { ms: t.faultHoldMs, requests: LEDGER_FAILED_DURING, failing: true, op: 'POST order' },
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
            // every order's answer, in every phase: a valid order is written (201) or refused as unavailable
            // (503); a 4xx or a 500 is an order the client will not retry, silently lost
            expect(
              run.records
                .filter((r) => r.key !== undefined && r.status !== undefined && r.status !== 201 && r.status !== 503)
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
            const after = await run.readOrders();
            const problems = retryProblems(retries, after);
            expect(problems.notCreated, `every retry (${retries.length}) answers 201`).toEqual([]);
            expect(problems.answeredAnother, 'a retry of a written order answers with that order').toEqual([]);
            expect(problems.duplicated, 'no duplicate order for any key after the retries').toEqual([]);
            expect(problems.partial, 'every order has exactly its lines after the retries').toEqual([]);
          },
        );
      },
    );
  }
});
