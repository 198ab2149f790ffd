/**
 * systemctl test double: start/stop/restart/reload/kill/freeze/thaw/reset-failed/show/is-active on the
 * units of config.systemd.units, acting on the real processes (see README.md).
 */
import fs from 'node:fs';
import path from 'node:path';
import {
  ToolError,
  Unsupported,
  onlyFlags,
  out,
  parseFlags,
  runTool,
  service,
  signalName,
  type DoublesConfig,
  type Flags,
  type Service,
} from './lib';

const FLAGS = {
  '--kill-whom': { key: 'whom', value: true },
  '--kill-who': { key: 'whom', value: true }, // systemd < 252 spelling
  '--signal': { key: 'signal', value: true },
  '-s': { key: 'signal', value: true },
  '--property': { key: 'props', value: true, multi: true },
  '-p': { key: 'props', value: true, multi: true },
  '--value': { key: 'value' },
  '--quiet': { key: 'quiet' },
  '-q': { key: 'quiet' },
  '--no-pager': { key: 'noPager' },
} as const;
type SystemctlFlags = Flags<typeof FLAGS>;

const VERB_FLAGS: Record<string, readonly string[]> = {
  start: [],
  stop: [],
  restart: [],
  reload: [],
  kill: ['whom', 'signal'],
  freeze: [],
  thaw: [],
  'reset-failed': [],
  show: ['props', 'value'],
  'is-active': ['quiet'],
};

const PROPERTIES = ['ActiveState', 'SubState', 'MainPID', 'NRestarts', 'FreezerState', 'LoadState'];

const unitId = (u: string) => (u.includes('.') ? u : `${u}.service`);
const baseName = (u: string) => u.replace(/\.service$/, '');

/** The service a unit argument names (with or without .service), or exit 5 like systemd. */
function unitService(cfg: DoublesConfig, arg: string): Service {
  const units = cfg.systemd?.units ?? {};
  const key = Object.keys(units).find((k) => baseName(k) === baseName(arg));
  if (key === undefined) throw new ToolError(5, `Unit ${unitId(arg)} could not be found.`);
  return service(cfg, units[key] as string);
}

/** active | inactive | failed, from the process and the recorded state. */
function activeState(svc: Service): 'active' | 'inactive' | 'failed' {
  if (svc.main()) return 'active';
  const st = svc.state();
  if (st.stopRequested) return 'inactive';
  // a main process that exited 0 (after SIGTERM/SIGINT/SIGQUIT) leaves a unit inactive, as in systemd
  if (st.exit && st.exit.code === 0) return 'inactive';
  return st.expectRunning ? 'failed' : 'inactive';
}

/** The verbs that queue a job in systemd (the others read state or send a signal at once). */
const JOB_VERBS = new Set(['start', 'stop', 'restart', 'reload', 'freeze', 'thaw']);
/** How long a job waits for the one before it (systemd's DefaultTimeoutStartSec). */
const JOB_WAIT_MS = 90_000;

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
};

/**
 * systemd runs one job at a time per unit, in order: a start asked while a stop runs waits for the
 * stop to end, then starts. The doubles queue on a file holding the PID of the systemctl running the
 * job (a holder that died frees it).
 */
async function queued(cfg: DoublesConfig, unit: string, job: () => Promise<number>): Promise<number> {
  fs.mkdirSync(cfg.stateDir, { recursive: true });
  const lock = path.join(cfg.stateDir, `${baseName(unit)}.job`);
  const deadline = Date.now() + JOB_WAIT_MS;
  for (;;) {
    try {
      fs.writeFileSync(lock, String(process.pid), { flag: 'wx' });
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const holder = Number(fs.readFileSync(lock, 'utf8').trim());
      // written at creation: an empty file is a holder between its open and its write
      if (holder && !alive(holder)) fs.rmSync(lock, { force: true });
      else if (Date.now() > deadline)
        throw new ToolError(1, `Job for ${unit} canceled: the job before it ran for more than ${JOB_WAIT_MS / 1000} s`);
      else await new Promise((r) => setTimeout(r, 20));
    }
  }
  try {
    return await job();
  } finally {
    fs.rmSync(lock, { force: true });
  }
}

await runTool('systemctl', async ({ argv, cfg }) => {
  const { flags, args } = parseFlags(argv, FLAGS);
  delete flags.noPager;
  const [verb, ...units] = args;
  const allowed = verb === undefined ? undefined : VERB_FLAGS[verb];
  if (verb === undefined || !allowed) throw new Unsupported(`verb ${verb ?? '(none)'}`);
  onlyFlags(flags, allowed, `systemctl ${verb}`);
  const [arg] = units;
  if (units.length !== 1 || arg === undefined) throw new Unsupported('exactly one unit is supported');
  const unit = unitId(arg);
  const svc = unitService(cfg, arg);
  svc.observe();
  // a job is systemd's, run by PID 1, not by the client: Ctrl+C ends systemctl (130) and the stop or
  // start it asked for goes on to its end. Killed halfway, the double left a half-stopped unit that a
  // start right after found still active (a Ctrl+C'd run then waited 30 s for a store never started).
  if (JOB_VERBS.has(verb)) {
    let interrupted = false;
    process.removeAllListeners('SIGINT');
    process.on('SIGINT', () => (interrupted = true));
    const code = await queued(cfg, unit, () => act(verb, unit, svc, flags));
    return interrupted ? 130 : code;
  }
  return act(verb, unit, svc, flags);
});

async function act(verb: string, unit: string, svc: Service, flags: SystemctlFlags): Promise<number> {
  switch (verb) {
    case 'start':
      await svc.start();
      return 0;
    case 'stop':
      // postgresql@.service: ExecStop=pg_ctlcluster -m fast ... stop; gunicorn: SIGTERM to the main process
      await svc.stop({ mode: 'fast' });
      return 0;
    case 'restart':
      await svc.stop({ mode: 'fast' });
      await svc.start();
      svc.update((st) => (st.nRestarts = (st.nRestarts ?? 0) + 1));
      return 0;
    case 'reload':
      // postgres: ExecReload=pg_ctlcluster reload; gunicorn: ExecReload=/bin/kill -HUP $MAINPID
      if (!(await svc.reload())) throw new ToolError(1, `Failed to reload ${unit}: Unit ${unit} is not active.`);
      return 0;
    case 'kill': {
      const whom = flags.whom ?? 'all'; // systemd's default is every process of the unit
      if (whom !== 'main' && whom !== 'all') throw new Unsupported(`--kill-whom=${whom}`);
      const sig = signalName(flags.signal ?? 'SIGTERM', 'systemctl');
      if (whom === 'main') {
        if (!(await svc.signalMain(sig))) throw new ToolError(1, `Failed to kill unit ${unit}: No main process to kill`);
      } else await svc.signalAll(sig);
      return 0;
    }
    case 'freeze':
      if (!svc.main()) throw new ToolError(1, `Failed to freeze unit ${unit}: Unit '${unit}' is not active`);
      if (!svc.frozen()) await svc.freeze();
      return 0;
    case 'thaw':
      if (!svc.main()) throw new ToolError(1, `Failed to thaw unit ${unit}: Unit '${unit}' is not active`);
      if (svc.frozen()) await svc.thaw();
      return 0;
    case 'reset-failed':
      // systemd's reset-failed also zeroes the restart counter
      if (activeState(svc) === 'failed') svc.update((st) => (st.expectRunning = false));
      svc.update((st) => (st.nRestarts = 0));
      return 0;
    case 'show': {
      if (!flags.props) throw new Unsupported('show needs -p/--property');
      const props = flags.props.flatMap((p) => p.split(',')).filter(Boolean);
      for (const p of props) if (!PROPERTIES.includes(p)) throw new Unsupported(`property ${p} (supported: ${PROPERTIES.join(', ')})`);
      const m = svc.main();
      const active = activeState(svc);
      const values: Record<string, string | number> = {
        ActiveState: active,
        SubState: active === 'active' ? 'running' : active === 'failed' ? 'failed' : 'dead',
        MainPID: m ? m.pid : 0,
        NRestarts: svc.state().nRestarts ?? 0,
        FreezerState: m && svc.frozen() ? 'frozen' : 'running',
        LoadState: 'loaded',
      };
      out(props.map((p) => (flags.value ? `${values[p]}` : `${p}=${values[p]}`)).join('\n'));
      return 0;
    }
    case 'is-active': {
      const active = activeState(svc);
      if (!flags.quiet) out(active);
      return active === 'active' ? 0 : 3;
    }
  }
  return 0;
}
