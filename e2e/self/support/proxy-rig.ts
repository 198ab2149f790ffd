/** A fault proxy in front of an echo server on loopback, and the clients the proxy's self tests talk through. */
import net from 'node:net';
import { FaultProxy, FaultProxyServer } from '../../../helpers/faults/proxy';
import { ToxiproxyClient } from '../../../helpers/faults/toxiproxy-client';
import { findFreePort } from '../../../helpers/stack/ports';

/**
 * An echo server upstream (that speaks first with `greeting`, and records what reached it), the
 * proxy in front of it, and its Toxiproxy-style control API.
 */
export async function rig(opts: { greeting?: string } = {}) {
  const received: string[] = [];
  const echo = net.createServer((s) => {
    s.on('error', () => {}); // the proxy resets upstream connections too (reset_peer)
    if (opts.greeting) s.write(opts.greeting);
    s.on('data', (d) => {
      received.push(String(d));
      s.write(d);
    });
  });
  const range = { min: 20000, max: 32000 };
  const upstream = await findFreePort(range);
  await new Promise<void>((r) => echo.listen(upstream, '127.0.0.1', r));
  const listen = await findFreePort(range, [upstream]);
  const control = await findFreePort(range, [upstream, listen]);
  const server = new FaultProxyServer(control);
  await server.add(new FaultProxy('echo', listen, '127.0.0.1', upstream));
  await server.start();
  const client = new ToxiproxyClient(`http://127.0.0.1:${control}`);
  return {
    client,
    listen,
    control,
    /** what reached the upstream, chunk by chunk */
    received,
    close: async () => {
      await server.stop();
      await new Promise((r) => echo.close(r));
    },
  };
}

/** Sends a line through the proxy: the echo and how long it took, or how the connection failed. */
export function roundTrip(port: number, timeoutMs = 1_000): Promise<{ echo?: string; ms: number; error?: string }> {
  const t0 = Date.now();
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    let got = '';
    const done = (r: { echo?: string; error?: string }) => {
      s.destroy();
      resolve({ ...r, ms: Date.now() - t0 });
    };
    s.setTimeout(timeoutMs, () => done({ error: 'timeout' }));
    s.on('connect', () => s.write('ping\n'));
    s.on('data', (d) => {
      got += String(d);
      if (got.endsWith('\n')) done({ echo: got.trim() });
    });
    s.on('error', (e: NodeJS.ErrnoException) => done({ error: e.code ?? e.message }));
    s.on('close', () => done({ error: got ? undefined : 'closed' }));
  });
}

/**
 * A client that listens for `waitMs` first (to a server that speaks first), then sends a line: what
 * it got before sending, whether it could send, what came after, and how and when (ms after the
 * send) the connection ended.
 */
export function converse(
  port: number,
  waitMs: number,
): Promise<{ before: string; sent: boolean; after: string; error?: string; msAfterSend?: number }> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    let got = '';
    let before = '';
    let sentAt: number | undefined;
    let timer: NodeJS.Timeout | undefined;
    const done = (error?: string) => {
      clearTimeout(timer);
      s.destroy();
      const sent = sentAt !== undefined;
      resolve({ before: sent ? before : got, sent, after: sent ? got : '', error, msAfterSend: sent ? Date.now() - sentAt! : undefined });
    };
    s.setTimeout(waitMs + 1_000, () => done('timeout'));
    s.on('connect', () => {
      timer = setTimeout(() => {
        before = got;
        got = '';
        sentAt = Date.now();
        s.write('ping\n');
      }, waitMs);
    });
    s.on('data', (d) => {
      got += String(d);
      if (sentAt !== undefined && got.endsWith('\n')) done();
    });
    s.on('error', (e: NodeJS.ErrnoException) => done(e.code ?? e.message));
    s.on('close', () => done('closed'));
  });
}

/** Sends `n` lines one after the other on one connection: how long each echo took (undefined once the connection failed). */
export function pings(port: number, n: number, timeoutMs = 2_000): Promise<(number | undefined)[]> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    const times: (number | undefined)[] = [];
    let sentAt = 0;
    let got = '';
    const send = () => {
      sentAt = Date.now();
      s.write('ping\n');
    };
    const done = () => {
      s.destroy();
      resolve([...times, ...Array<undefined>(n - times.length).fill(undefined)]);
    };
    s.setTimeout(timeoutMs, done);
    s.on('connect', send);
    s.on('data', (d) => {
      got += String(d);
      if (!got.endsWith('\n')) return;
      got = '';
      times.push(Date.now() - sentAt);
      if (times.length === n) done();
      else send();
    });
    s.on('error', done);
    s.on('close', done);
  });
}

/** `n` connections one after the other, each one round trip: how many were reset (the toxic applied) and how many echoed. */
export async function resets(port: number, n: number): Promise<{ reset: number; echoed: number; other: string[] }> {
  const deadline = Date.now() + 20_000;
  const counts = { reset: 0, echoed: 0, other: [] as string[] };
  for (let i = 0; i < n && Date.now() < deadline; i++) {
    const r = await roundTrip(port);
    if (r.echo === 'ping') counts.echoed++;
    else if (/ECONNRESET|closed/.test(r.error ?? '')) counts.reset++;
    else counts.other.push(r.error ?? String(r.echo));
  }
  return counts;
}
