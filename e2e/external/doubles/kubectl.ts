/**
 * kubectl test double: a StatefulSet backed by the postgres service (one pod while the postmaster
 * runs) and a Deployment backed by the gunicorn service (one "pod" per worker process), with a lazy
 * controller that reconciles desired replicas with the real processes (see README.md).
 *
 * Over 250 lines: one test double, a command line tool with every subcommand the kubectl driver calls,
 * and the controller that reconciles its replicas.
 */
import {
  DEFAULT_TIMEOUT_MS,
  ToolError,
  Unsupported,
  err,
  hostName,
  isoNanos,
  isoSeconds,
  onlyFlags,
  out,
  parseFlags,
  parseGoDuration,
  parseRfc3339,
  runTool,
  sameProcess,
  sendSignal,
  service,
  sha256,
  sleep,
  stateOf,
  uptimeTicks,
  uuidFrom,
  waitFor,
  type DoublesConfig,
  type K8sState,
  type ProcessId,
  type Service,
  type WorkloadSpec,
} from './lib';

const TEMPLATE_HASH = '7d4b9c6f5';
type Kind = 'StatefulSet' | 'Deployment' | 'Pod';
type WorkloadKind = Exclude<Kind, 'Pod'>;
const TYPES: Record<string, Kind> = {
  statefulset: 'StatefulSet',
  statefulsets: 'StatefulSet',
  sts: 'StatefulSet',
  'statefulset.apps': 'StatefulSet',
  'statefulsets.apps': 'StatefulSet',
  deployment: 'Deployment',
  deployments: 'Deployment',
  deploy: 'Deployment',
  'deployment.apps': 'Deployment',
  'deployments.apps': 'Deployment',
  pod: 'Pod',
  pods: 'Pod',
  po: 'Pod',
};
const RESOURCE: Record<WorkloadKind, string> = { StatefulSet: 'statefulsets.apps', Deployment: 'deployments.apps' };
const SINGULAR: Record<WorkloadKind, string> = { StatefulSet: 'statefulset.apps', Deployment: 'deployment.apps' };
const typeOf = (t: string | undefined): Kind | undefined => (t === undefined ? undefined : TYPES[t.toLowerCase()]);

/** A configured workload and the service behind it. */
interface Workload {
  readonly kind: WorkloadKind;
  readonly name: string;
  readonly svc: Service;
  readonly selector: string | undefined;
  readonly labels: Record<string, string>;
  readonly container: string;
}

/** A pod as it is now: a process of the workload's service. */
interface Pod {
  readonly name: string;
  readonly proc: ProcessId;
  readonly ready: boolean;
  readonly w: Workload;
}

// ---------------------------------------------------------------- model

const normSelector = (s: string) =>
  s
    .split(',')
    .map((t) =>
      t
        .split('=')
        .map((x) => x.trim())
        .join('='),
    )
    .filter(Boolean)
    .sort()
    .join(',');

function selectorLabels(sel: string): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const t of sel.split(',').filter(Boolean)) {
    const [k, v] = t.split('=').map((x) => x.trim());
    if (k !== undefined) labels[k] = v ?? '';
  }
  return labels;
}

/** Every configured workload: {kind, name, svc, selector, labels, container}. */
function workloads(cfg: DoublesConfig): Workload[] {
  const k = cfg.kubernetes;
  if (!k) return [];
  const make = (kind: WorkloadKind, entries: Readonly<Record<string, WorkloadSpec>> | undefined): Workload[] =>
    Object.entries(entries ?? {}).map(([name, w]) => ({
      kind,
      name,
      svc: service(cfg, w.service),
      selector: w.selector,
      labels: selectorLabels(w.selector ?? ''),
      container: w.container ?? name,
    }));
  return [...make('StatefulSet', k.statefulsets), ...make('Deployment', k.deployments)];
}

function k8sState(w: Workload): K8sState {
  return w.svc.state().k8s ?? {};
}

function updateK8s(w: Workload, mutate: (k: K8sState) => void): void {
  w.svc.update((st) => {
    st.k8s ??= {};
    mutate(st.k8s);
  });
}

/** Desired replicas: recorded by scale, else 1 (statefulset) or the configured gunicorn workers. */
function desiredReplicas(w: Workload): number {
  return k8sState(w).replicas ?? (w.kind === 'StatefulSet' ? 1 : gunicorn(w).configuredWorkers());
}

/** The gunicorn service of a Deployment (a config that backs one with PostgreSQL is refused). */
function gunicorn(w: Workload) {
  if (w.svc.spec.kind !== 'gunicorn') throw new ToolError(1, `kubectl double: deployment ${w.name} must be backed by a gunicorn service`);
  return w.svc as Extract<Service, { spec: { kind: 'gunicorn' } }>;
}

/** The pods of a workload as they are now: [{name, proc, ready, w}]. */
function podsOf(w: Workload): Pod[] {
  const m = w.svc.main();
  if (!m) return [];
  const mainStopped = stateOf(m) === 'T';
  if (w.kind === 'StatefulSet') return [{ name: `${w.name}-0`, proc: m, ready: !mainStopped, w }];
  return w.svc.children().map((c) => {
    const s = stateOf(c);
    return { name: `${w.name}-${TEMPLATE_HASH}-${c.pid}`, proc: c, ready: !mainStopped && s !== undefined && s !== 'T', w };
  });
}

const left = (deadline: number) => Math.max(0, deadline - Date.now());

/**
 * The controller, run lazily: brings the processes to the desired replicas. StatefulSet: 0 → fast stop,
 * >= 1 → start. Deployment: 0 → stop gunicorn; N → start it, then SIGTTIN/SIGTTOU one step at a time.
 */
async function reconcile(w: Workload, deadline: number): Promise<void> {
  const svc = w.svc;
  svc.observe();
  const desired = desiredReplicas(w);
  if (desired === 0) {
    if (svc.main()) await svc.stop({ mode: 'fast', timeoutMs: Math.max(5000, left(deadline)) });
    return;
  }
  if (!svc.main()) await svc.start();
  if (w.kind === 'StatefulSet' || !svc.main() || svc.frozen()) return;
  const web = gunicorn(w);
  const count = () => web.children().length;
  let target = web.targetWorkers();
  // let a reload or a respawn settle first; if it never matches, our tracking is off: trust what is seen
  if (!(await waitFor(() => count() === target, Math.min(10_000, left(deadline))))) {
    target = count();
    web.setTargetWorkers(target);
  }
  while (target !== desired && Date.now() < deadline) {
    const m = svc.main();
    if (!m || svc.frozen()) return;
    const sig = target < desired ? 'SIGTTIN' : 'SIGTTOU';
    if (sig === 'SIGTTOU' && target <= 1) return; // gunicorn never goes below one worker
    sendSignal(m, sig);
    web.noteSignal(sig, m);
    target = web.targetWorkers();
    // gunicorn's Python handler merges signals that arrive before its loop ran: one step at a time
    if (!(await waitFor(() => count() === target, Math.min(15_000, left(deadline))))) return;
  }
}

function podJson(p: Pod, ns: string) {
  const { w, proc } = p;
  const t = isoSeconds(proc.startMs);
  const ready = p.ready ? 'True' : 'False';
  const extra = w.kind === 'Deployment' ? { 'pod-template-hash': TEMPLATE_HASH } : { 'statefulset.kubernetes.io/pod-name': p.name };
  const cond = (type: string, status: string) => ({ type, status, lastProbeTime: null, lastTransitionTime: t });
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: p.name,
      namespace: ns,
      // changes whenever the process is replaced (pid and start time)
      uid: uuidFrom(`${proc.pid}:${proc.ticks}`),
      creationTimestamp: t,
      labels: { ...w.labels, ...extra },
    },
    spec: { containers: [{ name: w.container }], nodeName: hostName() },
    status: {
      phase: 'Running',
      conditions: [cond('Initialized', 'True'), cond('Ready', ready), cond('ContainersReady', ready), cond('PodScheduled', 'True')],
      containerStatuses: [{ name: w.container, ready: p.ready, restartCount: 0, started: true, state: { running: { startedAt: t } } }],
      hostIP: '127.0.0.1',
      podIP: '127.0.0.1',
      startTime: t,
    },
  };
}

const revision = (w: Workload) => `${w.name}-${sha256(`${w.name}:${k8sState(w).restartedAtMs ?? 0}`).slice(0, 10)}`;

/** Drops zero counters, as the API server's omitempty does. */
function omitZero<T extends Record<string, unknown>>(obj: T, keys: readonly (keyof T)[]): Partial<T> {
  for (const k of keys) if (!obj[k]) delete obj[k];
  return obj;
}

function workloadJson(w: Workload, ns: string) {
  const st = k8sState(w);
  const pods = podsOf(w);
  const updated = pods.filter((p) => st.restartedAtTicks === undefined || p.proc.ticks >= st.restartedAtTicks).length;
  const ready = pods.filter((p) => p.ready).length;
  const generation = st.generation ?? 1;
  const template: { metadata: { labels: Record<string, string>; annotations?: Record<string, string> }; spec: object } = {
    metadata: { labels: { ...w.labels } },
    spec: { containers: [{ name: w.container }] },
  };
  if (st.restartedAtMs) template.metadata.annotations = { 'kubectl.kubernetes.io/restartedAt': isoSeconds(st.restartedAtMs) };
  const status =
    w.kind === 'StatefulSet'
      ? omitZero(
          {
            observedGeneration: generation,
            replicas: pods.length,
            readyReplicas: ready,
            currentReplicas: pods.length,
            updatedReplicas: updated,
            currentRevision: revision(w),
            updateRevision: revision(w),
            availableReplicas: ready,
          },
          ['readyReplicas', 'currentReplicas', 'updatedReplicas'],
        )
      : omitZero(
          {
            observedGeneration: generation,
            replicas: pods.length,
            updatedReplicas: updated,
            readyReplicas: ready,
            availableReplicas: ready,
            unavailableReplicas: Math.max(0, desiredReplicas(w) - ready),
          },
          ['replicas', 'updatedReplicas', 'readyReplicas', 'availableReplicas', 'unavailableReplicas'],
        );
  return {
    apiVersion: 'apps/v1',
    kind: w.kind,
    metadata: { name: w.name, namespace: ns, uid: uuidFrom(`${ns}/${w.kind}/${w.name}`), generation, labels: { ...w.labels } },
    spec: {
      replicas: desiredReplicas(w),
      selector: { matchLabels: { ...w.labels } },
      template,
      ...(w.kind === 'StatefulSet' ? { serviceName: w.name } : {}),
    },
    status,
  };
}

// ---------------------------------------------------------------- argv helpers

/** {kind, name} from `type/name` or `type name`. */
function parseRef(args: readonly string[]): { kind: Kind; name: string } {
  const first = args[0];
  if (first === undefined) throw new Unsupported('a resource is required');
  let type: string | undefined;
  let name: string | undefined;
  let used: number;
  if (first.includes('/')) {
    [type, name] = first.split('/', 2);
    used = 1;
  } else {
    [type, name] = args;
    used = 2;
  }
  const kind = typeOf(type);
  if (!kind) throw new Unsupported(`resource type ${type}`);
  if (args.length > used) throw new Unsupported(`extra arguments ${args.slice(used).join(' ')}`);
  if (!name) throw new Unsupported(`${type} needs a name`);
  return { kind, name };
}

function timeoutOf(flags: { timeout?: string }, def: number): number {
  if (flags.timeout === undefined) return def;
  const ms = parseGoDuration(flags.timeout);
  if (ms === undefined)
    throw new ToolError(1, `error: invalid argument "${flags.timeout}" for "--timeout" flag: time: invalid duration "${flags.timeout}"`);
  return ms;
}

// ---------------------------------------------------------------- verbs

interface Ctx {
  readonly ns: string;
  readonly rest: readonly string[];
  readonly all: readonly Workload[];
  find(kind: Kind, name: string): Workload;
  bySelector(sel: string): Workload | undefined;
}

function makeCtx(cfg: DoublesConfig, argv: readonly string[]): Ctx {
  const k = cfg.kubernetes;
  if (!k) throw new ToolError(1, 'kubectl double: the config has no kubernetes section');
  let context: string | undefined;
  let namespace: string | undefined;
  const rest: string[] = [];
  const need = (i: number): string => {
    const v = argv[i];
    if (v === undefined) throw new Unsupported(`flag ${argv[i - 1]} needs a value`);
    return v;
  };
  // global flags may stand anywhere (kubectl accepts them before and after the verb)
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    if (a === '--context') context = need(++i);
    else if (a.startsWith('--context=')) context = a.slice('--context='.length);
    else if (a === '-n' || a === '--namespace') namespace = need(++i);
    else if (a.startsWith('--namespace=')) namespace = a.slice('--namespace='.length);
    else if (/^-n[^-]/.test(a)) namespace = a.slice(2);
    else rest.push(a);
  }
  if (context !== undefined && context !== k.context) throw new ToolError(1, `error: context "${context}" does not exist`);
  // no -n: the context's namespace, i.e. the configured one
  const ns = namespace ?? k.namespace;
  const all = ns === k.namespace ? workloads(cfg) : [];
  return {
    ns,
    rest,
    all,
    find(kind, name) {
      const w = all.find((x) => x.kind === kind && x.name === name);
      if (!w) throw new ToolError(1, `Error from server (NotFound): ${kind === 'Pod' ? 'pods' : RESOURCE[kind]} "${name}" not found`);
      return w;
    },
    bySelector(sel) {
      return all.find((x) => x.selector !== undefined && normSelector(x.selector) === normSelector(sel));
    },
  };
}

async function get(ctx: Ctx): Promise<number> {
  const { flags, args } = parseFlags(ctx.rest.slice(1), {
    '-o': { key: 'output', value: true },
    '--output': { key: 'output', value: true },
    '-l': { key: 'selector', value: true },
    '--selector': { key: 'selector', value: true },
  });
  if (flags.output !== 'json') throw new Unsupported('get needs -o json');
  const deadline = Date.now() + DEFAULT_TIMEOUT_MS;
  if (args.length === 1 && typeOf(args[0]) === 'Pod') {
    if (flags.selector === undefined) throw new Unsupported('get pods needs -l SELECTOR');
    const w = ctx.bySelector(flags.selector);
    let items: ReturnType<typeof podJson>[] = [];
    if (w) {
      await reconcile(w, deadline);
      items = podsOf(w).map((p) => podJson(p, ctx.ns));
    }
    out(JSON.stringify({ apiVersion: 'v1', items, kind: 'List', metadata: { resourceVersion: '' } }, null, 4));
    return 0;
  }
  if (flags.selector !== undefined) throw new Unsupported('get TYPE/NAME does not take -l');
  const { kind, name } = parseRef(args);
  if (kind === 'Pod') throw new Unsupported('get pod NAME (use get pods -l SELECTOR)');
  const w = ctx.find(kind, name);
  await reconcile(w, deadline);
  out(JSON.stringify(workloadJson(w, ctx.ns), null, 4));
  return 0;
}

function scale(ctx: Ctx): number {
  const { flags, args } = parseFlags(ctx.rest.slice(1), { '--replicas': { key: 'replicas', value: true } });
  const { kind, name } = parseRef(args);
  if (kind === 'Pod') throw new Unsupported('scale pod');
  if (flags.replicas === undefined || !/^\d+$/.test(flags.replicas))
    throw new ToolError(1, 'error: The --replicas=COUNT flag is required, and COUNT must be greater than or equal to 0');
  const n = Number(flags.replicas);
  const w = ctx.find(kind, name);
  if (w.kind === 'StatefulSet' && n > 1) throw new Unsupported('a statefulset of the double has 0 or 1 replicas');
  // only recorded: the controller acts later (get pods, rollout status, wait), as scaling is asynchronous
  updateK8s(w, (k) => {
    if ((k.replicas ?? desiredReplicas(w)) !== n) k.generation = (k.generation ?? 1) + 1;
    k.replicas = n;
  });
  out(`${SINGULAR[w.kind]}/${name} scaled`);
  return 0;
}

async function rolloutStatus(w: Workload, flags: { timeout?: string }): Promise<number> {
  const deadline = Date.now() + timeoutOf(flags, DEFAULT_TIMEOUT_MS);
  const svc = w.svc;
  const name = w.name;
  const progress = async (): Promise<{ done: string; msg?: undefined } | { msg: string; done?: undefined }> => {
    const desired = desiredReplicas(w);
    const st = k8sState(w);
    const m = svc.main();
    if (w.kind === 'StatefulSet') {
      const done = `statefulset rolling update complete ${desired} pods at revision ${revision(w)}...`;
      if (desired === 0) return m ? { msg: 'Waiting for 1 pods to be terminated...' } : { done };
      if (!m || svc.frozen()) return { msg: `Waiting for ${desired} pods to be ready...` };
      if (st.restartedAtTicks !== undefined && m.ticks < st.restartedAtTicks) {
        return { msg: `Waiting for partitioned roll out to finish: 0 out of ${desired} new pods have been updated...` };
      }
      if (!(await svc.ready())) return { msg: `Waiting for ${desired} pods to be ready...` };
      return { done };
    }
    const prefix = `Waiting for deployment "${name}" rollout to finish:`;
    const done = `deployment "${name}" successfully rolled out`;
    const pods = podsOf(w);
    if (desired === 0) return m ? { msg: `${prefix} ${pods.length} old replicas are pending termination...` } : { done };
    const updated = pods.filter((p) => st.restartedAtTicks === undefined || p.proc.ticks >= st.restartedAtTicks);
    if (updated.length < desired) return { msg: `${prefix} ${updated.length} out of ${desired} new replicas have been updated...` };
    if (pods.length > desired) return { msg: `${prefix} ${pods.length - desired} old replicas are pending termination...` };
    const ready = updated.filter((p) => p.ready).length;
    if (ready < desired) return { msg: `${prefix} ${ready} of ${desired} updated replicas are available...` };
    if (!(await svc.ready())) return { msg: `${prefix} ${gunicorn(w).spec.healthUrl} does not answer 200 yet...` };
    return { done };
  };
  await reconcile(w, deadline);
  let last: string | undefined;
  let lastReconcile = Date.now();
  for (;;) {
    const p = await progress();
    if (p.done) {
      out(p.done);
      return 0;
    }
    if (p.msg !== last) out(p.msg);
    last = p.msg;
    if (Date.now() >= deadline) throw new ToolError(1, 'error: timed out waiting for the condition');
    await sleep(Math.min(50, left(deadline)));
    // a reload (HUP) puts gunicorn back to its configured worker count: the controller keeps at it
    if (Date.now() - lastReconcile > 2000) {
      await reconcile(w, deadline);
      lastReconcile = Date.now();
    }
  }
}

async function rollout(ctx: Ctx): Promise<number> {
  const [sub, ...rest] = ctx.rest.slice(1);
  if (sub !== 'restart' && sub !== 'status') throw new Unsupported(`rollout ${sub ?? '(none)'}`);
  const { flags, args } = parseFlags(rest, { '--timeout': { key: 'timeout', value: true } });
  if (sub === 'restart') onlyFlags(flags, [], 'rollout restart');
  const { kind, name } = parseRef(args);
  if (kind === 'Pod') throw new Unsupported('rollout of a pod');
  const w = ctx.find(kind, name);
  if (sub === 'status') return rolloutStatus(w, flags);
  w.svc.observe();
  updateK8s(w, (k) => {
    k.restartedAtMs = Date.now();
    // in the clock of process start times: a replacement is a process started at or after this
    k.restartedAtTicks = uptimeTicks();
    k.generation = (k.generation ?? 1) + 1;
  });
  if (w.kind === 'Deployment') {
    // gunicorn replaces every worker on HUP, as a rolling update replaces every pod
    await w.svc.reload();
  } else if (desiredReplicas(w) >= 1) {
    await w.svc.stop({ mode: 'fast' });
    await w.svc.start();
  }
  out(`${SINGULAR[w.kind]}/${name} restarted`);
  return 0;
}

async function del(ctx: Ctx): Promise<number> {
  const { flags, args } = parseFlags(ctx.rest.slice(1), {
    '--grace-period': { key: 'grace', value: true },
    '--force': { key: 'force' },
    '--wait': { key: 'wait' },
  });
  let name: string | undefined;
  const [first, second] = args;
  if (args.length === 1 && first?.includes('/')) {
    const [type, n] = first.split('/', 2);
    if (typeOf(type) !== 'Pod') throw new Unsupported(`delete ${type}`);
    name = n;
  } else if (args.length === 2 && typeOf(first) === 'Pod') name = second;
  if (!name) throw new Unsupported('only delete pod NAME');
  if (flags.grace !== undefined && !/^-?\d+$/.test(flags.grace))
    throw new ToolError(1, `error: invalid argument "${flags.grace}" for "--grace-period" flag`);
  let grace = flags.grace === undefined ? -1 : Number(flags.grace);
  const force = flags.force === true;
  const wait = flags.wait !== false;
  // kubectl itself turns --grace-period=0 without --force into 1 s, and --force alone into 0
  if (grace === 0 && !force) grace = 1;
  if (force && grace < 0) grace = 0;
  const graceMs = (grace < 0 ? 30 : grace) * 1000;

  let pod: Pod | undefined;
  for (const w of ctx.all) {
    w.svc.observe();
    pod = podsOf(w).find((p) => p.name === name) ?? pod;
  }
  if (!pod) throw new ToolError(1, `Error from server (NotFound): pods "${name}" not found`);
  const { w, proc } = pod;
  if (w.kind === 'StatefulSet') {
    // grace 0: a crash (no shutdown at all); otherwise a fast stop bounded by the grace period
    if (grace === 0) await w.svc.signalAll('SIGKILL');
    else await w.svc.stop({ mode: 'fast', timeoutMs: graceMs });
    // the StatefulSet controller recreates the pod
    if (desiredReplicas(w) >= 1) await w.svc.start();
  } else {
    const m = w.svc.main();
    // only a worker of this master (podsOf listed children of the master; check again right now)
    if (!m || !w.svc.children().some((c) => c.key === proc.key))
      throw new ToolError(1, `Error from server (NotFound): pods "${name}" not found`);
    sendSignal(proc, grace === 0 ? 'SIGKILL' : 'SIGTERM');
    if (wait) {
      if (!(await waitFor(() => !sameProcess(proc), grace === 0 ? DEFAULT_TIMEOUT_MS : graceMs))) {
        sendSignal(proc, 'SIGKILL');
        await waitFor(() => !sameProcess(proc), 5000);
      }
    }
  }
  if (grace === 0 && force) {
    err(
      'Warning: Immediate deletion does not wait for confirmation that the running resource has been terminated. The resource may continue to run on the cluster indefinitely.',
    );
    out(`pod "${name}" force deleted`);
  } else out(`pod "${name}" deleted`);
  return 0;
}

async function waitCmd(ctx: Ctx): Promise<number> {
  const { flags, args } = parseFlags(ctx.rest.slice(1), {
    '--for': { key: 'for', value: true },
    '-l': { key: 'selector', value: true },
    '--selector': { key: 'selector', value: true },
    '--timeout': { key: 'timeout', value: true },
  });
  if (args.length !== 1 || typeOf(args[0]) !== 'Pod') throw new Unsupported('only wait ... pod -l SELECTOR');
  if (!/^condition=ready(=true)?$/i.test(flags.for ?? '')) throw new Unsupported('only --for=condition=Ready');
  if (flags.selector === undefined) throw new Unsupported('wait needs -l SELECTOR');
  const deadline = Date.now() + timeoutOf(flags, 30_000); // kubectl wait's default timeout is 30 s
  const w = ctx.bySelector(flags.selector);
  if (!w) throw new ToolError(1, 'error: no matching resources found');
  await reconcile(w, deadline);
  let pods: Pod[] = [];
  const ok = await waitFor(() => {
    pods = podsOf(w);
    return pods.length > 0 && pods.every((p) => p.ready);
  }, left(deadline));
  if (ok) {
    out(pods.map((p) => `pod/${p.name} condition met`).join('\n'));
    return 0;
  }
  if (!pods.length) throw new ToolError(1, 'error: no matching resources found');
  throw new ToolError(1, `error: timed out waiting for the condition on pods/${pods.find((p) => !p.ready)?.name ?? pods[0]?.name}`);
}

function logs(ctx: Ctx): number {
  const { flags, args } = parseFlags(ctx.rest.slice(1), {
    '-l': { key: 'selector', value: true },
    '--selector': { key: 'selector', value: true },
    '--since-time': { key: 'sinceTime', value: true },
    '--timestamps': { key: 'timestamps' },
    '--prefix': { key: 'prefix' },
    '--all-containers': { key: 'allContainers' },
    '--tail': { key: 'tail', value: true },
    '--max-log-requests': { key: 'maxLogRequests', value: true },
  });
  if (args.length) throw new Unsupported('logs POD (use logs -l SELECTOR)');
  if (flags.selector === undefined) throw new Unsupported('logs needs -l SELECTOR');
  let sinceMs: number | undefined;
  if (flags.sinceTime !== undefined) {
    sinceMs = parseRfc3339(flags.sinceTime);
    if (sinceMs === undefined) throw new ToolError(1, `error: parsing time "${flags.sinceTime}" as RFC3339 failed`);
  }
  if (flags.tail !== undefined && !/^-?\d+$/.test(flags.tail))
    throw new ToolError(1, `error: invalid argument "${flags.tail}" for "--tail" flag`);
  const tail = flags.tail !== undefined ? Number(flags.tail) : 10; // kubectl's default with a selector
  const w = ctx.bySelector(flags.selector);
  const pods = w ? podsOf(w) : [];
  const firstPod = pods[0];
  if (!w || !firstPod) {
    err(`No resources found in ${ctx.ns} namespace.`);
    return 0;
  }
  // one log file behind every pod of the workload: printed once, under the first pod's name
  let lines = w.svc.logLines(sinceMs);
  if (tail >= 0) lines = tail === 0 ? [] : lines.slice(-tail);
  const prefix = flags.prefix ? `[pod/${firstPod.name}/${w.container}] ` : '';
  if (lines.length) out(lines.map((l) => `${prefix}${flags.timestamps ? `${isoNanos(l.ms)} ` : ''}${l.text}`).join('\n'));
  return 0;
}

await runTool('kubectl', async ({ argv, cfg }) => {
  const ctx = makeCtx(cfg, argv);
  const verbs: Record<string, (ctx: Ctx) => number | Promise<number>> = { get, scale, rollout, delete: del, wait: waitCmd, logs };
  const verb = ctx.rest[0];
  const run = verb === undefined ? undefined : verbs[verb];
  if (!run) throw new Unsupported(`verb ${verb ?? '(none)'}`);
  return run(ctx);
});
