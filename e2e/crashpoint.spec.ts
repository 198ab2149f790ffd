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
import type { Exchange } from '../helpers/api/store-api';
import { orderLineProblems, type OrderRow } from '../helpers/integrity/db-probe';
import { orderAnswerProblems } from '../helpers/integrity/answers';
import { phase } from '../helpers/report/evidence';
import { shown } from '../helpers/report/redact';
import { expect, need, requireDb, test } from './fixtures';

interface PointResult {
  readonly k: number;
  readonly when: 'before' | 'after';
  readonly statement: string;
  readonly answer: string;
  readonly cuts: number;
  readonly held: string;
  readonly retry: string;
  readonly problems: readonly string[];
}

const answerOf = (ex: Exchange) =>
  ex.status !== undefined ? `${ex.status}${ex.responseHeaders?.['retry-after'] ? ' (Retry-After)' : ''}` : `network ${ex.error?.kind}`;
const heldOf = (rows: readonly OrderRow[]) =>
  rows.length === 0
    ? 'nothing'
    : rows.map((o) => `order ${o.id}${orderLineProblems(o).length ? ' PARTIAL' : ' whole'} (${o.lines.length} lines)`).join(', ');

/**
 * Every statement of the order, cut before and after (about 20 points, 1.5 s in all here); each point
 * can wait out a recovery (RECOVER_TIMEOUT_MS), so the bound is generous and never the measure.
 */
const CRASH_POINTS_TIMEOUT_MS = 300_000;

test.describe('crash points of the write path', { tag: '@crashpoint' }, () => {
  test(
    'should answer a controlled error and keep the order whole or absent when PostgreSQL is lost at any statement of the runbook order',
    { tag: '@db' },
    async ({ api, db, faults, target, evidence, cfg, storeKind }) => {
      test.setTimeout(CRASH_POINTS_TIMEOUT_MS);
      const probe = requireDb(db);
      const log = need(target.statementLog);
      test.skip(
        !(await log.supported()),
        "TOXIPROXY_URL is a Toxiproxy: crash points need this suite's fault proxy (scripts/fault-proxy.ts), which counts statements",
      );
      const t = cfg.thresholds;
      const ordersOfKey = async (key: string) => {
        const ids = await probe.orderIdsByKey(key);
        return ids.length ? probe.ordersWithLines({ ids }) : [];
      };

      const statements = await phase(evidence, 'Baseline', async () => {
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
        return used.reduce((a, b) => (b.statements.length > a.statements.length ? b : a)).statements;
      });
      const K = statements.length;
      test.info().annotations.push({ type: 'crash points', description: `${K} statements x before/after, ${storeKind} workers` });

      const results: PointResult[] = [];
      for (const when of ['before', 'after'] as const) {
        for (let k = 1; k <= K; k++) {
          const key = newIdempotencyKey(`cp-${when}-${k}`);
          const fault = faults.create('db-crash-point', { statement: k, afterStatement: when === 'after' });
          await faults.inject(fault);
          const ex = await api.createOrder(RUNBOOK_ORDER, { idempotencyKey: key, timeoutMs: t.dbHangErrorMs * 2 });
          const cuts = await log.fired();
          await faults.recover(fault);
          const held = await ordersOfKey(key);
          const retry = await api.createOrder(RUNBOOK_ORDER, { idempotencyKey: key });
          const after = await ordersOfKey(key);
          const problems: string[] = [];
          if (cuts === 0)
            problems.push(`statement ${k} was never reached: the request took another path than the fault-free one (fault not observed)`);
          const controlled =
            (ex.status === 503 && /^\d+$/.test(ex.responseHeaders?.['retry-after'] ?? '')) ||
            (ex.status === undefined && ex.error !== undefined);
          if (ex.status === 201) {
            if (held.length !== 1 || orderLineProblems(held[0]!).length)
              problems.push(`answered 201 but the database holds ${heldOf(held)}`);
          } else if (!controlled) {
            problems.push(`answered ${answerOf(ex)} (${shown(ex.rawBody, 120)}): a client gives up on that, the order is silently lost`);
          }
          for (const o of held) for (const p of orderLineProblems(o)) problems.push(`after the crash: ${p}`);
          if (retry.status !== 201) problems.push(`the retry with the same key answered ${answerOf(retry)}: ${shown(retry.rawBody, 120)}`);
          // a 201, first or retried, is the order sent, as stored
          for (const [what, x] of [
            ['the answer', ex],
            ['the retry', retry],
          ] as const)
            if (x.status === 201) problems.push(...(await orderAnswerProblems(probe, what, x.body, RUNBOOK_ORDER)));
          if (after.length !== 1) problems.push(`after the retry the key has ${after.length} orders (${heldOf(after)})`);
          for (const o of after) for (const p of orderLineProblems(o)) problems.push(`after the retry: ${p}`);
          results.push({
            k,
            when,
            statement: statements[k - 1]?.sql ?? '?',
            answer: answerOf(ex),
            cuts,
            held: heldOf(held),
            retry: `${answerOf(retry)}${retry.responseHeaders?.['idempotent-replayed'] ? ' replayed' : ''} -> ${heldOf(after)}`,
            problems,
          });
        }
      }

      await phase(evidence, 'Verify', async () => {
        const table = [
          '| k | cut | statement | answer | cuts | database held | retry with the same key | problems |',
          '|---|---|---|---|---|---|---|---|',
          ...results.map(
            (r) =>
              `| ${r.k} | ${r.when} | \`${r.statement.replace(/\|/g, '\\|').slice(0, 80)}\` | ${r.answer} | ${r.cuts} | ${r.held} | ${r.retry} | ${r.problems.join('; ') || 'none'} |`,
          ),
          `| all | ${results.length} points | ${K} statements | ${results.filter((r) => /^503/.test(r.answer)).length} x 503, ${results.filter((r) => r.answer.startsWith('network')).length} network errors | ${results.reduce((a, r) => a + r.cuts, 0)} | ${results.filter((r) => r.held !== 'nothing').length} written | ${results.filter((r) => /replayed/.test(r.retry)).length} replayed | ${results.filter((r) => r.problems.length).length} with problems |`,
        ].join('\n');
        await evidence.text('crash points (table)', table);
        await evidence.json('crash points', results);
        await evidence.metrics({
          scenario: `crash points of the runbook order (${storeKind})`,
          fault: 'db-crash-point',
          figures: {
            statements: K,
            points: results.length,
            withProblems: results.filter((r) => r.problems.length).length,
            written: results.filter((r) => r.held !== 'nothing').length,
          },
        });
        expect(K, 'the fault-free order made statements').toBeGreaterThan(0);
        expect(
          results
            .filter((r) => r.problems.length)
            .map((r) => `statement ${r.k} (${r.when}: ${r.statement.slice(0, 60)}): ${r.problems.join('; ')}`),
          'at every crash point: a controlled answer, the order whole or absent, one order after the retry',
        ).toEqual([]);
      });
    },
  );
});
