/** The fault proxy applies its toxics as Toxiproxy does: per connection with probability toxicity, on their stream. */
import { expect, test } from './support/test';
import { converse, pings, resets, rig, roundTrip } from './support/proxy-rig';

test.describe('fault proxy toxics (Toxiproxy semantics)', { tag: '@self' }, () => {
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
      // the 10 connections at once: a slow one takes 3 x 250 ms, and one after another they took 4 s
      const connections = await Promise.all(Array.from({ length: 10 }, () => pings(r.listen, 3)));
      const mixed = connections.filter((times) => {
        // slow is the 250 ms latency (Date.now() can read 249), fast is a loopback echo of a millisecond or two
        const slow = times.map((ms) => (ms === undefined ? undefined : ms >= 125));
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
});
