/**
 * A TCP fault proxy on loopback with a control API in Toxiproxy's vocabulary (proxies, toxics,
 * enabled), so that a real Toxiproxy can stand in for it on an external target.
 *
 * Supported toxics (Toxiproxy semantics):
 * - timeout   {timeout}: no data passes; with timeout > 0 the connection is closed after that many ms,
 *                        with 0 it stays open and data is dropped until the toxic is removed
 * - reset_peer {timeout}: connections are reset (TCP RST) after timeout ms (0: at once, new ones too)
 * - latency   {latency, jitter}: every chunk is delayed (order kept)
 * A disabled proxy (enabled=false) closes its listener and every connection: clients are refused.
 */
import http from 'node:http';
import net from 'node:net';

export type ToxicType = 'timeout' | 'reset_peer' | 'latency';
export type Stream = 'upstream' | 'downstream';

export interface Toxic {
  readonly name: string;
  readonly type: ToxicType;
  readonly stream: Stream;
  readonly toxicity: number;
  readonly attributes: Readonly<Record<string, number>>;
}

export interface ProxyDescription {
  readonly name: string;
  readonly listen: string;
  readonly upstream: string;
  readonly enabled: boolean;
  readonly toxics: readonly Toxic[];
}

interface Link {
  readonly client: net.Socket;
  readonly upstream: net.Socket;
  readonly openedAt: number;
  timers: NodeJS.Timeout[];
}

/** One proxied listener: listen -> upstream, with toxics applied to every connection. */
export class FaultProxy {
  private server: net.Server | undefined;
  private readonly links = new Set<Link>();
  private readonly toxics = new Map<string, Toxic>();
  private enabledFlag = false;

  constructor(
    readonly name: string,
    readonly listenPort: number,
    readonly upstreamHost: string,
    readonly upstreamPort: number,
    readonly listenHost = '127.0.0.1',
  ) {}

  describe(): ProxyDescription {
    return {
      name: this.name,
      listen: `${this.listenHost}:${this.listenPort}`,
      upstream: `${this.upstreamHost}:${this.upstreamPort}`,
      enabled: this.enabledFlag,
      toxics: [...this.toxics.values()],
    };
  }

  get connectionCount(): number {
    return this.links.size;
  }

  /** Enables (listens) or disables (closes listener and every connection). */
  async setEnabled(enabled: boolean): Promise<void> {
    if (enabled === this.enabledFlag) return;
    this.enabledFlag = enabled;
    if (enabled) {
      const server = net.createServer((client) => this.accept(client));
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen({ port: this.listenPort, host: this.listenHost, exclusive: true }, () => {
          server.off('error', reject);
          resolve();
        });
      });
      this.server = server;
    } else {
      const server = this.server;
      this.server = undefined;
      for (const link of [...this.links]) this.close(link, 'destroy');
      if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  }

  addToxic(input: { name?: string; type: ToxicType; stream?: Stream; toxicity?: number; attributes?: Record<string, number> }): Toxic {
    const stream = input.stream ?? 'downstream';
    const toxic: Toxic = {
      name: input.name ?? `${input.type}_${stream}`,
      type: input.type,
      stream,
      toxicity: input.toxicity ?? 1,
      attributes: { ...defaultAttributes(input.type), ...input.attributes },
    };
    if (this.toxics.has(toxic.name)) throw new ProxyApiError(409, `toxic already exists: ${toxic.name}`);
    this.toxics.set(toxic.name, toxic);
    for (const link of this.links) this.applyConnectionToxic(link, toxic);
    return toxic;
  }

  removeToxic(name: string): void {
    if (!this.toxics.delete(name)) throw new ProxyApiError(404, `toxic not found: ${name}`);
  }

  /** Toxiproxy's reset: enabled, no toxics. */
  async reset(): Promise<void> {
    this.toxics.clear();
    await this.setEnabled(true);
  }

  private active(type: ToxicType, stream?: Stream): Toxic[] {
    return [...this.toxics.values()].filter((t) => t.type === type && (stream === undefined || t.stream === stream));
  }

  private accept(client: net.Socket): void {
    const upstream = net.connect({ host: this.upstreamHost, port: this.upstreamPort });
    const link: Link = { client, upstream, openedAt: Date.now(), timers: [] };
    this.links.add(link);
    client.setNoDelay(true);
    upstream.setNoDelay(true);
    const onEnd = () => this.close(link, 'end');
    client.on('error', () => this.close(link, 'destroy'));
    upstream.on('error', () => this.close(link, 'reset'));
    client.on('end', onEnd);
    upstream.on('end', onEnd);
    client.on('close', () => this.close(link, 'destroy'));
    upstream.on('close', () => this.close(link, 'destroy'));
    this.pipe(link, client, upstream, 'upstream');
    this.pipe(link, upstream, client, 'downstream');
    for (const toxic of this.toxics.values()) this.applyConnectionToxic(link, toxic);
  }

  /** Forwards from -> to, applying the data toxics of that stream at the moment each chunk arrives. */
  private pipe(link: Link, from: net.Socket, to: net.Socket, stream: Stream): void {
    let lastDue = 0;
    from.on('data', (chunk: Buffer) => {
      if (this.active('timeout', stream).length > 0 || this.active('reset_peer').length > 0) return; // dropped
      const latency = this.active('latency', stream).reduce(
        (sum, t) => sum + (t.attributes.latency ?? 0) + Math.round((Math.random() * 2 - 1) * (t.attributes.jitter ?? 0)),
        0,
      );
      if (latency <= 0 && lastDue <= Date.now()) {
        if (!to.destroyed) to.write(chunk);
        return;
      }
      const due = Math.max(Date.now() + latency, lastDue);
      lastDue = due;
      const timer = setTimeout(() => {
        link.timers = link.timers.filter((t) => t !== timer);
        if (!to.destroyed) to.write(chunk);
      }, due - Date.now());
      link.timers.push(timer);
    });
  }

  private applyConnectionToxic(link: Link, toxic: Toxic): void {
    const after = toxic.attributes.timeout ?? 0;
    if (toxic.type === 'reset_peer') {
      const timer = setTimeout(() => this.close(link, 'reset'), after);
      link.timers.push(timer);
    } else if (toxic.type === 'timeout' && after > 0) {
      const timer = setTimeout(() => this.close(link, 'destroy'), after);
      link.timers.push(timer);
    }
  }

  private close(link: Link, how: 'end' | 'destroy' | 'reset'): void {
    if (!this.links.delete(link)) return;
    for (const t of link.timers) clearTimeout(t);
    for (const socket of [link.client, link.upstream]) {
      if (socket.destroyed) continue;
      if (how === 'reset') socket.resetAndDestroy();
      else if (how === 'end') socket.end();
      else socket.destroy();
    }
  }
}

function defaultAttributes(type: ToxicType): Record<string, number> {
  switch (type) {
    case 'timeout':
    case 'reset_peer':
      return { timeout: 0 };
    case 'latency':
      return { latency: 0, jitter: 0 };
  }
}

/** An error with the HTTP status the control API answers. */
export class ProxyApiError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

/** The control API (a subset of Toxiproxy's HTTP API) over a set of proxies. */
export class FaultProxyServer {
  readonly proxies = new Map<string, FaultProxy>();
  private server: http.Server | undefined;

  constructor(readonly controlPort: number, readonly host = '127.0.0.1') {}

  async add(proxy: FaultProxy, enabled = true): Promise<void> {
    if (this.proxies.has(proxy.name)) throw new ProxyApiError(409, `proxy already exists: ${proxy.name}`);
    this.proxies.set(proxy.name, proxy);
    if (enabled) await proxy.setEnabled(true);
  }

  async start(): Promise<void> {
    const server = http.createServer((req, res) => {
      this.handle(req, res).catch((error: unknown) => {
        const status = error instanceof ProxyApiError ? error.status : 500;
        res.writeHead(status, { 'Content-Type': 'application/json' }).end(JSON.stringify({ error: (error as Error).message, status }));
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

  private proxy(name: string | undefined): FaultProxy {
    const p = name ? this.proxies.get(decodeURIComponent(name)) : undefined;
    if (!p) throw new ProxyApiError(404, `proxy not found: ${name}`);
    return p;
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const raw = Buffer.concat(chunks).toString('utf8');
    let body: Record<string, unknown> = {};
    if (raw.trim()) {
      try {
        body = JSON.parse(raw) as Record<string, unknown>;
      } catch {
        throw new ProxyApiError(400, 'body is not JSON');
      }
    }
    const parts = (req.url ?? '/').split('?')[0]!.split('/').filter(Boolean);
    const method = req.method ?? 'GET';
    const send = (status: number, data: unknown) => {
      res.writeHead(status, { 'Content-Type': 'application/json' }).end(data === undefined ? '' : JSON.stringify(data));
    };
    const [root, name, sub, toxicName] = parts;
    if (root === 'version' && method === 'GET') return send(200, { version: 'store-resilience-fault-proxy/1' });
    if (root === 'reset' && method === 'POST') {
      for (const p of this.proxies.values()) await p.reset();
      return send(204, undefined);
    }
    if (root !== 'proxies') throw new ProxyApiError(404, `no route ${method} ${req.url}`);
    if (!name) {
      if (method === 'GET') return send(200, Object.fromEntries([...this.proxies].map(([k, p]) => [k, p.describe()])));
      throw new ProxyApiError(405, 'creating proxies is done at start-up');
    }
    const proxy = this.proxy(name);
    if (!sub) {
      if (method === 'GET') return send(200, proxy.describe());
      if (method === 'POST' || method === 'PATCH') {
        if (typeof body.enabled === 'boolean') await proxy.setEnabled(body.enabled);
        return send(200, proxy.describe());
      }
      throw new ProxyApiError(405, `${method} on a proxy`);
    }
    if (sub !== 'toxics') throw new ProxyApiError(404, `no route ${req.url}`);
    if (!toxicName) {
      if (method === 'GET') return send(200, proxy.describe().toxics);
      if (method === 'POST') {
        const type = body.type;
        if (type !== 'timeout' && type !== 'reset_peer' && type !== 'latency') {
          throw new ProxyApiError(400, `unsupported toxic type ${JSON.stringify(type)} (timeout, reset_peer, latency)`);
        }
        const stream = body.stream === 'upstream' ? 'upstream' : 'downstream';
        return send(200, proxy.addToxic({
          name: typeof body.name === 'string' ? body.name : undefined,
          type,
          stream,
          toxicity: typeof body.toxicity === 'number' ? body.toxicity : 1,
          attributes: (body.attributes ?? {}) as Record<string, number>,
        }));
      }
      throw new ProxyApiError(405, `${method} on toxics`);
    }
    if (method === 'DELETE') {
      proxy.removeToxic(decodeURIComponent(toxicName));
      return send(204, undefined);
    }
    if (method === 'GET') {
      const t = proxy.describe().toxics.find((x) => x.name === decodeURIComponent(toxicName));
      if (!t) throw new ProxyApiError(404, `toxic not found: ${toxicName}`);
      return send(200, t);
    }
    throw new ProxyApiError(405, `${method} on a toxic`);
  }
}
