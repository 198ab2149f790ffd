/**
 * The state file of an embedded stack (stack.json in its folder): what was started, on which
 * ports, with which secrets, so that any process (test worker, teardown, scripts/recover, the
 * next run) can find and act on exactly that.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Credentials, FlawName, ServerKind } from '../config';

export const STATE_FILE = 'stack.json';
export const STATE_VERSION = 2;

export interface StackOwner {
  /** the process whose exit makes the stack a leftover (the test runner), or undefined for a playground */
  readonly pid?: number;
  readonly kind: 'test' | 'playground' | 'helper-test';
}

export interface StackState {
  readonly version: number;
  readonly dir: string;
  readonly owner: StackOwner;
  readonly createdAt: string;
  readonly pgBin: string;
  readonly python: string;
  readonly postgres: {
    readonly port: number;
    readonly superPassword: string;
    readonly database: string;
    readonly user: string;
    readonly password: string;
  };
  /** the fault proxy the store reaches PostgreSQL through */
  readonly proxy: { readonly name: string; readonly port: number; readonly controlPort: number };
  readonly store: {
    readonly port: number;
    readonly server: ServerKind;
    readonly workers: number;
    readonly flaws: readonly FlawName[];
    readonly flawPauseMs?: number;
    /** the store's STORE_*_RATE limits (DRF's format, 10/min), by the suite's name for each */
    readonly rateLimits?: Readonly<Record<string, string>>;
    readonly secretKey: string;
    /** the database URL the store uses (through the proxy) */
    readonly databaseUrl: string;
  };
  readonly users: { readonly customer: Credentials; readonly secondCustomer: Credentials; readonly staff: Credentials };
  readonly timings: Readonly<Record<string, number>>;
}

/**
 * The folder that holds the stacks must be this user's and writable by nobody else: a stack.json
 * another local user planted there would otherwise steer what the suite signals and where it
 * connects. Created 0711: only the owner lists or writes it; the postgres user (the server refuses
 * root) can still traverse to its data directory.
 */
export function ensureSafeStackRoot(root: string): void {
  if (!fs.existsSync(root)) fs.mkdirSync(root, { recursive: true, mode: 0o711 });
  // lstat: a symbolic link is refused, never followed (it could point anywhere)
  const st = fs.lstatSync(root);
  const uid = typeof process.getuid === 'function' ? process.getuid() : st.uid;
  if (st.isSymbolicLink() || !st.isDirectory() || st.uid !== uid || (st.mode & 0o022) !== 0) {
    throw new Error(
      `STACK_ROOT ${root} is not safe to use: it must be a directory (not a symbolic link) owned by uid ${uid} and writable by nobody else ` +
        `(it is ${st.isSymbolicLink() ? 'a symbolic link' : st.isDirectory() ? 'a directory' : 'not a directory'} owned by uid ${st.uid}, mode ${(st.mode & 0o777).toString(8)}); remove it or set STACK_ROOT`,
    );
  }
}

/** Reads a stack's state file, or undefined when there is none. */
export function readStackState(dir: string): StackState | undefined {
  ensureSafeStackRoot(path.dirname(dir));
  const file = path.join(dir, STATE_FILE);
  if (!fs.existsSync(file)) return undefined;
  const state = JSON.parse(fs.readFileSync(file, 'utf8')) as StackState;
  if (state.version !== STATE_VERSION) throw new Error(`${file}: state version ${state.version}, expected ${STATE_VERSION}`);
  return state;
}

export function writeStackState(state: StackState): void {
  const file = path.join(state.dir, STATE_FILE);
  fs.writeFileSync(`${file}.tmp`, JSON.stringify(state, null, 2), { mode: 0o600 });
  fs.renameSync(`${file}.tmp`, file);
}

/** The state, or undefined when there is none or it cannot be read (a half-written folder). */
export function readStackStateSafe(dir: string): StackState | undefined {
  try {
    return readStackState(dir);
  } catch {
    return undefined;
  }
}
