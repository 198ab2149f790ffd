/** Process helpers that act by PID only, and only on processes proven to be ours. */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import { waitUntil } from '../wait';

/** The process's command line, or undefined when it is gone. */
export function commandLine(pid: number): string | undefined {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim();
  } catch {
    return undefined;
  }
}

/** Process state letter from /proc (R, S, T = stopped, Z = zombie), or undefined when gone. */
export function processState(pid: number): string | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0];
  } catch {
    return undefined;
  }
}

/** Parent PID, or undefined when gone. */
export function parentPid(pid: number): number | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  } catch {
    return undefined;
  }
}

/** Start time of a process in clock ticks since boot (/proc/<pid>/stat field 22): with the PID, an identity that survives PID reuse. */
export function processStartTicks(pid: number): number | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]);
  } catch {
    return undefined;
  }
}

/** "pid@start": a process identity that a reused PID does not repeat. */
export function processIdentity(pid: number): string {
  return `${pid}@${processStartTicks(pid) ?? '?'}`;
}

/** True while the PID exists and is not a zombie. */
export function isAlive(pid: number): boolean {
  const state = processState(pid);
  return state !== undefined && state !== 'Z';
}

/** PIDs whose parent is pid. */
export function childPids(pid: number): number[] {
  return allPids().filter((p) => parentPid(p) === pid);
}

/** The process's arguments, or undefined when it is gone. */
export function argvOf(pid: number): string[] | undefined {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
  } catch {
    return undefined;
  }
}

/**
 * True when an argument is the marker path or a path inside it (as itself or after `--opt=`):
 * `/stacks/abc` marks `/stacks/abc/pg/data`, never `/stacks/abc-2/pg/data`.
 */
export function argvHasMarker(argv: readonly string[], marker: string): boolean {
  const m = marker.replace(/\/+$/, '');
  const within = (v: string) => v === m || v.startsWith(`${m}/`);
  return argv.some((a) => within(a) || (a.includes('=') && within(a.slice(a.indexOf('=') + 1))));
}

const isOurs = (pid: number, marker: string) => {
  const argv = argvOf(pid);
  return argv !== undefined && argvHasMarker(argv, marker);
};

/** Every PID whose arguments name marker (a path only our stack uses), exactly or as a path inside it. */
export function pidsWithMarker(marker: string): number[] {
  return allPids().filter((p) => p !== process.pid && isOurs(p, marker));
}

function allPids(): number[] {
  return fs
    .readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .map(Number);
}

/** Sends a signal to pid only when its command line contains marker; returns whether it was sent. */
export function signalIfOurs(pid: number, signal: NodeJS.Signals, marker: string): boolean {
  if (!isOurs(pid, marker)) return false;
  try {
    process.kill(pid, signal);
    return true;
  } catch {
    return false;
  }
}

/** Waits until pid is gone (or a zombie); false when it outlived timeoutMs. */
export async function waitForExit(pid: number, timeoutMs: number): Promise<boolean> {
  try {
    await waitUntil(() => !isAlive(pid), { description: `process ${pid} to exit`, timeoutMs, intervalMs: 20 });
    return true;
  } catch {
    return false;
  }
}

/** Reads a pidfile: the PID, or undefined when absent or malformed. */
export function readPidFile(file: string): number | undefined {
  try {
    const pid = Number(fs.readFileSync(file, 'utf8').split('\n')[0]?.trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** SIGCONT to pid (when ours, by marker) and to its direct children (ours by parentage). */
export function wakeProcessTree(pid: number, marker: string): void {
  if (!signalIfOurs(pid, 'SIGCONT', marker)) return;
  for (const child of childPids(pid)) {
    try {
      process.kill(child, 'SIGCONT');
    } catch {
      // already gone
    }
  }
}

export interface DetachedStart {
  readonly file: string;
  readonly args: readonly string[];
  readonly cwd: string;
  readonly env?: NodeJS.ProcessEnv;
  /** stdout and stderr are appended here */
  readonly logFile: string;
  /** true once the service answers */
  readonly ready: () => Promise<boolean>;
  readonly description: string;
  readonly timeoutMs: number;
}

/**
 * Starts a service in its own process group (it outlives the caller, Ctrl+C does not reach it) and
 * waits until ready() holds; if it exits or never gets ready, its whole group is killed and the
 * error carries the end of its log. Returns the PID.
 */
export async function startDetached(o: DetachedStart): Promise<number> {
  const log = fs.openSync(o.logFile, 'a');
  const child = spawn(o.file, [...o.args], { cwd: o.cwd, env: o.env, detached: true, stdio: ['ignore', log, log] });
  fs.closeSync(log);
  child.unref();
  const pid = child.pid;
  const tail = () => {
    try {
      return fs.readFileSync(o.logFile, 'utf8').slice(-2000);
    } catch {
      return '(no log)';
    }
  };
  if (pid === undefined) throw new Error(`${o.description}: the process did not start\n${tail()}`);
  let exited: number | null = null;
  child.once('exit', (code) => (exited = code ?? -1));
  try {
    await waitUntil(
      async () => {
        if (exited !== null) throw new Error(`exited with ${exited}`);
        return o.ready();
      },
      { description: o.description, timeoutMs: o.timeoutMs, intervalMs: 25 },
    );
  } catch (error) {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      // already gone
    }
    throw new Error(`${(error as Error).message}\n--- log ---\n${tail()}`);
  }
  return pid;
}
