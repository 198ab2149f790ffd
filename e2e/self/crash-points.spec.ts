/** The crash-point checker (helpers/integrity/crash-points.ts) on made-up points: clean ones pass, each kind of damage is named. */
import { expect, test } from './support/test';
import type { Exchange } from '../../helpers/api/store-api';
import { crashPointTable, judgeCrashPoint, type CrashPointSeen } from '../../helpers/integrity/crash-points';
import type { OrderRow } from '../../helpers/integrity/db-probe';

/** An order of one line, or with its lines missing (a split write). */
const order = (id: number, key: string, lines = true): OrderRow => ({
  id,
  userId: 1,
  idempotencyKey: key,
  email: 'c@example.invalid',
  totalAmount: '10.00',
  cart: [{ product_id: 1, quantity: 1, price: 10 }],
  lines: lines ? [{ productId: 1, quantity: 1, price: '10.00' }] : [],
});

test.describe('crash-point checker', { tag: '@self' }, () => {
  const answer = (status: number | undefined, headers: Record<string, string> = {}): Exchange => ({
    method: 'POST',
    path: '/api/store/order-requests/',
    requestHeaders: {},
    startedAt: 0,
    durationMs: 1,
    status,
    responseHeaders: headers,
    rawBody: status === undefined ? undefined : '{}',
    error: status === undefined ? { kind: 'reset', message: 'socket hang up' } : undefined,
  });
  const point = (over: Partial<CrashPointSeen>): CrashPointSeen => ({
    k: 3,
    when: 'after',
    statement: 'INSERT INTO "store_orderline" ...',
    answer: answer(503, { 'retry-after': '1' }),
    cuts: 1,
    held: [],
    retry: answer(201, { 'idempotent-replayed': 'true' }),
    after: [order(7, 'cp-after-3')],
    answerProblems: [],
    ...over,
  });

  test('should pass a controlled answer that left nothing, or the whole order, and one whole order after the retry', () => {
    expect(judgeCrashPoint(point({})).problems).toEqual([]);
    expect(judgeCrashPoint(point({ answer: answer(undefined), held: [order(7, 'cp-after-3')] })).problems).toEqual([]);
    expect(judgeCrashPoint(point({ answer: answer(201), held: [order(7, 'cp-after-3')] })).problems).toEqual([]);
  });

  test('should name each way a crash point goes wrong', () => {
    const problems = (over: Partial<CrashPointSeen>) => judgeCrashPoint(point(over)).problems.join('; ');
    expect(problems({ cuts: 0 })).toMatch(/never reached/);
    expect(problems({ answer: answer(201) })).toMatch(/answered 201 but the database holds nothing/);
    expect(problems({ answer: answer(503) }), 'a 503 without Retry-After').toMatch(/answered 503 .*silently lost/);
    expect(problems({ answer: answer(400) })).toMatch(/answered 400/);
    expect(problems({ held: [order(7, 'cp-after-3', false)], after: [order(7, 'cp-after-3', false)] })).toMatch(
      /after the crash: order 7: lines \[\] do not match/,
    );
    expect(problems({ retry: answer(500) })).toMatch(/the retry with the same key answered 500/);
    expect(problems({ after: [order(7, 'k'), order(8, 'k')] })).toMatch(/after the retry the key has 2 orders/);
    expect(problems({ after: [] })).toMatch(/after the retry the key has 0 orders/);
    expect(problems({ answerProblems: ['the answer: total 0.00, stored 10.00'] })).toMatch(/total 0\.00/);
  });

  test('should total the points in the table, with every problem in its row', () => {
    const results = [judgeCrashPoint(point({})), judgeCrashPoint(point({ k: 4, answer: answer(400) }))];
    const table = crashPointTable(results, 5);
    expect(table.split('\n')).toHaveLength(5);
    expect(table).toMatch(/\| 4 \| after \| .* \| 400 \| 1 \| nothing \| .* \| answered 400/);
    expect(table).toMatch(
      /\| all \| 2 points \| 5 statements \| 1 x 503, 0 network errors \| 2 \| 0 written \| 2 replayed \| 1 with problems \|$/,
    );
  });
});
