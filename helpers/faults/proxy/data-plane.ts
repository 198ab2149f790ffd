/**
 * The fault proxy's data plane: a listener on loopback whose connections (./connection.ts) go to
 * the upstream through the proxy's toxics (./toxics.ts), and the log of the recent connections with
 * the PostgreSQL statements each carried.
 * A disabled proxy (enabled=false) closes its listener and every connection: clients are refused.
 */
import net from 'node:net';
import { Connection, type ConnectionLog } from './connection';
import { newToxic, ProxyApiError, type Toxic, type ToxicInput } from './toxics';

export interface ProxyDescription {
  readonly name: string;
  readonly listen: string;
  readonly upstream: string;
  readonly enabled: boolean;
  readonly toxics: readonly Toxic[];
}

const LOG_SIZE = 200;

/** One proxied listener: listen -> upstream, with toxics applied to every connection. */
export class FaultProxy {
  private server: net.Server | undefined;
  private readonly links = new Set<Connection>();
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
      for (const link of [...this.links]) link.close('destroy');
      if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  }

  /** Adds a toxic; each open connection draws whether it applies to it (probability = its toxicity). */
  addToxic(input: ToxicInput): Toxic {
    const toxic = newToxic(input);
    if (this.toxics.has(toxic.name)) throw new ProxyApiError(409, `toxic already exists: ${toxic.name}`);
    if (toxic.type === 'pg_statement_cut') {
      // statements are counted from now on
      for (const link of this.links) link.count = 0;
      this.fired.set(toxic.name, 0);
    }
    this.toxics.set(toxic.name, toxic);
    for (const link of this.links) link.draw(toxic);
    return toxic;
  }

  removeToxic(name: string): void {
    const toxic = this.toxics.get(name);
    if (!toxic) throw new ProxyApiError(404, `toxic not found: ${name}`);
    this.toxics.delete(name);
    this.fired.delete(name);
    if (this.unreachableBy === name) this.unreachableBy = undefined;
    for (const link of this.links) link.forget(toxic);
  }

  /** Toxiproxy's reset: enabled, no toxics. */
  async reset(): Promise<void> {
    this.toxics.clear();
    this.fired.clear();
    this.unreachableBy = undefined;
    for (const link of this.links) link.forget();
    await this.setEnabled(true);
  }

  private accept(client: net.Socket): void {
    // accepted by the kernel as the listener was closing: a disabled proxy holds no connection (kept, it
    // linked to PostgreSQL, the store pooled it, and the close that waits for every connection never
    // ended: the control API's answer to "enabled: false" timed out, once in a CI run)
    if (!this.enabledFlag) {
      client.on('error', () => {});
      client.destroy();
      return;
    }
    if (this.unreachableBy !== undefined) {
      client.on('error', () => {});
      client.resetAndDestroy();
      return;
    }
    const log: ConnectionLog = { id: this.nextId++, openedAt: Date.now(), opaque: false, statements: [] };
    this.log.push(log);
    if (this.log.length > LOG_SIZE) this.log.splice(0, this.log.length - LOG_SIZE);
    const link = new Connection(client, { host: this.upstreamHost, port: this.upstreamPort }, log, {
      toxics: () => this.toxics.values(),
      cutFired: (toxic) => {
        this.fired.set(toxic.name, (this.fired.get(toxic.name) ?? 0) + 1);
        // unreachable: every new connection is reset until the toxic is removed
        if ((toxic.attributes.unreachable ?? 0) === 1) this.unreachableBy = toxic.name;
      },
      closed: (connection) => this.links.delete(connection),
    });
    this.links.add(link);
    for (const toxic of this.toxics.values()) link.draw(toxic);
  }
}
