import { RUNBOOK_ORDER, newIdempotencyKey, orderBody, type OrderBody } from '../helpers/api/payloads';
import { STORE_TABLES, orderLineProblems } from '../helpers/integrity/db-probe';
import { shown } from '../helpers/report/redact';
import { secretIn } from '../helpers/report/secret-scan';
import { expect, need, needUser, requireDb, test } from './fixtures';

const ORDER_TABLES = [STORE_TABLES.orders, STORE_TABLES.orderLines];
/** What a health answer must not tell an anonymous client: the process, its software and versions, its switches, paths. */
const INTERNALS =
  /"(pid|ppid|worker|workers|server|version|versions|flaws|debug|host|hostname|uptime|python|django|gunicorn|uvicorn|path)"\s*:|\/(usr|var|home|tmp|etc|opt)\//i;

test.describe('smoke', { tag: '@smoke' }, () => {
  test('should answer 200 on the runbook health checks: products, order-requests with the token, brands', async ({ api, anonApi }) => {
    const health = await anonApi.health();
    expect(health.status, 'GET /api/health/').toBe(200);
    expect(health.body).toMatchObject({ status: 'ok', database: 'ok' });
    // an anonymous client learns whether the store is healthy, nothing about what runs it
    for (const ex of [health, await anonApi.send('GET', '/api/live/')])
      expect(ex.rawBody ?? '', `GET ${ex.path} tells an anonymous client nothing about the process`).not.toMatch(INTERNALS);
    for (const [name, ex] of [
      ['products', await api.products()],
      ['order-requests', await api.orders()],
      ['brands', await api.brands()],
    ] as const) {
      expect(ex.status, `GET ${name}`).toBe(200);
      expect(ex.responseHeaders?.['content-type'], `${name} content type`).toContain('application/json');
    }
    // the runbook curls products without a token
    expect((await anonApi.products()).status, 'products without a token').toBe(200);
    expect((await anonApi.brands()).status, 'brands without a token').toBe(200);
  });

  test("should keep passwords and tokens out of the store's and PostgreSQL's logs", async ({ anonApi, api, target }) => {
    const sources = [need(target.logs.store), need(target.logs.postgres)];
    const windows = sources.map((src) => ({ label: src.label, window: src.open() }));
    const creds = target.users.customer;
    // a login (the password in its body), a bad one, a refresh, reads and an order with the token
    if (creds) {
      const pair = await anonApi.send('POST', '/api/token/', creds, { anonymous: true });
      expect(pair.status, 'a login').toBe(200);
      await anonApi.refresh((pair.body as { refresh: string }).refresh);
      await anonApi.send('POST', '/api/token/', { username: creds.username, password: `${creds.password}-wrong` }, { anonymous: true });
    }
    await api.orders();
    await api.createOrder(RUNBOOK_ORDER, { idempotencyKey: newIdempotencyKey('logs') });
    for (const { label, window } of windows) {
      const raw = await window.read();
      expect(
        secretIn(raw, [...target.secrets, ...(creds ? [creds.password] : [])]) ?? 'nothing',
        `${label}, as written (before any redaction)`,
      ).toBe('nothing');
    }
  });

  test('should create the runbook order with 201 and store it with its lines', async ({ api, db, evidence, userOf }) => {
    const probe = requireDb(db);
    const created = await api.createOrder(RUNBOOK_ORDER);
    expect(created.status, shown(JSON.stringify(created.body))).toBe(201);
    const order = created.body as { id: number; user: number; total_amount: string; lines: unknown[] };
    expect(order.total_amount).toBe('10.00');
    expect(order.lines).toHaveLength(1);

    const list = await api.orders({ limit: 50 });
    expect(list.status).toBe(200);
    const ids = (list.body as { results: Array<{ id: number }> }).results.map((o) => o.id);
    expect(ids, 'GET lists the new order').toContain(order.id);

    const [stored] = await probe.ordersWithLines({ ids: [order.id] });
    await evidence.json('stored order', stored);
    expect(stored, 'the order is in the database').toBeDefined();
    expect(stored?.lines).toEqual([{ productId: 1, quantity: 1, price: '10.00' }]);
    expect(orderLineProblems(stored!)).toEqual([]);
    const me = await userOf('customer');
    expect(stored!.userId, "the order belongs to the token's user").toBe(me.userId);
    expect(order.user, 'the answer names that user').toBe(me.userId);
    if (me.username) {
      const [user] = await probe.query<{ username: string }>('SELECT username FROM auth_user WHERE id = $1', [stored!.userId]);
      expect(user?.username, 'and that user is the one who logged in').toBe(me.username);
    }
  });

  test('should refuse requests without a token with 401 and write nothing', async ({ anonApi, db }) => {
    const probe = requireDb(db);
    const before = await probe.fingerprint(ORDER_TABLES);
    expect((await anonApi.orders()).status, 'GET order-requests').toBe(401);
    const post = await anonApi.createOrder(RUNBOOK_ORDER);
    expect(post.status, 'POST order-requests').toBe(401);
    expect(post.body).toMatchObject({ detail: expect.any(String) });
    expect(await probe.fingerprint(ORDER_TABLES)).toEqual(before);
  });

  const cart = (item: Partial<OrderBody['cart_snapshot'][number]>) => [{ ...RUNBOOK_ORDER.cart_snapshot[0]!, ...item }];
  const invalid: Array<{ title: string; body: object; field: string }> = [
    { title: 'an unknown product', body: orderBody({ cart_snapshot: cart({ product_id: 987654 }) }), field: 'cart_snapshot' },
    { title: 'a zero quantity', body: { ...orderBody(), cart_snapshot: cart({ quantity: 0 }) }, field: 'cart_snapshot' },
    {
      title: 'a negative quantity',
      body: { ...orderBody(), cart_snapshot: cart({ quantity: -1 }), total_amount: -10 },
      field: 'cart_snapshot',
    },
    { title: 'a price that does not match the product', body: orderBody({ cart_snapshot: cart({ price: 9.99 }) }), field: 'cart_snapshot' },
    { title: 'a total that is not the sum of the lines', body: { ...orderBody(), total_amount: 11.0 }, field: 'total_amount' },
    { title: 'terms not accepted', body: orderBody({ accept_terms: false }), field: 'accept_terms' },
    { title: 'a pickup order without a pickup point', body: orderBody({ pickup_point: null }), field: 'pickup_point' },
    { title: 'an unknown pickup point', body: orderBody({ pickup_point: 987654 }), field: 'pickup_point' },
    { title: 'an empty cart', body: { ...orderBody(), cart_snapshot: [], total_amount: 0 }, field: 'cart_snapshot' },
  ];
  for (const c of invalid) {
    test(`should reject an order with ${c.title} with 400 and write nothing`, async ({ api, db }) => {
      const probe = requireDb(db);
      const before = await probe.fingerprint(ORDER_TABLES);
      const res = await api.createOrder(c.body, { idempotencyKey: newIdempotencyKey('invalid') });
      expect(res.status, shown(JSON.stringify(res.body))).toBe(400);
      expect(res.responseHeaders?.['content-type']).toContain('application/json');
      expect(Object.keys(res.body as object), 'the error names the field').toContain(c.field);
      expect(await probe.fingerprint(ORDER_TABLES), 'orders and lines unchanged').toEqual(before);
    });
  }

  test("should file an order under the token's user, whatever the body says", async ({ api, apiAs, db, target, userOf }) => {
    const probe = requireDb(db);
    needUser(target, 'secondCustomer');
    const second = await apiAs('secondCustomer');
    const [first, other] = [await userOf('customer'), await userOf('secondCustomer')];
    expect(other.userId, 'the two customers are different users').not.toBe(first.userId);
    // the body claims the order for the first customer
    const created = await second.createOrder({ ...RUNBOOK_ORDER, user: first.userId });
    expect(created.status, shown(JSON.stringify(created.body))).toBe(201);
    const id = (created.body as { id: number }).id;
    const [stored] = await probe.ordersWithLines({ ids: [id] });
    expect(stored?.userId, "the order is the second customer's, whose token sent it").toBe(other.userId);
    // and the first customer can neither list nor read it
    const list = await api.orders({ limit: 500 });
    expect((list.body as { results: Array<{ id: number }> }).results.map((o) => o.id)).not.toContain(id);
    expect((await api.order(id)).status).toBe(404);
  });

  test('should answer a retried request with the same Idempotency-Key with the same order', async ({ api, db }) => {
    const probe = requireDb(db);
    const key = newIdempotencyKey('smoke');
    const first = await api.createOrder(orderBody(), { idempotencyKey: key });
    const again = await api.createOrder(orderBody(), { idempotencyKey: key });
    expect(first.status).toBe(201);
    expect(again.status).toBe(201);
    expect((again.body as { id: number }).id, 'same order').toBe((first.body as { id: number }).id);
    expect(again.responseHeaders?.['idempotent-replayed']).toBe('true');
    const rows = await probe.ordersByKey(key);
    expect(rows, 'one row for the key').toHaveLength(1);
    const conflict = await api.createOrder(orderBody({ full_name: 'Someone else' }), { idempotencyKey: key });
    expect(conflict.status, 'a reused key with another body').toBe(422);
  });

  test('should answer every error as JSON, never an HTML page', async ({ api, anonApi }) => {
    const notFound = await anonApi.send('GET', '/api/no-such-endpoint/');
    expect(notFound.status).toBe(404);
    expect(notFound.responseHeaders?.['content-type']).toContain('application/json');
    const malformed = await api.send('POST', '/api/store/order-requests/', undefined, {
      headers: { 'Content-Type': 'application/json' },
    });
    expect(malformed.status).toBe(400);
    const badJson = await api.send('POST', '/api/store/order-requests/', '{"broken":', { raw: true });
    expect(badJson.status).toBe(400);
    expect(badJson.responseHeaders?.['content-type']).toContain('application/json');
  });

  test('should refresh a token and keep product creation for staff only', async ({ anonApi, api, target }) => {
    const creds = target.users.customer;
    test.skip(!creds, 'the target gives a JWT_TOKEN, not STORE_USERNAME/STORE_PASSWORD: refresh needs a login');
    const pair = await anonApi.send('POST', '/api/token/', creds, { anonymous: true });
    expect(pair.status).toBe(200);
    const refreshed = await anonApi.refresh((pair.body as { refresh: string }).refresh);
    expect(refreshed.status).toBe(200);
    expect(refreshed.body).toMatchObject({ access: expect.any(String) });
    const product = { brand: 1, name: 'Forbidden', price: '1.00', stock: 1 };
    expect((await anonApi.createProduct(product)).status, 'anonymous').toBe(401);
    expect((await api.createProduct(product)).status, 'customer').toBe(403);
  });
});
