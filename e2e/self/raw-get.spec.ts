/** The load's lean GET path (helpers/load/raw-get.ts) against raw servers on loopback: framing, reuse, stale sockets, errors. */
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { expect, test } from './support/test';
import { HttpClient } from '../../helpers/load/http-client';
import { findFreePort } from '../../helpers/stack/ports';

/** A server that answers each request with `answer(n)` (n counts requests), and counts connections. */
async function rawServer(answer: (n: number, socket: net.Socket) => string | undefined) {
  let connections = 0;
  let requests = 0;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((s) => {
    connections++;
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    let buf = '';
    s.on('data', (d) => {
      buf += String(d);
      while (buf.includes('\r\n\r\n')) {
        buf = buf.slice(buf.indexOf('\r\n\r\n') + 4);
        const out = answer(++requests, s);
        if (out !== undefined) s.write(out);
      }
    });
    s.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    connections: () => connections,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

const get = (client: HttpClient, timeoutMs = 2_000) => client.request({ method: 'GET', path: '/x', timeoutMs, parseBody: false });

test.describe('lean GET path of the load runner', { tag: '@self' }, () => {
  test('should read Content-Length and chunked answers, keep the socket, and keep an error body', async () => {
    const srv = await rawServer((n) =>
      n === 1
        ? 'HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello'
        : 'HTTP/1.1 500 Internal Server Error\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nboom\r\n3\r\n!!!\r\n0\r\n\r\n',
    );
    const client = new HttpClient(srv.url);
    try {
      expect(await get(client)).toMatchObject({ status: 200 });
      const err = await get(client);
      expect(err).toMatchObject({ status: 500, body: 'boom!!!' });
      expect(srv.connections(), 'one kept-alive socket for both').toBe(1);
    } finally {
      client.close();
      await srv.close();
    }
  });

  test('should read an answer delimited by the close, and not reuse that socket', async () => {
    const srv = await rawServer((_n, s) => {
      s.end('HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nsome body');
      return undefined;
    });
    const client = new HttpClient(srv.url);
    try {
      expect(await get(client)).toMatchObject({ status: 200 });
      expect(await get(client)).toMatchObject({ status: 200 });
      expect(srv.connections(), 'a fresh connection each time').toBe(2);
    } finally {
      client.close();
      await srv.close();
    }
  });

  test('should retry once on a fresh socket when a kept socket was closed before any answer', async () => {
    // the second request arrives on the kept socket: the server drops it unanswered, as an idle timeout does
    const srv = await rawServer((n, s) => {
      if (n === 2) {
        s.destroy();
        return undefined;
      }
      return 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok';
    });
    const client = new HttpClient(srv.url);
    try {
      expect(await get(client)).toMatchObject({ status: 200 });
      const retried = await get(client);
      expect(retried).toMatchObject({ status: 200, retriedStaleSocket: true });
      expect(srv.connections()).toBe(2);
    } finally {
      client.close();
      await srv.close();
    }
  });

  test('should report a reset mid-answer, a refused connection and a timeout by their kinds', async () => {
    const srv = await rawServer((n, s) => {
      if (n === 1) {
        s.write('HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\npart');
        setImmediate(() => s.resetAndDestroy());
      }
      return undefined; // the second request is never answered
    });
    const client = new HttpClient(srv.url);
    try {
      expect((await get(client)).errorKind, 'cut mid-answer on a fresh socket: a reset, not retried').toBe('reset');
      expect((await get(client, 300)).errorKind).toBe('timeout');
    } finally {
      client.close();
      await srv.close();
    }
    // a free port below the ephemeral range: nobody listens there
    const port = await findFreePort({ min: 20000, max: 32000 });
    const nobody = new HttpClient(`http://127.0.0.1:${port}`);
    try {
      expect((await get(nobody)).errorKind).toBe('refused');
    } finally {
      nobody.close();
    }
  });
});
