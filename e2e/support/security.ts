/** What the security specs share: no error body leaks, a refusal's shape, nothing written. */
import { expect } from '@playwright/test';
import type { Exchange } from '../../helpers/api/store-api';
import { STORE_TABLES, type DbProbe } from '../../helpers/integrity/db-probe';
import { findLeaks } from '../../helpers/report/leaks';
import { shown } from '../../helpers/report/redact';

export const ORDER_TABLES = [STORE_TABLES.orders, STORE_TABLES.orderLines, STORE_TABLES.products];

/** Every answer of a test with an error body: none may leak (each security spec checks it after each test). */
export function expectNoLeakyErrorBody(exchanges: readonly Exchange[], secrets: readonly string[]): void {
  const leaky = exchanges
    .filter((e) => e.status !== undefined && e.status >= 400 && e.rawBody)
    .map((e) => ({ e, leaks: findLeaks(e.rawBody ?? '', secrets) }))
    .filter((x) => x.leaks.length > 0);
  expect(
    leaky.map((x) => `${x.e.method} ${x.e.path} ${x.e.status}: leaks ${x.leaks.join(', ')}`),
    'no error body leaks',
  ).toEqual([]);
}

/** Expects a refusal: the status, JSON, and nothing written. */
export async function expectRefused(ex: Exchange, statuses: readonly number[], what: string): Promise<void> {
  expect(ex.error, `${what}: an answer`).toBeUndefined();
  expect(statuses, `${what}: answered ${ex.status} ${shown(ex.rawBody, 160)}`).toContain(ex.status);
  expect(ex.responseHeaders?.['content-type'] ?? '', `${what}: a JSON answer`).toContain('application/json');
}

/** The fingerprint of orders, lines and products is the same after body() ran. */
export async function writesNothing(probe: DbProbe, body: () => Promise<void>): Promise<void> {
  const before = await probe.fingerprint(ORDER_TABLES);
  await body();
  expect(await probe.fingerprint(ORDER_TABLES), 'nothing was written').toEqual(before);
}
