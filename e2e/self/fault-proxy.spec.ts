import net from 'node:net';
import { expect, test } from '@playwright/test';
import { FaultProxy, FaultProxyServer } from '../../helpers/faults/proxy';
import { ToxiproxyClient } from '../../helpers/faults/toxiproxy-client';
import { findFreePort } from '../../helpers/stack/ports';

/** An echo server upstream, the proxy in front of it, and its Toxiproxy-style control API. */
async function rig() {
  const echo = net.createServer((s) => {
    s.on('error', () => {}); // the proxy resets upstream connections too (reset_peer)
    s.pipe(s);
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
