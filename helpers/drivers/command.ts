/**
 * The `command` driver: your own shell commands, one per action (DB_STOP_COMMAND, APP_RELOAD_COMMAND,
 * ...), each with an optional check (DB_STOP_CHECK) that exits 0 once the action took effect.
 * Commands also override single actions of the other drivers (DB_FREEZE_COMMAND on kubectl).
 * Each runs as `sh -c <command>` with a timeout; a non-zero exit is an error with its output.
 */
import { childEnv } from '../config';
import {
  commandKey,
  type AppAction,
  type AppDriverSettings,
  type DbAction,
  type DbDriverSettings,
  type UserCommand,
} from '../config/external';
import { runCommand, type CommandRecord } from '../stack/command';
import type { Action, AppService, DbService, ServerIdentity } from './types';

/** Runs a user command through sh -c; extra variables are added to the environment. */
export function runUserCommand(c: UserCommand, timeoutMs: number, extra: Readonly<Record<string, string>> = {}): Promise<CommandRecord> {
  return runCommand('sh', ['-c', c.command], { timeoutMs, env: childEnv(extra) });
}

const userAction =
  (c: UserCommand, timeoutMs: number): Action =>
  async (args) => ({
    detail: `${c.key}: ${c.command}`,
    commands: [await runUserCommand(c, timeoutMs, args?.workers === undefined ? {} : { STORE_WORKERS: String(args.workers) })],
  });

function actionsOf<A extends string>(commands: Readonly<Partial<Record<A, UserCommand>>>, timeoutMs: number): Partial<Record<A, Action>> {
  const out: Partial<Record<A, Action>> = {};
  for (const [a, c] of Object.entries(commands) as Array<[A, UserCommand]>) out[a] = userAction(c, timeoutMs);
  return out;
}

function checksOf<A extends string>(
  checks: Readonly<Partial<Record<A, UserCommand>>>,
  timeoutMs: number,
): Partial<Record<A, () => Promise<CommandRecord>>> {
  const out: Partial<Record<A, () => Promise<CommandRecord>>> = {};
  for (const [a, c] of Object.entries(checks) as Array<[A, UserCommand]>) out[a] = () => runUserCommand(c, timeoutMs);
  return out;
}

/** Lines a command printed, trimmed, empty ones dropped. */
const lines = (s: string) =>
  s
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);

/** What the driver lacks, and the user's command that would stand in (unless the reason names it already). */
const orGive = (reason: string, key: string): string => (reason.includes(key) ? reason : `${reason}; or give ${key}`);

/**
 * A service with the user's commands layered over a driver's own actions (or alone, for the
 * command driver): a command replaces the driver's way for its action; checks are added.
 */
export function withUserCommandsDb(base: DbService | undefined, s: DbDriverSettings, timeoutMs: number): DbService {
  const own = actionsOf<DbAction>(s.commands, timeoutMs);
  return {
    label: base ? `${base.label}${Object.keys(own).length ? ' + your commands' : ''}` : 'your commands',
    actions: { ...base?.actions, ...own },
    checks: { ...base?.checks, ...checksOf<DbAction>(s.checks, timeoutMs) },
    missing: (action) => (base ? orGive(base.missing(action), commandKey('DB', action)) : `${commandKey('DB', action)} is not set`),
    status: async () => (base ? base.status() : `your commands for ${Object.keys(own).join(', ')} (no state of their own)`),
    heal: async () => {
      if (base) return base.heal();
      // the command driver knows no state: a start that is not needed must be harmless (the user's command decides)
      const done: string[] = [];
      for (const a of ['unfreeze', 'start'] as const) {
        const c = s.commands[a];
        if (!c) continue;
        try {
          await runUserCommand(c, timeoutMs);
          done.push(`${c.key}`);
        } catch (error) {
          done.push(`${c.key} failed: ${(error as Error).message.split('\n')[0]}`);
        }
      }
      return done;
    },
  };
}

/** The app server with the user's commands layered over a driver (or alone). */
export function withUserCommandsApp(base: AppService | undefined, s: AppDriverSettings, timeoutMs: number): AppService {
  const own = actionsOf<AppAction>(s.commands, timeoutMs);
  const { workersCommand, instanceCommand } = s;
  let identity = base?.identity;
  if (workersCommand || instanceCommand) {
    identity = async (): Promise<ServerIdentity> => {
      const fromBase = base?.identity ? await base.identity() : undefined;
      const workers = workersCommand
        ? lines((await runUserCommand(workersCommand, timeoutMs).catch(() => undefined))?.stdout ?? '')
        : (fromBase?.workers ?? []);
      const instance = instanceCommand
        ? (await runUserCommand(instanceCommand, timeoutMs).catch(() => undefined))?.stdout.trim() || undefined
        : fromBase?.instance;
      return { instance, workers };
    };
  }
  return {
    label: base ? `${base.label}${Object.keys(own).length ? ' + your commands' : ''}` : 'your commands',
    actions: { ...base?.actions, ...own },
    checks: { ...base?.checks, ...checksOf<AppAction>(s.checks, timeoutMs) },
    identity,
    status: async () => {
      if (base) return base.status();
      const id = identity ? await identity() : undefined;
      return `your commands for ${Object.keys(own).join(', ')}${id ? `; instance ${id.instance ?? 'unknown'}, workers [${id.workers.join(' ')}]` : ''}`;
    },
    missing: (action) => {
      if (action === 'identity')
        return base
          ? base.missing(action)
          : 'APP_WORKERS_COMMAND (prints one worker identity per line) and APP_INSTANCE_COMMAND (prints the master PID) are not set';
      return base ? orGive(base.missing(action), commandKey('APP', action)) : `${commandKey('APP', action)} is not set`;
    },
    heal: async (workers) => {
      if (base) return base.heal(workers);
      const c = s.commands.start;
      if (!c) return [];
      try {
        await runUserCommand(c, timeoutMs);
        return [c.key];
      } catch (error) {
        return [`${c.key} failed: ${(error as Error).message.split('\n')[0]}`];
      }
    },
  };
}
