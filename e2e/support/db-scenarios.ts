/** The database faults the db-outage family runs each scenario under, and the checks its answers get. */
import { expect, test } from '@playwright/test';
import { RUNBOOK_ORDER } from '../../helpers/api/payloads';
import type { Exchange, StoreApi } from '../../helpers/api/store-api';
import type { Thresholds } from '../../helpers/config';
import type { Target } from '../../helpers/target';
import { waitUntil } from '../../helpers/wait';
import type { DbFaultName } from '../../helpers/faults/catalog';
import { orderAnswerProblems } from '../../helpers/integrity/answers';
import type { DbProbe } from '../../helpers/integrity/db-probe';
import { judgeRead, readCatalog, readOrdersOf, type ReadTruth } from '../../helpers/integrity/store-truth';
import { findLeaks } from '../../helpers/report/leaks';
import { shown } from '../../helpers/report/redact';

export interface Scenario {
  readonly fault: DbFaultName;
  readonly what: string;
  /** refused: the store learns at once; hang: only connect_timeout tells it */
  readonly kind: 'refused' | 'hang';
  /** a fault of the link through the proxy (tag @link), not of the database server */
  readonly link?: boolean;
}

export const SCENARIOS: readonly Scenario[] = [
  { fault: 'db-stop', what: 'PostgreSQL stops', kind: 'refused' },
  { fault: 'db-crash', what: 'PostgreSQL crashes', kind: 'refused' },
  { fault: 'db-freeze', what: 'PostgreSQL freezes', kind: 'hang' },
  { fault: 'db-partition-down', what: 'the link to PostgreSQL goes down', kind: 'refused', link: true },
  { fault: 'db-partition-blackhole', what: 'the link to PostgreSQL turns into a black hole', kind: 'hang', link: true },
  { fault: 'db-partition-reset-peer', what: 'every connection to PostgreSQL is reset', kind: 'refused', link: true },
];

/** Asserts one answer is a controlled database error: JSON 503 with Retry-After, nothing leaked, within bound. */
export function expectControlledError(
  ex: Exchange,
  what: string,
  boundMs: number,
  secrets: readonly string[],
  boundName = `${boundMs}ms`,
): void {
  const took = Math.round(ex.durationMs);
  expect(ex.error, `${what} gets an answer, not a hang (waited ${took}ms)`).toBeUndefined();
  const leaks = findLeaks(ex.rawBody ?? '', secrets);
  expect(
    leaks,
    `${what}: the error body leaks nothing${leaks.length ? ` (it leaks ${leaks.join(', ')}: ${shown(ex.rawBody, 300)})` : ''}`,
  ).toEqual([]);
  expect(ex.status, `${what} is a controlled 503${ex.status === 503 ? '' : `: ${shown(ex.rawBody, 200)}`}`).toBe(503);
  expect(ex.responseHeaders?.['content-type'], `${what} is JSON`).toContain('application/json');
  expect(ex.responseHeaders?.['retry-after'], `${what} carries Retry-After`).toMatch(/^\d+$/);
  expect(ex.durationMs, `${what} answered within ${boundName} (took ${took}ms)`).toBeLessThanOrEqual(boundMs);
}

/** Every worker gets requests: `rounds` batches of `workers` concurrent calls, each must be 2xx. */
export async function burst(call: () => Promise<Exchange>, workers: number, rounds: number): Promise<Exchange[]> {
  const all: Exchange[] = [];
  for (let r = 0; r < rounds; r++) all.push(...(await Promise.all(Array.from({ length: workers }, call))));
  return all;
}

export const statuses = (xs: readonly Exchange[]) => xs.map((x) => x.status ?? x.error?.kind ?? '?');

const isOk = (ex: Exchange) => ex.status !== undefined && ex.status >= 200 && ex.status < 300;

/** What the store's reads must show: the catalogue and one user's orders, as the database holds them now. */
export async function readTruth(db: DbProbe, userId: number): Promise<ReadTruth> {
  return { ...(await readCatalog(db)), orders: await readOrdersOf(db, userId) };
}

/**
 * The reads a fault test makes: the catalogue as a visitor (the list, and when the database answers
 * one product and the brands), one's own orders with the token. During a fault only health and the
 * list of each kind, at once: what they say is judged (a controlled error or the truth) within the
 * client's timeout; the runbook order's time is the one held to the store's bound (at once, reads
 * may queue behind a worker).
 */
export async function reads(api: StoreApi, anonApi: StoreApi, duringFault = false): Promise<Exchange[]> {
  if (duringFault) return Promise.all([anonApi.health(), anonApi.products(), api.orders()]);
  const out: Exchange[] = [];
  for (const call of [
    () => anonApi.products(),
    () => anonApi.send('GET', '/api/store/products/1/'),
    () => anonApi.brands(),
    () => api.orders(),
  ])
    out.push(await call());
  return out;
}

/**
 * A read while the database is out: a controlled error (within the client's timeout), or an answer
 * that tells what the database held (the truth read before the fault). An empty or partial list, or
 * anything else false, is neither.
 */
export function expectControlledOrTrue(ex: Exchange, truth: ReadTruth, secrets: readonly string[], timeoutMs: number): void {
  const what = `${ex.method} ${ex.path}`;
  if (!isOk(ex)) return expectControlledError(ex, what, timeoutMs, secrets, `the client's timeout (${timeoutMs}ms)`);
  expect(
    judgeRead(ex.path, ex.body, truth) ?? [`${ex.path}: no rows to judge it by`],
    `${what} answered ${ex.status} during the fault: it must then tell what the database holds`,
  ).toEqual([]);
}

/** Successful reads that tell what the database holds now (after recovery, after a restore). */
export function expectReadsTrue(xs: readonly Exchange[], truth: ReadTruth, when: string): void {
  expect(
    xs.map((x) => `${x.method} ${x.path}: ${x.status ?? x.error?.kind}`),
    `the reads ${when} answer 200`,
  ).toEqual(xs.map((x) => `${x.method} ${x.path}: 200`));
  expect(
    xs.flatMap((x) => judgeRead(x.path, x.body, truth) ?? [`${x.path}: no rows to judge it by`]),
    `the reads ${when} tell what the database holds`,
  ).toEqual([]);
}

/** An order's 201 tells the truth: the order sent, stored as the answer says. */
export async function expectTrueOrder(db: DbProbe, ex: Exchange, sent: object, what: string): Promise<void> {
  expect(ex.status, `${what}: ${shown(ex.rawBody, 200)}`).toBe(201);
  expect(await orderAnswerProblems(db, what, ex.body, sent), `${what}: the 201 is the order sent, as stored`).toEqual([]);
}

/**
 * The target's worker count, so that a burst reaches every worker; a target that cannot tell it skips
 * the test, naming the setting (a guess would let a stale connection on an unreached worker pass).
 */
export async function workersOf(target: Target): Promise<number> {
  const n = await target.server.expectedWorkers();
  test.skip(n === undefined, 'the target cannot tell how many workers it runs (set STORE_WORKERS): every worker must be reached');
  return n!;
}

/** The same runbook order (same body, same Idempotency-Key), until it answers 201; every try kept. */
export async function retryUntilCreated(api: StoreApi, key: string, t: Thresholds): Promise<{ first: Exchange; tries: Exchange[] }> {
  const tries: Exchange[] = [];
  const first = await waitUntil(
    async () => {
      const ex = await api.createOrder(RUNBOOK_ORDER, { idempotencyKey: key, timeoutMs: t.dbHangErrorMs });
      tries.push(ex);
      return ex.status === 201 ? ex : undefined;
    },
    {
      description: 'the same request (same body, same Idempotency-Key) to answer 201',
      timeoutMs: t.recoverTimeoutMs,
      intervalMs: t.recoverPollMs,
    },
  );
  return { first, tries };
}
