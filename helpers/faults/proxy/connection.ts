/**
 * One proxied connection of the data plane: client <-> upstream through the toxics this connection
 * drew (./toxics.ts), its PostgreSQL statements read and logged on the way (../pg-wire.ts).
 */
import net from 'node:net';
import { PgConnectionReader, type SeenStatement } from '../pg-wire';
import { chunkFate, closesAfter, draws, statementCut, type Stream, type Toxic } from './toxics';

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

/** What a connection needs of its proxy. */
export interface ConnectionOwner {
  /** the proxy's toxics, in the order they were added */
  toxics(): Iterable<Toxic>;
  /** a pg_statement_cut fired on this connection (it is being reset) */
  cutFired(toxic: Toxic): void;
  /** the connection is closed */
  closed(connection: Connection): void;
}

export class Connection {
  private readonly upstream: net.Socket;
  private timers: NodeJS.Timeout[] = [];
  private readonly reader = new PgConnectionReader();
  /** the toxics that apply to this connection (each drawn once, with probability = its toxicity) */
  private readonly drawn = new Set<Toxic>();
  /** statements since the statement counter was last reset (toxic added, log cleared) */
  count = 0;
  /** after-mode cut armed: the server's answer is swallowed and the connection reset at ReadyForQuery */
  private cutAtReady: Toxic | undefined;
  /** a reset_peer fired: the connection is reset when its timeout is over */
  private resetting = false;
  private isClosed = false;

  constructor(
    private readonly client: net.Socket,
    upstream: { readonly host: string; readonly port: number },
    readonly log: ConnectionLog,
    private readonly owner: ConnectionOwner,
  ) {
    this.upstream = net.connect(upstream);
    client.setNoDelay(true);
    this.upstream.setNoDelay(true);
    const onEnd = () => this.close('end');
    client.on('error', () => this.close('destroy'));
    this.upstream.on('error', () => this.close('reset'));
    client.on('end', onEnd);
    this.upstream.on('end', onEnd);
    client.on('close', () => this.close('destroy'));
    this.upstream.on('close', () => this.close('destroy'));
    this.pipe(client, this.upstream, 'upstream');
    this.pipe(this.upstream, client, 'downstream');
  }

  /** Draws once whether a toxic applies to this connection, as Toxiproxy does; if so, its effect on the connection starts. */
  draw(toxic: Toxic): void {
    if (!draws(toxic)) return;
    this.drawn.add(toxic);
    const ms = closesAfter(toxic);
    if (ms !== undefined) this.timers.push(setTimeout(() => this.close('destroy'), ms));
  }

  /** The toxic was removed from the proxy (every toxic, without an argument). */
  forget(toxic?: Toxic): void {
    if (toxic === undefined) this.drawn.clear();
    else this.drawn.delete(toxic);
    if (toxic === undefined || this.cutAtReady === toxic) this.cutAtReady = undefined;
  }

  close(how: 'end' | 'destroy' | 'reset'): void {
    if (this.isClosed) return;
    this.isClosed = true;
    this.log.closedAt = Date.now();
    for (const t of this.timers) clearTimeout(t);
    for (const socket of [this.client, this.upstream]) {
      if (socket.destroyed) continue;
      if (how === 'reset') socket.resetAndDestroy();
      else if (how === 'end') socket.end();
      else socket.destroy();
    }
    this.owner.closed(this);
  }

  /** The toxics that apply to this connection, in the order they were added to the proxy. */
  private toxics(): Toxic[] {
    return [...this.owner.toxics()].filter((t) => this.drawn.has(t));
  }

  /** Forwards from -> to, applying the toxics of that stream at the moment each chunk arrives. */
  private pipe(from: net.Socket, to: net.Socket, stream: Stream): void {
    let lastDue = 0;
    from.on('data', (raw: Buffer) => {
      const fate = chunkFate(this.toxics(), stream);
      if (fate.kind === 'drop') return;
      if (fate.kind === 'reset') return this.resetAfter(fate.afterMs); // the chunk is dropped
      const chunk = this.inspect(raw, stream);
      if (chunk === undefined || chunk.length === 0) return;
      if (fate.delayMs <= 0 && lastDue <= Date.now()) {
        if (!to.destroyed) to.write(chunk);
        return;
      }
      const due = Math.max(Date.now() + fate.delayMs, lastDue);
      lastDue = due;
      const timer = setTimeout(() => {
        this.timers = this.timers.filter((t) => t !== timer);
        if (!to.destroyed) to.write(chunk);
      }, due - Date.now());
      this.timers.push(timer);
    });
  }

  /** reset_peer: the connection is reset (TCP RST on both sides) `ms` later, even if the toxic goes meanwhile. */
  private resetAfter(ms: number): void {
    if (this.resetting) return;
    this.resetting = true;
    if (ms <= 0) this.close('reset');
    else this.timers.push(setTimeout(() => this.close('reset'), ms));
  }

  /**
   * What of a chunk goes on: client bytes are read as PostgreSQL messages (statements counted, a
   * statement cut applied), server bytes are swallowed after an armed after-mode cut. Undefined
   * when the connection was cut.
   */
  private inspect(chunk: Buffer, stream: Stream): Buffer | undefined {
    if (stream === 'downstream') {
      const messages = this.reader.fromServer(chunk);
      this.log.opaque = this.reader.opaque;
      if (!this.cutAtReady) return chunk;
      // the server's answer to the cut statement never reaches the client: reset at its end
      if (messages.some((m) => m.type === 'Z')) this.cut(this.cutAtReady, 'after');
      return undefined;
    }
    const toxics = this.toxics();
    const out: Buffer[] = [];
    for (const m of this.reader.fromClient(chunk)) {
      if (m.statement) {
        this.count++;
        this.log.statements.push({ n: this.count, kind: m.statement.kind, sql: m.statement.sql, at: Date.now() });
        const cut = statementCut(toxics, this.count);
        if (cut && (cut.attributes.after ?? 0) === 0) {
          if (out.length) this.upstream.write(Buffer.concat(out));
          this.cut(cut, 'before');
          return undefined;
        }
        if (cut) this.cutAtReady = cut;
      }
      out.push(m.bytes);
    }
    this.log.opaque = this.reader.opaque;
    return out.length === 1 ? out[0] : Buffer.concat(out);
  }

  /** Resets the connection at a statement cut. */
  private cut(toxic: Toxic, when: 'before' | 'after'): void {
    this.log.cut = `${when} statement ${this.count}`;
    this.cutAtReady = undefined;
    this.owner.cutFired(toxic);
    this.close('reset');
  }
}
