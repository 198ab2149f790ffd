/**
 * The checkers that judge what an answer says: each must see a false answer red (an empty or partial
 * list, a stale field, a row that does not exist, a server field that took the client's value, a
 * driver's message) and the truth green.
 */
import { expect, test } from './support/test';
import { describeFalse, asSentProblems } from '../../helpers/integrity/answers';
import { adversarialValues, naturalColumns, serverFields, storedProblems } from '../../helpers/integrity/server-fields';
import { judgeRead } from '../../helpers/integrity/store-truth';
import { byId, listProblems, objectProblems, sameValue } from '../../helpers/integrity/truth';
import { findLeaks } from '../../helpers/report/leaks';
import { detectionProbability, powerStatement, ruledOutAbove } from '../../helpers/report/repeats';

const PRODUCTS = [
  { id: 1, brand_id: 1, name: 'Test', price: 10, stock: 5 },
  { id: 2, brand_id: 1, name: 'Widget', price: 25.5, stock: 3 },
];
const catalog = { products: { rows: byId(PRODUCTS), children: () => ({}) } };
const page = (results: object[], count = results.length) => ({ count, next: null, previous: null, results });
const api = (p: (typeof PRODUCTS)[number]) => ({ id: p.id, brand: p.brand_id, name: p.name, price: p.price.toFixed(2), stock: p.stock });

test.describe('answer checkers', { tag: '@self' }, () => {
  test('should compare values as a store shows them: decimals, instants, JSON by content', () => {
    expect(sameValue('10.00', 10)).toBe(true);
    expect(sameValue('10.01', 10)).toBe(false);
    expect(sameValue('2026-11-30T14:09:07.423601Z', '2026-11-30T14:09:07.423601+00:00')).toBe(true);
    expect(sameValue('2026-11-30T14:09:07Z', '2026-11-30T14:09:08+00:00')).toBe(false);
    expect(sameValue([{ a: 1, b: '2' }], [{ b: 2, a: 1 }])).toBe(true);
    expect(sameValue(null, undefined)).toBe(true);
    expect(sameValue('new', 'paid')).toBe(false);
  });

  test('should find an empty, partial, padded or stale list false, and the whole truth true', () => {
    const path = '/api/store/products/';
    expect(judgeRead(path, page(PRODUCTS.map(api)), catalog)).toEqual([]);
    expect(judgeRead(path, page([]), catalog)).toEqual([
      `GET ${path}: count 0, the database holds 2`,
      `GET ${path}: 0 items, the database holds 2 for this page`,
      `GET ${path}: leaves out 2 rows the database holds (ids 1, 2)`,
    ]);
    // a partial page that does not admit it (its count says 2)
    expect(judgeRead(path, page([api(PRODUCTS[0]!)], 2), catalog)).toContain(`GET ${path}: 1 items, the database holds 2 for this page`);
    // an object the database does not hold (a cache after a restore), and a stale field
    const removed = { id: 9, brand: 1, name: 'After backup', price: '5.00', stock: 3 };
    expect(judgeRead(path, page([...PRODUCTS.map(api), removed]), catalog)).toContain(
      `GET ${path} 9: shown, but no such row in the database`,
    );
    expect(judgeRead(path, page([{ ...api(PRODUCTS[0]!), price: '9.00' }, api(PRODUCTS[1]!)]), catalog)).toEqual([
      `GET ${path} 1.price is "9.00", the database holds 10`,
    ]);
    expect(judgeRead(`${path}2/`, api(PRODUCTS[1]!), catalog)).toEqual([]);
    expect(judgeRead(`${path}9/`, removed, catalog)).toEqual([`GET ${path}9/: shown, but no such row in the database`]);
  });

  test("should hold a list of one's own orders to the range acknowledged before it and sent before it ended", () => {
    const rows = byId([1, 2, 3].map((id) => ({ id, user_id: 7, email: `${id}@x.test`, status: 'new' })));
    const item = (id: number) => ({ id, user: 7, email: `${id}@x.test`, status: 'new' });
    const truth = { rows, children: () => ({}), total: { min: 2, max: 3 }, limit: 5 };
    expect(listProblems('own', page([item(3), item(2), item(1)], 3), truth)).toEqual([]);
    expect(listProblems('own', page([item(2), item(1)], 2), truth)).toEqual([]);
    expect(listProblems('own', page([item(1)], 1), truth)).toEqual([
      'own: count 1, the database holds 2 to 3',
      'own: 1 items, the database holds 2 to 3 for this page',
    ]);
    expect(listProblems('own', page([item(1), { ...item(2), user: 8 }], 2), truth)).toEqual(['own 2.user is 8, the database holds 7']);
  });

  test('should judge nested lines as a multiset and refuse an object with nothing to compare', () => {
    const order = { id: 5, email: 'a@a.a' };
    const lines = [
      { product_id: 1, quantity: 1, price: 10 },
      { product_id: 2, quantity: 2, price: 25.5 },
    ];
    const shown = {
      ...order,
      lines: [lines[1], lines[0]].map((l) => ({ product: l!.product_id, quantity: l!.quantity, price: String(l!.price) })),
    };
    expect(objectProblems('order', shown, order, { lines })).toEqual([]);
    expect(objectProblems('order', { ...shown, lines: shown.lines.slice(0, 1) }, order, { lines })[0]).toMatch(
      /order\.lines: the database holds .* the answer leaves it out/,
    );
    expect(objectProblems('x', { id: 5, computed: 1 }, order)).toEqual([
      'x: no field names a column of its row, nothing to judge (id, computed)',
    ]);
    expect(asSentProblems('POST', { email: 'b@b.b', total_amount: '10.00' }, { email: 'a@a.a', total_amount: 10 })).toEqual([
      'POST.email is "b@b.b", the client sent "a@a.a"',
    ]);
  });

  test('should group false answers of one kind into one line', () => {
    const x = (at: string) => ({ phase: 'fault', op: 'GET products', at, status: 200, problems: ['count 0'] });
    expect(describeFalse([x('1'), x('2'), x('3')])).toEqual(['3 answers from 1 to 3: GET products (fault, 200): count 0']);
  });
});

test.describe('server-owned fields', { tag: '@self' }, () => {
  test('should generate the server fields and values from an answer and a table, never the client fields', () => {
    const answer = {
      id: 5,
      user: 7,
      email: 'a@a.a',
      status: 'new',
      created_at: '2026-11-30T14:09:07Z',
      lines: [{ product: 1, quantity: 1 }],
    };
    const columns = ['id', 'user_id', 'email', 'status', 'payment_state', 'created_at', 'pickup_point_id'];
    const fields = serverFields(answer, columns, ['email', 'pickup_point']);
    expect(fields.sort()).toEqual(['created_at', 'id', 'lines', 'payment_state', 'status', 'user', 'user_id'].sort());
    expect(adversarialValues('status', 'new', { choices: ['new', 'paid'] })).toContain('paid');
    expect(adversarialValues('status', 'new')).not.toContain('new');
    expect(adversarialValues('id', 5, { natural: true })).toEqual([1_000_005]);
    expect(adversarialValues('user', 7, { otherIds: [9] })).toEqual([1_000_007, 8, 9]);
    expect(adversarialValues('created_at', '2026-11-30T14:09:07Z')).toEqual(['2001-01-01T00:00:00Z']);
    expect(adversarialValues('lines', answer.lines)).toEqual([[{ product: 1001, quantity: 1001 }]]);
  });

  test('should see a stored row that took a server field red, and one that ignored it green', () => {
    const a = { id: 1, user_id: 7, status: 'new', paid: false, created_at: '2026-11-30T14:00:00Z', email: 'a@x' };
    const b = { ...a, id: 2, created_at: '2026-11-30T14:00:01Z', email: 'b@x' };
    const natural = naturalColumns(a, b);
    expect([...natural].sort()).toEqual(['created_at', 'email', 'id']);
    const client = new Set(['email']);
    const ignored = { ...a, id: 3, created_at: '2026-11-30T14:00:02Z', email: 'c@x' };
    expect(storedProblems('p', { field: 'paid', value: true }, ignored, a, natural, client)).toEqual([]);
    expect(storedProblems('p', { field: 'paid', value: true }, { ...ignored, paid: true }, a, natural, client)).toEqual([
      'p: paid is true, a plain request stores false',
    ]);
    expect(storedProblems('p', { field: 'id', value: 99 }, { ...ignored, id: 99 }, a, natural, client)).toEqual([
      'p: id took the value the client sent (99)',
    ]);
  });
});

test.describe('error bodies and repeats', { tag: '@self' }, () => {
  test("should flag a database driver's message in an error body, and pass the store's own envelope", () => {
    expect(findLeaks('{"detail": "The service is temporarily unavailable. Please retry.", "code": "database_unavailable"}')).toEqual([]);
    for (const m of [
      'server closed the connection unexpectedly This probably means the server terminated abnormally',
      'could not receive data from server: Connection reset by peer',
      'canceling statement due to statement timeout',
      'FATAL:  the database system is shutting down',
      'duplicate key value violates unique constraint "x"',
    ])
      expect(findLeaks(`{"detail": "${m}"}`), m).toContain("a database driver's message");
  });

  test('should state what K clean runs prove, and what failed runs show', () => {
    expect(detectionProbability(30)).toBeCloseTo(0.982, 3);
    expect(ruledOutAbove(30)).toBeCloseTo(0.095, 3);
    expect(powerStatement({ runs: 30, failed: 0, pooled: { requests: 900 } })).toBe(
      '0 failures in 30 runs (over all runs: requests 900): a defect that shows in 1 run in 8 would have shown with probability 98%; ' +
        'at 95% confidence these runs rule out a defect that shows in more than 10% of runs.',
    );
    expect(powerStatement({ runs: 30, failed: 3, pooled: {} })).toBe('3 of 30 runs failed: the defect shows in about 1 run in 10.');
  });
});
