/**
 * Just enough of PostgreSQL's wire protocol (v3, "Message Formats") for the fault proxy to count a
 * connection's statements and find the end of each answer: message framing in both directions.
 * Client to server: the untyped start-up packets (SSLRequest, GSSENCRequest, StartupMessage), then
 * typed messages; a statement is a simple Query ('Q') or an extended-protocol Execute ('E', its SQL
 * from the last Parse 'P'). Server to client: one unframed byte answers SSLRequest/GSSENCRequest,
 * then typed messages; ReadyForQuery ('Z') ends the answer to a statement. A connection that
 * switches to TLS ('S') cannot be read any further: it is marked opaque.
 */

const SSL_REQUEST = 80877103;
const GSSENC_REQUEST = 80877104;
const CANCEL_REQUEST = 80877102;
const PROTOCOL_3 = 196608;

/** One framed message (or an untyped start-up packet, type ''). */
export interface WireMessage {
  readonly type: string;
  /** the whole message, framing included */
  readonly bytes: Buffer;
  readonly body: Buffer;
}

/** Splits a byte stream into messages; partial messages wait for the next chunk. */
class Framer {
  private pending: Buffer = Buffer.alloc(0);

  constructor(
    /** how many untyped packets come first (client: start-up packets) */
    private untyped: () => boolean,
    /** one raw byte comes next (server: the answer to SSLRequest) */
    private rawByte: () => boolean,
    private consumedRawByte: (b: string) => void,
  ) {}

  push(chunk: Buffer): WireMessage[] {
    this.pending = this.pending.length ? Buffer.concat([this.pending, chunk]) : chunk;
    const out: WireMessage[] = [];
    for (;;) {
      if (this.rawByte()) {
        if (this.pending.length < 1) break;
        const b = this.pending.subarray(0, 1);
        this.pending = this.pending.subarray(1);
        this.consumedRawByte(b.toString('latin1'));
        out.push({ type: '', bytes: b, body: b });
        continue;
      }
      if (this.untyped()) {
        if (this.pending.length < 4) break;
        const len = this.pending.readInt32BE(0);
        if (this.pending.length < len) break;
        const bytes = this.pending.subarray(0, len);
        this.pending = this.pending.subarray(len);
        out.push({ type: '', bytes, body: bytes.subarray(4) });
        continue;
      }
      if (this.pending.length < 5) break;
      const len = this.pending.readInt32BE(1);
      if (this.pending.length < 1 + len) break;
      const bytes = this.pending.subarray(0, 1 + len);
      this.pending = this.pending.subarray(1 + len);
      out.push({ type: String.fromCharCode(bytes[0]!), bytes, body: bytes.subarray(5) });
    }
    return out;
  }
}

/** A statement as the proxy saw it. */
export interface SeenStatement {
  /** 1-based, per connection, since the log was last cleared */
  readonly n: number;
  readonly kind: 'query' | 'execute';
  /** the SQL, cut to 160 characters */
  readonly sql: string;
  readonly at: number;
}

const cstring = (b: Buffer) => {
  const end = b.indexOf(0);
  return b.subarray(0, end < 0 ? b.length : end).toString('utf8');
};

/**
 * The protocol state of one proxied connection: frames both directions and reports statements
 * (client side) and ReadyForQuery (server side).
 */
export class PgConnectionReader {
  /** TLS was negotiated: nothing more can be read */
  opaque = false;
  private sawFirst = false;
  private startupDone = false;
  private awaitingByte = false;
  private lastParseSql = '';
  private readonly up: Framer;
  private readonly down: Framer;

  constructor() {
    this.up = new Framer(
      () => !this.startupDone,
      () => false,
      () => {},
    );
    this.down = new Framer(
      () => false,
      () => this.awaitingByte,
      (b) => {
        this.awaitingByte = false;
        if (b === 'S' || b === 'G') this.opaque = true;
      },
    );
  }

  /** Frames client bytes; statement messages come back with their SQL. */
  fromClient(chunk: Buffer): Array<WireMessage & { statement?: { kind: 'query' | 'execute'; sql: string } }> {
    if (!this.startupDone && !this.sawFirst && chunk.length >= 4) {
      this.sawFirst = true;
      // not PostgreSQL (the proxy carries any TCP): pass everything through as it is
      const len = chunk.readInt32BE(0);
      const code = chunk.length >= 8 ? chunk.readInt32BE(4) : PROTOCOL_3;
      if (len < 8 || len > 10_000 || ![PROTOCOL_3, SSL_REQUEST, GSSENC_REQUEST, CANCEL_REQUEST].includes(code)) this.opaque = true;
    }
    if (this.opaque) return [{ type: '?', bytes: chunk, body: chunk }];
    return this.up.push(chunk).map((m) => {
      if (m.type === '') {
        const code = m.body.length >= 4 ? m.body.readInt32BE(0) : 0;
        if (code === SSL_REQUEST || code === GSSENC_REQUEST) this.awaitingByte = true;
        else if (code !== CANCEL_REQUEST) this.startupDone = true;
        return m;
      }
      if (m.type === 'P') {
        // Parse: statement name (cstring), then the query (cstring)
        const nameEnd = m.body.indexOf(0);
        this.lastParseSql = cstring(m.body.subarray(nameEnd + 1));
      }
      if (m.type === 'Q') return { ...m, statement: { kind: 'query' as const, sql: cstring(m.body).slice(0, 160) } };
      if (m.type === 'E') return { ...m, statement: { kind: 'execute' as const, sql: this.lastParseSql.slice(0, 160) } };
      return m;
    });
  }

  /** Frames server bytes. */
  fromServer(chunk: Buffer): WireMessage[] {
    if (this.opaque) return [{ type: '?', bytes: chunk, body: chunk }];
    return this.down.push(chunk);
  }
}
