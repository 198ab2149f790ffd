/** Application-server faults on the embedded store: reload, worker death, full restart, scale down. */
import type { StoreServer } from '../stack/store-server';
import { isAlive, waitForExit } from '../stack/processes';
import { waitUntil } from '../wait';
import { act, type Fault } from './fault';

export interface AppFaultContext {
  /** the store server (read when the fault acts: a restart replaces the master) */
  readonly store: () => StoreServer;
  readonly recoverTimeoutMs: number;
}

function master(ctx: AppFaultContext): number {
  const pid = ctx.store().masterPid();
  if (pid === undefined) throw new Error('the store is not running (no gunicorn master)');
  return pid;
}

/** Waits until the master has its full set of workers, none of them in `gone`, and health answers 200. */
async function steadyState(ctx: AppFaultContext, gone: readonly number[] = []): Promise<number[]> {
  const store = ctx.store();
  const want = store.expectedWorkers;
  return waitUntil(
    async () => {
      const workers = store.workerPids();
      if (workers.length !== want || workers.some((p) => gone.includes(p)) || gone.some(isAlive)) return undefined;
      return (await store.healthStatus()) === 200 ? workers : undefined;
    },
    { description: `the store to run ${want} workers again and answer health 200`, timeoutMs: ctx.recoverTimeoutMs, intervalMs: 20 },
  );
}

/** SIGHUP to the master: new workers start, the old ones finish their requests and exit. */
export function appReloadFault(ctx: AppFaultContext): Fault {
  const name = 'app-reload';
  let old: number[] = [];
  return {
    name,
    description: 'graceful reload: SIGHUP to the gunicorn master (new workers, old ones drain)',
    inject: () =>
      act(name, 'inject', async () => {
        const pid = master(ctx);
        old = ctx.store().workerPids();
        process.kill(pid, 'SIGHUP');
        return { detail: `SIGHUP ${pid} (workers before: ${old.join(' ')})` };
      }),
    recover: () =>
      act(name, 'recover', async () => {
        const now = await steadyState(ctx, old);
        const changed = old.length > 0;
        old = [];
        return { detail: `workers after: ${now.join(' ')}`, changed };
      }),
  };
}

/** SIGKILL to one worker: the master notices and forks a replacement. */
export function appKillWorkerFault(ctx: AppFaultContext): Fault {
  const name = 'app-kill-worker';
  let victim: number | undefined;
  return {
    name,
    description: 'one worker killed with SIGKILL (the master respawns it)',
    inject: () =>
      act(name, 'inject', async () => {
        const workers = ctx.store().workerPids();
        victim = workers[0];
        if (victim === undefined) throw new Error('app-kill-worker: the store has no worker');
        process.kill(victim, 'SIGKILL');
        return { detail: `SIGKILL ${victim} (workers before: ${workers.join(' ')})` };
      }),
    recover: () =>
      act(name, 'recover', async () => {
        const now = await steadyState(ctx, victim === undefined ? [] : [victim]);
        const changed = victim !== undefined;
        victim = undefined;
        return { detail: `workers after: ${now.join(' ')}`, changed };
      }),
  };
}

/** SIGTERM to the master (workers drain, the master exits), then the store is started again. */
export function appRestartFault(ctx: AppFaultContext): Fault {
  const name = 'app-restart';
  return {
    name,
    description: 'full restart: SIGTERM to the gunicorn master, wait for it to exit, start again',
    inject: () =>
      act(name, 'inject', async () => {
        const pid = master(ctx);
        const t0 = Date.now();
        process.kill(pid, 'SIGTERM');
        if (!(await waitForExit(pid, ctx.recoverTimeoutMs))) throw new Error(`gunicorn master ${pid} did not exit within ${ctx.recoverTimeoutMs}ms of SIGTERM`);
        return { detail: `SIGTERM ${pid}; the master exited after ${Date.now() - t0}ms` };
      }),
    recover: () =>
      act(name, 'recover', async () => {
        const store = ctx.store();
        if (store.isRunning()) return { detail: 'already running', changed: false };
        const { pid, readyMs } = await store.start(ctx.recoverTimeoutMs);
        await steadyState(ctx);
        return { detail: `started master ${pid}; health 200 after ${readyMs}ms` };
      }),
  };
}

/** SIGTTOU (one worker fewer), recovered with SIGTTIN (one more). */
export function appScaleDownFault(ctx: AppFaultContext): Fault {
  const name = 'app-scale-down';
  let removed = false;
  return {
    name,
    description: 'scale down and up: SIGTTOU to the master (one worker fewer), then SIGTTIN',
    inject: () =>
      act(name, 'inject', async () => {
        const pid = master(ctx);
        const store = ctx.store();
        const before = store.workerPids();
        if (before.length <= 1) throw new Error(`app-scale-down: the store runs ${before.length} worker(s); gunicorn keeps at least one, so there is nothing to scale down`);
        process.kill(pid, 'SIGTTOU');
        removed = true;
        const after = await waitUntil(() => (store.workerPids().length === before.length - 1 ? store.workerPids() : undefined), {
          description: `the master to stop one of ${before.length} workers`,
          timeoutMs: ctx.recoverTimeoutMs,
          intervalMs: 20,
        });
        return { detail: `SIGTTOU ${pid}: workers ${before.join(' ')} -> ${after.join(' ')}` };
      }),
    recover: () =>
      act(name, 'recover', async () => {
        const store = ctx.store();
        const missing = store.expectedWorkers - store.workerPids().length;
        const pid = master(ctx);
        for (let i = 0; i < missing; i++) process.kill(pid, 'SIGTTIN');
        const now = await steadyState(ctx);
        const changed = removed || missing > 0;
        removed = false;
        return { detail: `SIGTTIN x${Math.max(0, missing)} to ${pid}: workers ${now.join(' ')}`, changed };
      }),
  };
}
