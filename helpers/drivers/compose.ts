/**
 * The `compose` driver: services of a docker compose project (`docker compose -p P -f F ...`).
 * - the database: stop/start, crash = `kill -s SIGKILL` (the container dies with every backend),
 *   freeze = pause/unpause (the cgroup freezer). Not `pg_ctl stop` inside the container: in the
 *   official postgres image the postmaster is PID 1, so that ends the container instead;
 * - gunicorn (PID 1 of its container, exec form): `kill -s SIGHUP` reloads, SIGTTOU/SIGTTIN scale,
 *   the workers are PID 1's children (`/proc/1/task/1/children`), one is killed with `kill -s KILL`;
 * - identity: the container's ID and StartedAt (`docker inspect`), which a restart changes;
 * - state from `docker compose ps --format json`: NDJSON since compose 2.21, one array before.
 */
import { runCommand, type CommandRecord } from '../stack/command';
import { DriverError, type ActionResult, type AppService, type DbService, type ServerIdentity } from './types';

export interface ComposeContainer {
  readonly ID: string;
  readonly Name: string;
  readonly Service: string;
  /** running, exited, paused, restarting, created, dead */
  readonly State: string;
  readonly Health?: string;
  readonly ExitCode?: number;
}

export interface ContainerState {
  readonly Status: string;
  readonly Running: boolean;
  readonly Paused: boolean;
  readonly Pid: number;
  readonly StartedAt: string;
}

/** Parses `docker compose ps --format json`: NDJSON (compose >= 2.21) or one JSON array (before). */
export function parseComposePs(text: string): ComposeContainer[] {
  const trimmed = text.trim();
  if (!trimmed) return [];
  const items: unknown[] = trimmed.startsWith('[')
    ? (JSON.parse(trimmed) as unknown[])
    : trimmed
        .split('\n')
        .filter((l) => l.trim())
        .map((l) => JSON.parse(l) as unknown);
  return items.map((raw) => {
    const o = raw as Record<string, unknown>;
    if (typeof o.ID !== 'string' || typeof o.Service !== 'string' || typeof o.State !== 'string') {
      throw new DriverError(`docker compose ps: an entry without ID, Service or State: ${JSON.stringify(o).slice(0, 300)}`);
    }
    return {
      ID: o.ID,
      Name: typeof o.Name === 'string' ? o.Name : '',
      Service: o.Service,
      State: o.State,
      Health: o.Health as string | undefined,
      ExitCode: o.ExitCode as number | undefined,
    };
  });
}

/** Parses `docker inspect --format '{{json .State}}'`. */
export function parseContainerState(text: string): ContainerState {
  // one container asked: one JSON value (a line with --format, pretty-printed in a full inspect's State)
  const o = JSON.parse(text.trim()) as Record<string, unknown>;
  if (typeof o.Status !== 'string' || typeof o.StartedAt !== 'string')
    throw new DriverError(`docker inspect: no Status/StartedAt in ${text.slice(0, 300)}`);
  return { Status: o.Status, Running: o.Running === true, Paused: o.Paused === true, Pid: Number(o.Pid ?? 0), StartedAt: o.StartedAt };
}

/** Worker PIDs (in the container's namespace) from `cat /proc/1/task/1/children`. */
export const parseChildren = (text: string): string[] =>
  text
    .trim()
    .split(/\s+/)
    .filter((p) => /^\d+$/.test(p));

/** argv of each docker use, after `docker compose -p P [-f F]...`, in one place (the unit tests check them). */
export const composeArgv = {
  base: (project: string, files: readonly string[]) => ['compose', '-p', project, ...files.flatMap((f) => ['-f', f])],
  ps: (service: string) => ['ps', '--all', '--format', 'json', service],
  stop: (service: string) => ['stop', service],
  start: (service: string) => ['start', service],
  kill: (service: string, signal: string) => ['kill', '-s', signal, service],
  pause: (service: string) => ['pause', service],
  unpause: (service: string) => ['unpause', service],
  children: (service: string) => ['exec', '-T', service, 'cat', '/proc/1/task/1/children'],
  killPid: (service: string, pid: string) => ['exec', '-T', service, 'sh', '-c', `kill -s KILL ${pid}`],
  logs: (service: string, sinceIso: string) => ['logs', '--no-color', '--timestamps', '--since', sinceIso, service],
  inspectState: (id: string) => ['inspect', '--format', '{{json .State}}', id],
};

/** One compose project, as seen through the docker CLI. */
export class Compose {
  constructor(
    readonly project: string,
    readonly files: readonly string[],
    private readonly timeoutMs: number,
  ) {}

  run(args: string[]): Promise<CommandRecord> {
    return runCommand('docker', [...composeArgv.base(this.project, this.files), ...args], { timeoutMs: this.timeoutMs });
  }

  /** The service's container; an empty match is an error (a wrong service or project name). */
  async container(service: string): Promise<ComposeContainer> {
    const all = parseComposePs((await this.run(composeArgv.ps(service))).stdout).filter((c) => c.Service === service);
    if (all.length === 0)
      throw new DriverError(
        `docker compose -p ${this.project}: no container for service "${service}" (check COMPOSE_PROJECT_NAME and the service name)`,
      );
    return all[0]!;
  }

  async state(id: string): Promise<ContainerState> {
    return parseContainerState((await runCommand('docker', composeArgv.inspectState(id), { timeoutMs: this.timeoutMs })).stdout);
  }

  async act(detail: string, args: string[]): Promise<ActionResult> {
    return { detail: `docker compose ${detail}`, commands: [await this.run(args)] };
  }

  /** Backstop: unpauses or starts the service's container; says what it did and whether it ran already. */
  async revive(service: string): Promise<{ done: string[]; wasRunning: boolean }> {
    const c = await this.container(service);
    if (c.State === 'paused') {
      await this.run(composeArgv.unpause(service));
      return { done: [`docker compose unpause ${service}`], wasRunning: false };
    }
    if (c.State !== 'running') {
      await this.run(composeArgv.start(service));
      return { done: [`docker compose start ${service} (was ${c.State})`], wasRunning: false };
    }
    return { done: [], wasRunning: true };
  }
}

/** The database service of a compose project. */
export function composeDb(compose: Compose, service: string): DbService {
  return {
    label: `compose ${compose.project}/${service}`,
    actions: {
      stop: () => compose.act(`stop ${service}`, composeArgv.stop(service)),
      start: () => compose.act(`start ${service}`, composeArgv.start(service)),
      crash: () => compose.act(`kill -s SIGKILL ${service}`, composeArgv.kill(service, 'SIGKILL')),
      freeze: () => compose.act(`pause ${service}`, composeArgv.pause(service)),
      unfreeze: () => compose.act(`unpause ${service}`, composeArgv.unpause(service)),
    },
    checks: {},
    missing: (action) => `the compose driver has no ${action}`,
    status: async () => {
      const c = await compose.container(service);
      return `${c.Name || service} ${c.State}`;
    },
    heal: async () => (await compose.revive(service)).done,
  };
}

/** The gunicorn service of a compose project (gunicorn must be PID 1: the exec form of command). */
export function composeApp(compose: Compose, service: string): AppService {
  const workers = async (): Promise<string[]> => parseChildren((await compose.run(composeArgv.children(service))).stdout);
  const identity = async (): Promise<ServerIdentity> => {
    const c = await compose.container(service);
    if (c.State !== 'running') return { instance: undefined, workers: [] };
    const s = await compose.state(c.ID);
    return { instance: `${c.ID.slice(0, 12)}@${s.StartedAt}`, workers: s.Running && !s.Paused ? await workers() : [] };
  };
  return {
    label: `compose ${compose.project}/${service}`,
    actions: {
      reload: () => compose.act(`kill -s SIGHUP ${service}`, composeArgv.kill(service, 'SIGHUP')),
      stop: () => compose.act(`stop ${service}`, composeArgv.stop(service)),
      start: () => compose.act(`start ${service}`, composeArgv.start(service)),
      'kill-worker': async () => {
        const list = await compose.run(composeArgv.children(service));
        const victim = parseChildren(list.stdout)[0];
        if (victim === undefined)
          throw new DriverError(`app-kill-worker: PID 1 of ${service} has no child process (is gunicorn PID 1, in the exec form?)`);
        const kill = await compose.run(composeArgv.killPid(service, victim));
        return { detail: `docker compose exec -T ${service} kill -s KILL ${victim}`, commands: [list, kill], victim };
      },
      'scale-down': () => compose.act(`kill -s SIGTTOU ${service}`, composeArgv.kill(service, 'SIGTTOU')),
      'scale-up': async (args) => {
        const missing = (args?.workers ?? 0) - (await workers()).length;
        const commands: CommandRecord[] = [];
        for (let i = 0; i < missing; i++) commands.push(await compose.run(composeArgv.kill(service, 'SIGTTIN')));
        return { detail: `docker compose kill -s SIGTTIN ${service} x${Math.max(0, missing)}`, commands };
      },
    },
    checks: {},
    identity,
    missing: (action) =>
      action === 'reexec'
        ? 'a USR2 re-exec ends the container with its PID 1: give APP_REEXEC_COMMAND (your zero-downtime restart, e.g. a blue/green switch)'
        : `the compose driver has no ${action}`,
    status: async () => {
      const c = await compose.container(service);
      return `${c.Name || service} ${c.State}`;
    },
    heal: async (want) => {
      const { done, wasRunning } = await compose.revive(service);
      if (!wasRunning) return done;
      const have = (await workers()).length;
      for (let i = have; i < (want ?? 0); i++) await compose.run(composeArgv.kill(service, 'SIGTTIN'));
      return want !== undefined && have < want ? [`SIGTTIN x${want - have} to ${service}`] : [];
    },
  };
}
