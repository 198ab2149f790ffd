/**
 * Concurrent retries: a client that times out and retries, a load balancer that replays, two tabs
 * that submit at once. One Idempotency-Key sent by many clients at the same moment must give one
 * order, whatever the interleaving; only a unique constraint in the database makes that true, a
 * check in the application races. Each test runs several rounds: a race needs more than one chance.
 */
import { RUNBOOK_ORDER, newIdempotencyKey, orderBody } from '../helpers/api/payloads';
import type { Exchange, StoreApi } from '../helpers/api/store-api';
import { orderLineProblems, type DbProbe } from '../helpers/integrity/db-probe';
import { phase, type Evidence } from '../helpers/report/evidence';
import { shown } from '../helpers/report/redact';
import { expect, needUser, requireDb, test } from './fixtures';

interface Round {
  readonly round: number;
  readonly key: string;
  readonly statuses: Record<string, number>;
  readonly answeredIds: readonly number[];
  readonly storedIds: readonly number[];
  readonly problems: readonly string[];
}

const tally = (xs: readonly Exchange[]) =>
  xs.reduce<Record<string, number>>((acc, x) => {
    const k = String(x.status ?? x.error?.kind ?? '?');
    acc[k] = (acc[k] ?? 0) + 1;
    return acc;
  }, {});

/** Orders stored under a key, per user, each checked for its lines. */
async function stored(probe: DbProbe, key: string): Promise<Array<{ id: number; userId: number; fullName: string; problems: string[] }>> {
  const rows = await probe.ordersByKey(key);
  const withLines = rows.length ? await probe.ordersWithLines({ ids: rows.map((r) => r.id) }) : [];
  return rows.map((r) => ({ ...r, problems: orderLineProblems(withLines.find((o) => o.id === r.id)!) }));
}

/**
 * `rounds` rounds of a race, each its own step of evidence: the rounds as a table, then one assertion
 * that no round had a problem (`promise` says what each round must show).
 */
async function inRounds(
  evidence: Evidence,
  title: string,
  rounds: number,
  promise: string,
  oneRound: (round: number) => Promise<Round>,
): Promise<void> {
  const results: Round[] = [];
  await phase(evidence, title, async () => {
    for (let round = 1; round <= rounds; round++) results.push(await oneRound(round));
  });
  await evidence.text('rounds (table)', roundsTable(results));
  expect(
    results.filter((r) => r.problems.length).map((r) => `round ${r.round}: ${r.problems.join('; ')}`),
    promise,
  ).toEqual([]);
}

/** n requests released together (the API context sends them concurrently). */
const together = (n: number, send: (i: number) => Promise<Exchange>) => Promise.all(Array.from({ length: n }, (_, i) => send(i)));

function roundsTable(rounds: readonly Round[]): string {
  return [
    '| round | answers | ids answered | orders stored | problems |',
    '|---|---|---|---|---|',
    ...rounds.map(
      (r) =>
        `| ${r.round} | ${JSON.stringify(r.statuses)} | ${[...new Set(r.answeredIds)].join(' ')} | ${r.storedIds.join(' ') || 'none'} | ${r.problems.join('; ') || 'none'} |`,
    ),
  ].join('\n');
}

test.describe('concurrent retries', { tag: '@idempotency' }, () => {
  test('should create exactly one order when one key and one body arrive from many clients at once', async ({ api, db, cfg, evidence }) => {
    const probe = requireDb(db);
    const { idempotencyClients: n, idempotencyRounds: rounds } = cfg.load;
    await inRounds(
      evidence,
      `${rounds} rounds of ${n} identical requests`,
      rounds,
      `${rounds} rounds of ${n} concurrent requests with one key: one order each`,
      async (round) => {
        const key = newIdempotencyKey(`same-${round}`);
        const answers = await together(n, () => api.createOrder(RUNBOOK_ORDER, { idempotencyKey: key }));
        const ids = answers.map((a) => (a.body as { id?: number } | undefined)?.id).filter((id): id is number => typeof id === 'number');
        const orders = await stored(probe, key);
        const problems: string[] = [];
        const not201 = answers.filter((a) => a.status !== 201);
        if (not201.length)
          problems.push(`${not201.length} answers were not 201: ${JSON.stringify(tally(not201))} ${shown(not201[0]?.rawBody, 120)}`);
        if (new Set(ids).size !== 1)
          problems.push(`the answers name ${new Set(ids).size} different orders (${[...new Set(ids)].join(', ')})`);
        if (orders.length !== 1) problems.push(`${orders.length} orders stored for one key (ids ${orders.map((o) => o.id).join(', ')})`);
        for (const o of orders) problems.push(...o.problems);
        return { round, key, statuses: tally(answers), answeredIds: ids, storedIds: orders.map((o) => o.id), problems };
      },
    );
  });

  test('should keep the first body and refuse every other one sent with the same key at once', async ({ api, db, cfg, evidence }) => {
    const probe = requireDb(db);
    const { idempotencyClients: n, idempotencyRounds: rounds } = cfg.load;
    await inRounds(
      evidence,
      `${rounds} rounds of ${n} different bodies with one key`,
      rounds,
      'one order per key, every other body refused with 422',
      async (round) => {
        const key = newIdempotencyKey(`diff-${round}`);
        const answers = await together(n, (i) => api.createOrder(orderBody({ full_name: `Client ${i}` }), { idempotencyKey: key }));
        const created = answers.filter((a) => a.status === 201);
        const orders = await stored(probe, key);
        const problems: string[] = [];
        if (created.length !== 1) problems.push(`${created.length} answers were 201 (one body may win)`);
        const others = answers.filter((a) => a.status !== 201);
        if (others.some((a) => a.status !== 422)) problems.push(`the other answers were ${JSON.stringify(tally(others))}, not all 422`);
        if (orders.length !== 1) problems.push(`${orders.length} orders stored for one key (ids ${orders.map((o) => o.id).join(', ')})`);
        const winner = (created[0]?.body as { id?: number; full_name?: string } | undefined) ?? {};
        if (orders.length === 1 && (orders[0]!.id !== winner.id || orders[0]!.fullName !== winner.full_name)) {
          problems.push(
            `the stored order ${orders[0]!.id} (${orders[0]!.fullName}) is not the one answered 201 (${winner.id}, ${winner.full_name})`,
          );
        }
        for (const o of orders) problems.push(...o.problems);
        return {
          round,
          key,
          statuses: tally(answers),
          answeredIds: created.map((a) => (a.body as { id: number }).id),
          storedIds: orders.map((o) => o.id),
          problems,
        };
      },
    );
  });

  test('should give two users who send the same key at once an order each', async ({ api, apiAs, db, cfg, target, userOf, evidence }) => {
    const probe = requireDb(db);
    needUser(target, 'secondCustomer');
    const second: StoreApi = await apiAs('secondCustomer');
    const [a, b] = [(await userOf('customer')).userId, (await userOf('secondCustomer')).userId];
    const { idempotencyRounds: rounds } = cfg.load;
    await inRounds(evidence, `${rounds} rounds of two users with one key`, rounds, 'one order per user for a shared key', async (round) => {
      const key = newIdempotencyKey(`users-${round}`);
      const answers = await together(4, (i) => (i % 2 === 0 ? api : second).createOrder(RUNBOOK_ORDER, { idempotencyKey: key }));
      const orders = await stored(probe, key);
      const problems: string[] = [];
      if (answers.some((x) => x.status !== 201)) problems.push(`answers ${JSON.stringify(tally(answers))}, not all 201`);
      const owners = orders.map((o) => o.userId).sort((x, y) => x - y);
      if (JSON.stringify(owners) !== JSON.stringify([a, b].sort((x, y) => x - y)))
        problems.push(`orders stored for users [${owners.join(', ')}], expected one for ${a} and one for ${b}`);
      for (const o of orders) problems.push(...o.problems);
      return {
        round,
        key,
        statuses: tally(answers),
        answeredIds: answers.map((x) => (x.body as { id?: number } | undefined)?.id ?? 0),
        storedIds: orders.map((o) => o.id),
        problems,
      };
    });
  });
});
