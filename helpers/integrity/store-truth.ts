/**
 * The store's read endpoints and the rows each must show, read by the read-only probe at the moment
 * of judging: products and brands (the catalogue), one user's orders with their lines. `judgeRead`
 * judges any successful GET of those endpoints (a list or one object by id) against them.
 */
import type { DbProbe } from './db-probe';
import { STORE_TABLES } from './db-probe';
import { byId, listProblems, objectProblems, type Children, type ListTruth, type Row } from './truth';

/** Rows of a table by id, with the nested rows of each (an order's lines). */
export interface TableRows {
  readonly rows: ReadonlyMap<number, Row>;
  readonly children: (id: number) => Children;
}

const none: Children = {};

/** The catalogue as the database holds it now. */
export async function readCatalog(db: DbProbe): Promise<{ products: TableRows; brands: TableRows }> {
  const [products, brands] = [await db.rows(STORE_TABLES.products), await db.rows(STORE_TABLES.brands)];
  return { products: { rows: byId(products), children: () => none }, brands: { rows: byId(brands), children: () => none } };
}

/** One user's orders and their lines as the database holds them now. */
export async function readOrdersOf(db: DbProbe, userId: number): Promise<TableRows> {
  const orders = await db.rows(STORE_TABLES.orders, { column: 'user_id', in: [userId] });
  return withLines(db, orders);
}

/** Orders by id (whoever owns them) and their lines. */
export async function readOrders(db: DbProbe, ids: readonly number[]): Promise<TableRows> {
  return withLines(db, ids.length ? await db.rows(STORE_TABLES.orders, { column: 'id', in: ids }) : []);
}

async function withLines(db: DbProbe, orders: readonly Row[]): Promise<TableRows> {
  const lines = orders.length ? await db.rows(STORE_TABLES.orderLines, { column: 'order_id', in: orders.map((o) => o.id) }) : [];
  const linesOf = new Map<number, Row[]>();
  for (const l of lines) linesOf.set(Number(l.order_id), [...(linesOf.get(Number(l.order_id)) ?? []), l]);
  return { rows: byId(orders), children: (id) => ({ lines: linesOf.get(id) ?? [] }) };
}

/** What the store's read endpoints show, and where their rows come from. */
export interface ReadTruth {
  readonly products?: TableRows;
  readonly brands?: TableRows;
  /** the caller's own orders */
  readonly orders?: TableRows;
  /**
   * how many orders the caller's list holds at the moment of the answer (a range while orders were
   * being written); default: the rows read
   */
  readonly orderCount?: { readonly min: number; readonly max: number };
}

const READ_PATH = /^\/api\/store\/(products|brands|order-requests)\/(?:(\d+)\/)?(?:\?(.*))?$/;

/**
 * What a successful GET of a store read endpoint gets wrong against the database (empty when it
 * tells the truth); undefined for a path this module does not know, or whose rows were not read.
 */
export function judgeRead(path: string, body: unknown, truth: ReadTruth): string[] | undefined {
  const m = READ_PATH.exec(path);
  if (!m) return undefined;
  const [, resource, id, query] = m;
  const table = resource === 'products' ? truth.products : resource === 'brands' ? truth.brands : truth.orders;
  if (!table) return undefined;
  const what = `GET ${path}`;
  if (id !== undefined) return objectProblems(what, body, table.rows.get(Number(id)), table.children(Number(id)));
  const q = new URLSearchParams(query ?? '');
  const limit = q.has('limit') ? Number(q.get('limit')) : undefined;
  const offset = q.has('offset') ? Number(q.get('offset')) : undefined;
  const count = resource === 'order-requests' && truth.orderCount ? truth.orderCount : table.rows.size;
  const list: ListTruth = { rows: table.rows, children: table.children, total: count, limit, offset };
  return listProblems(what, body, list);
}
