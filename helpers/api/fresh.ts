/**
 * Requests that each open a new connection (and close it after the answer), so that a series of
 * them is spread over the server's workers: a kept-alive connection would pin every request to the
 * worker that accepted it, and a cache kept in one worker's memory would go unseen.
 */
import http from 'node:http';
import { errorKindOf, type Exchange } from './store-api';

export interface FreshRequest {
  readonly method: 'GET' | 'POST';
  readonly path: string;
  readonly token?: string;
  readonly body?: unknown;
  readonly headers?: Readonly<Record<string, string>>;
  readonly timeoutMs: number;
  /** the client address to send from (a loopback address of its own: 127.x.y.z) */
  readonly localAddress?: string;
  /** send the body as it is (a string), not JSON-encoded */
  readonly raw?: boolean;
}

/** One request on a connection of its own; never throws (a network error is in the Exchange). */
export function freshRequest(baseUrl: string, req: FreshRequest): Promise<Exchange> {
  const url = new URL(baseUrl);
  const payload =
    req.body === undefined ? undefined : Buffer.from(req.raw && typeof req.body === 'string' ? req.body : JSON.stringify(req.body));
  const headers: Record<string, string> = {
    Accept: 'application/json',
    Connection: 'close',
    ...(payload ? { 'Content-Type': 'application/json', 'Content-Length': String(payload.length) } : {}),
    ...(req.token ? { Authorization: `Bearer ${req.token}` } : {}),
    ...req.headers,
  };
  const startedAt = Date.now();
  const t0 = performance.now();
  const base = { method: req.method, path: req.path, requestHeaders: headers, requestBody: req.body, startedAt };
  return new Promise<Exchange>((resolve) => {
    let settled = false;
    const done = (e: Omit<Exchange, keyof typeof base | 'durationMs'>) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve({ ...base, ...e, durationMs: performance.now() - t0 });
    };
    const options = {
      host: url.hostname,
      port: url.port,
      method: req.method,
      path: req.path,
      agent: false,
      headers,
      localAddress: req.localAddress,
    };
    const r = http.request(options, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', (e: NodeJS.ErrnoException) => done({ error: { kind: errorKindOf(e), message: e.message } }));
      res.on('end', () => {
        const rawBody = Buffer.concat(chunks).toString('utf8');
        let body: unknown = rawBody;
        if ((res.headers['content-type'] ?? '').includes('json')) {
          try {
            body = JSON.parse(rawBody);
          } catch {
            body = rawBody;
          }
        }
        const responseHeaders = Object.fromEntries(
          Object.entries(res.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(', ') : String(v)]),
        );
        done({ status: res.statusCode, responseHeaders, body, rawBody });
      });
    });
    const timer = setTimeout(() => {
      done({ error: { kind: 'timeout', message: `request timed out after ${req.timeoutMs}ms` } });
      r.destroy();
    }, req.timeoutMs);
    r.on('error', (e: NodeJS.ErrnoException) => done({ error: { kind: errorKindOf(e), message: e.message } }));
    r.end(payload);
  });
}

/** The same request `times` times, one after another, each on a new connection. */
export async function spread(baseUrl: string, req: FreshRequest, times: number): Promise<Exchange[]> {
  const out: Exchange[] = [];
  for (let i = 0; i < times; i++) out.push(await freshRequest(baseUrl, req));
  return out;
}

/** True when the target answers on this machine's loopback: then each probe may send from a 127.x.y.z of its own. */
export function onLoopback(baseUrl: string): boolean {
  const host = new URL(baseUrl).hostname;
  return host === 'localhost' || /^127\./.test(host);
}

/** A loopback address no other probe of this run uses (127.x.y.z, x from 1: 127.0.0.1 is the suite's own). */
export function freshLoopbackAddress(): string {
  const n = 1 + Math.floor(Math.random() * 250 * 250 * 250);
  return `127.${1 + (n % 250)}.${1 + (Math.floor(n / 250) % 250)}.${1 + Math.floor(n / 62_500)}`;
}

/**
 * The store's reads, each on a connection of its own: a client arriving after a fault (the steady
 * state's probes). A kept-alive connection to a worker a fault retired would be reset, which is the
 * client's stale socket, not the store's answer.
 */
export class FreshReader {
  constructor(
    private readonly baseUrl: string,
    private readonly opts: { token?: string; timeoutMs: number; record?: (e: Exchange) => void },
  ) {}

  private async get(path: string, anonymous = false): Promise<Exchange> {
    const ex = await freshRequest(this.baseUrl, {
      method: 'GET',
      path,
      token: anonymous ? undefined : this.opts.token,
      timeoutMs: this.opts.timeoutMs,
    });
    this.opts.record?.(ex);
    return ex;
  }
  health = () => this.get('/api/health/', true);
  products = () => this.get('/api/store/products/', true);
  brands = () => this.get('/api/store/brands/', true);
  orders = (o: { limit?: number } = {}) => this.get(`/api/store/order-requests/${o.limit === undefined ? '' : `?limit=${o.limit}`}`);
}
