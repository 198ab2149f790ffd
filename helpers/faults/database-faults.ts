/** Database faults on the embedded stack: stop, crash, freeze, and partitions through the fault proxy. */
import { waitForPg } from '../integrity/pg-ready';
import type { PostgresCluster } from '../stack/postgres-cluster';
import { childPids, isAlive, processState } from '../stack/processes';
import { act, type Fault } from './fault';
import type { ToxiproxyClient } from './toxiproxy-client';

export type PartitionMode = 'down' | 'blackhole' | 'reset_peer' | 'latency';

export interface DbFaultContext {
  readonly cluster: PostgresCluster;
  /** the store's own path to the database (through the proxy): recovery waits until it accepts */
  readonly storeDatabaseUrl: string;
  readonly proxy: ToxiproxyClient;
  readonly proxyName: string;
  readonly recoverTimeoutMs: number;
}

/** pg_ctl stop -m fast (graceful: transactions rolled back) or -m immediate (a crash: recovery at start). */
export function pgStopFault(ctx: DbFaultContext, mode: 'fast' | 'immediate'): Fault {
  const name = mode === 'fast' ? 'db-stop' : 'db-crash';
  return {
    name,
    description:
      mode === 'fast'
        ? 'PostgreSQL stopped with pg_ctl stop -m fast, then started again'
        : 'PostgreSQL crashed with pg_ctl stop -m immediate, then started with crash recovery',
    inject: () => act(name, 'inject', async () => ({ detail: `pg_ctl stop -m ${mode}`, commands: [await ctx.cluster.stop(mode)] })),
    recover: () =>
      act(name, 'recover', async () => {
        if (ctx.cluster.isRunning()) return { detail: 'already running', changed: false };
        const start = await ctx.cluster.start(ctx.recoverTimeoutMs);
        await waitForPg(ctx.storeDatabaseUrl, ctx.recoverTimeoutMs, 'PostgreSQL to accept connections through the proxy');
        return { detail: 'pg_ctl start -w', commands: [start] };
      }),
  };
}

/** SIGSTOP of the postmaster and every backend: the database hangs instead of refusing. */
export function pgFreezeFault(ctx: DbFaultContext): Fault {
  const name = 'db-freeze';
  let frozen: number[] = [];
  const signal = (pids: number[], sig: NodeJS.Signals) => {
    const sent: number[] = [];
    for (const pid of pids) {
      try {
        process.kill(pid, sig);
        sent.push(pid);
      } catch {
        // exited meanwhile
      }
    }
    return sent;
  };
  return {
    name,
    description: 'PostgreSQL frozen: SIGSTOP to the postmaster and its backends, then SIGCONT',
    inject: () =>
      act(name, 'inject', async () => {
        const postmaster = ctx.cluster.postmasterPid();
        if (postmaster === undefined) throw new Error('db-freeze: PostgreSQL is not running');
        // the postmaster first, so that it cannot fork new backends while we stop the others
        frozen = [...signal([postmaster], 'SIGSTOP'), ...signal(childPids(postmaster), 'SIGSTOP')];
        return { detail: `SIGSTOP ${frozen.join(' ')} (postmaster ${postmaster} and ${frozen.length - 1} children)` };
      }),
    recover: () =>
      act(name, 'recover', async () => {
        const postmaster = ctx.cluster.postmasterPid();
        const targets = [...new Set([...frozen, ...(postmaster ? [postmaster, ...childPids(postmaster)] : [])])].filter(isAlive);
        const wasFrozen = targets.some((p) => processState(p) === 'T');
        const sent = signal(targets, 'SIGCONT');
        frozen = [];
        if (postmaster !== undefined) {
          await waitForPg(ctx.storeDatabaseUrl, ctx.recoverTimeoutMs, 'PostgreSQL to answer after SIGCONT');
        }
        return { detail: `SIGCONT ${sent.join(' ')}`, changed: wasFrozen };
      }),
  };
}

/** A network fault between the store and PostgreSQL, applied on the fault proxy. */
export function dbPartitionFault(ctx: DbFaultContext, mode: PartitionMode, opts: { latencyMs?: number; jitterMs?: number } = {}): Fault {
  const name = mode === 'latency' ? 'db-latency' : `db-partition-${mode.replace('_', '-')}`;
  const p = ctx.proxyName;
  const toxics: Record<Exclude<PartitionMode, 'down'>, Array<Parameters<ToxiproxyClient['addToxic']>[1]>> = {
    // a partition: nothing passes either way, connections stay open
    blackhole: [
      { name: 'blackhole_downstream', type: 'timeout', stream: 'downstream', attributes: { timeout: 0 } },
      { name: 'blackhole_upstream', type: 'timeout', stream: 'upstream', attributes: { timeout: 0 } },
    ],
    reset_peer: [{ name: 'reset_peer', type: 'reset_peer', stream: 'downstream', attributes: { timeout: 0 } }],
    latency: [{ name: 'latency', type: 'latency', stream: 'downstream', attributes: { latency: opts.latencyMs ?? 200, jitter: opts.jitterMs ?? 0 } }],
  };
  const descriptions: Record<PartitionMode, string> = {
    down: 'the link from the store to PostgreSQL is down: connections refused and closed (proxy disabled)',
    blackhole: 'the link from the store to PostgreSQL is a black hole: connections accepted, nothing ever answers',
    reset_peer: 'every connection from the store to PostgreSQL is reset (TCP RST)',
    latency: `every answer from PostgreSQL to the store is delayed by ${opts.latencyMs ?? 200} ms`,
  };
  return {
    name,
    description: descriptions[mode],
    inject: () =>
      act(name, 'inject', async () => {
        if (mode === 'down') {
          await ctx.proxy.setEnabled(p, false);
          return { detail: `POST /proxies/${p} {"enabled": false}` };
        }
        for (const t of toxics[mode]) await ctx.proxy.addToxic(p, t);
        return { detail: toxics[mode].map((t) => `POST /proxies/${p}/toxics ${JSON.stringify(t)}`).join('\n') };
      }),
    recover: () =>
      act(name, 'recover', async () => {
        const before = await ctx.proxy.proxy(p);
        const steps: string[] = [];
        for (const t of before.toxics) {
          await ctx.proxy.removeToxic(p, t.name);
          steps.push(`DELETE /proxies/${p}/toxics/${t.name}`);
        }
        if (mode === 'blackhole' && before.enabled) {
          // connections that lost data in the black hole are beyond repair: drop them, as TCP would time out
          await ctx.proxy.setEnabled(p, false);
          steps.push(`POST /proxies/${p} {"enabled": false}`);
        }
        if (!before.enabled || mode === 'blackhole') {
          await ctx.proxy.setEnabled(p, true);
          steps.push(`POST /proxies/${p} {"enabled": true}`);
        }
        await waitForPg(ctx.storeDatabaseUrl, ctx.recoverTimeoutMs, 'PostgreSQL to accept connections through the proxy');
        return { detail: steps.join('\n') || 'nothing to revert', changed: before.toxics.length > 0 || !before.enabled };
      }),
  };
}
