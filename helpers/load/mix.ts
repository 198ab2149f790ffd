/** The store's traffic mix for load: catalogue reads, orders (ledger-keyed), own-order reads. */
import type { OrderBody } from '../api/payloads';
import { ledgerOrderBody, newLedgerKey } from '../integrity/ledger';
import type { LoadOp } from './load-runner';

/**
 * GET products x3 (anonymous), GET brands x1, POST order x2 (unique Idempotency-Key, body kept for retries), GET own
 * orders x1. Every 2xx answer's content is kept: Verify judges what it said against the database.
 */
export function storeMix(
  bodies: Map<string, OrderBody>,
  weights: Partial<Record<'products' | 'brands' | 'orders' | 'ownOrders', number>> = {},
): LoadOp[] {
  const ops: LoadOp[] = [
    // the catalogue as a visitor sees it (the runbook reads products without a token); brands with the token
    {
      name: 'GET products',
      weight: weights.products ?? 3,
      judged: true,
      build: () => ({ method: 'GET', path: '/api/store/products/', anonymous: true }),
    },
    { name: 'GET brands', weight: weights.brands ?? 1, judged: true, build: () => ({ method: 'GET', path: '/api/store/brands/' }) },
    {
      name: 'POST order',
      weight: weights.orders ?? 2,
      build: (_vu, seq) => {
        const key = newLedgerKey();
        const body = ledgerOrderBody(key, seq);
        bodies.set(key, body);
        return { method: 'POST', path: '/api/store/order-requests/', body, key };
      },
    },
    {
      name: 'GET own orders',
      weight: weights.ownOrders ?? 1,
      judged: true,
      build: () => ({ method: 'GET', path: '/api/store/order-requests/?limit=5' }),
    },
  ];
  return ops.filter((op) => op.weight > 0);
}
