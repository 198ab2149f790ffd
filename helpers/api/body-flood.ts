/**
 * A request body larger than any store should read: declared (a Content-Length of hundreds of MB) or
 * chunked (no length at all), of which at most `sendBytes` are ever written, then the end is never
 * sent. A store that enforces its body limit while reading answers (413) before the body ends, or
 * cuts the connection mid-body (a close with unread data is a reset, which can beat its answer);
 * one that reads the whole body first never answers, and the probe says so when its wait is over.
 */

/** Refused while it was read: an answer of the expected kinds, or the connection cut before all was sent. */
export const refusedMidBody = (r: FloodResult, statuses: readonly number[], sendBytes: number): boolean =>
  r.status !== undefined ? statuses.includes(r.status) : r.ended !== 'waited' && r.sentBytes < sendBytes;
import net from 'node:net';
import tls from 'node:tls';

export interface FloodResult {
  /** the status the store answered with, when it answered */
  readonly status?: number;
  /** bytes of body written when the answer (or the end of the wait) came */
  readonly sentBytes: number;
  readonly waitedMs: number;
  /** how it ended without an answer: the store closed or reset the connection, or the wait ran out */
  readonly ended?: 'closed' | 'reset' | 'waited';
  /** what ended it, when an error did (a refused connection, a certificate the client does not trust) */
  readonly error?: string;
}

export interface FloodOptions {
  readonly path: string;
  readonly framing: 'declared' | 'chunked';
  /** what a declared body claims */
  readonly declaredBytes: number;
  /** body bytes written at most (a few MB: far over a store's limit, far under what it is told) */
  readonly sendBytes: number;
  /** how long to wait for an answer once the writing stopped */
  readonly waitMs: number;
  readonly token?: string;
  /** the body to send (declared framing; sendBytes of it at most); by default filler bytes */
  readonly body?: Buffer;
  /** more request headers (an Idempotency-Key) */
  readonly headers?: Readonly<Record<string, string>>;
  /** for an https BASE_URL: TLS options beyond the default verification (a test's own CA) */
  readonly tls?: Pick<tls.ConnectionOptions, 'ca'>;
}

const PIECE = Buffer.alloc(64 * 1024, 'a');
/** the pause after each piece (4 MB in 64 pieces: about a third of a second) */
const PACE_MS = 5;

/** Floods one request; never throws. */
export function floodBody(baseUrl: string, o: FloodOptions): Promise<FloodResult> {
  const url = new URL(baseUrl);
  const t0 = Date.now();
  return new Promise((resolve) => {
    // an https target gets TLS, verified as any client would (the store behind it answers the same)
    const secure = url.protocol === 'https:';
    const socket = secure
      ? tls.connect({
          host: url.hostname,
          port: Number(url.port || 443),
          // SNI names a host, never an address (RFC 6066)
          ...(net.isIP(url.hostname) ? {} : { servername: url.hostname }),
          ...o.tls,
        })
      : net.connect(Number(url.port || 80), url.hostname);
    let sent = 0;
    let head = '';
    let settled = false;
    let timer: NodeJS.Timeout | undefined;
    const done = (r: Omit<FloodResult, 'waitedMs' | 'sentBytes'>) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve({ ...r, sentBytes: sent, waitedMs: Date.now() - t0 });
    };
    socket.on('data', (d: Buffer) => {
      head += d.toString('latin1');
      const m = /^HTTP\/1\.\d (\d{3})/.exec(head);
      if (m) done({ status: Number(m[1]) });
    });
    socket.on('error', (e: NodeJS.ErrnoException) =>
      done({ ended: e.code === 'ECONNRESET' || e.code === 'EPIPE' ? 'reset' : 'closed', error: e.message }),
    );
    socket.on('end', () => done({ ended: 'closed' }));
    const framing = o.framing === 'declared' ? `Content-Length: ${o.declaredBytes}` : 'Transfer-Encoding: chunked';
    socket.write(
      [
        `POST ${o.path} HTTP/1.1`,
        `Host: ${url.host}`,
        'Content-Type: application/json',
        ...(o.token ? [`Authorization: Bearer ${o.token}`] : []),
        ...Object.entries(o.headers ?? {}).map(([k, v]) => `${k}: ${v}`),
        framing,
        '',
        '',
      ].join('\r\n'),
    );
    // a piece at a time with a pause after each: a store that refuses answers and closes mid-body, and
    // a write racing its close turns the answer into a reset; paced, the answer is read first
    const pump = () => {
      if (settled) return;
      if (sent >= o.sendBytes) {
        timer = setTimeout(() => done({ ended: 'waited' }), o.waitMs);
        return;
      }
      const data = o.body ? o.body.subarray(sent, Math.min(sent + PIECE.length, o.sendBytes)) : PIECE;
      const piece =
        o.framing === 'chunked' ? Buffer.concat([Buffer.from(`${data.length.toString(16)}\r\n`), data, Buffer.from('\r\n')]) : data;
      sent += data.length;
      const next = () => setTimeout(pump, PACE_MS);
      if (socket.write(piece)) next();
      else socket.once('drain', next);
    };
    socket.once(secure ? 'secureConnect' : 'connect', pump);
  });
}
