/**
 * The order ledger, after Jepsen's set checker: every order the client tried to create is
 * recorded with its outcome; one final read of the database then classifies them.
 */
import { newIdempotencyKey, orderBody, type OrderBody } from '../api/payloads';
import type { LoadRecord } from '../load/load-runner';
import { orderLineProblems, type OrderRow } from './db-probe';

export type Outcome = 'ok' | 'fail' | 'indeterminate';

/** ok: 2xx; fail: an HTTP error answer (4xx/5xx); indeterminate: no answer (timeout, reset, refused). */
export function outcomeOf(status: number | undefined): Outcome {
  if (status === undefined) return 'indeterminate';
  return status >= 200 && status < 300 ? 'ok' : 'fail';
}

export interface LedgerAttempt {
  readonly key: string;
  readonly outcome: Outcome;
  readonly status?: number;
  readonly errorKind?: string;
  readonly orderId?: number;
  readonly phase: string;
  readonly start: number;
  readonly end: number;
}

const LEDGER_DOMAIN = 'ledger.test';

/** The marker that ties a stored order to its attempt, whatever the store does with the key. */
export function ledgerEmail(key: string): string {
  return `${key}@${LEDGER_DOMAIN}`;
}

/** The ledger key a stored order carries in its email; undefined for an order not of the ledger. */
export function ledgerKeyOf(order: Pick<OrderRow, 'email'>): string | undefined {
  return order.email.endsWith(`@${LEDGER_DOMAIN}`) ? order.email.slice(0, -(LEDGER_DOMAIN.length + 1)) : undefined;
}

/** A fresh ledger key (unique per attempt, reused by its retries). */
export function newLedgerKey(): string {
  return newIdempotencyKey('ledger');
}

/** The body of a ledger order: deterministic from the key and sequence, two lines, so that a partial write shows. */
export function ledgerOrderBody(key: string, seq: number): OrderBody {
  return orderBody({
    full_name: 'Ledger client',
    email: ledgerEmail(key),
    cart_snapshot: [
      { product_id: 1, name: 'Test', quantity: 1 + (seq % 3), price: 10.0 },
      { product_id: 2, name: 'Widget', quantity: 1, price: 25.5 },
    ],
  });
}

/** Ledger attempts from the load runner's order records. */
export function attemptsFromRecords(records: readonly LoadRecord[]): LedgerAttempt[] {
  return records
    .filter((r) => r.key !== undefined)
    .map((r) => ({
      key: r.key!,
      outcome: outcomeOf(r.status),
      status: r.status,
      errorKind: r.errorKind,
      orderId: r.orderId,
      phase: r.phase,
      start: r.start,
      end: r.end,
    }));
}

export interface LedgerVerdict {
  readonly attempts: number;
  readonly ok: number;
  readonly fail: number;
  readonly indeterminate: number;
  readonly present: number;
  /** acknowledged (2xx) but absent: a failure */
  readonly lost: readonly string[];
  /** present but never attempted: a failure */
  readonly unexpected: readonly number[];
  /** indeterminate and present: fine */
  readonly recovered: readonly string[];
  /** answered with an error (5xx) but present: ambiguous, resolved by a retry with the key */
  readonly failedButPresent: readonly string[];
  /** more than one order for one key: a failure */
  readonly duplicated: ReadonlyArray<{ key: string; orderIds: number[] }>;
  /** an order whose lines are not exactly its cart: a failure */
  readonly partial: readonly string[];
  /** an acknowledged order id that differs from the stored one for its key: a failure */
  readonly mismatched: readonly string[];
  readonly valid: boolean;
}

/**
 * Classifies every attempt against the stored orders (those of the ledger's user created after
 * the baseline). Orders are matched to attempts by their e-mail marker.
 */
export function checkLedger(attempts: readonly LedgerAttempt[], stored: readonly OrderRow[]): LedgerVerdict {
  const byKey = new Map<string, OrderRow[]>();
  const unexpected: number[] = [];
  const attempted = new Map<string, LedgerAttempt[]>();
  for (const a of attempts) attempted.set(a.key, [...(attempted.get(a.key) ?? []), a]);
  for (const order of stored) {
    const key = ledgerKeyOf(order);
    if (key === undefined || !attempted.has(key)) {
      unexpected.push(order.id);
      continue;
    }
    byKey.set(key, [...(byKey.get(key) ?? []), order]);
  }
  const lost: string[] = [];
  const recovered: string[] = [];
  const failedButPresent: string[] = [];
  const mismatched: string[] = [];
  for (const [key, tries] of attempted) {
    const rows = byKey.get(key) ?? [];
    const acked = tries.filter((t) => t.outcome === 'ok');
    if (acked.length > 0 && rows.length === 0) lost.push(key);
    if (acked.length === 0 && rows.length > 0) {
      if (tries.some((t) => t.outcome === 'indeterminate')) recovered.push(key);
      else failedButPresent.push(key);
    }
    for (const a of acked) {
      if (a.orderId !== undefined && rows.length > 0 && !rows.some((r) => r.id === a.orderId)) {
        mismatched.push(`${key}: acknowledged as order ${a.orderId}, stored as ${rows.map((r) => r.id).join(', ')}`);
      }
    }
  }
  const duplicated = [...byKey].filter(([, rows]) => rows.length > 1).map(([key, rows]) => ({ key, orderIds: rows.map((r) => r.id) }));
  const partial = stored.flatMap((o) => orderLineProblems(o));
  const count = (o: Outcome) => attempts.filter((a) => a.outcome === o).length;
  return {
    attempts: attempts.length,
    ok: count('ok'),
    fail: count('fail'),
    indeterminate: count('indeterminate'),
    present: stored.length - unexpected.length,
    lost,
    unexpected,
    recovered,
    failedButPresent,
    duplicated,
    partial,
    mismatched,
    valid: lost.length === 0 && unexpected.length === 0 && duplicated.length === 0 && partial.length === 0 && mismatched.length === 0,
  };
}

/** The verdict as a small Markdown table for the report. */
export function verdictTable(v: LedgerVerdict): string {
  const rows: Array<[string, string | number, string]> = [
    ['attempts', v.attempts, `ok ${v.ok}, fail ${v.fail}, indeterminate ${v.indeterminate}`],
    ['present', v.present, 'orders of the ledger in the database'],
    ['lost', v.lost.length, 'acknowledged but absent (must be 0)'],
    ['unexpected', v.unexpected.length, 'present but never attempted (must be 0)'],
    ['duplicated', v.duplicated.length, 'more than one order for one key (must be 0)'],
    ['partial', v.partial.length, "lines that are not the order's cart (must be 0)"],
    ['mismatched', v.mismatched.length, 'acknowledged id differs from the stored one (must be 0)'],
    ['recovered', v.recovered.length, 'indeterminate but present (fine)'],
    ['failed but present', v.failedButPresent.length, 'error answer, yet written (ambiguous; a retry with the key resolves it)'],
  ];
  return [
    '| class | count | meaning |',
    '|---|---|---|',
    ...rows.map((r) => `| ${r.join(' | ')} |`),
    '',
    `verdict: ${v.valid ? 'VALID' : 'INVALID'}`,
  ].join('\n');
}
