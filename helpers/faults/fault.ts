/**
 * A reversible fault and the record of its actions. Tests scope faults through the `faults` fixture
 * (e2e/fixtures), which reverts every fault it injected in teardown, even when the test fails.
 */
import type { CommandRecord } from '../stack/command';

/** What one inject or recover did: evidence for the report. */
export interface FaultAction {
  readonly fault: string;
  readonly action: 'inject' | 'recover';
  /** epoch ms when the action started / ended */
  readonly startedAt: number;
  readonly endedAt: number;
  /** what was done, for a person: "pg_ctl stop -m fast", "SIGSTOP 1234 1235 ..." */
  readonly detail: string;
  readonly commands: readonly CommandRecord[];
  /** recover only: false when there was nothing to revert */
  readonly changed: boolean;
  /** what proved the fault took effect (inject) or was reverted (recover), and when */
  readonly observation?: string;
  readonly observedAt?: number;
  /**
   * how long the look that saw it took (a call of kubectl or docker, a query): the state it saw was
   * read during that look, so it came about no later than observedAt, and the tool's share of a
   * measured time is at most this
   */
  readonly lookMs?: number;
}

/** The fault was applied but its effect never showed: a problem of the fault or its driver, not of the store. */
export class FaultNotObserved extends Error {
  constructor(fault: string, driver: string, expected: string, elapsedMs: number, last: string) {
    super(`fault not observed: ${fault} (${driver}): ${expected} not seen within ${elapsedMs}ms after the action (last: ${last})`);
    this.name = 'FaultNotObserved';
  }
}

/**
 * The action took effect and broke the target: a zero-downtime action left nothing answering, no
 * server instance, or workers dying as they boot. A defect of the deployment (or of the procedure the
 * action runs), not of the suite: filed with the store's defects, with its evidence.
 */
export class TargetBroken extends Error {
  constructor(
    fault: string,
    driver: string,
    meant: string,
    readonly evidence: { readonly state: string; readonly timeline: readonly string[]; readonly log?: string },
  ) {
    super(
      `the deployment broke: ${fault} (${driver}) was meant to leave the store serving (${meant}), and left it ${evidence.state}.\n` +
        `health and server over time: ${evidence.timeline.join(' | ')}` +
        (evidence.log ? `\nlast lines of the store's log:\n${evidence.log}` : ''),
    );
    this.name = 'TargetBroken';
  }
}

/** The fault was reverted but the target did not come back: a failure of its own, named as such. */
export class FaultDidNotRecover extends Error {
  constructor(fault: string, driver: string, expected: string, elapsedMs: number, last: string) {
    super(`did not recover: ${fault} (${driver}): ${expected} not seen within ${elapsedMs}ms of the revert (last: ${last})`);
    this.name = 'FaultDidNotRecover';
  }
}

/** A reversible fault. recover() is idempotent and safe when inject() never ran. */
export interface Fault {
  readonly name: string;
  /** one line for reports: what breaks and how */
  readonly description: string;
  inject(): Promise<FaultAction>;
  /** reverts the fault and resolves once the target is reachable again on its own path */
  recover(): Promise<FaultAction>;
}

/** Builds a FaultAction around an async body that returns its detail and commands. */
export async function act(
  fault: string,
  action: 'inject' | 'recover',
  body: () => Promise<{
    detail: string;
    commands?: readonly CommandRecord[];
    changed?: boolean;
    endedAt?: number;
    observation?: string;
    observedAt?: number;
    lookMs?: number;
  }>,
): Promise<FaultAction> {
  const startedAt = Date.now();
  const r = await body();
  return {
    fault,
    action,
    startedAt,
    endedAt: r.endedAt ?? Date.now(),
    detail: r.detail,
    commands: r.commands ?? [],
    changed: r.changed ?? true,
    observation: r.observation,
    observedAt: r.observedAt,
    lookMs: r.lookMs,
  };
}

/** Recovers every fault in reverse order of injection, aggregating errors. */
export async function recoverAll(faults: readonly Fault[]): Promise<FaultAction[]> {
  const actions: FaultAction[] = [];
  const errors: unknown[] = [];
  for (const fault of [...faults].reverse()) {
    try {
      actions.push(await fault.recover());
    } catch (error) {
      errors.push(error);
    }
  }
  if (errors.length === 1) throw errors[0];
  if (errors.length > 1) throw new AggregateError(errors, `${errors.length} faults failed to recover`);
  return actions;
}

/**
 * How much of an action's time its tools took, for a bound's message: the user's own command
 * (APP_STOP_COMMAND: ...) as "; your APP_STOP_COMMAND took 1991ms", a driver's tool calls as
 * "; kubectl took 740ms in 3 calls" (the orchestrator's share, apart from the store's own time).
 */
export function userCommandShare(a: FaultAction): string {
  const key = /^([A-Z_]+_COMMAND):/.exec(a.detail)?.[1];
  const first = a.commands[0]?.durationMs;
  if (key && first !== undefined) return `; your ${key} took ${first}ms`;
  if (a.commands.length === 0) return '';
  const tools = [...new Set(a.commands.map((c) => c.command.split(' ')[0]?.split('/').at(-1) ?? 'its tool'))].join(', ');
  const ms = a.commands.reduce((sum, c) => sum + c.durationMs, 0);
  return `; ${tools} took ${ms}ms in ${a.commands.length} call${a.commands.length === 1 ? '' : 's'}`;
}
