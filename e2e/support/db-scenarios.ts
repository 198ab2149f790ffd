/** The database faults the db-outage family runs each scenario under, and the checks its answers get. */
import { expect } from '@playwright/test';
import type { Exchange } from '../../helpers/api/store-api';
import type { DbFaultName } from '../../helpers/faults/catalog';
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
export function expectControlledError(ex: Exchange, what: string, boundMs: number, secrets: readonly string[]): void {
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
  expect(ex.durationMs, `${what} answered within ${boundMs}ms (took ${took}ms)`).toBeLessThanOrEqual(boundMs);
}

/** Every worker gets requests: `rounds` batches of `workers` concurrent calls, each must be 2xx. */
export async function burst(call: () => Promise<Exchange>, workers: number, rounds: number): Promise<Exchange[]> {
  const all: Exchange[] = [];
  for (let r = 0; r < rounds; r++) all.push(...(await Promise.all(Array.from({ length: workers }, call))));
  return all;
}

export const statuses = (xs: readonly Exchange[]) => xs.map((x) => x.status ?? x.error?.kind ?? '?');
