/**
 * The suite's power: each flaw of the reference store, the test that exists to catch it, and
 * the failure message that proves it was caught for the right reason.
 *
 * Over 250 lines: a table, one entry per flaw of the reference store with its catching test and the
 * message that proves the catch; it grows by one entry per flaw.
 */
import type { FlawName } from '../../helpers/config';

export interface FlawCase {
  readonly flaw: FlawName;
  readonly project: string;
  /** --grep of the catching test(s) */
  readonly grep: string;
  /** the failure message must match: red for the right reason */
  readonly reason: RegExp;
  readonly why: string;
  /** more settings of the flawed store (STORE_FLAW_PAUSE_MS=0: a split write without a pause) */
  readonly env?: Readonly<Record<string, string>>;
  /**
   * a rare defect: the catching test runs up to this many times, and stops at its first failure (a
   * defect of one run in eight escapes 64 runs with probability (7/8)^64, about 2 in 10,000)
   */
  readonly repeat?: number;
  /**
   * cases of one group share a child run: their flaws are switched on together and their catching
   * tests run once (each test is untouched by the group's other flaws, and fails for its own reason)
   */
  readonly group?: 'api' | 'throttles' | 'database';
}

export const FLAW_CASES: readonly FlawCase[] = [
  {
    flaw: 'non_atomic_orders',
    project: 'db-outage',
    grep: 'concurrent writes when PostgreSQL stops',
    reason: /"partial": Array \[[\s\S]*order \d+: lines \[\] do not match its cart/,
    why: 'the ledger finds orders written without their lines',
  },
  {
    flaw: 'no_db_timeout',
    project: 'db-outage',
    grep: 'runbook order with a controlled error.*PostgreSQL freezes',
    reason: /gets an answer, not a hang \(waited \d+ms\)[\s\S]*Received:[\s\S]*timeout/,
    why: 'the order hangs on a frozen database instead of a 503 within the bound',
  },
  {
    flaw: 'stale_db_connections',
    project: 'db-outage',
    grep: 'restarts while the store is idle',
    reason: /orders right after the bounce all answer 201 \(a stale connection fails here\)[\s\S]*503/,
    why: 'requests right after a database restart fail on dead persistent connections',
    group: 'database',
  },
  {
    flaw: 'leaky_errors',
    project: 'db-outage',
    grep: 'runbook order with a controlled error.*PostgreSQL stops',
    reason: /the error body leaks nothing \(it leaks [^)]*(a traceback|host:port)/,
    why: 'the error body shows the traceback and the database host:port',
  },
  {
    flaw: 'duplicate_on_retry',
    project: 'db-outage',
    grep: 'concurrent writes when PostgreSQL stops',
    reason: /a retry of a written order answers with that order/,
    why: 'a retry with the same Idempotency-Key creates a second order',
  },
  {
    flaw: 'single_worker',
    project: 'app-restart',
    grep: 'one worker is killed',
    reason: /the longest stretch without a successful answer \(\d+ms\) is within \d+ms/,
    why: 'a worker death is an outage until the replacement has booted',
  },
  {
    flaw: 'no_graceful_shutdown',
    project: 'app-restart',
    grep: 'graceful reload',
    reason: /no request fails while the workers are replaced[\s\S]*started [\d:.]+: (reset|http 5\d\d)/,
    why: 'workers that exit at once on reload drop the requests they were serving',
  },
  {
    flaw: 'no_graceful_shutdown',
    project: 'app-restart',
    grep: 'full restart',
    reason:
      /no request dropped in flight \(\d+ refused and \d+ turned away unread: safe to retry\)[\s\S]*started [\d:.]+: (reset|http 5\d\d|other|timeout)/,
    why: 'a stop that does not drain drops the requests in flight, which refused connections hid',
  },
  {
    flaw: 'non_atomic_orders',
    project: 'crashpoint',
    grep: 'lost at any statement',
    reason: /at every crash point[\s\S]*statement \d+ \((before|after): [\s\S]*lines \[\] do not match its cart/,
    why: 'a crash between the order and its lines leaves a partial order, with no pause to widen the gap',
    env: { STORE_FLAW_PAUSE_MS: '0' },
  },
  {
    flaw: 'db_error_as_400',
    project: 'crashpoint',
    grep: 'lost at any statement',
    reason: /statement \d+ \((before|after): SELECT[^)]*store_product[\s\S]*answered 400 [\s\S]*the order is silently lost/,
    why: 'a database error read as "unknown product": a 400 the client will not retry',
  },
  {
    flaw: 'no_statement_timeout',
    project: 'db-outage',
    grep: 'lock on the orders table',
    reason: /POST order-requests behind the lock gets an answer, not a hang \(waited \d+ms\)/,
    why: 'a statement behind a lock waits forever instead of a 503 within the statement timeout',
    group: 'database',
  },
  {
    flaw: 'idempotency_in_python',
    project: 'idempotency',
    grep: 'one key and one body',
    reason: /round \d+: the answers name \d+ different orders[^"]*\d+ orders stored for one key/,
    why: 'concurrent retries with one key create several orders: nothing in the database stops them',
    group: 'database',
  },
  {
    flaw: 'jwt_unverified',
    project: 'security',
    grep: 'tampered with',
    reason: /a tampered signature: GET own orders: answered 200/,
    why: 'a token with a forged signature is accepted',
    group: 'api',
  },
  {
    flaw: 'orders_not_scoped',
    project: 'security',
    grep: "another customer's order",
    reason: /another customer's order by id: answered 200/,
    why: "any customer reads another customer's order by its id",
    group: 'api',
  },
  {
    flaw: 'data_error_as_outage',
    project: 'security',
    grep: 'NUL and control characters',
    reason: /a NUL in a cart item name: answered 503 .*database_unavailable/,
    why: 'a value the database refuses is answered as an outage (503, Retry-After) instead of a 400',
    group: 'api',
  },
  {
    flaw: 'empty_list_on_db_error',
    project: 'db-outage',
    grep: 'runbook order with a controlled error.*PostgreSQL stops',
    reason: /answered 200 during the fault: it must then tell what the database holds[\s\S]*(count 0|0 items), the database holds/,
    why: 'a read during the outage answers 200 with an empty catalogue instead of an error',
  },
  {
    flaw: 'read_cache_outside_db',
    project: 'backup-restore',
    grep: 'store running',
    reason: /made after the backup is gone|every read tells what the database holds, and what the restore removed is gone/,
    why: 'after a restore, reads come from a cache that still holds what the restore removed',
  },
  {
    flaw: 'idempotency_cache_outside_db',
    project: 'backup-restore',
    grep: 'store running',
    reason: /a retry with the key of a removed order creates a new order or is refused, never a replay/,
    why: 'after a restore, a retry replays an order the restore removed, from a cache',
  },
  {
    flaw: 'payment_status_writable',
    project: 'security',
    grep: 'server owns',
    reason: /payment_status is \\?"paid\\?", a plain request stores \\?"unpaid/,
    why: 'a client marks its own order paid: a server-owned field on no hand-kept list',
    group: 'api',
  },
  {
    flaw: 'throttle_per_worker',
    project: 'security',
    grep: 'exactly the bad login over the limit',
    reason: /\d+ bad logins answer 401, the \d+th and after 429/,
    why: 'a login limit counted per worker lets the guess over the limit through',
    group: 'api',
  },
  {
    flaw: 'health_tells_internals',
    project: 'smoke',
    grep: 'runbook health checks',
    reason: /tells an anonymous client nothing about the process/,
    why: 'an anonymous health check tells the worker pid, the server kind and the active flaws',
    group: 'api',
  },
  {
    flaw: 'logs_credentials',
    project: 'smoke',
    grep: "out of the store's and PostgreSQL's logs",
    reason: /as written \(before any redaction\)[\s\S]*(a live JWT|secret #\d+)/,
    why: 'the store logs login bodies and Authorization headers',
    group: 'api',
  },
  {
    flaw: 'forwarded_for_trusted',
    project: 'security',
    grep: 'X-Forwarded-For',
    reason: /a new X-Forwarded-For on each guess: still \d+ 401s, then 429/,
    why: 'a header the client writes chooses the throttle bucket: unlimited guesses',
    group: 'throttles',
  },
  {
    flaw: 'forwarded_for_trusted',
    project: 'security',
    grep: 'lock its owner out',
    reason: /the owner's correct login from their own address after the attack/,
    why: "guesses sent in the owner's name lock the owner out",
    group: 'throttles',
  },
  {
    flaw: 'throttle_raw_username',
    project: 'security',
    grep: 'spaces around it share its bucket',
    reason: /guesses as "[^"]+", then the same name padded: 429/,
    why: 'a username padded with spaces gets a bucket of its own, while authentication strips them',
    group: 'throttles',
  },
  {
    flaw: 'throttle_raw_username',
    project: 'security',
    grep: 'malformed login and refresh bodies',
    reason: /a lone surrogate as username: 500/,
    why: 'a username the cache key cannot encode is an anonymous 500',
    group: 'throttles',
  },
  {
    flaw: 'throttle_raw_username',
    project: 'security',
    grep: 'to POST /api/token/ \\(log in\\)',
    reason: /FUZZ_SEED=\d+ replays it[\s\S]*answered 500[\s\S]*Counterexample/,
    why: 'the fuzz family finds the anonymous 500 of a malformed login, and prints its seed',
    group: 'throttles',
  },
  {
    flaw: 'no_login_address_cap',
    project: 'security',
    grep: 'password spraying',
    reason: /LOGIN_ADDRESS_RATE_LIMIT \S+: one password over \d+ usernames from one address/,
    why: 'one password sprayed over many usernames from one address is never throttled',
    group: 'throttles',
  },
  {
    flaw: 'refresh_per_address',
    project: 'security',
    grep: 'refreshes per user',
    reason: /REFRESH_RATE_LIMIT \S+: one user's refresh token, each from another address/,
    why: 'refreshes limited per address: from many addresses, one token refreshes without limit',
    group: 'throttles',
  },
  {
    flaw: 'body_read_before_limit',
    project: 'security-uvicorn',
    grep: 'huge body while reading',
    reason: /each refused while it is read[\s\S]*(no answer|body to)/,
    why: 'under uvicorn a 200 MB body is read in full before the limit is checked',
  },
  {
    flaw: 'rare_restart_drop',
    project: 'app-restart',
    grep: 'full restart',
    reason:
      /no request dropped in flight \(\d+ refused and \d+ turned away unread: safe to retry\)[\s\S]*started [\d:.]+: (reset|http 5\d\d|other|timeout)/,
    why: 'one restart in about eight drops the requests in flight: found by repeating the restart',
    repeat: 64,
  },
  {
    flaw: 'driver_message_in_errors',
    project: 'db-outage',
    grep: 'runbook order with a controlled error.*PostgreSQL stops',
    reason: /the error body leaks nothing \(it leaks [^)]*a database driver's message/,
    why: "the controlled 503 carries the database driver's message (no host or port through the proxy)",
  },
];
