/**
 * A lean HTTP/1.1 client on node:http for load and ledger traffic (StoreApi, on Playwright's
 * APIRequestContext, is for the assertions). gunicorn's sync workers answer `Connection: close`,
 * so the agent never reuses a socket it was told to close, and never retries on its own.
 */
import http from 'node:http';
import { errorKindOf, type NetworkErrorKind } from '../api/store-api';
import { RawGetClient, type RawResult } from './raw-get';

export interface HttpResult {
  readonly status?: number;
  readonly headers?: http.IncomingHttpHeaders;
  readonly body?: unknown;
  /** a 2xx answer's body as sent, when asked for (keepBody) or parsed */
  readonly text?: string;
  readonly errorKind?: NetworkErrorKind;
  readonly errorMessage?: string;
  readonly durationMs: number;
  /** the first try went out on a kept-alive socket the server had closed, and was retried on a fresh one */
  readonly retriedStaleSocket?: boolean;
}

export interface HttpRequest {
  readonly method: string;
  readonly path: string;
  readonly body?: unknown;
  readonly headers?: Readonly<Record<string, string>>;
  readonly timeoutMs: number;
  /** parse a 2xx JSON body (error bodies are always kept); false saves the work under load */
  readonly parseBody?: boolean;
  /** keep a 2xx body's text (its content is judged later) without parsing it now */
  readonly keepBody?: boolean;
}

/** A client bound to one base URL with its own agent (sockets bounded by maxSockets). */
export class HttpClient {
  private readonly agent: http.Agent;
  private readonly url: URL;
  /** GETs whose 2xx body nobody reads (the load's reads) take the lean path */
  private readonly raw: RawGetClient;

  constructor(baseUrl: string, maxSockets = 64) {
    this.url = new URL(baseUrl);
    this.agent = new http.Agent({ keepAlive: true, maxSockets, maxFreeSockets: maxSockets });
    this.raw = new RawGetClient(this.url.hostname, Number(this.url.port || 80));
  }

  /**
   * Sends one request; never throws (network errors come back as errorKind). A request that fails
   * on a reused keep-alive socket before any answer arrives is retried once on a fresh connection
   * when it is safe to (GET/HEAD, or a POST with an Idempotency-Key), as browsers do (RFC 9112 9.3.1):
   * the server closed an idle connection, the request never reached the application.
   */
  async request(req: HttpRequest): Promise<HttpResult> {
    if (req.method === 'GET' && req.parseBody === false) return this.rawGet(req);
    const t0 = performance.now();
    const first = await this.once(req, true);
    const retriable = req.method === 'GET' || req.method === 'HEAD' || Boolean(req.headers?.['Idempotency-Key']);
    if (!first.staleSocket || !retriable) return first.result;
    const second = await this.once(req, false);
    return Object.assign(second.result, { durationMs: performance.now() - t0, retriedStaleSocket: true });
  }

  private once(req: HttpRequest, pooled: boolean): Promise<{ result: HttpResult; staleSocket: boolean }> {
    const t0 = performance.now();
    const payload = req.body === undefined ? undefined : Buffer.from(JSON.stringify(req.body));
    return new Promise((resolve) => {
      let settled = false;
      let answered = false;
      const done = (r: Omit<HttpResult, 'durationMs'>, staleSocket = false) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        // r is a fresh object: timed in place rather than copied
        resolve({ result: Object.assign(r, { durationMs: performance.now() - t0 }), staleSocket });
      };
      // one timer per request, cleared on completion (AbortSignal.timeout would keep thousands alive under load)
      const timer = setTimeout(() => {
        const e = Object.assign(new Error(`request timed out after ${req.timeoutMs}ms`), { name: 'TimeoutError' });
        done({ errorKind: 'timeout', errorMessage: e.message });
        r.destroy(e);
      }, req.timeoutMs);
      const r = http.request(
        {
          host: this.url.hostname,
          port: this.url.port,
          method: req.method,
          path: req.path,
          agent: pooled ? this.agent : false,
          headers: {
            Accept: 'application/json',
            ...(payload ? { 'Content-Type': 'application/json', 'Content-Length': String(payload.length) } : {}),
            ...req.headers,
          },
        },
        (res) => {
          answered = true;
          const status = res.statusCode ?? 0;
          res.on('error', (e: NodeJS.ErrnoException) => done({ errorKind: errorKindOf(e), errorMessage: e.message }));
          if (req.parseBody === false && status >= 200 && status < 300) {
            // a body nobody reads is drained, not collected (the load runner's GETs: most of its traffic)
            res.on('end', () => done({ status, headers: res.headers }));
            res.resume();
            return;
          }
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            let body: unknown = text;
            if ((res.headers['content-type'] ?? '').includes('json')) {
              try {
                body = JSON.parse(text);
              } catch {
                body = text;
              }
            }
            const ok = status >= 200 && status < 300;
            done({ status: res.statusCode, headers: res.headers, body, text: ok ? text : undefined });
          });
        },
      );
      r.on('error', (e: NodeJS.ErrnoException) => {
        const kind = errorKindOf(e);
        done({ errorKind: kind, errorMessage: e.message }, r.reusedSocket && !answered && kind === 'reset');
      });
      r.end(payload);
    });
  }

  /** The same contract over raw sockets: a GET on a kept socket the server had closed is retried once. */
  private async rawGet(req: HttpRequest): Promise<HttpResult> {
    const t0 = performance.now();
    const headers = req.headers ?? {};
    const keep = req.keepBody === true;
    const first = await this.raw.get(req.path, headers, req.timeoutMs, true, keep);
    if (!first.staleSocket) return timed(first, t0);
    return { ...timed(await this.raw.get(req.path, headers, req.timeoutMs, false, keep), t0), retriedStaleSocket: true };
  }

  close(): void {
    this.agent.destroy();
    this.raw.close();
  }
}

function timed(r: RawResult, t0: number): HttpResult {
  return {
    status: r.status,
    body: r.body,
    text: r.text,
    errorKind: r.errorKind,
    errorMessage: r.errorMessage,
    durationMs: performance.now() - t0,
  };
}
