/**
 * Limits on guessing, counted exactly and probed for the ways around them: a limit of N answers 429
 * on request N+1 within its window whichever worker serves it; a header the client writes
 * (X-Forwarded-For) never chooses the bucket; a username padded with spaces shares its bucket; bad
 * logins sent in another address's name do not lock the account's owner out; one address spraying
 * many usernames is capped; refreshes are limited per user; malformed bodies are a 400, never a 5xx.
 * On this machine's loopback each probe sends from a 127.x.y.z of its own, so that no probe's bucket
 * is another's (or the suite's own logins').
 *
 * Over 250 lines: each way around a limit is a probe of its own (forged addresses, padded names,
 * lockout, spraying, refreshes, malformed bodies), and they share one set of fresh addresses.
 */
import { pbkdf2Sync, randomBytes } from 'node:crypto';
import pg from 'pg';
import { freshLoopbackAddress, freshRequest, onLoopback } from '../helpers/api/fresh';
import type { Exchange } from '../helpers/api/store-api';
import type { RateLimit } from '../helpers/config';
import type { Target } from '../helpers/target';
import { expectNoLeakyErrorBody } from './support/security';
import { expect, need, test } from './fixtures';

test.afterEach(({ evidence, target }) => expectNoLeakyErrorBody(evidence.exchanges, target.secrets));

/**
 * A login of its own, inserted with a Django password hash (pbkdf2_sha256, few iterations: any count
 * verifies) and deleted when the scope ends.
 */
async function temporaryUser(writableUrl: string): Promise<{ creds: { username: string; password: string } } & AsyncDisposable> {
  const username = name('refresher');
  const password = randomBytes(12).toString('hex');
  const salt = randomBytes(8).toString('hex');
  const hash = `pbkdf2_sha256$1000$${salt}$${pbkdf2Sync(password, salt, 1000, 32, 'sha256').toString('base64')}`;
  const sql = async (text: string, params: unknown[]) => {
    const c = new pg.Client({ connectionString: writableUrl });
    await c.connect();
    try {
      await c.query(text, params);
    } finally {
      await c.end();
    }
  };
  await sql(
    "INSERT INTO auth_user (password, is_superuser, username, first_name, last_name, email, is_staff, is_active, date_joined) VALUES ($1, false, $2, '', '', '', false, true, now())",
    [hash, username],
  );
  return { creds: { username, password }, [Symbol.asyncDispose]: () => sql('DELETE FROM auth_user WHERE username = $1', [username]) };
}

interface Guess {
  readonly path?: string;
  readonly body: unknown;
  readonly headers?: Record<string, string>;
  readonly from?: string;
  readonly raw?: boolean;
}

/** Sends each request on a connection of its own (spread over the workers), one after another. */
async function send(target: Target, timeoutMs: number, record: (e: Exchange) => void, guesses: readonly Guess[]): Promise<Exchange[]> {
  const out: Exchange[] = [];
  for (const g of guesses) {
    const ex = await freshRequest(target.baseUrl, {
      method: 'POST',
      path: g.path ?? '/api/token/',
      body: g.body,
      headers: g.headers,
      localAddress: g.from,
      raw: g.raw,
      timeoutMs,
    });
    record(ex);
    out.push(ex);
  }
  return out;
}

const statuses = (xs: readonly Exchange[]) => xs.map((x) => x.status ?? x.error?.kind);
const name = (prefix: string) => `${prefix}-${randomBytes(4).toString('hex')}`;
/** N answers of `status`, then two 429s: exactly the limit */
const exactly = (limit: RateLimit, status = 401) => [...Array<number>(limit.count).fill(status), 429, 429];

test.describe('password guessing', { tag: '@security' }, () => {
  test('should throttle repeated bad logins with 429 and Retry-After, without locking out other users', async ({
    target,
    cfg,
    api,
    evidence,
  }) => {
    const username = name('guess');
    const from = onLoopback(target.baseUrl) ? freshLoopbackAddress() : undefined;
    const answers: Exchange[] = [];
    for (let i = 0; i < cfg.thresholds.loginThrottleAttempts && answers.at(-1)?.status !== 429; i++)
      answers.push(
        ...(await send(target, cfg.thresholds.requestTimeoutMs, evidence.record, [{ body: { username, password: `wrong-${i}` }, from }])),
      );
    const throttled = answers.at(-1);
    expect(
      throttled?.status,
      `a 429 within ${cfg.thresholds.loginThrottleAttempts} bad logins (answers: ${statuses(answers).join(' ')})`,
    ).toBe(429);
    expect(throttled!.responseHeaders?.['retry-after'] ?? '', 'with Retry-After').toMatch(/^\d+$/);
    expect(
      statuses(answers.slice(0, -1)).filter((s) => s !== 401),
      'every other answer is a 401',
    ).toEqual([]);
    expect((await api.orders()).status, "another user's session is untouched").toBe(200);
  });

  test('should answer 429 on exactly the bad login over the limit, whichever worker serves it', async ({ target, cfg, api, evidence }) => {
    const limit = need(target.rateLimits.login);
    const username = name('exact');
    const from = onLoopback(target.baseUrl) ? freshLoopbackAddress() : undefined;
    const started = Date.now();
    // each guess on a connection of its own: they are spread over the workers, so a limit counted in
    // each worker's memory lets the one over the limit through
    const answers = await send(
      target,
      cfg.thresholds.requestTimeoutMs,
      evidence.record,
      Array.from({ length: limit.count + 2 }, (_, i) => ({ body: { username, password: `wrong-${i}` }, from })),
    );
    expect(Date.now() - started, `the guesses fit the limit's window (${limit.text}), else nothing is counted`).toBeLessThan(
      limit.windowMs,
    );
    expect(
      statuses(answers),
      `LOGIN_RATE_LIMIT ${limit.text}: ${limit.count} bad logins answer 401, the ${limit.count + 1}th and after 429`,
    ).toEqual(exactly(limit));
    expect(answers[limit.count]!.responseHeaders?.['retry-after'] ?? '', 'the 429 carries Retry-After').toMatch(/^\d+$/);
    expect((await api.orders()).status, "another user's session is untouched").toBe(200);
  });

  test('should not let a header the client writes (X-Forwarded-For) choose the bucket', async ({ target, cfg, evidence }) => {
    const limit = need(target.rateLimits.login);
    const username = name('forwarded');
    const from = onLoopback(target.baseUrl) ? freshLoopbackAddress() : undefined;
    const answers = await send(
      target,
      cfg.thresholds.requestTimeoutMs,
      evidence.record,
      Array.from({ length: limit.count + 2 }, (_, i) => ({
        body: { username, password: `wrong-${i}` },
        headers: { 'X-Forwarded-For': `203.0.113.${i + 1}`, 'X-Real-IP': `198.51.100.${i + 1}` },
        from,
      })),
    );
    expect(statuses(answers), `a new X-Forwarded-For on each guess: still ${limit.count} 401s, then 429`).toEqual(exactly(limit));
  });

  test('should count a username as authentication reads it: spaces around it share its bucket', async ({ target, cfg, evidence }) => {
    const limit = need(target.rateLimits.login);
    const username = name('padded');
    const from = onLoopback(target.baseUrl) ? freshLoopbackAddress() : undefined;
    const padded = [` ${username}`, `${username} `, `\t${username}\n`];
    const answers = await send(target, cfg.thresholds.requestTimeoutMs, evidence.record, [
      ...Array.from({ length: limit.count }, (_, i) => ({ body: { username, password: `wrong-${i}` }, from })),
      ...padded.map((u) => ({ body: { username: u, password: 'wrong-padded' }, from })),
    ]);
    expect(statuses(answers), `${limit.count} guesses as "${username}", then the same name padded: 429`).toEqual([
      ...Array<number>(limit.count).fill(401),
      ...padded.map(() => 429),
    ]);
  });

  test("should not let bad logins sent in another address's name lock its owner out @security", async ({ target, cfg, evidence }) => {
    const limit = need(target.rateLimits.login);
    const victim = target.users.secondCustomer;
    test.skip(!victim, 'STORE_USERNAME_2/STORE_PASSWORD_2 not set: the victim is a real user whose own login must still work');
    test.skip(!onLoopback(target.baseUrl), 'the target is not on this machine: the attacker and the victim need two client addresses');
    const [attacker, owner] = [freshLoopbackAddress(), freshLoopbackAddress()];
    const attack = await send(
      target,
      cfg.thresholds.requestTimeoutMs,
      evidence.record,
      Array.from({ length: limit.count + 1 }, (_, i) => ({
        body: { username: victim!.username, password: `wrong-${i}` },
        headers: { 'X-Forwarded-For': owner },
        from: attacker,
      })),
    );
    expect(statuses(attack).at(-1), 'the attacker is throttled').toBe(429);
    const [own] = await send(target, cfg.thresholds.requestTimeoutMs, evidence.record, [{ body: victim, from: owner }]);
    expect(own!.status, `the owner's correct login from their own address after the attack: ${own!.rawBody?.slice(0, 120)}`).toBe(200);
  });

  test('should cap logins from one address over many usernames (password spraying)', async ({ target, cfg, evidence }) => {
    const limit = need(target.rateLimits.loginAddress);
    test.skip(!onLoopback(target.baseUrl), 'the target is not on this machine: a spray from one address would throttle the suite itself');
    const from = freshLoopbackAddress();
    const started = Date.now();
    const answers = await send(
      target,
      cfg.thresholds.requestTimeoutMs,
      evidence.record,
      Array.from({ length: limit.count + 2 }, (_, i) => ({ body: { username: name(`spray${i}`), password: 'Summer2026!' }, from })),
    );
    expect(Date.now() - started, `the spray fits the limit's window (${limit.text})`).toBeLessThan(limit.windowMs);
    expect(
      statuses(answers),
      `LOGIN_ADDRESS_RATE_LIMIT ${limit.text}: one password over ${limit.count + 2} usernames from one address`,
    ).toEqual(exactly(limit));
  });

  test('should limit token refreshes per user, from any address', async ({ target, cfg, evidence }) => {
    const limit = need(target.rateLimits.refresh);
    // a user of its own where the database may be written (no other test's refreshes share its bucket)
    await using own = target.disposableDatabaseUrl.ok ? await temporaryUser(target.disposableDatabaseUrl.value) : undefined;
    const creds = own?.creds ?? target.users.staff ?? target.users.secondCustomer;
    test.skip(
      !creds,
      'STORE_STAFF_USERNAME/STORE_STAFF_PASSWORD not set: a refresh token needs a login (JWT_TOKEN is only an access token)',
    );
    const loop = onLoopback(target.baseUrl);
    const [login] = await send(target, cfg.thresholds.requestTimeoutMs, evidence.record, [
      { body: creds, from: loop ? freshLoopbackAddress() : undefined },
    ]);
    expect(login!.status, 'a login for a refresh token').toBe(200);
    const refresh = (login!.body as { refresh: string }).refresh;
    const answers = await send(
      target,
      cfg.thresholds.requestTimeoutMs,
      evidence.record,
      Array.from({ length: limit.count + 2 }, () => ({
        path: '/api/token/refresh/',
        body: { refresh },
        from: loop ? freshLoopbackAddress() : undefined,
      })),
    );
    expect(
      statuses(answers),
      `REFRESH_RATE_LIMIT ${limit.text}: one user's refresh token, ${loop ? 'each from another address' : 'from this address'}`,
    ).toEqual(exactly(limit, 200));
  });

  test('should answer malformed login and refresh bodies with 400, never a 5xx', async ({ target, cfg, evidence }) => {
    const from = onLoopback(target.baseUrl) ? freshLoopbackAddress : () => undefined;
    const bodies: Array<[string, unknown, string?]> = [
      ['a lone surrogate as username', { username: '\ud800', password: 'x' }],
      ['a lone surrogate as password', { username: name('s'), password: '\udfff' }],
      ['a NUL in the username', { username: `a\u0000b`, password: 'x' }],
      ['a number as username', { username: 12345, password: 'x' }],
      ['a list as username', { username: ['a', 'b'], password: 'x' }],
      ['an object as password', { username: name('o'), password: { $ne: '' } }],
      ['null fields', { username: null, password: null }],
      ['no fields', {}],
      ['a 100000-character username', { username: 'u'.repeat(100_000), password: 'x' }],
      ['a JSON list as the body', [1, 2, 3]],
      ['a JSON string as the body', 'just a string'],
      ['a surrogate as refresh token', { refresh: '\ud800' }, '/api/token/refresh/'],
      ['a number as refresh token', { refresh: 7 }, '/api/token/refresh/'],
      ['a token of three junk parts', { refresh: 'a.b.c' }, '/api/token/refresh/'],
    ];
    const answers = await send(
      target,
      cfg.thresholds.requestTimeoutMs,
      evidence.record,
      bodies.map(([, body, path]) => ({ body, path, from: from() })),
    );
    const wrong = answers
      .map((a, i) => ({ what: bodies[i]![0], a }))
      .filter(({ a }) => a.status === undefined || a.status >= 500 || !(a.responseHeaders?.['content-type'] ?? '').includes('json'));
    expect(
      wrong.map(({ what, a }) => `${what}: ${a.status ?? a.error?.kind} ${a.rawBody?.slice(0, 100)}`),
      'every malformed body: a JSON 4xx',
    ).toEqual([]);
    expect(
      answers.map((a, i) => `${bodies[i]![0]}: ${a.status}`).filter((s) => !/: (400|401|413|429)$/.test(s)),
      'each a 400 (or 401 for a refresh token that is not one, 413 for a body too large)',
    ).toEqual([]);
  });
});
