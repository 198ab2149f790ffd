/**
 * A restore seen through the API. Before it, every changed object is read (by id and in its list)
 * and every changed order retried with its key on every worker, so that a cache anywhere (a worker's
 * memory, a shared cache, an idempotency store) now holds them. After it, with the store running and
 * again after a restart: every read tells what the database holds, every object the restore removed
 * is 404 by id and absent from lists, and a retry with a removed order's key creates a new order or
 * is refused, never a replay of the order that is gone.
 */
import { expect } from '@playwright/test';
import { newIdempotencyKey, orderBody, type OrderBody } from '../../helpers/api/payloads';
import { spread } from '../../helpers/api/fresh';
import type { Exchange, StoreApi } from '../../helpers/api/store-api';
import { orderAnswerProblems } from '../../helpers/integrity/answers';
import type { DbProbe } from '../../helpers/integrity/db-probe';
import { judgeRead, readCatalog, readOrdersOf } from '../../helpers/integrity/store-truth';
import type { Evidence } from '../../helpers/report/evidence';
import { shown } from '../../helpers/report/redact';

/** What was changed through the API after the backup: the restore must take it back. */
export interface Changes {
  readonly orders: ReadonlyArray<{ readonly id: number; readonly key: string; readonly body: OrderBody }>;
  readonly products: readonly number[];
}

/** How the API is reached: each read `times` times on fresh connections (every worker sees it). */
export interface ApiView {
  readonly baseUrl: string;
  readonly token: string;
  readonly userId: number;
  readonly db: DbProbe;
  readonly evidence: Evidence;
  readonly times: number;
  readonly timeoutMs: number;
}

/** Changes after the backup: orders through the API (each with its own key and e-mail), products through the staff-only endpoint. */
export async function makeChanges(api: StoreApi, staff: StoreApi, count = 2): Promise<Changes> {
  const orders: Array<Changes['orders'][number]> = [];
  const products: number[] = [];
  for (let i = 0; i < count; i++) {
    const key = newIdempotencyKey('after-backup');
    const body = orderBody({ email: `${key}@restore.test`, full_name: `After backup ${i}` });
    const o = await api.createOrder(body, { idempotencyKey: key });
    expect(o.status, `an order after the backup: ${shown(o.rawBody, 200)}`).toBe(201);
    orders.push({ id: (o.body as { id: number }).id, key, body });
    const p = await staff.createProduct({ brand: 1, name: `After backup ${i}`, price: '5.00', stock: 3 });
    expect(p.status, `a product after the backup (staff): ${shown(p.rawBody)}`).toBe(201);
    products.push((p.body as { id: number }).id);
  }
  return { orders, products };
}

async function many(v: ApiView, req: { method: 'GET' | 'POST'; path: string; anonymous?: boolean; body?: unknown; key?: string }) {
  const xs = await spread(
    v.baseUrl,
    {
      method: req.method,
      path: req.path,
      token: req.anonymous ? undefined : v.token,
      body: req.body,
      headers: req.key ? { 'Idempotency-Key': req.key } : undefined,
      timeoutMs: v.timeoutMs,
    },
    v.times,
  );
  for (const x of xs) v.evidence.record(x);
  return xs;
}

/** Problems of the list reads and of the reads by id of the changed objects, against the database now. */
async function readProblems(v: ApiView, changes: Changes): Promise<string[]> {
  const truth = { ...(await readCatalog(v.db)), orders: await readOrdersOf(v.db, v.userId) };
  const problems: string[] = [];
  const judge = (xs: Exchange[]) => {
    for (const x of xs) {
      const what = `${x.method} ${x.path}`;
      if (x.status === 404) {
        // not found: right only when the database holds no such row for this user
        const m = /\/(products|order-requests)\/(\d+)\/$/.exec(x.path);
        const table = m?.[1] === 'products' ? truth.products : truth.orders;
        if (!m || table.rows.has(Number(m[2]))) problems.push(`${what}: 404, the database holds it`);
      } else if (x.status !== 200) {
        problems.push(`${what}: ${x.status ?? x.error?.kind} ${shown(x.rawBody, 120)}`);
      } else {
        problems.push(...(judgeRead(x.path, x.body, truth) ?? [`${what}: no rows to judge it by`]));
      }
    }
  };
  judge(await many(v, { method: 'GET', path: '/api/store/products/', anonymous: true }));
  judge(await many(v, { method: 'GET', path: '/api/store/brands/', anonymous: true }));
  // the newest orders: the ones changed after the backup among them
  judge(await many(v, { method: 'GET', path: '/api/store/order-requests/?limit=20' }));
  for (const id of changes.products) judge(await many(v, { method: 'GET', path: `/api/store/products/${id}/`, anonymous: true }));
  for (const o of changes.orders) judge(await many(v, { method: 'GET', path: `/api/store/order-requests/${o.id}/` }));
  return [...new Set(problems)];
}

/** Problems of retries with a changed order's key: each answer names an order the database holds with this key, as stored. */
async function retryProblems(v: ApiView, changes: Changes, afterRestore: boolean): Promise<string[]> {
  const problems: string[] = [];
  for (const o of changes.orders) {
    const xs = await many(v, { method: 'POST', path: '/api/store/order-requests/', body: o.body, key: o.key });
    const stored = (await v.db.ordersByKey(o.key)).map((x) => x.id);
    const named = new Set<number>();
    for (const x of xs) {
      const what = `a retry with the key of order ${o.id}${afterRestore ? ', which the restore removed,' : ''}`;
      if (x.status !== undefined && x.status >= 400 && x.status < 500) {
        if (stored.length > 0)
          problems.push(`${what} was refused (${x.status}) while the database holds order ${stored.join(', ')} for it`);
        continue;
      }
      if (x.status !== 201) {
        problems.push(`${what}: ${x.status ?? x.error?.kind} ${shown(x.rawBody, 120)}`);
        continue;
      }
      const id = (x.body as { id?: number }).id;
      if (id !== undefined) named.add(id);
      problems.push(...(await orderAnswerProblems(v.db, what, x.body, o.body)));
      if (id !== undefined && !stored.includes(id))
        problems.push(`${what} answered order ${id}, the database holds ${stored.join(', ') || 'none'} for the key`);
      if (!afterRestore && id !== o.id) problems.push(`${what} before the restore answered order ${id}, not the order itself`);
    }
    if (stored.length > 1) problems.push(`key of order ${o.id}: ${stored.length} orders stored (${stored.join(', ')})`);
    if (named.size > 1) problems.push(`key of order ${o.id}: the retries named ${[...named].join(', ')}`);
  }
  return [...new Set(problems)];
}

/** Before the restore: every changed object read and retried on every worker, each answer true now. */
export async function warmCaches(v: ApiView, changes: Changes): Promise<void> {
  expect(await readProblems(v, changes), 'before the restore, every read tells what the database holds').toEqual([]);
  expect(await retryProblems(v, changes, false), 'before the restore, a retry replays its order').toEqual([]);
}

/** After the restore: reads tell what the database holds, removed objects are gone, a removed order's key is never replayed. */
export async function expectApiShowsRestore(v: ApiView, changes: Changes, when: string): Promise<void> {
  expect(await readProblems(v, changes), `${when}: every read tells what the database holds, and what the restore removed is gone`).toEqual(
    [],
  );
  expect(
    await retryProblems(v, changes, true),
    `${when}: a retry with the key of a removed order creates a new order or is refused, never a replay`,
  ).toEqual([]);
}
