/** Order payloads: the default is the runbook's exact curl body. */
import { randomUUID } from 'node:crypto';

export interface CartItem {
  product_id: number;
  name: string;
  quantity: number;
  price: number;
}

export interface OrderBody {
  user?: number;
  full_name: string;
  phone: string;
  email: string;
  delivery_type: 'pickup' | 'courier';
  pickup_point?: number | null;
  payment_method: string;
  cart_snapshot: CartItem[];
  total_amount: number;
  status?: string;
  accept_terms: boolean;
}

/**
 * The fields of an order a client owns: what it sends is what the store must keep and show. Every
 * other field an order has (its id, owner, lifecycle and payment state, timestamps, key) is the
 * server's: the runbook's body sends `user` and `status`, and the store must ignore or refuse them.
 */
export const CLIENT_ORDER_FIELDS = [
  'full_name',
  'phone',
  'email',
  'delivery_type',
  'pickup_point',
  'payment_method',
  'cart_snapshot',
  'total_amount',
  'accept_terms',
] as const;

/** The runbook's body, byte for byte in meaning: product 1 "Test" at 10.0, pickup point 1. */
export const RUNBOOK_ORDER: Readonly<OrderBody> = Object.freeze({
  user: 1,
  full_name: 'Test',
  phone: '+1',
  email: 'a@a.a',
  delivery_type: 'pickup',
  pickup_point: 1,
  payment_method: 'card_now',
  cart_snapshot: [{ product_id: 1, name: 'Test', quantity: 1, price: 10.0 }],
  total_amount: 10.0,
  status: 'new',
  accept_terms: true,
});

/** A valid order: the runbook's body with overrides; the total follows the cart unless given. */
export function orderBody(overrides: Partial<OrderBody> = {}): OrderBody {
  const cart = overrides.cart_snapshot ?? RUNBOOK_ORDER.cart_snapshot.map((i) => ({ ...i }));
  const total = Math.round(cart.reduce((sum, i) => sum + i.price * i.quantity, 0) * 100) / 100;
  return { ...RUNBOOK_ORDER, total_amount: total, ...overrides, cart_snapshot: cart };
}

/** A fresh Idempotency-Key (unique per attempt; reuse it to retry the same attempt). */
export function newIdempotencyKey(prefix = 'sr'): string {
  return `${prefix}-${randomUUID()}`;
}
