/**
 * Every endpoint of the store, described for machines: method, path, who may call it, its query
 * parameters, its body (a valid example and the mutations its contract refuses) and the shape of a
 * successful answer. The fuzz family generates requests from it; an external store with the runbook's
 * API is described by the same file (the reference store has no OpenAPI schema on Debian's packages).
 */
import { CLIENT_ORDER_FIELDS, orderBody } from './payloads';

/** JSON types an answer's field may have. */
export type JsonType = 'string' | 'number' | 'boolean' | 'object' | 'array' | 'null' | 'string|number' | 'number|null' | 'string|null';

/** What a successful answer holds: an object with these fields, or a page of such objects. */
export interface AnswerShape {
  readonly kind: 'object' | 'page';
  readonly fields: Readonly<Record<string, JsonType>>;
}

/** A change to a valid body that the endpoint's contract refuses (no 2xx may answer it). */
export interface Invalidation {
  readonly name: string;
  apply(body: Record<string, unknown>): unknown;
}

export interface EndpointSpec {
  readonly name: string;
  readonly method: 'GET' | 'POST';
  /** with {id} for an object's id */
  readonly path: string;
  readonly auth: 'anonymous' | 'customer' | 'staff';
  /** query parameters the endpoint reads, and those it refuses when not a non-negative integer */
  readonly query?: readonly string[];
  readonly body?: {
    valid(): Record<string, unknown>;
    /** the fields a client owns (the rest of the answer is the server's) */
    readonly fields: readonly string[];
    readonly invalid: readonly Invalidation[];
  };
  /** headers it reads: Idempotency-Key (1-100 of A-Z a-z 0-9 . _ : -) */
  readonly idempotencyKey?: boolean;
  readonly ok: { readonly status: number; readonly shape: AnswerShape };
  /** a request that writes (the fuzz family runs it only where writing is allowed) */
  readonly writes?: 'orders' | 'catalogue';
}

const ORDER_SHAPE: AnswerShape = {
  kind: 'object',
  fields: {
    id: 'number',
    user: 'number',
    full_name: 'string',
    email: 'string',
    delivery_type: 'string',
    payment_method: 'string',
    cart_snapshot: 'array',
    total_amount: 'string|number',
    status: 'string',
    lines: 'array',
  },
};
const PRODUCT_SHAPE: AnswerShape = { kind: 'object', fields: { id: 'number', name: 'string', price: 'string|number' } };
const BRAND_SHAPE: AnswerShape = { kind: 'object', fields: { id: 'number', name: 'string' } };
const page = (s: AnswerShape): AnswerShape => ({ kind: 'page', fields: s.fields });

const without =
  (field: string) =>
  (b: Record<string, unknown>): unknown =>
    Object.fromEntries(Object.entries(b).filter(([k]) => k !== field));
const withValue =
  (field: string, value: unknown) =>
  (b: Record<string, unknown>): unknown => ({ ...b, [field]: value });
const cartItem =
  (change: Record<string, unknown>) =>
  (b: Record<string, unknown>): unknown => {
    const cart = b.cart_snapshot as Array<Record<string, unknown>>;
    return { ...b, cart_snapshot: [{ ...cart[0], ...change }, ...cart.slice(1)] };
  };

/** The order contract of the runbook: what validation must refuse (the store's README, "Validation"). */
const ORDER_INVALID: readonly Invalidation[] = [
  ...['full_name', 'email', 'delivery_type', 'payment_method', 'cart_snapshot', 'total_amount', 'accept_terms'].map((f) => ({
    name: `without ${f}`,
    apply: without(f),
  })),
  { name: 'terms not accepted', apply: withValue('accept_terms', false) },
  { name: 'an empty cart', apply: withValue('cart_snapshot', []) },
  { name: 'a cart that is not a list', apply: withValue('cart_snapshot', { product_id: 1 }) },
  { name: 'an unknown product', apply: cartItem({ product_id: 987_654_321 }) },
  { name: 'a zero quantity', apply: cartItem({ quantity: 0 }) },
  { name: 'a negative quantity', apply: cartItem({ quantity: -3 }) },
  { name: "a price that is not the product's", apply: cartItem({ price: 0.01 }) },
  { name: 'a total that is not the sum', apply: withValue('total_amount', 999_999) },
  { name: 'an e-mail without @', apply: withValue('email', 'not-an-address') },
  { name: 'a pickup order without a pickup point', apply: (b) => ({ ...(without('pickup_point')(b) as object), delivery_type: 'pickup' }) },
  { name: 'a body that is a list', apply: (b) => [b] },
  { name: 'a body that is a number', apply: () => 42 },
];

/** The store's endpoints (the runbook's API). */
export const ENDPOINTS: readonly EndpointSpec[] = [
  {
    name: 'products',
    method: 'GET',
    path: '/api/store/products/',
    auth: 'anonymous',
    query: ['limit', 'offset'],
    ok: { status: 200, shape: page(PRODUCT_SHAPE) },
  },
  { name: 'a product', method: 'GET', path: '/api/store/products/{id}/', auth: 'anonymous', ok: { status: 200, shape: PRODUCT_SHAPE } },
  {
    name: 'brands',
    method: 'GET',
    path: '/api/store/brands/',
    auth: 'anonymous',
    query: ['limit', 'offset'],
    ok: { status: 200, shape: page(BRAND_SHAPE) },
  },
  { name: 'a brand', method: 'GET', path: '/api/store/brands/{id}/', auth: 'anonymous', ok: { status: 200, shape: BRAND_SHAPE } },
  {
    name: 'own orders',
    method: 'GET',
    path: '/api/store/order-requests/',
    auth: 'customer',
    query: ['limit', 'offset'],
    ok: { status: 200, shape: page(ORDER_SHAPE) },
  },
  {
    name: 'an own order',
    method: 'GET',
    path: '/api/store/order-requests/{id}/',
    auth: 'customer',
    ok: { status: 200, shape: ORDER_SHAPE },
  },
  {
    name: 'create an order',
    method: 'POST',
    path: '/api/store/order-requests/',
    auth: 'customer',
    idempotencyKey: true,
    body: {
      valid: () => {
        const b = orderBody() as unknown as Record<string, unknown>;
        return Object.fromEntries(CLIENT_ORDER_FIELDS.map((f) => [f, b[f]]));
      },
      fields: CLIENT_ORDER_FIELDS,
      invalid: ORDER_INVALID,
    },
    ok: { status: 201, shape: ORDER_SHAPE },
    writes: 'orders',
  },
  {
    name: 'create a product',
    method: 'POST',
    path: '/api/store/products/',
    auth: 'staff',
    body: {
      valid: () => ({ brand: 1, name: 'Fuzzed', price: '1.00', stock: 1 }),
      fields: ['brand', 'name', 'price', 'stock'],
      invalid: [
        { name: 'without name', apply: without('name') },
        { name: 'an unknown brand', apply: withValue('brand', 987_654_321) },
        { name: 'a price of zero', apply: withValue('price', '0.00') },
        { name: 'a negative stock', apply: withValue('stock', -1) },
      ],
    },
    ok: { status: 201, shape: PRODUCT_SHAPE },
    writes: 'catalogue',
  },
  {
    name: 'log in',
    method: 'POST',
    path: '/api/token/',
    auth: 'anonymous',
    body: {
      valid: () => ({ username: 'nobody-fuzzed', password: 'wrong-password' }),
      fields: ['username', 'password'],
      invalid: [
        { name: 'without username', apply: without('username') },
        { name: 'without password', apply: without('password') },
        { name: 'a body that is a list', apply: (b) => [b] },
      ],
    },
    // a login of a user who does not exist: 401 (no 2xx for any fuzzed login)
    ok: { status: 200, shape: { kind: 'object', fields: { access: 'string', refresh: 'string' } } },
  },
  {
    name: 'refresh a token',
    method: 'POST',
    path: '/api/token/refresh/',
    auth: 'anonymous',
    body: {
      valid: () => ({ refresh: 'not.a.token' }),
      fields: ['refresh'],
      invalid: [
        { name: 'without refresh', apply: without('refresh') },
        { name: 'a refresh token that is not one', apply: withValue('refresh', 'a.b.c') },
      ],
    },
    ok: { status: 200, shape: { kind: 'object', fields: { access: 'string' } } },
  },
  {
    name: 'health',
    method: 'GET',
    path: '/api/health/',
    auth: 'anonymous',
    ok: { status: 200, shape: { kind: 'object', fields: { status: 'string' } } },
  },
];

/** What a successful answer gets wrong against its shape (empty when it has it). */
export function shapeProblems(shape: AnswerShape, body: unknown): string[] {
  const typeOf = (v: unknown) => (v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v);
  const objectProblems = (o: unknown, where: string) => {
    if (typeOf(o) !== 'object') return [`${where}: not an object (${typeOf(o)})`];
    return Object.entries(shape.fields).flatMap(([f, t]) => {
      const v = (o as Record<string, unknown>)[f];
      return t.split('|').includes(typeOf(v)) ? [] : [`${where}.${f}: ${typeOf(v)}, not ${t}`];
    });
  };
  if (shape.kind === 'object') return objectProblems(body, 'answer');
  const items = Array.isArray(body) ? body : (body as { results?: unknown } | null)?.results;
  if (!Array.isArray(items)) return [`answer: not a page (${typeOf(body)})`];
  return items.flatMap((item, i) => objectProblems(item, `answer.results[${i}]`));
}
