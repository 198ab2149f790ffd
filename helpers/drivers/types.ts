/**
 * What a fault driver is: for each service of the target (the database, the app server), the
 * actions it can take and what it can see. A scenario names a fault (helpers/faults/catalog.ts);
 * the catalog composes it from these actions and proves, with its own probes, that the fault took
 * effect and was reverted. Drivers: local (the embedded stack), command, systemd, compose, kubectl.
 */
import type { AppAction, DbAction } from '../config/external';
import type { CommandRecord } from '../stack/command';

export type { AppAction, DbAction } from '../config/external';

/** What one action did: evidence for the report. */
export interface ActionResult {
  /** for a person: "systemctl stop postgresql@15-main", "SIGKILL 1234" */
  readonly detail: string;
  readonly commands: readonly CommandRecord[];
  /** kill-worker: the identity of the worker it killed */
  readonly victim?: string;
}

/** Arguments some actions take: scale-up needs the worker count to return to. */
export interface ActionArgs {
  readonly workers?: number;
}

export type Action = (args?: ActionArgs) => Promise<ActionResult>;

/** The app server as its driver sees it. */
export interface ServerIdentity {
  /** the server instance: master PID, MainPID, container start, the set of pods; undefined when down */
  readonly instance: string | undefined;
  /** one identity per worker (PID@start, container PID, pod UID) */
  readonly workers: readonly string[];
}

/** The database service of a target. */
export interface DbService {
  /** driver and unit, for messages: "systemd postgresql@15-main" */
  readonly label: string;
  readonly actions: Readonly<Partial<Record<DbAction, Action>>>;
  /** commands that exit 0 once an action took effect (DB_<ACTION>_CHECK) */
  readonly checks: Readonly<Partial<Record<DbAction, () => Promise<CommandRecord>>>>;
  /** the setting that would give an action this service lacks */
  missing(action: DbAction): string;
  /** one line of the service's state, as its driver sees it (preflight, evidence) */
  status(): Promise<string>;
  /** backstop: thaw and start what is down; returns what it did */
  heal(): Promise<string[]>;
}

/** The app server of a target. */
export interface AppService {
  readonly label: string;
  readonly actions: Readonly<Partial<Record<AppAction, Action>>>;
  readonly checks: Readonly<Partial<Record<AppAction, () => Promise<CommandRecord>>>>;
  /** the server's identity, when the driver can know it */
  readonly identity?: () => Promise<ServerIdentity>;
  missing(action: AppAction | 'identity'): string;
  /** one line of the server's state, as its driver sees it */
  status(): Promise<string>;
  /** backstop: start the server and bring its workers back to `workers`; returns what it did */
  heal(workers: number | undefined): Promise<string[]>;
}

/** Thrown by a driver for a state it cannot act on (no worker to kill, one worker to scale down). */
export class DriverError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DriverError';
  }
}
