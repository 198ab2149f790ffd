/**
 * The body flood (helpers/api/body-flood.ts) reads the answer while it writes: a server that answers
 * 413 from the headers and closes with the body unread is seen answering 413, over plain HTTP and over
 * TLS (an https BASE_URL), and a server that takes the body is seen taking it.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import tls from 'node:tls';
import { floodBody } from '../../helpers/api/body-flood';
import { expect, test } from './support/test';

const BODY = Buffer.alloc(3 * 1024 * 1024, 'x');

/** On each connection: once the headers are in, answer and (for 413) close at once, the body unread. */
function answering(status: 413 | 201) {
  return (socket: net.Socket) => {
    let seen = 0;
    let head = '';
    socket.on('error', () => undefined);
    socket.on('data', (d: Buffer) => {
      head += head.includes('\r\n\r\n') ? '' : d.toString('latin1');
      seen += d.length;
      const headerEnd = head.indexOf('\r\n\r\n');
      if (headerEnd < 0) return;
      if (status === 413) {
        socket.end('HTTP/1.1 413 Payload Too Large\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
        socket.destroy();
      } else if (seen - headerEnd - 4 >= BODY.length) {
        socket.end('HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n');
      }
    });
  };
}

async function listen(server: net.Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as net.AddressInfo).port;
}

const flood = (baseUrl: string, ca?: string) =>
  floodBody(baseUrl, {
    path: '/x',
    framing: 'declared',
    declaredBytes: BODY.length,
    sendBytes: BODY.length,
    body: BODY,
    waitMs: 3_000,
    ...(ca ? { tls: { ca } } : {}),
  });

test.describe('body flood', { tag: '@self' }, () => {
  test('should see the 413 of a server that closes with the body unread, and the 201 of one that takes it', async () => {
    for (const status of [413, 201] as const) {
      const server = net.createServer(answering(status));
      try {
        const r = await flood(`http://127.0.0.1:${await listen(server)}`);
        expect(r.status, JSON.stringify(r)).toBe(status);
      } finally {
        server.close();
      }
    }
  });

  test('should speak TLS to an https target, verified against its CA', async () => {
    const dir = test.info().outputPath('tls');
    fs.mkdirSync(dir, { recursive: true });
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-days',
        '1',
        '-subj',
        '/CN=127.0.0.1',
        '-addext',
        'subjectAltName=IP:127.0.0.1',
        '-keyout',
        `${dir}/key.pem`,
        '-out',
        `${dir}/cert.pem`,
      ],
      { stdio: 'ignore' },
    );
    const cert = fs.readFileSync(`${dir}/cert.pem`, 'utf8');
    const server = tls.createServer({ key: fs.readFileSync(`${dir}/key.pem`), cert }, answering(413));
    try {
      const port = await listen(server);
      const r = await flood(`https://127.0.0.1:${port}`, cert);
      expect(r.status, JSON.stringify(r)).toBe(413);
      // not trusted: no answer, and the reason named
      const untrusted = await flood(`https://127.0.0.1:${port}`);
      expect(untrusted.status).toBeUndefined();
      expect(untrusted.error).toMatch(/self[- ]signed/i);
    } finally {
      server.close();
    }
  });
});
