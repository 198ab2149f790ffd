/**
 * Malformed input any store must refuse: each a 4xx JSON answer that writes nothing, never a 500 or
 * a 503 that reads as an outage; and no error body leaks a traceback, SQL, a DSN, a host:port or a secret.
 */
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import { RUNBOOK_ORDER, newIdempotencyKey, orderBody } from '../helpers/api/payloads';
import { floodBody, refusedMidBody } from '../helpers/api/body-flood';
import { itemsOf, type StoreApi } from '../helpers/api/store-api';
import { expectNoLeakyErrorBody, expectRefused, writesNothing } from './support/security';
import { expect, requireDb, test } from './fixtures';

test.afterEach(({ evidence, target }) => expectNoLeakyErrorBody(evidence.exchanges, target.secrets));

/** A flood writes this much of a body announced at 200 MB (far over any limit, far under what is announced)... */
const FLOOD_SEND_BYTES = 4 * 1024 * 1024;
/** ...then waits this long for an answer: a store enforcing its limit answered long before (measured: under 50 ms) */
const FLOOD_WAIT_MS = 3_000;

test.describe('malformed input', { tag: '@security' }, () => {
  const post = (api: StoreApi, body: unknown) =>
    api.createOrder(body as typeof RUNBOOK_ORDER, { idempotencyKey: newIdempotencyKey('bad') });
  const cart = (item: Record<string, unknown>) => ({ ...orderBody(), cart_snapshot: [{ ...RUNBOOK_ORDER.cart_snapshot[0]!, ...item }] });

  test('should answer a body that is not JSON with 415', async ({ api, db }) => {
    const probe = requireDb(db);
    await writesNothing(probe, async () => {
      await expectRefused(
        await api.send('POST', '/api/store/order-requests/', JSON.stringify(RUNBOOK_ORDER), {
          raw: true,
          headers: { 'Content-Type': 'text/plain' },
        }),
        [415],
        'text/plain',
      );
      await expectRefused(
        await api.send('POST', '/api/store/order-requests/', 'a=1&b=2', {
          raw: true,
          headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
        }),
        [415],
        'a form',
      );
    });
  });

  test('should refuse an oversized body with 413', async ({ api, db, target, evidence }) => {
    const probe = requireDb(db);
    const body = Buffer.from(JSON.stringify({ ...orderBody(), full_name: 'x'.repeat(3 * 1024 * 1024) }));
    await writesNothing(probe, async () => {
      // a store may answer 413 from the declared length and close with the body unread: a client that
      // writes it all at once then gets a reset instead of the answer (seen once through the command
      // driver). Written a piece at a time while the answer is read, the answer is seen
      const r = await floodBody(target.baseUrl, {
        path: '/api/store/order-requests/',
        framing: 'declared',
        declaredBytes: body.length,
        sendBytes: body.length,
        body,
        waitMs: FLOOD_WAIT_MS,
        token: api.accessToken,
        headers: { 'Idempotency-Key': newIdempotencyKey('bad') },
      });
      await evidence.json('a 3 MB body', r);
      expect(
        r.status,
        `a 3 MB body: answered ${r.status ?? `nothing (${r.ended} after ${r.sentBytes} bytes${r.error ? `: ${r.error}` : ''})`}`,
      ).toBe(413);
    });
  });

  test('should refuse a huge body while reading it, declared or chunked, before logging in and after', async ({
    api,
    target,
    evidence,
  }) => {
    // 200 MB announced, 4 MB written, the end never sent: a store that reads the whole body never answers
    const results = [];
    for (const [path, token] of [
      ['/api/token/', undefined],
      ['/api/store/order-requests/', api.accessToken],
    ] as const) {
      for (const framing of ['declared', 'chunked'] as const) {
        const r = await floodBody(target.baseUrl, {
          path,
          framing,
          declaredBytes: 200 * 1024 * 1024,
          sendBytes: FLOOD_SEND_BYTES,
          waitMs: FLOOD_WAIT_MS,
          token,
        });
        results.push({ path, framing, ...r });
      }
    }
    await evidence.json('bodies of 200 MB (4 MB written): what the store answered', results);
    expect(
      results
        .filter((r) => !refusedMidBody(r, r.framing === 'declared' ? [413] : [400, 411, 413], FLOOD_SEND_BYTES))
        .map(
          (r) => `${r.framing} body to ${r.path}: ${r.status ?? `no answer (${r.ended}) after ${r.sentBytes} bytes and ${r.waitedMs}ms`}`,
        ),
      'each refused while it is read (declared: 413; chunked: 413, or 411/400 without reading it; or the connection cut mid-body)',
    ).toEqual([]);
  });

  test('should answer JSON nested 100000 levels deep with 400', async ({ api, db }) => {
    const probe = requireDb(db);
    const deep = `${'['.repeat(100_000)}${']'.repeat(100_000)}`;
    await writesNothing(probe, async () => {
      await expectRefused(
        await api.send('POST', '/api/store/order-requests/', deep, { raw: true, headers: { 'Content-Type': 'application/json' } }),
        [400],
        'nested JSON',
      );
    });
  });

  test('should refuse NUL and control characters with 400, not a database outage', async ({ api, db }) => {
    const probe = requireDb(db);
    await writesNothing(probe, async () => {
      await expectRefused(await post(api, cart({ name: 'Te\u0000st' })), [400], 'a NUL in a cart item name');
      await expectRefused(await post(api, { ...orderBody(), full_name: 'Ann\u0000Smith' }), [400], 'a NUL in full_name');
      await expectRefused(await post(api, { ...orderBody(), phone: '+1\u0000' }), [400], 'a NUL in phone');
    });
  });

  test('should refuse huge, fractional and non-numeric quantities and prices with 400', async ({ api, db }) => {
    const probe = requireDb(db);
    const cases: Array<[string, unknown]> = [
      ['a quantity past 2^31-1', cart({ quantity: 2 ** 31, price: 10 })],
      ['a quantity of 2^53', cart({ quantity: 2 ** 53 })],
      ['a fractional quantity', cart({ quantity: 1.5 })],
      ['a string quantity', cart({ quantity: 'one' })],
      ['a price of 1e999', JSON.parse(JSON.stringify(cart({ price: 1 })).replace('"price":1', '"price":1e999'))],
      ['a string price', cart({ price: 'ten' })],
      ['a total of 1e308', { ...orderBody(), total_amount: 1e308 }],
    ];
    await writesNothing(probe, async () => {
      for (const [what, body] of cases) await expectRefused(await post(api, body), [400], what);
    });
  });

  test('should store SQL-shaped strings verbatim or refuse them', async ({ api, db }) => {
    const probe = requireDb(db);
    const nasty = `Robert'); DROP TABLE store_orderrequest;-- " OR 1=1 /* ${randomBytes(3).toString('hex')}`;
    const res = await post(api, { ...orderBody(), full_name: nasty });
    expect([201, 400], `answered ${res.status}`).toContain(res.status);
    const rows = await probe.query<{ full_name: string }>('SELECT full_name FROM store_orderrequest WHERE full_name = $1', [nasty]);
    expect(rows.length, res.status === 201 ? 'stored exactly as sent' : 'refused: nothing stored').toBe(res.status === 201 ? 1 : 0);
    const [table] = await probe.query<{ present: boolean }>("SELECT to_regclass('public.store_orderrequest') IS NOT NULL AS present");
    expect(table?.present, 'the orders table is still there').toBe(true);
  });

  test('should refuse bad limit and offset values', async ({ api }) => {
    for (const q of ['limit=-1', 'limit=abc', 'offset=-5', 'limit=1e9999', 'limit=99999999999999999999', 'offset=abc']) {
      const res = await api.send('GET', `/api/store/order-requests/?${q}`);
      expect(res.error, `${q}: an answer`).toBeUndefined();
      expect(res.status ?? 0, `${q}: answered ${res.status}`).toBeLessThan(500);
      expect(res.responseHeaders?.['content-type'] ?? '', `${q}: JSON`).toContain('application/json');
      // a 200 is acceptable only with the limit clamped, never "everything"
      if (res.status === 200) expect(itemsOf(res.body).length, `${q}: at most 500 orders in one answer`).toBeLessThanOrEqual(500);
      else expect(res.status, `${q}: refused`).toBe(400);
    }
  });

  test('should answer path tricks with 404, never a 2xx or a 5xx', async ({ api }) => {
    for (const p of [
      '/api/store/order-requests/..%2f..%2fproducts/',
      '/api/store/order-requests/%00/',
      '/api/store/order-requests/abc/',
      '/api/store/order-requests/1%27%20OR%201%3D1/',
      '/api/store/order-requests/-1/',
      '/api/store/order-requests/99999999999999999999999/',
    ]) {
      await expectRefused(await api.send('GET', p), [400, 404], `GET ${p}`);
    }
  });

  test('should refuse PUT, PATCH and DELETE on an order with 405 and leave it as it was', async ({ api, db }) => {
    const probe = requireDb(db);
    const created = await api.createOrder(RUNBOOK_ORDER, { idempotencyKey: newIdempotencyKey('immutable') });
    const id = (created.body as { id: number }).id;
    await writesNothing(probe, async () => {
      for (const method of ['PUT', 'PATCH', 'DELETE'] as const) {
        await expectRefused(
          await api.send(method, `/api/store/order-requests/${id}/`, { ...RUNBOOK_ORDER, status: 'cancelled' }),
          [405],
          `${method} order ${id}`,
        );
      }
    });
  });

  test('should refuse a Host header outside the allowed hosts', async ({ target, cfg }) => {
    const url = new URL(`${target.baseUrl}/api/store/products/`);
    test.skip(url.protocol !== 'http:', 'the Host check sends a raw HTTP request: BASE_URL is https');
    const answer = await new Promise<{ status?: number; type?: string }>((resolve) => {
      const req = http.request(
        {
          host: url.hostname,
          port: url.port || 80,
          path: url.pathname,
          headers: { Host: 'evil.example' },
          timeout: cfg.thresholds.requestTimeoutMs,
        },
        (res) => {
          res.resume();
          res.on('end', () => resolve({ status: res.statusCode, type: res.headers['content-type'] }));
        },
      );
      req.on('error', () => resolve({}));
      req.end();
    });
    expect(answer.status, 'Host: evil.example').toBe(400);
    expect(answer.type ?? '').toContain('application/json');
  });
});
