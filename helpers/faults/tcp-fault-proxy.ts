/**
 * A TCP fault proxy on loopback with a control API in Toxiproxy's vocabulary (proxies, toxics,
 * enabled), so that a real Toxiproxy can stand in for it on an external target.
 *
 * Supported toxics (Toxiproxy semantics):
 * - timeout   {timeout}: no data passes; with timeout > 0 the connection is closed after that many ms,
 *                        with 0 it stays open and data is dropped until the toxic is removed
 * - reset_peer {timeout}: connections are reset (TCP RST) after timeout ms (0: at once, new ones too)
 * - latency   {latency, jitter}: every chunk is delayed (order kept)
 * An extension of our own, for PostgreSQL (helpers/faults/pg-wire.ts):
 * - pg_statement_cut {statement, after, unreachable}: each connection's statements are counted from
 *   the moment the toxic is added; at statement k the connection is reset, either before k reaches
 *   the server (after 0) or once the server has executed k and before its answer reaches the client
 *   (after 1); with unreachable 1 new connections are reset too until the toxic is removed. Its
 *   attribute `fired` counts the cuts.
 * and GET/DELETE /proxies/{name}/connections: the recent connections with their statements.
 * A disabled proxy (enabled=false) closes its listener and every connection: clients are refused.
 */
import http from 'node:http';
import net from 'node:net';
import { PgConnectionReader, type SeenStatement } from './pg-wire';

export type ToxicType = 'timeout' | 'reset_peer' | 'latency' | 'pg_statement_cut';
export const TOXIC_TYPES: readonly ToxicType[] = ['timeout', 'reset_peer', 'latency', 'pg_statement_cut'];

/** A proxied connection as the statement log shows it. */
export interface ConnectionLog {
  readonly id: number;
  readonly openedAt: number;
  closedAt?: number;
  /** TLS: its statements cannot be read */
  opaque: boolean;
  readonly statements: SeenStatement[];
  /** the cut that ended it, if any */
  cut?: string;
}
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
  readonly reader: PgConnectionReader;
  readonly log: ConnectionLog;
  /** statements since the statement counter was last reset (toxic added, log cleared) */
  count: number;
  /** after-mode cut armed: the server's answer is swallowed and the connection reset at ReadyForQuery */
  cutAtReady?: Toxic;
}

const LOG_SIZE = 200;

/** One proxied listener: listen -> upstream, with toxics applied to every connection. */
export class FaultProxy {
  private server: net.Server | undefined;
  private readonly links = new Set<Link>();
  private readonly toxics = new Map<string, Toxic>();
  private enabledFlag = false;
  private readonly fired = new Map<string, number>();
  private readonly log: ConnectionLog[] = [];
  private nextId = 1;
  /** a pg_statement_cut with unreachable fired: new connections are reset until it is removed */
  private unreachableBy: string | undefined;

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
      toxics: [...this.toxics.values()].map((t) =>
        t.type === 'pg_statement_cut' ? { ...t, attributes: { ...t.attributes, fired: this.fired.get(t.name) ?? 0 } } : t,
      ),
    };
  }

  /** The recent connections (newest last) with the statements each carried. */
  connections(): readonly ConnectionLog[] {
    return this.log;
  }

  /** Forgets the log; every open connection counts its statements from 1 again. */
  clearConnections(): void {
    this.log.length = 0;
    for (const link of this.links) {
      link.count = 0;
      link.log.statements.length = 0;
      this.log.push(link.log);
    }
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
    if (toxic.type === 'pg_statement_cut') {
      if (!Number.isInteger(toxic.attributes.statement) || (toxic.attributes.statement ?? 0) < 1) {
        throw new ProxyApiError(400, 'pg_statement_cut needs attributes.statement, an integer >= 1');
      }
      // statements are counted from now on
      for (const link of this.links) link.count = 0;
      this.fired.set(toxic.name, 0);
    }
    this.toxics.set(toxic.name, toxic);
    for (const link of this.links) this.applyConnectionToxic(link, toxic);
    return toxic;
  }

  removeToxic(name: string): void {
    if (!this.toxics.delete(name)) throw new ProxyApiError(404, `toxic not found: ${name}`);
    this.fired.delete(name);
    if (this.unreachableBy === name) this.unreachableBy = undefined;
    for (const link of this.links) if (link.cutAtReady?.name === name) link.cutAtReady = undefined;
  }

  /** Toxiproxy's reset: enabled, no toxics. */
  async reset(): Promise<void> {
    this.toxics.clear();
    this.fired.clear();
    this.unreachableBy = undefined;
    for (const link of this.links) link.cutAtReady = undefined;
    await this.setEnabled(true);
  }

  private active(type: ToxicType, stream?: Stream): Toxic[] {
    return [...this.toxics.values()].filter((t) => t.type === type && (stream === undefined || t.stream === stream));
  }

  private accept(client: net.Socket): void {
    if (this.unreachableBy !== undefined) {
      client.on('error', () => {});
      client.resetAndDestroy();
      return;
    }
    const upstream = net.connect({ host: this.upstreamHost, port: this.upstreamPort });
    const log: ConnectionLog = { id: this.nextId++, openedAt: Date.now(), opaque: false, statements: [] };
    this.log.push(log);
    if (this.log.length > LOG_SIZE) this.log.splice(0, this.log.length - LOG_SIZE);
    const link: Link = { client, upstream, openedAt: Date.now(), timers: [], reader: new PgConnectionReader(), log, count: 0 };
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

  /**
   * What of a chunk goes on: client bytes are read as PostgreSQL messages (statements counted, a
   * statement cut applied), server bytes are swallowed after an armed after-mode cut. Undefined
   * when the connection was cut.
   */
  private inspect(link: Link, chunk: Buffer, stream: Stream): Buffer | undefined {
    if (stream === 'downstream') {
      const messages = link.reader.fromServer(chunk);
      link.log.opaque = link.reader.opaque;
      if (!link.cutAtReady) return chunk;
      // the server's answer to the cut statement never reaches the client: reset at its end
      if (messages.some((m) => m.type === 'Z')) this.cut(link, link.cutAtReady, 'after');
      return undefined;
    }
    const cuts = this.active('pg_statement_cut');
    const out: Buffer[] = [];
    for (const m of link.reader.fromClient(chunk)) {
      if (m.statement) {
        link.count++;
        link.log.statements.push({ n: link.count, kind: m.statement.kind, sql: m.statement.sql, at: Date.now() });
        const cut = cuts.find((t) => t.attributes.statement === link.count);
        if (cut && (cut.attributes.after ?? 0) === 0) {
          if (out.length) link.upstream.write(Buffer.concat(out));
          this.cut(link, cut, 'before');
          return undefined;
        }
        if (cut) link.cutAtReady = cut;
      }
      out.push(m.bytes);
    }
    link.log.opaque = link.reader.opaque;
    return out.length === 1 ? out[0] : Buffer.concat(out);
  }

  /** Resets a connection at a statement cut, and (unreachable) every new one until the toxic goes. */
  private cut(link: Link, toxic: Toxic, when: 'before' | 'after'): void {
    this.fired.set(toxic.name, (this.fired.get(toxic.name) ?? 0) + 1);
    link.log.cut = `${when} statement ${link.count}`;
    link.cutAtReady = undefined;
    if ((toxic.attributes.unreachable ?? 0) === 1) this.unreachableBy = toxic.name;
    this.close(link, 'reset');
  }

  /** Forwards from -> to, applying the data toxics of that stream at the moment each chunk arrives. */
  private pipe(link: Link, from: net.Socket, to: net.Socket, stream: Stream): void {
    let lastDue = 0;
    from.on('data', (raw: Buffer) => {
      if (this.active('timeout', stream).length > 0 || this.active('reset_peer').length > 0) return; // dropped
      const chunk = this.inspect(link, raw, stream);
      if (chunk === undefined || chunk.length === 0) return;
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
    link.log.closedAt = Date.now();
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
    case 'pg_statement_cut':
      return { statement: 0, after: 0, unreachable: 0 };
  }
}

/** An error with the HTTP status the control API answers. */
export class ProxyApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** The control API (a subset of Toxiproxy's HTTP API) over a set of proxies. */
export class FaultProxyServer {
  readonly proxies = new Map<string, FaultProxy>();
  private server: http.Server | undefined;

  constructor(
    readonly controlPort: number,
    readonly host = '127.0.0.1',
  ) {}

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
    if (sub === 'connections') {
      if (method === 'GET') return send(200, proxy.connections());
      if (method === 'DELETE') {
        proxy.clearConnections();
        return send(204, undefined);
      }
      throw new ProxyApiError(405, `${method} on connections`);
    }
    if (sub !== 'toxics') throw new ProxyApiError(404, `no route ${req.url}`);
    if (!toxicName) {
      if (method === 'GET') return send(200, proxy.describe().toxics);
      if (method === 'POST') {
        const type = body.type;
        if (!TOXIC_TYPES.includes(type as ToxicType)) {
          throw new ProxyApiError(400, `unsupported toxic type ${JSON.stringify(type)} (${TOXIC_TYPES.join(', ')})`);
        }
        const stream = body.stream === 'upstream' ? 'upstream' : 'downstream';
        return send(
          200,
          proxy.addToxic({
            name: typeof body.name === 'string' ? body.name : undefined,
            type: type as ToxicType,
            stream,
            toxicity: typeof body.toxicity === 'number' ? body.toxicity : 1,
            attributes: (body.attributes ?? {}) as Record<string, number>,
          }),
        );
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
