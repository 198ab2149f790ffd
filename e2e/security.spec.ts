/**
 * What any store must refuse: forged, expired and misused tokens; reading or writing what is not
 * yours (malformed input: security-input.spec.ts; guessing passwords: security-throttle.spec.ts). And no error
 * body, here or anywhere, leaks a traceback, SQL, a DSN, a host:port or a secret.
 */
import { createHmac, randomBytes } from 'node:crypto';
import pg from 'pg';
import { RUNBOOK_ORDER, newIdempotencyKey } from '../helpers/api/payloads';
import { itemsOf, type StoreApi } from '../helpers/api/store-api';
import { expectNoLeakyErrorBody, expectRefused, writesNothing } from './support/security';
import { ORDERS, PRODUCTS, probeServerFields } from './support/server-fields';
import { expect, need, needUser, requireDb, test, userIdOfToken } from './fixtures';

const b64 = (v: object | Buffer) => (Buffer.isBuffer(v) ? v : Buffer.from(JSON.stringify(v))).toString('base64url');
/** A JWT signed HS256 with key (or unsigned, alg none). */
function jwt(claims: object, key: string | undefined, header: object = { alg: key === undefined ? 'none' : 'HS256', typ: 'JWT' }): string {
  const head = `${b64(header)}.${b64(claims)}`;
  return `${head}.${key === undefined ? '' : b64(createHmac('sha256', key).update(head).digest())}`;
}
const claimsOf = (token: string) =>
  JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as Record<string, unknown>;
const accessClaims = (userId: number, expInS = 600) => {
  const now = Math.floor(Date.now() / 1000);
  return { token_type: 'access', exp: now + expInS, iat: now - 5, jti: randomBytes(16).toString('hex'), user_id: userId };
};
/** Keys that ship in tutorials, frameworks' templates and this repository's history. */
const WELL_KNOWN_KEYS = [
  'secret',
  'your-256-bit-secret',
  'changeme',
  'django-insecure-change-me',
  'reference-store-insecure-key-change-me-0123456789',
];

test.afterEach(({ evidence, target }) => expectNoLeakyErrorBody(evidence.exchanges, target.secrets));

test.describe('tokens', { tag: '@security' }, () => {
  const refusedWith = async (api: StoreApi, token: string, what: string) => {
    const as = api.as(token);
    await expectRefused(await as.orders(), [401], `${what}: GET own orders`);
    await expectRefused(
      await as.createOrder(RUNBOOK_ORDER, { idempotencyKey: newIdempotencyKey('forged') }),
      [401],
      `${what}: POST an order`,
    );
  };

  test('should refuse a token whose signature was tampered with', async ({ anonApi, tokenFor, db }) => {
    const probe = requireDb(db);
    const token = await tokenFor('customer');
    const [h, p, sig] = token.split('.') as [string, string, string];
    // a character in the middle: the last one may only change padding bits
    const i = Math.floor(sig.length / 2);
    const tampered = `${h}.${p}.${sig.slice(0, i)}${sig[i] === 'A' ? 'B' : 'A'}${sig.slice(i + 1)}`;
    // and the payload changed to another user, signature kept
    const otherPayload = `${h}.${b64({ ...claimsOf(token), user_id: Number(claimsOf(token).user_id) + 1 })}.${sig}`;
    await writesNothing(probe, async () => {
      await refusedWith(anonApi, tampered, 'a tampered signature');
      await refusedWith(anonApi, otherPayload, 'a payload changed under its signature');
    });
  });

  test('should refuse an unsigned token (alg none)', async ({ anonApi, tokenFor }) => {
    const claims = claimsOf(await tokenFor('customer'));
    for (const alg of ['none', 'None', 'NONE']) await refusedWith(anonApi, jwt(claims, undefined, { alg, typ: 'JWT' }), `alg ${alg}`);
  });

  test('should refuse tokens signed with another key, well-known default keys included', async ({
    anonApi,
    api,
    tokenFor,
    userOf,
    target,
    db,
  }) => {
    const probe = requireDb(db);
    const me = userIdOfToken(await tokenFor('customer'));
    await writesNothing(probe, async () => {
      await refusedWith(anonApi, jwt(accessClaims(me), randomBytes(32).toString('hex')), 'a random key');
      for (const key of WELL_KNOWN_KEYS) {
        await refusedWith(anonApi, jwt(accessClaims(me), key), `the well-known key "${key}"`);
        if (target.users.staff) {
          // a staff token minted with a guessable key must not create products
          const staff = anonApi.as(jwt(accessClaims((await userOf('staff')).userId), key));
          await expectRefused(
            await staff.createProduct({ brand: 1, name: 'Forged', price: '1.00', stock: 1 }),
            [401],
            `a staff token signed with "${key}"`,
          );
        }
      }
    });
    expect((await api.orders()).status, 'the real token still works').toBe(200);
  });

  test('should refuse a validly signed token that has expired', async ({ anonApi, target, tokenFor }) => {
    const key = need(target.jwtSigningKey);
    const me = userIdOfToken(await tokenFor('customer'));
    const valid = jwt(accessClaims(me), key);
    expect((await anonApi.as(valid).orders()).status, 'the same token, not expired, is accepted: the key is right').toBe(200);
    await refusedWith(anonApi, jwt(accessClaims(me, -60), key), 'expired a minute ago');
  });

  test('should refuse a refresh token used as an access token', async ({ anonApi, target }) => {
    const creds = target.users.customer;
    test.skip(!creds, 'STORE_USERNAME/STORE_PASSWORD not set: a refresh token needs a login (JWT_TOKEN is only an access token)');
    const pair = await anonApi.send('POST', '/api/token/', creds, { anonymous: true });
    expect(pair.status, 'login').toBe(200);
    const refresh = (pair.body as { refresh?: string }).refresh;
    expect(refresh, 'a refresh token').toBeTruthy();
    await refusedWith(anonApi, refresh!, 'a refresh token');
  });

  test('should refuse the tokens of an inactive user and of a deleted user', async ({ anonApi, target, db }) => {
    const probe = requireDb(db);
    const key = need(target.jwtSigningKey);
    const writable = need(target.disposableDatabaseUrl);
    const [row] = await probe.query<{ max: string }>('SELECT max(id) AS max FROM auth_user');
    await refusedWith(anonApi, jwt(accessClaims(Number(row?.max ?? 0) + 100_000), key), 'a user that does not exist (deleted)');
    const writer = new pg.Client({ connectionString: writable });
    await writer.connect();
    let inactiveId: number | undefined;
    try {
      const ins = await writer.query<{ id: string }>(
        "INSERT INTO auth_user (password, is_superuser, username, first_name, last_name, email, is_staff, is_active, date_joined) VALUES ('!', false, $1, '', '', '', false, false, now()) RETURNING id",
        [`inactive-${randomBytes(4).toString('hex')}`],
      );
      inactiveId = Number(ins.rows[0]!.id);
      await refusedWith(anonApi, jwt(accessClaims(inactiveId), key), 'an inactive user');
    } finally {
      if (inactiveId !== undefined) await writer.query('DELETE FROM auth_user WHERE id = $1', [inactiveId]);
      await writer.end();
    }
  });
});

test.describe('caching of credentials', { tag: '@security' }, () => {
  test('should answer tokens and personal data with Cache-Control: no-store', async ({ anonApi, api, target }) => {
    const creds = target.users.customer;
    test.skip(!creds, 'STORE_USERNAME/STORE_PASSWORD not set: a token answer needs a login');
    const pair = await anonApi.send('POST', '/api/token/', creds, { anonymous: true });
    expect(pair.status, 'a login').toBe(200);
    const refreshed = await anonApi.refresh((pair.body as { refresh: string }).refresh);
    const mine = await api.orders();
    for (const [what, ex] of [
      ['the login (access and refresh tokens)', pair],
      ['the refresh (an access token)', refreshed],
      ["one's own orders (personal data)", mine],
    ] as const) {
      expect(ex.status, what).toBe(200);
      expect(ex.responseHeaders?.['cache-control'] ?? '(none)', `${what}: a cache on the way must not keep it`).toMatch(/no-store/);
    }
  });
});

test.describe('authorization', { tag: '@security' }, () => {
  test("should hide another customer's order, by id and in the list @security", async ({ api, apiAs, target }) => {
    needUser(target, 'secondCustomer');
    const other = await apiAs('secondCustomer');
    const created = await other.createOrder(RUNBOOK_ORDER, { idempotencyKey: newIdempotencyKey('theirs') });
    expect(created.status).toBe(201);
    const id = (created.body as { id: number }).id;
    expect((await other.order(id)).status, 'its owner reads it').toBe(200);
    await expectRefused(await api.order(id), [404], "another customer's order by id");
    const mine = itemsOf<{ id: number }>((await api.orders({ limit: 500 })).body).map((o) => o.id);
    expect(mine, 'and it is not in my list').not.toContain(id);
  });

  test('should keep products read-only for customers and anonymous clients', async ({ api, anonApi, db }) => {
    const probe = requireDb(db);
    const product = { brand: 1, name: 'Not mine to sell', price: '1.00', stock: 1 };
    await writesNothing(probe, async () => {
      await expectRefused(await anonApi.createProduct(product), [401], 'anonymous POST product');
      await expectRefused(await api.createProduct(product), [403], 'customer POST product');
      for (const method of ['PUT', 'PATCH', 'DELETE'] as const) {
        await expectRefused(await api.send(method, '/api/store/products/1/', product), [403, 405], `customer ${method} product 1`);
      }
    });
  });

  test('should refuse or ignore every field the server owns, on every writable endpoint (generated, not hand-listed)', async ({
    api,
    apiAs,
    db,
    userOf,
    target,
    evidence,
  }) => {
    const probe = requireDb(db);
    const others = target.users.secondCustomer ? [(await userOf('secondCustomer')).userId] : [];
    const results = [await probeServerFields(api, probe, ORDERS, others)];
    // products are written only where the suite may change more than orders (the catalogue is the store's)
    const products = !target.users.staff
      ? 'STORE_STAFF_USERNAME/STORE_STAFF_PASSWORD not set'
      : !target.disposableDatabaseUrl.ok
        ? target.disposableDatabaseUrl.missing
        : undefined;
    if (products === undefined) results.push(await probeServerFields(await apiAs('staff'), probe, PRODUCTS, others));
    else test.info().annotations.push({ type: 'note', description: `products not probed: ${products}` });
    await evidence.json('server-owned fields and what each probe did', results);
    for (const r of results) {
      // the generation found the fields every store has (an id at least), else it judged nothing
      expect(r.fields, `${r.endpoint}: the server's fields were found`).toContain('id');
      expect(r.probes.length, `${r.endpoint}: probes were sent`).toBeGreaterThan(0);
    }
    expect(
      results.flatMap((r) => r.problems),
      `every server-owned field (${results.map((r) => `${r.endpoint}: ${r.fields.join(', ')}`).join('; ')}) is refused or ignored`,
    ).toEqual([]);
  });

  test('should give two customers who use the same Idempotency-Key an order each', async ({ api, apiAs, target, userOf, db }) => {
    const probe = requireDb(db);
    needUser(target, 'secondCustomer');
    const key = newIdempotencyKey('shared');
    const a = await api.createOrder(RUNBOOK_ORDER, { idempotencyKey: key });
    const b = await (await apiAs('secondCustomer')).createOrder(RUNBOOK_ORDER, { idempotencyKey: key });
    expect([a.status, b.status]).toEqual([201, 201]);
    expect((a.body as { id: number }).id, "two orders, not a replay of the other customer's").not.toBe((b.body as { id: number }).id);
    const owners = (await probe.ordersByKey(key)).map((r) => r.userId).sort((x, y) => x - y);
    expect(owners).toEqual([(await userOf('customer')).userId, (await userOf('secondCustomer')).userId].sort((x, y) => x - y));
  });
});
