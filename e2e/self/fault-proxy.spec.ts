import net from 'node:net';
import { expect, test } from '@playwright/test';
import { FaultProxy, FaultProxyServer } from '../../helpers/faults/proxy';
import { ToxiproxyClient } from '../../helpers/faults/toxiproxy-client';
import { findFreePort } from '../../helpers/stack/ports';

/**
 * An echo server upstream (that speaks first with `greeting`, and records what reached it), the
 * proxy in front of it, and its Toxiproxy-style control API.
 */
async function rig(opts: { greeting?: string } = {}) {
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
function roundTrip(port: number, timeoutMs = 1_000): Promise<{ echo?: string; ms: number; error?: string }> {
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
function converse(
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
function pings(port: number, n: number, timeoutMs = 2_000): Promise<(number | undefined)[]> {
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
async function resets(port: number, n: number): Promise<{ reset: number; echoed: number; other: string[] }> {
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

test.describe('fault proxy (Toxiproxy vocabulary) @self', () => {
  test('should pass traffic, and apply down, timeout, reset_peer and latency until they are removed', async () => {
    const r = await rig();
    try {
      expect(await roundTrip(r.listen)).toMatchObject({ echo: 'ping' });
      expect(Object.keys(await r.client.proxies())).toEqual(['echo']);

      await r.client.setEnabled('echo', false);
      expect((await roundTrip(r.listen)).error, 'disabled: refused').toBe('ECONNREFUSED');
      await r.client.setEnabled('echo', true);
      expect(await roundTrip(r.listen)).toMatchObject({ echo: 'ping' });

      await r.client.addToxic('echo', { name: 'blackhole', type: 'timeout', stream: 'downstream', attributes: { timeout: 0 } });
      expect((await roundTrip(r.listen, 400)).error, 'timeout 0: accepted, never answered').toBe('timeout');
      await r.client.removeToxic('echo', 'blackhole');

      await r.client.addToxic('echo', { name: 'reset', type: 'reset_peer', stream: 'downstream', attributes: { timeout: 0 } });
      expect((await roundTrip(r.listen)).error, 'reset_peer: connection reset').toMatch(/ECONNRESET|closed/);
      await r.client.removeToxic('echo', 'reset');

      await r.client.addToxic('echo', { name: 'slow', type: 'latency', stream: 'downstream', attributes: { latency: 150 } });
      const slow = await roundTrip(r.listen);
      expect(slow.echo).toBe('ping');
      expect(slow.ms, 'latency: the answer is delayed').toBeGreaterThanOrEqual(150);
      expect((await r.client.proxy('echo')).toxics.map((t) => t.name)).toEqual(['slow']);

      await r.client.reset();
      const after = await r.client.proxy('echo');
      expect({ enabled: after.enabled, toxics: after.toxics }, '/reset: enabled, no toxics').toEqual({ enabled: true, toxics: [] });
      const fast = await roundTrip(r.listen);
      expect(fast.echo).toBe('ping');
      expect(fast.ms).toBeLessThan(150);
    } finally {
      await r.close();
    }
  });

  test('should apply a toxic to a connection with probability toxicity, drawn once per connection as Toxiproxy does', async () => {
    const r = await rig();
    try {
      const reset = (toxicity: number) => ({
        name: 'reset',
        type: 'reset_peer' as const,
        stream: 'downstream' as const,
        toxicity,
        attributes: {},
      });
      await r.client.addToxic('echo', reset(0));
      expect(await resets(r.listen, 20), 'toxicity 0: never applied').toEqual({ reset: 0, echoed: 20, other: [] });
      await r.client.removeToxic('echo', 'reset');

      await r.client.addToxic('echo', reset(1));
      expect(await resets(r.listen, 20), 'toxicity 1: always applied').toEqual({ reset: 20, echoed: 0, other: [] });
      await r.client.removeToxic('echo', 'reset');

      await r.client.addToxic('echo', reset(0.5));
      expect((await r.client.proxy('echo')).toxics[0]).toMatchObject({ name: 'reset', toxicity: 0.5 });
      const half = await resets(r.listen, 40);
      expect(half.other, 'every connection reset or echoed').toEqual([]);
      expect(half.reset + half.echoed, 'all 40 connections within the time bound').toBe(40);
      // binomial(40, 0.5) falls outside 5..35 with probability < 1e-6
      expect(half.reset, `toxicity 0.5: some connections, not all (${half.reset} of 40 reset)`).toBeGreaterThanOrEqual(5);
      expect(half.reset, `toxicity 0.5: not all (${half.reset} of 40 reset)`).toBeLessThanOrEqual(35);
      await r.client.removeToxic('echo', 'reset');

      // drawn once per connection, not per chunk: each connection is slow on every exchange, or on none
      // (drawn per chunk instead, 10 connections of 3 exchanges would all look consistent with probability 1e-6)
      await r.client.addToxic('echo', { name: 'slow', type: 'latency', stream: 'downstream', toxicity: 0.5, attributes: { latency: 250 } });
      const connections: (number | undefined)[][] = [];
      for (let i = 0; i < 10; i++) connections.push(await pings(r.listen, 3));
      const mixed = connections.filter((times) => {
        const slow = times.map((ms) => (ms === undefined ? undefined : ms >= 250));
        return !(slow.every((x) => x === true) || slow.every((x) => x === false));
      });
      expect(mixed, `each connection slow on all 3 exchanges or on none (ms: ${JSON.stringify(connections)})`).toEqual([]);
    } finally {
      await r.close();
    }
  });

  test('should refuse a toxicity outside 0..1 and an unknown stream with a 400 naming the field', async () => {
    const r = await rig();
    try {
      const post = (toxicity: unknown) =>
        fetch(`http://127.0.0.1:${r.control}/proxies/echo/toxics`, {
          method: 'POST',
          body: JSON.stringify({ name: 'bad', type: 'latency', toxicity, attributes: { latency: 10 } }),
        });
      for (const toxicity of [1.5, -0.1, '0.5']) {
        const res = await post(toxicity);
        expect(res.status, `toxicity ${JSON.stringify(toxicity)}`).toBe(400);
        expect(await res.json()).toMatchObject({ error: expect.stringContaining('toxicity'), status: 400 });
      }
      const badStream = await fetch(`http://127.0.0.1:${r.control}/proxies/echo/toxics`, {
        method: 'POST',
        body: JSON.stringify({ name: 'bad', type: 'latency', stream: 'sideways', attributes: { latency: 10 } }),
      });
      expect(badStream.status, 'an unknown stream is refused, as Toxiproxy does').toBe(400);
      expect(await badStream.json()).toMatchObject({ error: expect.stringContaining('stream'), status: 400 });
      expect((await r.client.proxy('echo')).toxics, 'nothing added').toEqual([]);
      expect((await post(0)).status, 'the bounds are allowed').toBe(200);
      await r.client.removeToxic('echo', 'bad');
      expect((await post(1)).status).toBe(200);
    } finally {
      await r.close();
    }
  });

  test('should reset_peer on its own stream as Toxiproxy does: upstream when the client sends, downstream when the server does', async () => {
    const reset = (stream: 'upstream' | 'downstream', timeout = 0) => ({
      name: 'reset',
      type: 'reset_peer' as const,
      stream,
      attributes: { timeout },
    });
    const r = await rig();
    try {
      await r.client.addToxic('echo', reset('upstream'));
      expect((await roundTrip(r.listen)).error, 'upstream: reset when the client sends').toMatch(/ECONNRESET|closed/);
      expect(r.received, "upstream: the client's line never reaches the server").toEqual([]);
      await r.client.removeToxic('echo', 'reset');

      await r.client.addToxic('echo', reset('downstream'));
      expect((await roundTrip(r.listen)).error, 'downstream: reset when the server answers').toMatch(/ECONNRESET|closed/);
      expect(r.received, 'downstream: the line reached the server, its answer is lost').toEqual(['ping\n']);
    } finally {
      await r.close();
    }
    // a server that speaks first
    const g = await rig({ greeting: 'hello\n' });
    try {
      await g.client.addToxic('echo', reset('downstream'));
      const down = await converse(g.listen, 300);
      expect(down, 'downstream: reset by the greeting, before the client says anything').toMatchObject({ before: '', sent: false });
      expect(down.error).toMatch(/ECONNRESET|closed/);
      await g.client.removeToxic('echo', 'reset');

      await g.client.addToxic('echo', reset('upstream', 200));
      const up = await converse(g.listen, 300);
      expect(up, 'upstream: the greeting passes, the connection lives until the client sends').toMatchObject({
        before: 'hello\n',
        sent: true,
        after: '',
      });
      expect(up.error).toMatch(/ECONNRESET|closed/);
      expect(up.msAfterSend, 'upstream with timeout 200: reset 200ms after the client sent').toBeGreaterThanOrEqual(190);
      expect(g.received, "the client's line never reached the server").toEqual([]);
    } finally {
      await g.close();
    }
  });

  test('should answer unknown proxies, toxics and types with Toxiproxy-style errors', async () => {
    const r = await rig();
    try {
      const call = (method: string, path: string, body?: unknown) =>
        fetch(`http://127.0.0.1:${r.control}${path}`, { method, body: body === undefined ? undefined : JSON.stringify(body) });
      expect((await call('GET', '/proxies/nope')).status).toBe(404);
      expect((await call('DELETE', '/proxies/echo/toxics/nope')).status).toBe(404);
      const bad = await call('POST', '/proxies/echo/toxics', { type: 'bandwidth' });
      expect(bad.status).toBe(400);
      expect(await bad.json()).toMatchObject({ error: expect.stringContaining('unsupported toxic type') });
      expect((await call('POST', '/proxies/echo/toxics', { name: 'x', type: 'latency' })).status).toBe(200);
      expect((await call('POST', '/proxies/echo/toxics', { name: 'x', type: 'latency' })).status, 'a second toxic of the same name').toBe(
        409,
      );
    } finally {
      await r.close();
    }
  });
});
