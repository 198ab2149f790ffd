/** Bulk data for the larger backup variants: thousands of orders written through SQL, not the API. */
import pg from 'pg';

/** Inserts `count` orders of user `userId`, two lines each, in one statement (a disposable database only); returns what was written. */
export async function seedBulkOrders(
  databaseUrl: string,
  count: number,
  userId: number,
): Promise<{ orders: number; lines: number; durationMs: number }> {
  const t0 = Date.now();
  const client = new pg.Client({ connectionString: databaseUrl, connectionTimeoutMillis: 10_000 });
  await client.connect();
  try {
    const res = await client.query<{ orders: string; lines: string }>(
      `WITH u AS (SELECT id FROM auth_user WHERE id = $2),
       ins AS (
         INSERT INTO store_orderrequest (user_id, full_name, phone, email, delivery_type, pickup_point_id, payment_method,
                                         cart_snapshot, total_amount, status, accept_terms, created_at, idempotency_key, request_fingerprint)
         SELECT u.id, 'Bulk ' || g, '+1', 'bulk' || g || '@bulk.test', 'pickup', 1, 'card_now',
                '[{"product_id": 1, "name": "Test", "quantity": 1, "price": 10.0}, {"product_id": 2, "name": "Widget", "quantity": 2, "price": 25.5}]'::jsonb,
                61.00, 'new', true, now(), NULL, ''
           FROM generate_series(1, $1::int) g, u
         RETURNING id),
       lines AS (
         INSERT INTO store_orderline (order_id, product_id, name, quantity, price)
         SELECT id, 1, 'Test', 1, 10.00 FROM ins UNION ALL SELECT id, 2, 'Widget', 2, 25.50 FROM ins
         RETURNING 1)
       SELECT (SELECT count(*) FROM ins) AS orders, (SELECT count(*) FROM lines) AS lines`,
      [count, userId],
    );
    const row = res.rows[0];
    return { orders: Number(row?.orders ?? 0), lines: Number(row?.lines ?? 0), durationMs: Date.now() - t0 };
  } finally {
    await client.end();
  }
}
