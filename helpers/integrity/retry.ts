/**
 * The same-key retry check of a ledger: after the fault, orders are sent again with their own
 * Idempotency-Key and body. A retry must answer 201; a retry of an order that was written must
 * answer with that order; afterwards no key has two orders and every order has exactly its lines.
 */
import type { OrderBody } from '../api/payloads';
import { HttpClient } from '../load/http-client';
import { orderLineProblems, type OrderRow } from './db-probe';
import { ledgerKeyOf, type LedgerAttempt, type LedgerVerdict } from './ledger';

/** Acknowledged and failed attempts retried as samples (the last ones: those nearest the fault). */
export const RETRY_SAMPLE_PER_OUTCOME = 10;

export interface SameKeyRetry {
  readonly key: string;
  readonly status?: number;
  /** the order the retry answered with */
  readonly id?: number;
  /** the order stored for the key before the retry, if any */
  readonly storedBefore?: number;
}

/** Every indeterminate attempt and every failed-but-written one, and samples of the acknowledged and failed. */
export function keysToRetry(attempts: readonly LedgerAttempt[], verdict: LedgerVerdict): string[] {
  const last = (outcome: LedgerAttempt['outcome']) =>
    attempts
      .filter((a) => a.outcome === outcome)
      .slice(-RETRY_SAMPLE_PER_OUTCOME)
      .map((a) => a.key);
  return [
    ...new Set([
      ...attempts.filter((a) => a.outcome === 'indeterminate').map((a) => a.key),
      ...verdict.failedButPresent,
      ...last('ok'),
      ...last('fail'),
    ]),
  ];
}

/** Sends each key's order again, one at a time, with its own body and key. */
export async function retryWithSameKey(opts: {
  readonly baseUrl: string;
  readonly token: string | undefined;
  readonly keys: readonly string[];
  readonly bodies: ReadonlyMap<string, OrderBody>;
  readonly stored: readonly OrderRow[];
  readonly timeoutMs: number;
}): Promise<SameKeyRetry[]> {
  const storedIdByKey = new Map(opts.stored.map((o) => [ledgerKeyOf(o), o.id]));
  const client = new HttpClient(opts.baseUrl, 2);
  const retries: SameKeyRetry[] = [];
  try {
    for (const key of opts.keys) {
      const body = opts.bodies.get(key);
      if (body === undefined) throw new Error(`no body was recorded for ledger key ${key}: cannot retry it`);
      const res = await client.request({
        method: 'POST',
        path: '/api/store/order-requests/',
        body,
        timeoutMs: opts.timeoutMs,
        headers: { ...(opts.token ? { Authorization: `Bearer ${opts.token}` } : {}), 'Idempotency-Key': key },
      });
      retries.push({ key, status: res.status, id: (res.body as { id?: number } | undefined)?.id, storedBefore: storedIdByKey.get(key) });
    }
  } finally {
    client.close();
  }
  return retries;
}

/** What the retries and the database after them show wrong; all empty when the store is right. */
export function retryProblems(retries: readonly SameKeyRetry[], after: readonly OrderRow[]) {
  const perKey = new Map<string, number[]>();
  for (const o of after) {
    const key = ledgerKeyOf(o);
    if (key !== undefined) perKey.set(key, [...(perKey.get(key) ?? []), o.id]);
  }
  return {
    notCreated: retries.filter((r) => r.status !== 201).map((r) => `${r.key}: ${r.status}`),
    answeredAnother: retries
      .filter((r) => r.storedBefore !== undefined && r.id !== r.storedBefore)
      .map((r) => `${r.key}: stored ${r.storedBefore}, retry answered ${r.id}`),
    duplicated: [...perKey].filter(([, ids]) => ids.length > 1).map(([k, ids]) => `${k}: orders ${ids.join(', ')}`),
    partial: after.flatMap(orderLineProblems),
  };
}
