/**
 * Crash points of the write path, explored one by one: a fault-free runbook order shows the K
 * statements its connection sends PostgreSQL; then for every k, the connection dies at statement k
 * (before the server gets it, and after the server executed it with the answer lost) and PostgreSQL
 * stays unreachable until recovered. Each time: the answer is a controlled 503 or a network error,
 * never a 4xx, a 500 or a 201 for an order that is not there; the database holds the whole order
 * with its lines or nothing; a retry with the same Idempotency-Key yields exactly one whole order.
 * A split write (order and lines in two transactions) is caught without any pause between them.
 */
import { RUNBOOK_ORDER, newIdempotencyKey } from '../helpers/api/payloads';
import { orderAnswerProblems } from '../helpers/integrity/answers';
import { crashPointTable, judgeCrashPoint, type CrashPointResult } from '../helpers/integrity/crash-points';
import { expect, need, requireDb, test } from './fixtures';

/**
 * Every statement of the order, cut before and after (about 20 points, 1.5 s in all here); each point
 * can wait out a recovery (RECOVER_TIMEOUT_MS), so the bound is generous and never the measure.
 */
const CRASH_POINTS_TIMEOUT_MS = 300_000;

test.describe('crash points of the write path', { tag: '@crashpoint' }, () => {
  test(
    'should answer a controlled error and keep the order whole or absent when PostgreSQL is lost at any statement of the runbook order',
    { tag: '@db' },
    async ({ api, db, faults, target, experiment, evidence, cfg, storeKind }) => {
      test.setTimeout(CRASH_POINTS_TIMEOUT_MS);
      const probe = requireDb(db);
      const log = need(target.statementLog);
      test.skip(
        !(await log.supported()),
        "TOXIPROXY_URL is a Toxiproxy: crash points need this suite's fault proxy (scripts/fault-proxy.ts), which counts statements",
      );
      const t = cfg.thresholds;
      const ordersOfKey = async (key: string) => {
        const ids = (await probe.ordersByKey(key)).map((o) => o.id);
        return ids.length ? probe.ordersWithLines({ ids }) : [];
      };

      await experiment.sweep({
        // the statements a fault-free order sends over its connection
        baseline: async () => {
          await log.clear();
          const ex = await api.createOrder(RUNBOOK_ORDER, { idempotencyKey: newIdempotencyKey('cp-count') });
          expect(ex.status, 'a fault-free order').toBe(201);
          const used = (await log.connections()).filter((c) => c.statements.length > 0 || c.opaque);
          await evidence.json('connections of the fault-free order', used);
          expect(
            used.filter((c) => c.opaque).map((c) => c.id),
            "the store's path to PostgreSQL is readable (not TLS: set sslmode=disable on it)",
          ).toEqual([]);
          expect(used.length, 'the order went over a connection the proxy saw').toBeGreaterThan(0);
          // the longest connection's statements: a cut at k hits whichever connection reaches k first
          const statements = used.reduce((a, b) => (b.statements.length > a.statements.length ? b : a)).statements;
          test.info().annotations.push({
            type: 'crash points',
            description: `${statements.length} statements x before/after, ${storeKind} workers`,
          });
          return statements;
        },
        // every statement, cut before the server gets it and after it ran with the answer lost
        points: (statements) =>
          (['before', 'after'] as const).flatMap((when) =>
            statements.map((s, i) => ({ k: i + 1, when, sql: s.sql, key: newIdempotencyKey(`cp-${when}-${i + 1}`) })),
          ),
        label: (p, i, n) => `crash point ${i + 1} of ${n}: ${p.when} statement ${p.k} (${p.sql.slice(0, 40)})`,
        fault: (p) => faults.create('db-crash-point', { statement: p.k, afterStatement: p.when === 'after' }),
        during: async (p) => {
          const answer = await api.createOrder(RUNBOOK_ORDER, { idempotencyKey: p.key, timeoutMs: t.dbHangErrorMs * 2 });
          return { answer, cuts: await log.fired() };
        },
        recover: async ({ point: p, during: { answer, cuts } }) => {
          const held = await ordersOfKey(p.key);
          const retry = await api.createOrder(RUNBOOK_ORDER, { idempotencyKey: p.key });
          const after = await ordersOfKey(p.key);
          // a 201, first or retried, is the order sent, as stored
          const answerProblems: string[] = [];
          for (const [what, x] of [
            ['the answer', answer],
            ['the retry', retry],
          ] as const)
            if (x.status === 201) answerProblems.push(...(await orderAnswerProblems(probe, what, x.body, RUNBOOK_ORDER)));
          return judgeCrashPoint({ k: p.k, when: p.when, statement: p.sql, answer, cuts, held, retry, after, answerProblems });
        },
        metrics: ({ before, points }) => ({
          scenario: `crash points of the runbook order (${storeKind})`,
          fault: 'db-crash-point',
          figures: {
            statements: before.length,
            points: points.length,
            withProblems: points.filter((p) => p.result.problems.length).length,
            written: points.filter((p) => p.result.held !== 'nothing').length,
          },
        }),
        verify: async ({ before, points }) => {
          const results: CrashPointResult[] = points.map((p) => p.result);
          await evidence.text('crash points (table)', crashPointTable(results, before.length));
          await evidence.json('crash points', results);
          expect(
            results
              .filter((r) => r.problems.length)
              .map((r) => `statement ${r.k} (${r.when}: ${r.statement.slice(0, 60)}): ${r.problems.join('; ')}`),
            'at every crash point: a controlled answer, the order whole or absent, one order after the retry',
          ).toEqual([]);
        },
      });
    },
  );
});
