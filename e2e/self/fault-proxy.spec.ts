/** The fault proxy speaks Toxiproxy's vocabulary: its traffic, toxics and errors. */
import { expect, test } from './support/test';
import { rig, roundTrip } from './support/proxy-rig';

test.describe('fault proxy (Toxiproxy vocabulary)', { tag: '@self' }, () => {
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
