/** Read-only PostgreSQL probes of the store's tables: counts, fingerprints, orders with their lines. */
import pg from 'pg';

/** The reference store's critical tables, in dependency order. */
export const STORE_TABLES = {
  users: 'auth_user',
  brands: 'store_brand',
  products: 'store_product',
  pickupPoints: 'store_pickuppoint',
  orders: 'store_orderrequest',
  orderLines: 'store_orderline',
} as const;

export interface TableFingerprint {
  readonly table: string;
  readonly rows: number;
  /** md5 of every row's text, in primary-key order */
  readonly md5: string;
  readonly maxId: number | null;
}
export type Fingerprint = Readonly<Record<string, TableFingerprint>>;

export interface OrderRow {
  readonly id: number;
  readonly userId: number;
  readonly idempotencyKey: string | null;
  readonly email: string;
  readonly totalAmount: string;
  readonly cart: ReadonlyArray<{ product_id: number; quantity: number; price: number }>;
  readonly lines: ReadonlyArray<{ productId: number; quantity: number; price: string }>;
}

/** A pool whose sessions are read-only: a probe can never change the database it inspects. */
export class DbProbe {
  private readonly pool: pg.Pool;

  constructor(databaseUrl: string) {
    this.pool = new pg.Pool({
      connectionString: databaseUrl,
      max: 2,
      connectionTimeoutMillis: 5_000,
      idleTimeoutMillis: 1_000,
      options: '-c default_transaction_read_only=on -c statement_timeout=15000',
    });
    // a probe pool must survive the server going away under it (it is what the suite tests)
    this.pool.on('error', () => {});
  }

  async query<R extends pg.QueryResultRow>(sql: string, params: unknown[] = []): Promise<R[]> {
    return (await this.pool.query<R>(sql, params)).rows;
  }

  /** Row count, md5 of the rows in id order and max id of each table. */
  async fingerprint(tables: readonly string[] = Object.values(STORE_TABLES)): Promise<Fingerprint> {
    const out: Record<string, TableFingerprint> = {};
    for (const table of tables) {
      const ident = `"${table.replace(/"/g, '""')}"`;
      const [row] = await this.query<{ rows: string; md5: string | null; max_id: string | null }>(
        `SELECT count(*) AS rows, md5(coalesce(string_agg(t::text, E'\\n' ORDER BY t.id), '')) AS md5, max(t.id) AS max_id FROM ${ident} t`,
      );
      out[table] = {
        table,
        rows: Number(row?.rows ?? 0),
        md5: row?.md5 ?? '',
        maxId: row?.max_id === null || row?.max_id === undefined ? null : Number(row.max_id),
      };
    }
    return out;
  }

  /** Orders (optionally only id > afterId) with their lines, for ledger and partial-write checks. */
  async ordersWithLines(opts: { afterId?: number; ids?: readonly number[] } = {}): Promise<OrderRow[]> {
    const rows = await this.query<{
      id: string;
      user_id: string;
      idempotency_key: string | null;
      email: string;
      total_amount: string;
      cart_snapshot: OrderRow['cart'];
      lines: Array<{ product_id: number; quantity: number; price: string }> | null;
    }>(
      `SELECT o.id, o.user_id, o.idempotency_key, o.email, o.total_amount::text, o.cart_snapshot,
              (SELECT json_agg(json_build_object('product_id', l.product_id, 'quantity', l.quantity, 'price', l.price::text) ORDER BY l.id)
                 FROM store_orderline l WHERE l.order_id = o.id) AS lines
         FROM store_orderrequest o
        WHERE o.id > $1 AND ($2::bigint[] IS NULL OR o.id = ANY($2::bigint[]))
        ORDER BY o.id`,
      [opts.afterId ?? 0, opts.ids ? [...opts.ids] : null],
    );
    return rows.map((r) => ({
      id: Number(r.id),
      userId: Number(r.user_id),
      idempotencyKey: r.idempotency_key,
      email: r.email,
      totalAmount: r.total_amount,
      cart: r.cart_snapshot,
      lines: (r.lines ?? []).map((l) => ({ productId: l.product_id, quantity: l.quantity, price: l.price })),
    }));
  }

  /**
   * Every row of a table as row_to_json gives it, in id order; `where` narrows it to the rows whose
   * column equals one of the values (the lines of some orders, the orders of one user).
   */
  async rows(table: string, where?: { column: string; in: readonly unknown[] }): Promise<Array<Record<string, unknown>>> {
    const ident = (s: string) => `"${s.replace(/"/g, '""')}"`;
    const filter = where ? ` WHERE t.${ident(where.column)}::text = ANY($1::text[])` : '';
    const rows = await this.query<{ r: Record<string, unknown> }>(
      `SELECT row_to_json(t) AS r FROM ${ident(table)} t${filter} ORDER BY t.id`,
      where ? [where.in.map(String)] : [],
    );
    return rows.map((x) => x.r);
  }

  /** The orders stored under an Idempotency-Key, whoever's, in id order: one query for every check of a key. */
  async ordersByKey(key: string): Promise<Array<{ id: number; userId: number; fullName: string }>> {
    const rows = await this.query<{ id: string; user_id: string; full_name: string }>(
      'SELECT id, user_id, full_name FROM store_orderrequest WHERE idempotency_key = $1 ORDER BY id',
      [key],
    );
    return rows.map((r) => ({ id: Number(r.id), userId: Number(r.user_id), fullName: r.full_name }));
  }

  /** Id of a user by username (the ledger's orders are that user's). */
  async userId(username: string): Promise<number> {
    const [row] = await this.query<{ id: number }>('SELECT id FROM auth_user WHERE username = $1', [username]);
    if (row === undefined) throw new Error(`no user ${username} in the database`);
    return Number(row.id);
  }

  /** How many orders a user has. */
  async orderCount(userId: number): Promise<number> {
    const [row] = await this.query<{ n: string }>('SELECT count(*) AS n FROM store_orderrequest WHERE user_id = $1', [userId]);
    if (row === undefined) throw new Error('SELECT count(*) returned no row');
    return Number(row.n);
  }

  /** Highest order id (0 when none). */
  async maxOrderId(): Promise<number> {
    const [row] = await this.query<{ m: string | null }>('SELECT max(id) AS m FROM store_orderrequest');
    return Number(row?.m ?? 0);
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}

/** Problems of one stored order: its lines must be exactly its cart. Empty when complete. */
export function orderLineProblems(order: OrderRow): string[] {
  const problems: string[] = [];
  const cart = [...order.cart].map((i) => `${i.product_id}x${i.quantity}@${Number(i.price).toFixed(2)}`).sort();
  const lines = [...order.lines].map((l) => `${l.productId}x${l.quantity}@${Number(l.price).toFixed(2)}`).sort();
  if (JSON.stringify(cart) !== JSON.stringify(lines)) {
    problems.push(`order ${order.id}: lines [${lines.join(', ')}] do not match its cart [${cart.join(', ')}]`);
  }
  const sum = order.lines.reduce((s, l) => s + Number(l.price) * l.quantity, 0);
  if (order.lines.length > 0 && Math.abs(sum - Number(order.totalAmount)) > 0.005) {
    problems.push(`order ${order.id}: lines sum to ${sum.toFixed(2)}, total_amount is ${order.totalAmount}`);
  }
  return problems;
}
