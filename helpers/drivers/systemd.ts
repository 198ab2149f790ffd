/**
 * The `systemd` driver: a PostgreSQL cluster unit and a gunicorn service on this host.
 * - state from `systemctl show -p ActiveState,SubState,MainPID,NRestarts,FreezerState`;
 * - the database: stop/start, crash = SIGQUIT to the postmaster only (an immediate shutdown: crash
 *   recovery at the next start), freeze/thaw (the cgroup freezer);
 * - gunicorn: reload by `systemctl reload` or `systemctl kill --kill-whom=main -s HUP`, never a
 *   bare `systemctl kill`, which signals every worker too; TTOU/TTIN to the master to scale;
 *   one worker killed by PID, the workers being the children of MainPID.
 * On Debian/Ubuntu the cluster unit is postgresql@15-main; the umbrella `postgresql` unit is
 * always "active (exited)" and is refused by config.
 */
import { childPids, isAlive, processIdentity } from '../stack/processes';
import { runCommand, type CommandRecord } from '../stack/command';
import { DriverError, type ActionResult, type AppService, type DbService, type ServerIdentity } from './types';

export interface UnitState {
  readonly ActiveState: string;
  readonly SubState: string;
  readonly MainPID: number;
  readonly NRestarts: number;
  readonly FreezerState: string;
}

export const SHOW_PROPERTIES = 'ActiveState,SubState,MainPID,NRestarts,FreezerState';

/** Parses `systemctl show -p ...` output (KEY=value lines). Missing keys are empty / 0. */
export function parseUnitState(text: string): UnitState {
  const kv = new Map<string, string>();
  for (const line of text.split('\n')) {
    const i = line.indexOf('=');
    if (i > 0) kv.set(line.slice(0, i).trim(), line.slice(i + 1).trim());
  }
  if (!kv.has('ActiveState')) throw new DriverError(`systemctl show printed no ActiveState: ${JSON.stringify(text.slice(0, 300))}`);
  return {
    ActiveState: kv.get('ActiveState') ?? '',
    SubState: kv.get('SubState') ?? '',
    MainPID: Number(kv.get('MainPID') ?? 0) || 0,
    NRestarts: Number(kv.get('NRestarts') ?? 0) || 0,
    FreezerState: kv.get('FreezerState') ?? '',
  };
}

/** argv of each systemctl use, in one place (the unit tests check them). */
export const systemctlArgv = {
  show: (unit: string) => ['show', '-p', SHOW_PROPERTIES, unit],
  stop: (unit: string) => ['stop', unit],
  start: (unit: string) => ['start', unit],
  reload: (unit: string) => ['reload', unit],
  resetFailed: (unit: string) => ['reset-failed', unit],
  freeze: (unit: string) => ['freeze', unit],
  thaw: (unit: string) => ['thaw', unit],
  /** the main process only: a bare `systemctl kill` signals every process of the unit */
  signalMain: (unit: string, signal: string) => ['kill', '--kill-whom=main', `--signal=${signal}`, unit],
};

class Systemctl {
  constructor(private readonly timeoutMs: number) {}

  run(args: string[]): Promise<CommandRecord> {
    return runCommand('systemctl', args, { timeoutMs: this.timeoutMs });
  }

  async show(unit: string): Promise<UnitState> {
    return parseUnitState((await this.run(systemctlArgv.show(unit))).stdout);
  }

  async act(detail: string, args: string[]): Promise<ActionResult> {
    return { detail, commands: [await this.run(args)] };
  }

  /** Backstop: thaws a frozen unit and starts an inactive or failed one; says what it did. */
  async revive(unit: string): Promise<{ done: string[]; wasActive: boolean }> {
    const done: string[] = [];
    let s = await this.show(unit);
    if (s.FreezerState === 'frozen' || s.FreezerState === 'freezing') {
      await this.run(systemctlArgv.thaw(unit));
      done.push(`systemctl thaw ${unit}`);
      s = await this.show(unit);
    }
    if (s.ActiveState === 'active') return { done, wasActive: true };
    if (s.ActiveState === 'failed') await this.run(systemctlArgv.resetFailed(unit));
    await this.run(systemctlArgv.start(unit));
    done.push(`systemctl start ${unit} (was ${s.ActiveState}/${s.SubState})`);
    return { done, wasActive: false };
  }
}

/** A PostgreSQL cluster unit. */
export function systemdDb(unit: string, timeoutMs: number): DbService {
  const sc = new Systemctl(timeoutMs);
  return {
    label: `systemd ${unit}`,
    actions: {
      stop: () => sc.act(`systemctl stop ${unit}`, systemctlArgv.stop(unit)),
      start: () => sc.act(`systemctl start ${unit}`, systemctlArgv.start(unit)),
      crash: async () => {
        const before = await sc.show(unit);
        if (before.ActiveState !== 'active' || before.MainPID === 0)
          throw new DriverError(`db-crash: ${unit} is ${before.ActiveState}, not running`);
        return sc.act(`SIGQUIT to the postmaster ${before.MainPID} (immediate shutdown)`, systemctlArgv.signalMain(unit, 'SIGQUIT'));
      },
      freeze: () => sc.act(`systemctl freeze ${unit}`, systemctlArgv.freeze(unit)),
      unfreeze: () => sc.act(`systemctl thaw ${unit}`, systemctlArgv.thaw(unit)),
    },
    checks: {},
    missing: (action) => `the systemd driver has no ${action}`,
    status: async () => {
      const s = await sc.show(unit);
      return `${unit} ${s.ActiveState}/${s.SubState}, MainPID ${s.MainPID}, NRestarts ${s.NRestarts}${s.FreezerState ? `, ${s.FreezerState}` : ''}`;
    },
    heal: async () => (await sc.revive(unit)).done,
  };
}

/** The gunicorn service: the master is MainPID, its children are the workers (this host's /proc). */
export function systemdApp(unit: string, reload: 'reload' | 'hup', timeoutMs: number): AppService {
  const sc = new Systemctl(timeoutMs);
  const main = async (what: string): Promise<number> => {
    const s = await sc.show(unit);
    if (s.ActiveState !== 'active' || s.MainPID === 0)
      throw new DriverError(`${what}: ${unit} is ${s.ActiveState}/${s.SubState}, no MainPID`);
    return s.MainPID;
  };
  const identity = async (): Promise<ServerIdentity> => {
    const s = await sc.show(unit);
    if (s.MainPID === 0 || !isAlive(s.MainPID)) return { instance: undefined, workers: [] };
    return { instance: processIdentity(s.MainPID), workers: childPids(s.MainPID).filter(isAlive).map(processIdentity) };
  };
  const signalMain = (signal: string) =>
    sc.act(`systemctl kill --kill-whom=main --signal=${signal} ${unit}`, systemctlArgv.signalMain(unit, signal));
  return {
    label: `systemd ${unit}`,
    actions: {
      reload: () => (reload === 'reload' ? sc.act(`systemctl reload ${unit}`, systemctlArgv.reload(unit)) : signalMain('SIGHUP')),
      stop: () => sc.act(`systemctl stop ${unit}`, systemctlArgv.stop(unit)),
      start: () => sc.act(`systemctl start ${unit}`, systemctlArgv.start(unit)),
      'kill-worker': async () => {
        const master = await main('app-kill-worker');
        const victim = childPids(master).filter(isAlive)[0];
        if (victim === undefined) throw new DriverError(`app-kill-worker: ${unit}'s MainPID ${master} has no worker process`);
        const id = processIdentity(victim);
        return {
          detail: `kill -s KILL ${victim} (a worker of MainPID ${master})`,
          commands: [await runCommand('kill', ['-s', 'KILL', String(victim)], { timeoutMs })],
          victim: id,
        };
      },
      'scale-down': () => signalMain('SIGTTOU'),
      'scale-up': async (args) => {
        const master = await main('app-scale-up');
        const missing = (args?.workers ?? 0) - childPids(master).filter(isAlive).length;
        const commands: CommandRecord[] = [];
        for (let i = 0; i < missing; i++) commands.push(await sc.run(systemctlArgv.signalMain(unit, 'SIGTTIN')));
        return { detail: `systemctl kill --kill-whom=main --signal=SIGTTIN ${unit} x${Math.max(0, missing)}`, commands };
      },
    },
    checks: {},
    identity,
    missing: (action) =>
      action === 'reexec'
        ? 'systemd follows MainPID, which a USR2 re-exec replaces: give APP_REEXEC_COMMAND (your zero-downtime restart)'
        : `the systemd driver has no ${action}`,
    status: async () => {
      const s = await sc.show(unit);
      return `${unit} ${s.ActiveState}/${s.SubState}, MainPID ${s.MainPID}, NRestarts ${s.NRestarts}`;
    },
    heal: async (workers) => {
      const { done, wasActive } = await sc.revive(unit);
      if (wasActive && workers !== undefined) {
        const have = (await identity()).workers.length;
        for (let i = have; i < workers; i++) await sc.run(systemctlArgv.signalMain(unit, 'SIGTTIN'));
        if (have < workers) done.push(`SIGTTIN x${workers - have} to ${unit}`);
      }
      return done;
    },
  };
}
