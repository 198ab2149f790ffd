import { expect, test } from './support/test';
import type { OrderRow } from '../../helpers/integrity/db-probe';
import { checkLedger, ledgerEmail, type LedgerAttempt } from '../../helpers/integrity/ledger';
import type { LoadRecord } from '../../helpers/load/load-runner';
import { loadStats, percentile } from '../../helpers/load/stats';
import { renderTimeline } from '../../helpers/load/timeline';
import { findLeaks } from '../../helpers/report/leaks';
import { redact, redactText } from '../../helpers/report/redact';

const attempt = (key: string, outcome: LedgerAttempt['outcome'], orderId?: number): LedgerAttempt => ({
  key,
  outcome,
  orderId,
  phase: 'fault',
  start: 0,
  end: 1,
  status: outcome === 'ok' ? 201 : outcome === 'fail' ? 503 : undefined,
});
const order = (id: number, key: string, lines = true): OrderRow => ({
  id,
  userId: 1,
  idempotencyKey: key,
  email: ledgerEmail(key),
  totalAmount: '10.00',
  cart: [{ product_id: 1, quantity: 1, price: 10 }],
  lines: lines ? [{ productId: 1, quantity: 1, price: '10.00' }] : [],
});

test.describe('checkers', { tag: '@self' }, () => {
  test('should classify a clean ledger as valid, with recovered and failed-but-present reported', () => {
    const v = checkLedger(
      [attempt('a', 'ok', 1), attempt('b', 'indeterminate'), attempt('c', 'fail'), attempt('d', 'fail')],
      [order(1, 'a'), order(2, 'b'), order(3, 'c')],
    );
    expect(v).toMatchObject({
      valid: true,
      lost: [],
      unexpected: [],
      duplicated: [],
      partial: [],
      recovered: ['b'],
      failedButPresent: ['c'],
    });
  });

  test('should flag each anomaly: lost, unexpected, duplicated, partial, mismatched', () => {
    const v = checkLedger(
      [attempt('lost', 'ok', 10), attempt('dup', 'ok', 11), attempt('half', 'ok', 13), attempt('moved', 'ok', 99)],
      [order(11, 'dup'), order(12, 'dup'), order(13, 'half', false), order(14, 'stranger'), order(15, 'moved')],
    );
    expect(v.valid).toBe(false);
    expect(v.lost).toEqual(['lost']);
    expect(v.unexpected).toEqual([14]);
    expect(v.duplicated).toEqual([{ key: 'dup', orderIds: [11, 12] }]);
    expect(v.partial).toEqual(['order 13: lines [] do not match its cart [1x1@10.00]']);
    expect(v.mismatched).toEqual(['moved: acknowledged as order 99, stored as 15']);
  });

  test('should measure the longest stretch without success and the first success after recovery', () => {
    const rec = (start: number, end: number, status?: number): LoadRecord => ({
      vu: 0,
      seq: 0,
      op: 'GET',
      path: '/api/live/',
      phase: start < 500 ? 'fault' : 'recovered',
      start,
      end,
      status,
      errorKind: status ? undefined : 'refused',
    });
    const records = [rec(0, 10, 200), rec(20, 30, 200), rec(40, 41), rec(100, 101), rec(600, 650, 200), rec(700, 720, 200)];
    const s = loadStats(records, { startedAt: 0, endedAt: 720, recoveredAt: 550 });
    expect(s.downtimeMs).toBe(620); // from the success ending at 30 to the one ending at 650
    expect(s.firstSuccessAfterRecoverMs).toBe(100);
    expect(s.overall.errorsByKind).toEqual({ refused: 2 });
    expect(percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 95)).toBe(10);
    const svg = renderTimeline(records, {
      title: 'test',
      startedAt: 0,
      endedAt: 720,
      markers: [
        { at: 35, label: 'inject x', kind: 'inject' },
        { at: 550, label: 'recover', kind: 'recover' },
      ],
      downtime: { from: s.downtimeFrom, to: s.downtimeTo },
    });
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg).toContain('inject x');
    expect(svg).toContain('no success for 620 ms');
    expect((svg.match(/<circle /g) ?? []).length).toBeGreaterThanOrEqual(records.length);
  });

  test('should redact tokens and passwords, and find what an error body leaks', () => {
    const jwt = 'eyJhbGciOiJIUzI1NiJ9.eyJ1c2VyX2lkIjoxfQ.c2lnbmF0dXJl';
    const red = redact({
      headers: { Authorization: `Bearer ${jwt}` },
      body: { access: jwt, note: `token ${jwt}` },
      url: 'postgres://store:s3cret@127.0.0.1:5432/store',
    });
    const text = JSON.stringify(red);
    expect(text).not.toContain(jwt);
    expect(text).not.toContain('s3cret');
    expect(redactText('password=hunter2 PGPASSWORD=x')).not.toMatch(/hunter2|=x\b/);
    expect(findLeaks('{"detail": "The service is temporarily unavailable. Please retry."}')).toEqual([]);
    expect(findLeaks('connection to server at "127.0.0.1", port 5432 failed')).toEqual(expect.arrayContaining(['host:port']));
    expect(findLeaks('Traceback (most recent call last):\n  File "x.py", line 1')).toContain('a traceback');
    expect(findLeaks('INSERT INTO "store_orderrequest" VALUES')).toContain('SQL');
    expect(findLeaks('it is s3cret-value', ['s3cret-value'])).toContain('a secret of the stack');
  });
});

test.describe('redaction', { tag: '@self' }, () => {
  const cases: Array<[string, string, string]> = [
    ['an env assignment ending in PASSWORD', 'STORE_PASSWORD=hunter2 next', 'hunter2'],
    ['a database password variable', 'export STORE_DB_PASSWORD="hunter3"', 'hunter3'],
    ['SECRET_KEY=', 'SECRET_KEY=abcdef123456', 'abcdef123456'],
    ['client_secret in a query string', 'grant_type=x&client_secret=s3cr3tvalue&y=1', 's3cr3tvalue'],
    ['access_token in JSON', '{"access_token": "tok-123456", "token_type": "bearer"}', 'tok-123456'],
    ['"password": "x" in JSON', '{"username": "alice", "password": "pa55word"}', 'pa55word'],
    ["SQL PASSWORD 'x'", "CREATE ROLE shop LOGIN PASSWORD 'o''brien-pw'", "o''brien-pw"],
    ['a password in a URL', 'postgres://store:pw-in-url@127.0.0.1:5432/store', 'pw-in-url'],
    ['a bearer token', 'Authorization: Bearer abc.def.ghi-token', 'abc.def.ghi-token'],
    ['PGPASSWORD', 'PGPASSWORD=pgpw1 pg_dump', 'pgpw1'],
  ];
  for (const [what, text, secret] of cases) {
    test(`should redact ${what}`, () => {
      const out = redactText(text);
      expect(out, out).not.toContain(secret);
      expect(out).toContain('***');
    });
  }

  test('should mask values under secret-looking names, and keep idempotency keys and token types', () => {
    const out = redact({
      STORE_PASSWORD: 'a1',
      secret_key: 'a2',
      client_secret: 'a3',
      access_token: 'a4',
      signingKey: 'a5',
      idempotency_key: 'ledger-1',
      token_type: 'access',
      username: 'alice',
    });
    expect(out).toEqual({
      STORE_PASSWORD: '***',
      secret_key: '***',
      client_secret: '***',
      access_token: '***',
      signingKey: '***',
      idempotency_key: 'ledger-1',
      token_type: 'access',
      username: 'alice',
    });
    expect(redactText('{"idempotency_key": "ledger-abc", "token_type": "access"}')).toBe(
      '{"idempotency_key": "ledger-abc", "token_type": "access"}',
    );
  });
});
