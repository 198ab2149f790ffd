/** Cleaning up stacks: one stack folder by what it recorded and what is running, and every leftover of a killed run. */
import fs from 'node:fs';
import path from 'node:path';
import { config } from '../config';
import { PostgresCluster } from './postgres-cluster';
import { isAlive, pidsWithMarker, signalIfOurs, waitForExit, wakeProcessTree } from './processes';
import { stackParts } from './stack-parts';
import { STATE_FILE, ensureSafeStackRoot, readStackStateSafe, type StackState } from './stack-state';

/**
 * Stops everything a stack folder started and removes the folder. Works from the state file
 * when there is one, and from the processes marked with the folder's path when there is not
 * (a run killed before it wrote state). Returns what it did.
 */
export async function cleanupStack(dir: string): Promise<string[]> {
  const done: string[] = [];
  if (!fs.existsSync(dir)) return done;
  // the root first: nothing inside it is read, signalled or removed before it is known to be ours alone
  ensureSafeStackRoot(path.dirname(dir));
  const state = readStackStateSafe(dir);
  if (state) {
    const stack = stackParts(state);
    const master = stack.store.masterPid();
    if (master !== undefined || pidsWithMarker(stack.store.pidFile).length > 0) {
      await stack.store.stop(5_000);
      done.push(`stopped store (master ${master ?? 'gone'})`);
    }
    if (stack.proxy.pid() !== undefined) {
      await stack.proxy.stop();
      done.push('stopped fault proxy');
    }
  }
  // the postmaster's command line names its data directory, gunicorn's names the pidfile: both are under dir
  const dataDir = path.join(dir, 'pg', 'data');
  const postmasters = pidsWithMarker(dataDir);
  if (postmasters.length > 0 || fs.existsSync(path.join(dataDir, 'postmaster.pid'))) {
    const cluster = state
      ? new PostgresCluster({ dir: path.join(dir, 'pg'), pgBin: config().embedded.pgBin, port: state.postgres.port })
      : undefined;
    // a frozen server cannot stop: wake the postmaster and its backends first
    for (const pid of postmasters) wakeProcessTree(pid, dataDir);
    try {
      if (cluster?.isRunning()) {
        await cluster.stop('immediate', 10_000);
        done.push('stopped postgres (immediate)');
      }
    } catch (error) {
      done.push(`pg_ctl stop failed: ${(error as Error).message.split('\n')[0]}`);
    }
  }
  for (const pid of pidsWithMarker(dir)) {
    if (signalIfOurs(pid, 'SIGKILL', dir)) done.push(`killed ${pid}`);
  }
  for (const pid of pidsWithMarker(dir)) await waitForExit(pid, 5_000);
  fs.rmSync(dir, { recursive: true, force: true });
  return done;
}

/** True when the stack belongs to a test run that is gone (a leftover to clean). */
export function isLeftover(state: StackState): boolean {
  return state.owner.kind !== 'playground' && state.owner.pid !== undefined && !isAlive(state.owner.pid);
}

/** Stack folders under root (each holding a state file, or at least a data directory). */
export function stackFolders(root: string): string[] {
  if (!fs.existsSync(root)) return [];
  ensureSafeStackRoot(root);
  return fs
    .readdirSync(root)
    .map((name) => path.join(root, name))
    .filter((dir) => fs.existsSync(path.join(dir, STATE_FILE)) || fs.existsSync(path.join(dir, 'pg', 'data')));
}

/**
 * The ports every stack under root recorded (PostgreSQL, the store, the proxy and its control), but
 * `except`'s: a new stack takes none of them, since a stack's server may be stopped for a fault
 * (another lane's PostgreSQL in an outage) and must find its port free when it comes back.
 */
export function portsRecordedUnder(root: string, except?: string): number[] {
  return stackFolders(root)
    .filter((d) => d !== except)
    .flatMap((d) => {
      const st = readStackStateSafe(d);
      return st ? [st.postgres.port, st.store.port, st.proxy.port, st.proxy.controlPort] : [];
    });
}

/** Cleans every leftover of a killed run under root; returns one line per stack cleaned. */
export async function sweepLeftovers(root: string): Promise<string[]> {
  const out: string[] = [];
  for (const dir of stackFolders(root)) {
    const state = readStackStateSafe(dir);
    if (state && !isLeftover(state)) continue;
    const done = await cleanupStack(dir);
    out.push(`${path.basename(dir)}: ${done.join('; ') || 'removed'}`);
  }
  return out;
}
