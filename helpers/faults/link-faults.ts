/** Faults of the link to the database through the fault proxy: down, black hole, reset, latency, and a cut at the k-th statement. */
import { pgAccepts } from '../integrity/pg-ready';
import { type PgPing } from '../integrity/pg-ping';
import type { Action } from '../drivers/types';
import type { ToxiproxyClient } from './toxiproxy-client';
import type { DbFaultName, FaultContext, FaultOptions, FaultOrMissing, LinkService } from './catalog';
import { all, buildFault, missing, pingObservation, PROBE_TIMEOUT_MS, type Observation } from './observe';

/** The toxic's name on the proxy that cuts the link at the k-th statement. */
export const CRASH_POINT_TOXIC = 'crash_point';

export function linkFault(ctx: FaultContext, name: DbFaultName, opts: FaultOptions): FaultOrMissing {
  const link = ctx.link;
  if (!link) return missing(`${name} needs a proxy between the store and PostgreSQL: ${ctx.linkMissing}`);
  const p = link.proxy;
  const latencyMs = opts.latencyMs ?? 200;
  type Toxic = Parameters<ToxiproxyClient['addToxic']>[1];
  const modes: Record<
    string,
    { description: string; toxics: Toxic[]; disable?: boolean; effect: (x: PgPing) => boolean; expected: string }
  > = {
    'db-partition-down': {
      description: 'the link from the store to PostgreSQL is down: connections refused and closed (proxy disabled)',
      toxics: [],
      disable: true,
      effect: (x) => x.outcome === 'refused' || x.outcome === 'closed' || x.outcome === 'reset',
      expected: "the store's path to PostgreSQL refuses connections",
    },
    'db-partition-blackhole': {
      description: 'the link from the store to PostgreSQL is a black hole: connections accepted, nothing ever answers',
      toxics: [
        { name: 'blackhole_downstream', type: 'timeout', stream: 'downstream', attributes: { timeout: 0 } },
        { name: 'blackhole_upstream', type: 'timeout', stream: 'upstream', attributes: { timeout: 0 } },
      ],
      effect: (x) => x.outcome === 'hang',
      expected: "the store's path to PostgreSQL hangs",
    },
    'db-partition-reset-peer': {
      description: 'every connection from the store to PostgreSQL is reset (TCP RST)',
      toxics: [{ name: 'reset_peer', type: 'reset_peer', stream: 'downstream', attributes: { timeout: 0 } }],
      effect: (x) => x.outcome === 'reset' || x.outcome === 'closed',
      expected: "the store's path to PostgreSQL resets connections",
    },
    'db-latency': {
      description: `every answer from PostgreSQL to the store is delayed by ${latencyMs} ms`,
      toxics: [{ name: 'latency', type: 'latency', stream: 'downstream', attributes: { latency: latencyMs, jitter: 0 } }],
      effect: (x) => x.outcome === 'answered' && x.ms >= latencyMs * 0.8,
      expected: `answers on the store's path to PostgreSQL take at least ${Math.round(latencyMs * 0.8)}ms`,
    },
  };
  const m = modes[name]!;
  let listen: { host: string; port: number } | undefined;
  const inject: Action = async () => {
    listen = await link.listen();
    if (m.disable) {
      await link.client.setEnabled(p, false);
      return { detail: `POST /proxies/${p} {"enabled": false}`, commands: [] };
    }
    for (const t of m.toxics) await link.client.addToxic(p, t);
    return { detail: m.toxics.map((t) => `POST /proxies/${p}/toxics ${JSON.stringify(t)}`).join('\n'), commands: [] };
  };
  const revert: Action = async () => {
    const before = await link.client.proxy(p);
    const steps: string[] = [];
    for (const t of before.toxics) {
      await link.client.removeToxic(p, t.name);
      steps.push(`DELETE /proxies/${p}/toxics/${t.name}`);
    }
    if (name === 'db-partition-blackhole' && before.enabled) {
      // connections that lost data in the black hole are beyond repair: drop them, as TCP would time out
      await link.client.setEnabled(p, false);
      steps.push(`POST /proxies/${p} {"enabled": false}`);
    }
    if (!before.enabled || name === 'db-partition-blackhole') {
      await link.client.setEnabled(p, true);
      steps.push(`POST /proxies/${p} {"enabled": true}`);
    }
    return { detail: steps.join('\n') || 'nothing to revert', commands: [] };
  };
  const effect = () => pingObservation(m.expected, listen!, m.effect, Math.max(ctx.hangProbeMs, latencyMs * 3));
  const reverted = () => linkReverted(link, () => listen ?? { host: '127.0.0.1', port: 0 });
  return {
    ok: true,
    value: buildFault({ name, description: `${m.description} (${link.label})`, driver: link.label, inject, effect, revert, reverted }, ctx),
  };
}

/** The link back to normal: no toxic, enabled, the store's path and the database answering. */
function linkReverted(link: LinkService, listen: () => { host: string; port: number }): Observation {
  return all(
    {
      expected: 'the proxy is enabled without toxics',
      probe: async () => {
        const d = await link.client.proxy(link.proxy);
        return {
          ok: d.enabled && d.toxics.length === 0,
          detail: `enabled ${d.enabled}, toxics [${d.toxics.map((t) => t.name).join(', ')}]`,
        };
      },
    },
    pingObservation("the store's path to PostgreSQL answers", listen(), (x) => x.outcome === 'answered'),
    link.storePathUrl
      ? {
          expected: 'PostgreSQL accepts queries through the proxy',
          probe: async () => ({ ok: await pgAccepts(link.storePathUrl!, PROBE_TIMEOUT_MS), detail: 'SELECT 1' }),
        }
      : undefined,
  );
}

/**
 * A crash at one point of the write path: the connection that sends its k-th statement dies there
 * (before the server gets it, or after the server executed it and before the answer comes back),
 * and PostgreSQL stays unreachable until recover. Needs this suite's fault proxy.
 */
export function crashPointFault(ctx: FaultContext, opts: FaultOptions): FaultOrMissing {
  const link = ctx.link;
  if (!link) return missing(`db-crash-point needs this suite's fault proxy between the store and PostgreSQL: ${ctx.linkMissing}`);
  const k = opts.statement ?? 1;
  const after = opts.afterStatement === true;
  let listen: { host: string; port: number } = { host: '127.0.0.1', port: 0 };
  const toxic = {
    name: CRASH_POINT_TOXIC,
    type: 'pg_statement_cut' as const,
    stream: 'upstream' as const,
    attributes: { statement: k, after: after ? 1 : 0, unreachable: 1 },
  };
  return {
    ok: true,
    value: buildFault(
      {
        name: 'db-crash-point',
        description: `PostgreSQL lost at statement ${k} of a connection (${after ? 'executed, its answer lost' : 'never received'}), unreachable until recovered (${link.label})`,
        driver: link.label,
        inject: async () => {
          listen = await link.listen();
          await link.client.addToxic(link.proxy, toxic);
          return { detail: `POST /proxies/${link.proxy}/toxics ${JSON.stringify(toxic)}`, commands: [] };
        },
        effect: () => ({
          expected: `the cut armed at statement ${k}`,
          probe: async () => {
            const t = (await link.client.proxy(link.proxy)).toxics.find((x) => x.name === CRASH_POINT_TOXIC);
            return { ok: t?.attributes.statement === k, detail: t ? JSON.stringify(t.attributes) : 'no toxic' };
          },
        }),
        revert: async () => {
          const before = await link.client.proxy(link.proxy);
          if (before.toxics.some((t) => t.name === CRASH_POINT_TOXIC)) await link.client.removeToxic(link.proxy, CRASH_POINT_TOXIC);
          return { detail: `DELETE /proxies/${link.proxy}/toxics/${CRASH_POINT_TOXIC}`, commands: [] };
        },
        reverted: () => linkReverted(link, () => listen),
      },
      ctx,
    ),
  };
}
