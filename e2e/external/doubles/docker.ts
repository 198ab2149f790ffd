/**
 * docker test double: `docker compose` (stop/start/restart/kill/pause/unpause/ps/exec/logs) on the
 * services of config.compose, and `docker inspect --format '{{json .State}}' ID`, acting on the real
 * processes: a "container" is a service, its PID 1 the postmaster or the gunicorn master (see README.md).
 *
 * Over 250 lines: one test double, a command line tool with every subcommand the compose driver calls.
 */
import path from 'node:path';
import {
  ToolError,
  Unsupported,
  err,
  humanDuration,
  isoNanos,
  onlyFlags,
  out,
  parseFlags,
  parseGoDuration,
  parseRfc3339,
  runTool,
  sendSignal,
  service,
  sha256,
  signalName,
  type DoublesConfig,
  type Service,
} from './lib';

const ZERO_TIME = '0001-01-01T00:00:00Z';

type Compose = NonNullable<DoublesConfig['compose']>;

/** A compose service's container: its stable ID, its name, the service behind it. */
interface Container {
  readonly service: string;
  readonly id: string;
  readonly name: string;
  readonly svc: Service;
}

/** The config's compose section, or the error docker would give without one. */
function composeOf(cfg: DoublesConfig): Compose {
  if (!cfg.compose) throw new ToolError(1, 'docker double: the config has no compose section');
  return cfg.compose;
}

/** One container per compose service: its stable ID (from project + service), name and Service object. */
function containers(cfg: DoublesConfig): Container[] {
  const c = cfg.compose;
  if (!c) throw new ToolError(1, 'docker double: the config has no compose section');
  return Object.entries(c.services ?? {}).map(([svcName, key]) => ({
    service: svcName,
    id: sha256(`${c.project}/${svcName}`), // stable across stop/start, like a container that is only stopped
    name: `${c.project}-${svcName}-1`,
    svc: service(cfg, key),
  }));
}

function containerFor(cfg: DoublesConfig, svcName: string): Container {
  const k = containers(cfg).find((x) => x.service === svcName);
  if (!k) throw new ToolError(1, `no such service: ${svcName}`);
  return k;
}

/** running | paused | exited, plus the numbers docker shows for it. */
function containerState(k: Container) {
  const m = k.svc.main();
  const st = k.svc.state();
  const status = m ? (k.svc.frozen() ? 'paused' : 'running') : 'exited';
  return {
    status,
    pid: m ? m.pid : 0,
    exitCode: m ? 0 : (st.exit?.code ?? 0),
    startedMs: m ? m.startMs : st.lastMain?.startMs,
    finishedMs: st.exit?.atMs,
    createdMs: st.createdMs ?? Date.now(),
  };
}

function psEntry(cfg: DoublesConfig, k: Container) {
  const s = containerState(k);
  const project = composeOf(cfg).project;
  const now = Date.now();
  let status: string;
  if (s.status === 'exited') status = s.finishedMs ? `Exited (${s.exitCode}) ${humanDuration(now - s.finishedMs)} ago` : 'Created';
  else status = `Up ${humanDuration(now - (s.startedMs ?? now))}${s.status === 'paused' ? ' (Paused)' : ''}`;
  const spec = k.svc.spec;
  const image = spec.kind === 'postgres' ? `postgres:${spec.version}` : `${project}-${k.service}`;
  const command = spec.kind === 'postgres' ? 'postgres' : [spec.command.file, ...(spec.command.args ?? [])].join(' ');
  const created = new Date(s.createdMs);
  return {
    Command: JSON.stringify(command),
    Created: Math.floor(s.createdMs / 1000),
    CreatedAt: `${created
      .toISOString()
      .replace('T', ' ')
      .replace(/\.\d{3}Z$/, '')} +0000 UTC`,
    ExitCode: s.exitCode,
    Health: '',
    ID: k.id,
    Image: image,
    Labels: `com.docker.compose.project=${project},com.docker.compose.service=${k.service}`,
    LocalVolumes: '0',
    Mounts: '',
    Name: k.name,
    Names: k.name,
    Networks: `${project}_default`,
    Ports: '',
    Project: project,
    Publishers: [],
    RunningFor: `${humanDuration(now - s.createdMs)} ago`,
    Service: k.service,
    Size: '0B',
    State: s.status,
    Status: status,
  };
}

// ---------------------------------------------------------------- compose subcommands

function needServices(args: readonly string[], sub: string): readonly string[] {
  // compose would act on every service when none is named: a driver bug here must be loud instead
  if (!args.length) throw new Unsupported(`compose ${sub} without a SERVICE`);
  return args;
}

function progress(name: string, a: string, b?: string): void {
  err(` Container ${name}  ${a}`);
  if (b) err(` Container ${name}  ${b}`);
}

async function composeStop(cfg: DoublesConfig, argv: readonly string[], sub: 'stop' | 'restart'): Promise<number> {
  const { flags, args } = parseFlags(argv, { '-t': { key: 't', value: true }, '--timeout': { key: 't', value: true } });
  if (flags.t !== undefined && !/^\d+$/.test(flags.t)) throw new ToolError(1, `invalid argument "${flags.t}" for "-t, --timeout" flag`);
  const timeoutMs = flags.t !== undefined ? Number(flags.t) * 1000 : 10_000; // compose's default stop timeout: 10 s
  for (const s of needServices(args, sub)) {
    const k = containerFor(cfg, s);
    k.svc.observe();
    if (sub === 'stop') {
      progress(k.name, 'Stopping');
      await k.svc.stop({ mode: 'fast', timeoutMs });
      progress(k.name, 'Stopped');
    } else {
      progress(k.name, 'Restarting');
      await k.svc.stop({ mode: 'fast', timeoutMs });
      await k.svc.start();
      progress(k.name, 'Started');
    }
  }
  return 0;
}

async function composeStart(cfg: DoublesConfig, argv: readonly string[]): Promise<number> {
  const { flags, args } = parseFlags(argv, {});
  onlyFlags(flags, [], 'compose start');
  for (const s of needServices(args, 'start')) {
    const k = containerFor(cfg, s);
    progress(k.name, 'Starting');
    await k.svc.start();
    progress(k.name, 'Started');
  }
  return 0;
}

async function composeKill(cfg: DoublesConfig, argv: readonly string[]): Promise<number> {
  const { flags, args } = parseFlags(argv, { '-s': { key: 'signal', value: true }, '--signal': { key: 'signal', value: true } });
  const sig = signalName(flags.signal ?? 'SIGKILL', 'docker');
  for (const s of needServices(args, 'kill')) {
    const k = containerFor(cfg, s);
    k.svc.observe();
    if (!k.svc.main()) continue; // compose kills running containers only
    progress(k.name, 'Killing');
    // SIGKILL of PID 1 takes the whole PID namespace down; any other signal goes to PID 1 alone
    if (sig === 'SIGKILL') await k.svc.signalAll('SIGKILL');
    else await k.svc.signalMain(sig);
    progress(k.name, 'Killed');
  }
  return 0;
}

async function composePause(cfg: DoublesConfig, argv: readonly string[], sub: 'pause' | 'unpause'): Promise<number> {
  const { flags, args } = parseFlags(argv, {});
  onlyFlags(flags, [], `compose ${sub}`);
  for (const s of needServices(args, sub)) {
    const k = containerFor(cfg, s);
    k.svc.observe();
    const st = containerState(k).status;
    if (sub === 'pause') {
      if (st === 'exited') throw new ToolError(1, `Error response from daemon: Container ${k.id} is not running`);
      if (st === 'paused') throw new ToolError(1, `Error response from daemon: Container ${k.id} is already paused`);
      progress(k.name, 'Pausing');
      await k.svc.freeze();
      progress(k.name, 'Paused');
    } else {
      if (st !== 'paused') throw new ToolError(1, `Error response from daemon: Container ${k.id} is not paused`);
      progress(k.name, 'Unpausing');
      await k.svc.thaw();
      progress(k.name, 'Unpaused');
    }
  }
  return 0;
}

function composePs(cfg: DoublesConfig, argv: readonly string[]): number {
  const { flags, args } = parseFlags(argv, {
    '--all': { key: 'all' },
    '-a': { key: 'all' },
    '--format': { key: 'format', value: true },
  });
  if (flags.format !== 'json') throw new Unsupported('compose ps needs --format json');
  for (const s of args) containerFor(cfg, s);
  const entries = containers(cfg)
    .filter((k) => !args.length || args.includes(k.service))
    .map((k) => {
      k.svc.observe();
      return psEntry(cfg, k);
    })
    .filter((e) => flags.all || e.State !== 'exited');
  // compose >= 2.21 prints one object per line; older ones one JSON array
  if (process.env.STORE_DOUBLES_COMPOSE_PS === 'array') out(JSON.stringify(entries));
  else if (entries.length) out(entries.map((e) => JSON.stringify(e)).join('\n'));
  return 0;
}

function composeExec(cfg: DoublesConfig, argv: readonly string[]): number {
  const { flags, args } = parseFlags(argv, { '-T': { key: 'noTty' }, '--no-TTY': { key: 'noTty' } }, { stopAtPositional: true });
  if (!flags.noTty) throw new Unsupported('compose exec needs -T (no TTY)');
  const [s, ...cmd] = args;
  if (!s || !cmd.length) throw new Unsupported('compose exec needs SERVICE COMMAND');
  const k = containerFor(cfg, s);
  const st = containerState(k).status;
  if (st === 'exited') throw new ToolError(1, `service "${s}" is not running`);
  if (st === 'paused') throw new ToolError(1, `Error response from daemon: Container ${k.id} is paused, unpause the container before exec`);
  const m = k.svc.main();
  if (cmd.length === 2 && cmd[0] === 'cat' && cmd[1] === '/proc/1/task/1/children') {
    // container PID 1 is the main process: its children, as HOST pids, in the kernel file's format
    const kids = k.svc.children();
    process.stdout.write(kids.map((c) => `${c.pid} `).join(''));
    return 0;
  }
  const script = cmd[2];
  if (cmd.length === 3 && cmd[0] === 'sh' && cmd[1] === '-c' && script !== undefined) {
    const mm = /^kill (?:-s (?:SIG)?KILL|-(?:SIG)?KILL|-9) (\d+)$/.exec(script.trim());
    if (!mm) throw new Unsupported(`compose exec script ${JSON.stringify(script)}`);
    const pid = Number(mm[1]);
    const child = k.svc.children().find((c) => c.pid === pid);
    // only a child of this container's main process: anything else is "not in the container"
    if (!child || !m || !sendSignal(child, 'SIGKILL')) throw new ToolError(1, `sh: 1: kill: (${pid}) - No such process`);
    return 0;
  }
  throw new Unsupported(`compose exec command ${cmd.join(' ')}`);
}

function composeLogs(cfg: DoublesConfig, argv: readonly string[]): number {
  const { flags, args } = parseFlags(argv, {
    '--no-color': { key: 'noColor' },
    '--timestamps': { key: 'timestamps' },
    '-t': { key: 'timestamps' },
    '--since': { key: 'since', value: true },
    '--no-log-prefix': { key: 'noPrefix' },
  });
  let sinceMs: number | undefined;
  if (flags.since !== undefined) {
    sinceMs = parseRfc3339(flags.since);
    if (sinceMs === undefined && /^\d+(\.\d+)?$/.test(flags.since)) sinceMs = Number(flags.since) * 1000;
    if (sinceMs === undefined) {
      const d = parseGoDuration(flags.since);
      if (d !== undefined) sinceMs = Date.now() - d;
    }
    if (sinceMs === undefined) throw new ToolError(1, `invalid value for "since": ${flags.since}`);
  }
  const lines: string[] = [];
  for (const s of needServices(args, 'logs')) {
    const k = containerFor(cfg, s);
    for (const l of k.svc.logLines(sinceMs)) {
      const prefix = flags.noPrefix ? '' : `${k.name}  | `;
      lines.push(`${prefix}${flags.timestamps ? `${isoNanos(l.ms)} ` : ''}${l.text}`);
    }
  }
  if (lines.length) out(lines.join('\n'));
  return 0;
}

function checkProject(cfg: DoublesConfig, flags: { project?: string[]; file?: string[] }): void {
  const c = composeOf(cfg);
  for (const p of flags.project ?? []) {
    if (p !== c.project) throw new ToolError(1, `docker double: compose project "${p}" is not the configured project "${c.project}"`);
  }
  const known = (c.files ?? []).map((f) => path.resolve(f));
  for (const f of flags.file ?? []) {
    if (!known.includes(path.resolve(f))) {
      throw new ToolError(1, `docker double: compose file ${f} is not one of the configured files (${known.join(', ')})`);
    }
  }
}

async function compose(cfg: DoublesConfig, argv: readonly string[]): Promise<number> {
  const { flags, args } = parseFlags(
    argv,
    {
      '-p': { key: 'project', value: true, multi: true },
      '--project-name': { key: 'project', value: true, multi: true },
      '-f': { key: 'file', value: true, multi: true },
      '--file': { key: 'file', value: true, multi: true },
    },
    { stopAtPositional: true },
  );
  const [sub, ...rest] = args;
  const subs: Record<string, () => number | Promise<number>> = {
    stop: () => composeStop(cfg, rest, 'stop'),
    restart: () => composeStop(cfg, rest, 'restart'),
    start: () => composeStart(cfg, rest),
    kill: () => composeKill(cfg, rest),
    pause: () => composePause(cfg, rest, 'pause'),
    unpause: () => composePause(cfg, rest, 'unpause'),
    ps: () => composePs(cfg, rest),
    exec: () => composeExec(cfg, rest),
    logs: () => composeLogs(cfg, rest),
  };
  const run = sub === undefined ? undefined : subs[sub];
  if (!run) throw new Unsupported(`compose subcommand ${sub ?? '(none)'}`);
  checkProject(cfg, flags);
  return run();
}

// ---------------------------------------------------------------- inspect

function inspect(cfg: DoublesConfig, argv: readonly string[]): number {
  const { flags, args } = parseFlags(argv, { '--format': { key: 'format', value: true }, '-f': { key: 'format', value: true } });
  if ((flags.format ?? '').trim() !== '{{json .State}}') throw new Unsupported("inspect needs --format '{{json .State}}'");
  if (!args.length) throw new Unsupported('inspect needs an ID');
  const all = cfg.compose ? containers(cfg) : [];
  let code = 0;
  for (const id of args) {
    // a full ID, a unique ID prefix or the container name, as docker accepts
    const hits = all.filter((k) => k.id === id || k.name === id || (id.length > 0 && k.id.startsWith(id)));
    if (hits.length !== 1) {
      err(`Error: No such object: ${id}`);
      code = 1;
      continue;
    }
    const k = hits[0] as Container;
    k.svc.observe();
    const s = containerState(k);
    out(
      JSON.stringify({
        Status: s.status,
        Running: s.status !== 'exited',
        Paused: s.status === 'paused',
        Restarting: false,
        OOMKilled: false,
        Dead: false,
        Pid: s.pid,
        ExitCode: s.exitCode,
        Error: '',
        StartedAt: s.startedMs ? isoNanos(s.startedMs) : ZERO_TIME,
        FinishedAt: s.finishedMs ? isoNanos(s.finishedMs) : ZERO_TIME,
      }),
    );
  }
  return code;
}

await runTool('docker', async ({ argv, cfg }) => {
  const [cmd, ...rest] = argv;
  if (cmd === 'compose') return compose(cfg, rest);
  if (cmd === 'inspect') return inspect(cfg, rest);
  throw new Unsupported(`docker ${cmd ?? '(none)'}`);
});
