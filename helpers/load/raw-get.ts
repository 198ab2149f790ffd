/**
 * The load's GETs whose answer only needs its status (most of the load) over raw sockets: one
 * prebuilt request per path, a response read only far enough to know its status and where it ends
 * (Content-Length, chunked, or the server closing), kept-alive sockets reused as node:http would.
 * Profiled, node:http spent 160 us of CPU per request here against wrk's 70 us, and on a 2-core
 * machine that CPU is taken from the server under test. An error answer's body is kept (2000
 * characters at most, the leak checks read it); a 2xx body is skipped.
 */
import net from 'node:net';
import { errorKindOf, type NetworkErrorKind } from '../api/store-api';

export interface RawResult {
  readonly status?: number;
  readonly body?: string;
  /** a 2xx answer's body, when asked for (its content is judged) */
  readonly text?: string;
  readonly errorKind?: NetworkErrorKind;
  readonly errorMessage?: string;
  /** the request went out on a reused socket the server had closed: nothing reached the application */
  readonly staleSocket: boolean;
}

const ERROR_BODY_MAX = 2000;
/** a 2xx body kept for judging: a page of the catalogue or of orders is a few kB */
export const OK_BODY_MAX = 4 * 1024 * 1024;
const CRLF = Buffer.from('\r\n');
const HEAD_END = Buffer.from('\r\n\r\n');

/** Reads one response incrementally: the head, then the body by its framing. */
class ResponseReader {
  status?: number;
  body = '';
  /** a 2xx body, when kept */
  private okChunks: Buffer[] | undefined;
  private okBytes = 0;

  constructor(keepOk = false) {
    if (keepOk) this.okChunks = [];
  }

  /** The 2xx body, when it was kept (a body over OK_BODY_MAX is cut, and its end marked). */
  get text(): string | undefined {
    if (!this.okChunks || this.status === undefined || this.status < 200 || this.status >= 300) return undefined;
    const t = Buffer.concat(this.okChunks).toString('utf8');
    return this.okBytes > OK_BODY_MAX ? `${t}\n[cut at ${OK_BODY_MAX} bytes]` : t;
  }
  done = false;
  /** the server will close the socket after this response */
  closes = false;
  private head: Buffer = Buffer.alloc(0);
  private mode: 'head' | 'length' | 'chunk-size' | 'chunk-data' | 'chunk-crlf' | 'trailer' | 'until-close' = 'head';
  private remaining = 0;
  private pending: Buffer = Buffer.alloc(0);

  /** Feeds bytes; returns true once the response is complete. */
  feed(data: Buffer): boolean {
    let buf: Buffer = data;
    while (buf.length > 0 && !this.done) {
      if (this.mode === 'head') {
        this.head = this.head.length ? Buffer.concat([this.head, buf]) : buf;
        const end = this.head.indexOf(HEAD_END);
        if (end < 0) return false;
        buf = this.head.subarray(end + 4);
        this.parseHead(this.head.subarray(0, end).toString('latin1'));
        continue;
      }
      if (this.mode === 'until-close') {
        this.keep(buf);
        return false;
      }
      if (this.mode === 'length' || this.mode === 'chunk-data') {
        const n = Math.min(this.remaining, buf.length);
        this.keep(buf.subarray(0, n));
        this.remaining -= n;
        buf = buf.subarray(n);
        if (this.remaining === 0) {
          if (this.mode === 'length') this.done = true;
          else this.mode = 'chunk-crlf';
        }
        continue;
      }
      // chunked framing: a size line, its data, a CRLF; size 0 then trailers until an empty line
      this.pending = this.pending.length ? Buffer.concat([this.pending, buf]) : buf;
      buf = Buffer.alloc(0);
      const eol = this.pending.indexOf(CRLF);
      if (eol < 0) return false;
      const line = this.pending.subarray(0, eol).toString('latin1');
      buf = this.pending.subarray(eol + 2);
      this.pending = Buffer.alloc(0);
      if (this.mode === 'chunk-crlf') this.mode = 'chunk-size';
      else if (this.mode === 'chunk-size') {
        const size = parseInt(line.split(';')[0]!, 16);
        if (!Number.isFinite(size)) throw new Error(`bad chunk size line ${JSON.stringify(line.slice(0, 40))}`);
        if (size === 0) this.mode = 'trailer';
        else [this.mode, this.remaining] = ['chunk-data', size];
      } else if (line === '') this.done = true; // the empty line after the trailers
    }
    return this.done;
  }

  /** The server closed the socket: a response delimited by the close is complete, any other is cut. */
  closed(): boolean {
    if (this.mode === 'until-close' && this.status !== undefined) this.done = true;
    return this.done;
  }

  private keep(b: Buffer): void {
    if (this.okChunks && this.status !== undefined && this.status >= 200 && this.status < 300) {
      if (this.okBytes < OK_BODY_MAX) this.okChunks.push(b.subarray(0, OK_BODY_MAX - this.okBytes));
      this.okBytes += b.length;
      return;
    }
    if (this.status !== undefined && (this.status < 200 || this.status >= 300) && this.body.length < ERROR_BODY_MAX) {
      this.body += b.toString('utf8', 0, Math.min(b.length, ERROR_BODY_MAX - this.body.length));
    }
  }

  private parseHead(head: string): void {
    const lines = head.split('\r\n');
    const m = /^HTTP\/1\.(\d) (\d{3})/.exec(lines[0] ?? '');
    if (!m) throw new Error(`not an HTTP/1.x status line: ${JSON.stringify((lines[0] ?? '').slice(0, 60))}`);
    this.status = Number(m[2]);
    let length: number | undefined;
    let chunked = false;
    this.closes = m[1] === '0';
    for (const l of lines.slice(1)) {
      const colon = l.indexOf(':');
      const name = l.slice(0, colon).trim().toLowerCase();
      const value = l
        .slice(colon + 1)
        .trim()
        .toLowerCase();
      if (name === 'content-length') length = Number(value);
      else if (name === 'transfer-encoding') chunked = value.includes('chunked');
      else if (name === 'connection') this.closes = value.includes('close') || (m[1] === '0' && !value.includes('keep-alive'));
    }
    if (this.status === 204 || this.status === 304 || (this.status >= 100 && this.status < 200)) this.done = true;
    else if (chunked) this.mode = 'chunk-size';
    else if (length !== undefined) [this.mode, this.remaining, this.done] = ['length', length, length === 0];
    else [this.mode, this.closes] = ['until-close', true];
  }
}

/** GETs to one host:port over raw sockets, keeping answered sockets for the next request. */
export class RawGetClient {
  private readonly idle: net.Socket[] = [];
  private readonly requests = new Map<string, Buffer>();

  constructor(
    private readonly host: string,
    private readonly port: number,
  ) {}

  /** One GET; never throws. The request's bytes are built once per path and header values. */
  get(path: string, headers: Readonly<Record<string, string>>, timeoutMs: number, pooled: boolean, keepBody = false): Promise<RawResult> {
    const key = `${path}\n${Object.values(headers).join('\n')}`;
    let request = this.requests.get(key);
    if (!request) {
      const lines = [`GET ${path} HTTP/1.1`, `Host: ${this.host}:${this.port}`, 'Accept: application/json'];
      for (const [k, v] of Object.entries(headers)) lines.push(`${k}: ${v}`);
      request = Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1');
      this.requests.set(key, request);
    }
    const reused = pooled ? this.idle.pop() : undefined;
    if (reused) this.unpark(reused);
    const socket = reused ?? net.connect(this.port, this.host);
    const reader = new ResponseReader(keepBody);
    let received = false;
    return new Promise<RawResult>((resolve) => {
      let settled = false;
      const finish = (r: Omit<RawResult, 'staleSocket'>, stale = false, keep = false) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        socket.off('data', onData).off('error', cut).off('end', onEnd).off('close', onEnd);
        if (keep && pooled) this.park(socket);
        else socket.destroy();
        resolve({ ...r, staleSocket: stale });
      };
      const timer = setTimeout(() => finish({ errorKind: 'timeout', errorMessage: `request timed out after ${timeoutMs}ms` }), timeoutMs);
      const onData = (d: Buffer) => {
        received = true;
        try {
          if (reader.feed(d)) finish({ status: reader.status, body: reader.body || undefined, text: reader.text }, false, !reader.closes);
        } catch (e) {
          finish({ errorKind: 'other', errorMessage: (e as Error).message });
        }
      };
      const cut = (e?: NodeJS.ErrnoException) => {
        if (reader.closed()) return finish({ status: reader.status, body: reader.body || undefined, text: reader.text });
        const kind = e ? errorKindOf(e) : 'reset';
        // a kept socket the server had closed, before any byte of an answer: the request never reached it
        finish(
          { errorKind: kind, errorMessage: e?.message ?? 'socket closed before the answer ended' },
          reused !== undefined && !received && kind === 'reset',
        );
      };
      const onEnd = () => cut();
      socket.on('data', onData).on('error', cut).on('end', onEnd).on('close', onEnd);
      socket.write(request);
    });
  }

  private readonly drops = new WeakMap<net.Socket, () => void>();

  /** An answered socket waits for the next request; one the server closes meanwhile is dropped. */
  private park(socket: net.Socket): void {
    const drop = () => {
      const i = this.idle.indexOf(socket);
      if (i >= 0) this.idle.splice(i, 1);
      socket.destroy();
    };
    this.drops.set(socket, drop);
    socket.on('error', drop).on('end', drop).on('close', drop);
    this.idle.push(socket);
  }

  private unpark(socket: net.Socket): void {
    const drop = this.drops.get(socket);
    if (drop) socket.off('error', drop).off('end', drop).off('close', drop);
  }

  close(): void {
    for (const s of this.idle.splice(0)) s.destroy();
  }
}
