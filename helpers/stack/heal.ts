/**
 * The backstop: brings every service of an embedded stack back, whatever state a killed or
 * interrupted test left it in (frozen, stopped, proxy faulted, store down). Idempotent.
 */
import { waitForPg } from '../integrity/pg-ready';
import type { EmbeddedStack } from './embedded-stack';
import { waitUntil } from '../wait';
import { childPids, processState } from './processes';

/** Heals the stack and returns what it had to do (empty when all was well). */
export async function healStack(stack: EmbeddedStack, timeoutMs = 30_000): Promise<string[]> {
  const done: string[] = [];
  const postmaster = stack.cluster.postmasterPid();
  if (postmaster !== undefined) {
    const stopped = [postmaster, ...childPids(postmaster)].filter((p) => processState(p) === 'T');
    for (const pid of stopped) {
      try {
        process.kill(pid, 'SIGCONT');
      } catch {
        // gone
      }
    }
    if (stopped.length > 0) done.push(`SIGCONT to ${stopped.length} frozen postgres processes`);
  } else {
    await stack.cluster.start(timeoutMs);
    done.push('started PostgreSQL');
  }
  if (stack.proxy.pid() === undefined) {
    await stack.proxy.start();
    done.push('started the fault proxy');
  } else {
    const p = await stack.proxy.client.proxy(stack.state.proxy.name);
    if (!p.enabled || p.toxics.length > 0) {
      await stack.proxy.client.reset();
      done.push(`reset the fault proxy (${p.enabled ? '' : 'disabled; '}${p.toxics.map((t) => t.name).join(', ') || 'no toxics'})`);
    }
  }
  await waitForPg(stack.storeDatabaseUrl, timeoutMs, 'PostgreSQL to accept connections through the proxy');
  if (!stack.store.isRunning()) {
    await stack.store.start(timeoutMs);
    done.push('started the store');
  } else if ((await stack.store.healthStatus()) !== 200) {
    await stack.store.stop();
    await stack.store.start(timeoutMs);
    done.push('restarted the unhealthy store');
  } else {
    // a scale-down left behind: ask the master for the missing workers
    const master = stack.store.masterPid();
    const missing = stack.store.expectedWorkers - stack.store.workerPids().length;
    if (master !== undefined && missing > 0) {
      for (let i = 0; i < missing; i++) process.kill(master, 'SIGTTIN');
      await waitUntil(() => stack.store.workerPids().length >= stack.store.expectedWorkers, {
        description: `the store to run ${stack.store.expectedWorkers} workers`,
        timeoutMs,
      });
      done.push(`SIGTTIN x${missing}: back to ${stack.store.expectedWorkers} workers`);
    }
  }
  return done;
}
