/**
 * The fault proxies' control API: a subset of Toxiproxy's HTTP API, so that a real Toxiproxy can
 * stand in on an external target (GET /version, POST /reset, GET /proxies, GET|POST|PATCH
 * /proxies/{name} {enabled}, GET|POST /proxies/{name}/toxics, GET|DELETE /proxies/{name}/toxics/{toxic}),
 * and one route of our own: GET|DELETE /proxies/{name}/connections, the recent connections with
 * their statements. Errors are JSON {error, status}, as Toxiproxy's.
 */
import http from 'node:http';
import type { FaultProxy } from './data-plane';
import { ProxyApiError, toxicFromBody } from './toxics';

interface Call {
  readonly body: Record<string, unknown>;
  /** the proxy that {name} names (404 when there is none; routes without {name} do not read it) */
  readonly proxy: FaultProxy;
  /** the {toxic} of the path, decoded */
  readonly toxic: string;
}
interface Answer {
  readonly status: number;
  readonly data?: unknown;
}
type Handler = (call: Call) => Answer | Promise<Answer>;
interface Route {
  /** segments; {name} and {toxic} are parameters */
  readonly path: readonly string[];
  readonly methods: Readonly<Record<string, Handler>>;
  /** the 405 for another method (without it: a 404, no route) */
  readonly refused?: (method: string) => string;
}

const ok = (data: unknown): Answer => ({ status: 200, data });
const NO_CONTENT: Answer = { status: 204 };

/** The control API (a subset of Toxiproxy's HTTP API) over a set of proxies. */
export class FaultProxyServer {
  readonly proxies = new Map<string, FaultProxy>();
  private server: http.Server | undefined;

  private readonly routes: readonly Route[] = [
    { path: ['version'], methods: { GET: () => ok({ version: 'store-resilience-fault-proxy/1' }) } },
    {
      path: ['reset'],
      methods: {
        POST: async () => {
          for (const p of this.proxies.values()) await p.reset();
          return NO_CONTENT;
        },
      },
    },
    {
      path: ['proxies'],
      methods: { GET: () => ok(Object.fromEntries([...this.proxies].map(([k, p]) => [k, p.describe()]))) },
      refused: () => 'creating proxies is done at start-up',
    },
    {
      path: ['proxies', '{name}'],
      methods: { GET: ({ proxy }) => ok(proxy.describe()), POST: setEnabled, PATCH: setEnabled },
      refused: (method) => `${method} on a proxy`,
    },
    {
      path: ['proxies', '{name}', 'connections'],
      methods: {
        GET: ({ proxy }) => ok(proxy.connections()),
        DELETE: ({ proxy }) => {
          proxy.clearConnections();
          return NO_CONTENT;
        },
      },
      refused: (method) => `${method} on connections`,
    },
    {
      path: ['proxies', '{name}', 'toxics'],
      methods: { GET: ({ proxy }) => ok(proxy.describe().toxics), POST: ({ proxy, body }) => ok(proxy.addToxic(toxicFromBody(body))) },
      refused: (method) => `${method} on toxics`,
    },
    {
      path: ['proxies', '{name}', 'toxics', '{toxic}'],
      methods: {
        GET: ({ proxy, toxic }) => {
          const t = proxy.describe().toxics.find((x) => x.name === toxic);
          if (!t) throw new ProxyApiError(404, `toxic not found: ${toxic}`);
          return ok(t);
        },
        DELETE: ({ proxy, toxic }) => {
          proxy.removeToxic(toxic);
          return NO_CONTENT;
        },
      },
      refused: (method) => `${method} on a toxic`,
    },
  ];

  /**
   * @param token when set, the statement log (the connections route: password hashes, customers'
   * data) needs it in X-Fault-Proxy-Token. Toxiproxy has no such route, and no guard at all.
   */
  constructor(
    readonly controlPort: number,
    readonly host = '127.0.0.1',
    private readonly token?: string,
  ) {}

  async add(proxy: FaultProxy, enabled = true): Promise<void> {
    if (this.proxies.has(proxy.name)) throw new ProxyApiError(409, `proxy already exists: ${proxy.name}`);
    this.proxies.set(proxy.name, proxy);
    if (enabled) await proxy.setEnabled(true);
  }

  async start(): Promise<void> {
    const server = http.createServer((req, res) => {
      const send = ({ status, data }: Answer) =>
        res.writeHead(status, { 'Content-Type': 'application/json' }).end(data === undefined ? '' : JSON.stringify(data));
      this.handle(req).then(send, (error: unknown) => {
        const status = error instanceof ProxyApiError ? error.status : 500;
        send({ status, data: { error: (error as Error).message, status } });
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.controlPort, this.host, () => resolve());
    });
    this.server = server;
  }

  async stop(): Promise<void> {
    for (const p of this.proxies.values()) await p.setEnabled(false);
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
    this.server?.closeAllConnections();
  }

  private guard(req: http.IncomingMessage): void {
    guardRequest(req, this.controlPort, this.token);
  }

  /** The router: the route whose segments match the path, its {name} resolved to a proxy, then the method. */
  private async handle(req: http.IncomingMessage): Promise<Answer> {
    this.guard(req);
    const body = await readJson(req);
    const parts = (req.url ?? '/').split('?')[0]!.split('/').filter(Boolean);
    const method = req.method ?? 'GET';
    const route = this.routes.find((r) => r.path.length === parts.length && r.path.every((s, i) => s.startsWith('{') || s === parts[i]));
    if (!route) throw new ProxyApiError(404, `no route ${method} ${req.url}`);
    const param = (name: string) => {
      const i = route.path.indexOf(name);
      return i < 0 ? '' : decodeURIComponent(parts[i]!);
    };
    const name = param('{name}');
    const proxy = this.proxies.get(name);
    if (route.path.includes('{name}') && !proxy) throw new ProxyApiError(404, `proxy not found: ${name}`);
    const handler = route.methods[method];
    if (!handler) throw new ProxyApiError(route.refused ? 405 : 404, route.refused?.(method) ?? `no route ${method} ${req.url}`);
    return handler({ body, proxy: proxy!, toxic: param('{toxic}') });
  }
}

/** Names of this machine's loopback a request may have been addressed to. */
const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);

export interface GuardedRequest {
  readonly method?: string;
  readonly url?: string;
  readonly headers: http.IncomingHttpHeaders;
}

/**
 * What a request to the control API may not be (it answers on loopback, without credentials, as
 * Toxiproxy's does): sent by a web page (any Origin: a browser sends one with every cross-site POST,
 * a "simple" text/plain one included; curl and the suite send none), addressed to
 * another name (DNS rebinding: a Host other than loopback and this port), or a read of the statement
 * log without the run's token. Throws the refusal.
 */
export function guardRequest(req: GuardedRequest, port: number, token: string | undefined): void {
  if (req.headers.origin !== undefined) throw new ProxyApiError(403, 'a request from a web page (Origin) is refused');
  const host = req.headers.host ?? '';
  const colon = host.lastIndexOf(':');
  if (!LOOPBACK_HOSTS.has(host.slice(0, colon)) || host.slice(colon + 1) !== String(port))
    throw new ProxyApiError(403, `Host ${JSON.stringify(host)} is not this control API (127.0.0.1:${port})`);
  if (token !== undefined && /\/connections\/?(\?|$)/.test(req.url ?? '') && req.headers['x-fault-proxy-token'] !== token)
    throw new ProxyApiError(401, "the statement log needs the run's token (X-Fault-Proxy-Token)");
}

/** POST or PATCH /proxies/{name}: {enabled} switches the proxy on or off. */
async function setEnabled({ proxy, body }: Call): Promise<Answer> {
  if (typeof body.enabled === 'boolean') await proxy.setEnabled(body.enabled);
  return ok(proxy.describe());
}

async function readJson(req: http.IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  const raw = Buffer.concat(chunks).toString('utf8');
  if (!raw.trim()) return {};
  try {
    return JSON.parse(raw) as Record<string, unknown>;
  } catch {
    throw new ProxyApiError(400, 'body is not JSON');
  }
}
