/**
 * The `local` driver: the embedded stack, driven by PID and data directory. PostgreSQL through
 * pg_ctl and signals to the postmaster's process tree; gunicorn through signals to its master.
 */
import { waitForPg } from '../integrity/pg-ready';
import type { EmbeddedStack } from '../stack/embedded-stack';
import { healStack } from '../stack/heal';
import { childPids, isAlive, processState, readPidFile, waitForExit } from '../stack/processes';
import { waitUntil } from '../wait';
import { DriverError, type ActionResult, type AppService, type DbService } from './types';

function signal(pids: readonly number[], sig: NodeJS.Signals): number[] {
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
}

/** The embedded PostgreSQL: pg_ctl stop -m fast / -m immediate, SIGSTOP/SIGCONT of its process tree. */
export function localDb(stack: EmbeddedStack, recoverTimeoutMs: number): DbService {
  const { cluster } = stack;
  let frozen: number[] = [];
  const stop = (mode: 'fast' | 'immediate') => async (): Promise<ActionResult> => ({
    detail: `pg_ctl stop -m ${mode}`,
    commands: [await cluster.stop(mode)],
  });
  return {
    label: `local PostgreSQL ${cluster.dataDir}`,
    actions: {
      stop: stop('fast'),
      crash: stop('immediate'),
      start: async () => {
        if (cluster.isRunning()) return { detail: 'already running', commands: [] };
        const record = await cluster.start(recoverTimeoutMs);
        // the store's own path (through the fault proxy) must accept again
        await waitForPg(stack.storeDatabaseUrl, recoverTimeoutMs, 'PostgreSQL to accept connections through the proxy');
        return { detail: 'pg_ctl start -w', commands: [record] };
      },
      freeze: async () => {
        const postmaster = cluster.postmasterPid();
        if (postmaster === undefined) throw new DriverError('db-freeze: PostgreSQL is not running');
        // the postmaster first, so that it cannot fork new backends while we stop the others
        frozen = [...signal([postmaster], 'SIGSTOP'), ...signal(childPids(postmaster), 'SIGSTOP')];
        return { detail: `SIGSTOP ${frozen.join(' ')} (postmaster ${postmaster} and ${frozen.length - 1} children)`, commands: [] };
      },
      unfreeze: async () => {
        const postmaster = cluster.postmasterPid();
        const targets = [...new Set([...frozen, ...(postmaster ? [postmaster, ...childPids(postmaster)] : [])])].filter(isAlive);
        const sent = signal(
          targets.filter((p) => processState(p) === 'T'),
          'SIGCONT',
        );
        frozen = [];
        return { detail: sent.length ? `SIGCONT ${sent.join(' ')}` : 'nothing was frozen', commands: [] };
      },
    },
    checks: {},
    missing: (action) => `the local driver has no ${action}`,
    status: async () => `postmaster ${cluster.postmasterPid() ?? 'not running'}${cluster.isFrozen() ? ' (frozen)' : ''}`,
    heal: () => healStack(stack, recoverTimeoutMs),
  };
}

/** The embedded gunicorn: HUP, TERM, KILL of one worker, TTOU/TTIN to its master. */
export function localApp(stack: EmbeddedStack, recoverTimeoutMs: number): AppService {
  // read when acting: a restart or a server switch replaces the StoreServer
  const store = () => stack.store;
  const master = (what: string): number => {
    const pid = store().masterPid();
    if (pid === undefined) throw new DriverError(`${what}: the store is not running (no gunicorn master)`);
    return pid;
  };
  return {
    label: 'local gunicorn',
    actions: {
      reload: async () => {
        const pid = master('app-reload');
        process.kill(pid, 'SIGHUP');
        return { detail: `SIGHUP ${pid}`, commands: [] };
      },
      stop: async () => {
        const pid = master('app-stop');
        const t0 = Date.now();
        process.kill(pid, 'SIGTERM');
        if (!(await waitForExit(pid, recoverTimeoutMs))) {
          throw new DriverError(`gunicorn master ${pid} did not exit within ${recoverTimeoutMs}ms of SIGTERM`);
        }
        return { detail: `SIGTERM ${pid}; the master exited after ${Date.now() - t0}ms`, commands: [] };
      },
      start: async () => {
        if (store().isRunning()) return { detail: 'already running', commands: [] };
        const { pid, readyMs } = await store().start(recoverTimeoutMs);
        return { detail: `started master ${pid}; health 200 after ${readyMs}ms`, commands: [] };
      },
      'kill-worker': async () => {
        const victim = store().workerPids()[0];
        if (victim === undefined) throw new DriverError('app-kill-worker: the store has no worker');
        process.kill(victim, 'SIGKILL');
        return { detail: `SIGKILL ${victim}`, commands: [], victim: String(victim) };
      },
      'scale-down': async () => {
        const pid = master('app-scale-down');
        process.kill(pid, 'SIGTTOU');
        return { detail: `SIGTTOU ${pid}`, commands: [] };
      },
      // zero-downtime restart: USR2 starts a new master on the same listening socket (it writes
      // <pidfile>.2); once its workers run, TERM retires the old master, whose workers drain
      reexec: async (args) => {
        const old = master('app-reexec');
        const want = args?.workers ?? store().expectedWorkers;
        process.kill(old, 'SIGUSR2');
        const next = await waitUntil(
          () => {
            const pid = readPidFile(`${store().pidFile}.2`);
            return pid !== undefined && pid !== old && isAlive(pid) && childPids(pid).filter(isAlive).length >= want ? pid : undefined;
          },
          { description: `a new master with ${want} workers after SIGUSR2 to ${old}`, timeoutMs: recoverTimeoutMs, intervalMs: 20 },
        );
        process.kill(old, 'SIGTERM');
        if (!(await waitForExit(old, recoverTimeoutMs)))
          throw new DriverError(`the old master ${old} did not exit within ${recoverTimeoutMs}ms of SIGTERM`);
        return { detail: `SIGUSR2 ${old}: new master ${next} with ${want} workers; SIGTERM ${old}: exited`, commands: [] };
      },
      'scale-up': async (args) => {
        const pid = master('app-scale-up');
        const missing = (args?.workers ?? store().expectedWorkers) - store().workerPids().length;
        for (let i = 0; i < missing; i++) process.kill(pid, 'SIGTTIN');
        return { detail: `SIGTTIN x${Math.max(0, missing)} to ${pid}`, commands: [] };
      },
    },
    checks: {},
    identity: async () => ({ instance: store().masterPid()?.toString(), workers: store().workerPids().map(String) }),
    missing: (action) => `the local driver has no ${action}`,
    status: async () => `master ${store().masterPid() ?? 'not running'}, workers ${store().workerPids().join(' ')}`,
    heal: async (workers) => {
      const done = await healStack(stack, recoverTimeoutMs);
      const want = workers ?? store().expectedWorkers;
      const pid = store().masterPid();
      const have = store().workerPids().length;
      if (pid !== undefined && have < want) {
        signal(
          Array.from({ length: want - have }, () => pid),
          'SIGTTIN',
        );
        await waitUntil(() => store().workerPids().length >= want, {
          description: `the store to run ${want} workers`,
          timeoutMs: recoverTimeoutMs,
        });
        done.push(`SIGTTIN x${want - have}: back to ${want} workers`);
      }
      return done;
    },
  };
}
