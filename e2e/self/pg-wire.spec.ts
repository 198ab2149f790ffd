/** The fault proxy's reading of PostgreSQL's wire protocol: framing, statements, the end of an answer. */
import { expect, test } from './support/test';
import { PgConnectionReader } from '../../helpers/faults/pg-wire';

const int32 = (n: number) => {
  const b = Buffer.alloc(4);
  b.writeInt32BE(n);
  return b;
};
const untyped = (code: number, body = Buffer.alloc(0)) => Buffer.concat([int32(8 + body.length), int32(code), body]);
const typed = (type: string, body: Buffer) => Buffer.concat([Buffer.from(type), int32(4 + body.length), body]);
const cstr = (s: string) => Buffer.from(`${s}\0`);

test.describe('PostgreSQL wire reading', { tag: '@self' }, () => {
  test('should count simple and extended statements across chunk boundaries, after SSLRequest and start-up', () => {
    const r = new PgConnectionReader();
    const client = Buffer.concat([
      untyped(80877103), // SSLRequest
      untyped(196608, Buffer.concat([cstr('user'), cstr('store'), Buffer.from([0])])), // StartupMessage 3.0
      typed('p', cstr('password')), // a password message: not a statement
      typed('Q', cstr('SELECT 1')),
      typed('P', Buffer.concat([cstr(''), cstr('INSERT INTO t VALUES ($1)'), Buffer.from([0, 0])])),
      typed('B', Buffer.alloc(8)),
      typed('E', Buffer.concat([cstr(''), int32(0)])),
      typed('S', Buffer.alloc(0)),
    ]);
    // split into awkward pieces: a reader must wait for whole messages
    const statements: string[] = [];
    let forwarded = 0;
    for (let i = 0; i < client.length; i += 3) {
      for (const m of r.fromClient(client.subarray(i, i + 3))) {
        forwarded += m.bytes.length;
        if (m.statement) statements.push(`${m.statement.kind}: ${m.statement.sql}`);
      }
    }
    expect(statements).toEqual(['query: SELECT 1', 'execute: INSERT INTO t VALUES ($1)']);
    expect(forwarded, 'every byte is passed on').toBe(client.length);
    // the server: 'N' (no TLS), then typed messages ending in ReadyForQuery
    const server = Buffer.concat([
      Buffer.from('N'),
      typed('R', int32(0)),
      typed('Z', Buffer.from('I')),
      typed('C', cstr('SELECT 1')),
      typed('Z', Buffer.from('I')),
    ]);
    const types = [...r.fromServer(server.subarray(0, 7)), ...r.fromServer(server.subarray(7))].map((m) => m.type);
    expect(types).toEqual(['', 'R', 'Z', 'C', 'Z']);
    expect(r.opaque).toBe(false);
  });

  test('should pass TLS and anything that is not PostgreSQL through unread', () => {
    const tls = new PgConnectionReader();
    tls.fromClient(untyped(80877103));
    tls.fromServer(Buffer.from('S'));
    expect(tls.opaque, 'TLS negotiated').toBe(true);
    expect(tls.fromClient(Buffer.from([0x16, 0x03, 0x01]))[0]?.bytes.length).toBe(3);
    const other = new PgConnectionReader();
    const ping = Buffer.from('ping\n');
    expect(other.fromClient(ping).map((m) => m.bytes.toString())).toEqual(['ping\n']);
    expect(other.opaque).toBe(true);
  });
});
