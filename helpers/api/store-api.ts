/** StoreApi: the store's endpoints over Playwright's APIRequestContext, every exchange recorded. */
import type { APIRequestContext } from '@playwright/test';
import type { Credentials } from '../config';
import type { OrderBody } from './payloads';

export type NetworkErrorKind = 'timeout' | 'reset' | 'refused' | 'other';

/** One request and its answer (or the network error instead of an answer). */
export interface Exchange {
  readonly method: string;
  readonly path: string;
  readonly requestHeaders: Readonly<Record<string, string>>;
  readonly requestBody?: unknown;
  readonly startedAt: number;
  readonly durationMs: number;
  /** undefined when no HTTP answer arrived */
  readonly status?: number;
  readonly responseHeaders?: Readonly<Record<string, string>>;
  /** parsed JSON when the answer was JSON, else the text */
  readonly body?: unknown;
  readonly rawBody?: string;
  readonly error?: { readonly kind: NetworkErrorKind; readonly message: string };
}

export interface RequestOptions {
  readonly headers?: Readonly<Record<string, string>>;
  readonly timeoutMs?: number;
  /** send without the Authorization header */
  readonly anonymous?: boolean;
  /** send a string body as it is (malformed JSON tests) instead of JSON-encoding it */
  readonly raw?: boolean;
}

/** The items of a list answer: a plain array, or DRF's paginated {count, results}. */
export function itemsOf<T>(body: unknown): T[] {
  if (Array.isArray(body)) return body as T[];
  const results = (body as { results?: unknown } | undefined)?.results;
  if (Array.isArray(results)) return results as T[];
  throw new Error(`not a list answer: ${JSON.stringify(body)?.slice(0, 200)}`);
}

/** Maps a client-side failure message to the kind the ledger records. */
export function classifyNetworkError(message: string): NetworkErrorKind {
  if (/timeout|timed out/i.test(message)) return 'timeout';
  if (/ECONNRESET|socket hang up|EPIPE|other side closed/i.test(message)) return 'reset';
  if (/ECONNREFUSED/i.test(message)) return 'refused';
  return 'other';
}

/** Maps a socket error (node:http, net) to the kind the ledger records. */
export function errorKindOf(error: NodeJS.ErrnoException): NetworkErrorKind {
  if (error.name === 'TimeoutError' || error.name === 'AbortError' || error.code === 'ETIMEDOUT') return 'timeout';
  if (error.code === 'ECONNRESET' || error.code === 'EPIPE' || /socket hang up/.test(error.message)) return 'reset';
  if (error.code === 'ECONNREFUSED') return 'refused';
  return 'other';
}

/** Client of the store's API. It never throws for HTTP errors or network failures: it returns the Exchange. */
export class StoreApi {
  private token: string | undefined;

  constructor(
    private readonly ctx: APIRequestContext,
    private readonly opts: { timeoutMs: number; record?: (e: Exchange) => void; token?: string },
  ) {
    this.token = opts.token;
  }

  /** The bearer token in use, if any. */
  get accessToken(): string | undefined {
    return this.token;
  }

  /** A client sharing this one's context and recorder, with another token (or none). */
  as(token: string | undefined): StoreApi {
    return new StoreApi(this.ctx, { ...this.opts, token });
  }

  /** POST /api/token/; keeps and returns the access token. Throws with the answer when login fails. */
  async login(creds: Credentials): Promise<string> {
    const ex = await this.send('POST', '/api/token/', { username: creds.username, password: creds.password }, { anonymous: true });
    const access = (ex.body as { access?: unknown } | undefined)?.access;
    if (ex.status !== 200 || typeof access !== 'string') {
      throw new Error(`login of ${creds.username} failed: ${ex.status ?? ex.error?.kind} ${ex.rawBody?.slice(0, 200) ?? ''}`);
    }
    this.token = access;
    return access;
  }

  health(opts?: RequestOptions) {
    return this.send('GET', '/api/health/', undefined, { anonymous: true, ...opts });
  }
  products(opts?: RequestOptions) {
    return this.send('GET', '/api/store/products/', undefined, opts);
  }
  brands(opts?: RequestOptions) {
    return this.send('GET', '/api/store/brands/', undefined, opts);
  }
  orders(opts?: RequestOptions & { limit?: number; offset?: number }) {
    const q = new URLSearchParams();
    if (opts?.limit !== undefined) q.set('limit', String(opts.limit));
    if (opts?.offset !== undefined) q.set('offset', String(opts.offset));
    return this.send('GET', `/api/store/order-requests/${q.size ? `?${q.toString()}` : ''}`, undefined, opts);
  }
  order(id: number, opts?: RequestOptions) {
    return this.send('GET', `/api/store/order-requests/${id}/`, undefined, opts);
  }
  createOrder(body: OrderBody | object, opts?: RequestOptions & { idempotencyKey?: string }) {
    const headers = { ...opts?.headers, ...(opts?.idempotencyKey ? { 'Idempotency-Key': opts.idempotencyKey } : {}) };
    return this.send('POST', '/api/store/order-requests/', body, { ...opts, headers });
  }
  createProduct(body: Record<string, unknown>, opts?: RequestOptions) {
    return this.send('POST', '/api/store/products/', body, opts);
  }
  refresh(refreshToken: string) {
    return this.send('POST', '/api/token/refresh/', { refresh: refreshToken }, { anonymous: true });
  }

  /** Sends one request and records the exchange. */
  async send(method: string, path: string, body?: unknown, opts: RequestOptions = {}): Promise<Exchange> {
    // JSON unless the caller says otherwise (the security family sends other content types)
    const headers: Record<string, string> = {
      Accept: 'application/json',
      ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
      ...opts.headers,
    };
    if (this.token && !opts.anonymous) headers.Authorization = `Bearer ${this.token}`;
    const startedAt = Date.now();
    const t0 = performance.now();
    const sent = { method, path, requestHeaders: headers, requestBody: body, startedAt };
    let exchange: Exchange;
    try {
      const res = await this.ctx.fetch(path, {
        method,
        headers,
        data: body === undefined ? undefined : opts.raw && typeof body === 'string' ? body : JSON.stringify(body),
        timeout: opts.timeoutMs ?? this.opts.timeoutMs,
        failOnStatusCode: false,
        maxRedirects: 0,
      });
      const rawBody = await res.text();
      let parsed: unknown = rawBody;
      if ((res.headers()['content-type'] ?? '').includes('json')) {
        try {
          parsed = JSON.parse(rawBody);
        } catch {
          parsed = rawBody;
        }
      }
      exchange = {
        ...sent,
        durationMs: performance.now() - t0,
        status: res.status(),
        responseHeaders: res.headers(),
        body: parsed,
        rawBody,
      };
    } catch (error) {
      const message = (error as Error).message.split('\n')[0] ?? String(error);
      exchange = { ...sent, durationMs: performance.now() - t0, error: { kind: classifyNetworkError(message), message } };
    }
    this.opts.record?.(exchange);
    return exchange;
  }
}
