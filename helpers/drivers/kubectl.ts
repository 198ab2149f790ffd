/**
 * The `kubectl` driver: a StatefulSet (PostgreSQL) and a Deployment (the store) in one namespace.
 * - stop = scale to 0 and wait until the pods are gone; start = scale back to the replica count
 *   recorded before (kept in a file, so that global teardown in another process can restore it),
 *   `rollout status --timeout`, then `kubectl wait --for=condition=Ready`;
 * - db crash = scale to 0 and delete the pod with --grace-period=0 --force (no clean shutdown, and
 *   the controller does not bring it back until the recovery scales up);
 * - app: reload = `rollout restart` (new pods, old ones drain), a worker is a pod (kill-worker
 *   deletes one, its ReplicaSet replaces it), scale down = one replica fewer;
 * - identity is the pod UID: a Ready pod with an old UID is not a recovery.
 * Kubernetes cannot pause a pod: db freeze needs DB_FREEZE_COMMAND/DB_UNFREEZE_COMMAND.
 *
 * Over 250 lines: one driver, its argv and the parsers of kubectl's JSON it alone reads, kept
 * together like the other drivers (the parsers' unit tests run on recorded kubectl output).
 */
import fs from 'node:fs';
import path from 'node:path';
import { runCommand, type CommandRecord } from '../stack/command';
import { waitUntil } from '../wait';
import { DriverError, type ActionResult, type AppService, type DbService, type ServerIdentity } from './types';

export interface Pod {
  readonly name: string;
  readonly uid: string;
  readonly ready: boolean;
  readonly terminating: boolean;
  readonly phase: string;
}

/** Parses `kubectl get pods -o json` (a List of Pods). */
export function parsePods(text: string): Pod[] {
  const list = JSON.parse(text) as { items?: unknown[] };
  if (!Array.isArray(list.items)) throw new DriverError(`kubectl get pods: no items in ${text.slice(0, 300)}`);
  return list.items.map((raw) => {
    const p = raw as {
      metadata?: { name?: string; uid?: string; deletionTimestamp?: string };
      status?: { phase?: string; conditions?: Array<{ type?: string; status?: string }> };
    };
    if (!p.metadata?.name || !p.metadata.uid)
      throw new DriverError(`kubectl get pods: a pod without name or uid: ${JSON.stringify(p).slice(0, 300)}`);
    return {
      name: p.metadata.name,
      uid: p.metadata.uid,
      terminating: p.metadata.deletionTimestamp !== undefined && p.metadata.deletionTimestamp !== null,
      phase: p.status?.phase ?? '',
      ready: (p.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True'),
    };
  });
}

/** spec.replicas of `kubectl get <kind>/<name> -o json`. */
export function parseReplicas(text: string): number {
  const o = JSON.parse(text) as { spec?: { replicas?: unknown } };
  const r = o.spec?.replicas;
  // an omitted spec.replicas defaults to 1 in the API server
  if (r === undefined) return 1;
  if (typeof r !== 'number' || !Number.isInteger(r) || r < 0) throw new DriverError(`kubectl get: spec.replicas is ${JSON.stringify(r)}`);
  return r;
}

export type Workload = 'statefulset' | 'deployment';

/** argv of each kubectl use, after the context/namespace flags, in one place (the unit tests check them). */
export const kubectlArgv = {
  base: (namespace: string, context?: string) => [...(context ? ['--context', context] : []), '-n', namespace],
  get: (kind: Workload, name: string) => ['get', `${kind}/${name}`, '-o', 'json'],
  scale: (kind: Workload, name: string, replicas: number) => ['scale', `${kind}/${name}`, `--replicas=${replicas}`],
  rolloutStatus: (kind: Workload, name: string, timeoutS: number) => ['rollout', 'status', `${kind}/${name}`, `--timeout=${timeoutS}s`],
  rolloutRestart: (kind: Workload, name: string) => ['rollout', 'restart', `${kind}/${name}`],
  pods: (selector: string) => ['get', 'pods', '-l', selector, '-o', 'json'],
  waitReady: (selector: string, timeoutS: number) => ['wait', '--for=condition=Ready', 'pod', '-l', selector, `--timeout=${timeoutS}s`],
  deletePod: (name: string) => ['delete', 'pod', name, '--grace-period=0', '--force'],
  logs: (selector: string, sinceIso: string) => [
    'logs',
    '-l',
    selector,
    `--since-time=${sinceIso}`,
    '--timestamps',
    '--prefix',
    '--all-containers',
    '--tail=-1',
    '--max-log-requests=20',
  ],
};

/** Replica counts recorded before scaling, in a file shared with global teardown. */
export class ReplicaRecord {
  constructor(private readonly file: string) {}

  private read(): Record<string, number> {
    try {
      return JSON.parse(fs.readFileSync(this.file, 'utf8')) as Record<string, number>;
    } catch {
      return {};
    }
  }

  get(key: string): number | undefined {
    return this.read()[key];
  }

  set(key: string, replicas: number): void {
    fs.mkdirSync(path.dirname(this.file), { recursive: true });
    fs.writeFileSync(this.file, JSON.stringify({ ...this.read(), [key]: replicas }, null, 2));
  }
}

/** One namespace, as seen through kubectl. */
export class Kubectl {
  constructor(
    readonly namespace: string,
    readonly context: string | undefined,
    private readonly timeoutMs: number,
    private readonly record: ReplicaRecord,
  ) {}

  private get timeoutS(): number {
    return Math.max(1, Math.ceil(this.timeoutMs / 1000) - 5);
  }

  run(args: string[]): Promise<CommandRecord> {
    return runCommand('kubectl', [...kubectlArgv.base(this.namespace, this.context), ...args], { timeoutMs: this.timeoutMs });
  }

  async pods(selector: string): Promise<Pod[]> {
    return parsePods((await this.run(kubectlArgv.pods(selector))).stdout);
  }

  async replicas(kind: Workload, name: string): Promise<number> {
    return parseReplicas((await this.run(kubectlArgv.get(kind, name))).stdout);
  }

  private key(kind: Workload, name: string): string {
    return `${this.context ?? ''}/${this.namespace}/${kind}/${name}`;
  }

  /** The replica count to come back to: recorded once, before the first scale. */
  async recorded(kind: Workload, name: string, commands: CommandRecord[]): Promise<number> {
    const key = this.key(kind, name);
    const known = this.record.get(key);
    if (known !== undefined) return known;
    const get = await this.run(kubectlArgv.get(kind, name));
    commands.push(get);
    const replicas = parseReplicas(get.stdout);
    if (replicas === 0) throw new DriverError(`${kind}/${name} is scaled to 0 already: nothing to fault (scale it up first)`);
    this.record.set(key, replicas);
    return replicas;
  }

  recordedOnly(kind: Workload, name: string): number | undefined {
    return this.record.get(this.key(kind, name));
  }

  /** Scales to 0 and waits until no pod of the selector is left. */
  async scaleToZero(kind: Workload, name: string, selector: string, commands: CommandRecord[], crash: boolean): Promise<void> {
    await this.recorded(kind, name, commands);
    const before = await this.pods(selector);
    commands.push(await this.run(kubectlArgv.scale(kind, name, 0)));
    // a crash: the pods die now, without their grace period
    if (crash) for (const p of before.filter((x) => !x.terminating)) commands.push(await this.run(kubectlArgv.deletePod(p.name)));
    await waitUntil(async () => (await this.pods(selector)).length === 0, {
      description: `every pod of ${selector} to be gone after scaling ${kind}/${name} to 0`,
      timeoutMs: this.timeoutMs,
      intervalMs: 100,
    });
  }

  /** Scales to n, then `rollout status` and `wait --for=condition=Ready`. */
  async scaleTo(kind: Workload, name: string, selector: string, n: number, commands: CommandRecord[]): Promise<void> {
    commands.push(await this.run(kubectlArgv.scale(kind, name, n)));
    commands.push(await this.run(kubectlArgv.rolloutStatus(kind, name, this.timeoutS)));
    if (n > 0) commands.push(await this.run(kubectlArgv.waitReady(selector, this.timeoutS)));
  }

  async act(detail: string, body: (commands: CommandRecord[]) => Promise<void>): Promise<ActionResult> {
    const commands: CommandRecord[] = [];
    await body(commands);
    return { detail, commands };
  }

  /** Backstop: a workload below its recorded replica count is scaled back. */
  async heal(kind: Workload, name: string, selector: string): Promise<string[]> {
    const want = this.recordedOnly(kind, name);
    if (want === undefined) return [];
    const have = await this.replicas(kind, name);
    if (have >= want) return [];
    await this.scaleTo(kind, name, selector, want, []);
    return [`kubectl scale ${kind}/${name} --replicas=${want} (was ${have})`];
  }
}

/** The database as a StatefulSet. */
export function kubectlDb(k: Kubectl, statefulSet: string, selector: string): DbService {
  const kind = 'statefulset' as const;
  return {
    label: `kubectl ${k.namespace}/statefulset/${statefulSet}`,
    actions: {
      stop: () =>
        k.act(`kubectl scale statefulset/${statefulSet} --replicas=0`, (c) => k.scaleToZero(kind, statefulSet, selector, c, false)),
      crash: () =>
        k.act(`kubectl scale statefulset/${statefulSet} --replicas=0; kubectl delete pod --grace-period=0 --force`, (c) =>
          k.scaleToZero(kind, statefulSet, selector, c, true),
        ),
      start: () =>
        k.act(`kubectl scale statefulset/${statefulSet} back; rollout status; wait Ready`, async (c) => {
          const n = await k.recorded(kind, statefulSet, c);
          await k.scaleTo(kind, statefulSet, selector, n, c);
        }),
    },
    checks: {},
    missing: (action) =>
      action === 'freeze' || action === 'unfreeze'
        ? 'db-freeze: Kubernetes cannot pause a pod; give DB_FREEZE_COMMAND and DB_UNFREEZE_COMMAND (for example a SIGSTOP of the postmaster tree from a node shell)'
        : `the kubectl driver has no ${action}`,
    status: async () => {
      const pods = await k.pods(selector);
      return `statefulset/${statefulSet} replicas ${await k.replicas(kind, statefulSet)}, pods ${pods.map((p) => `${p.name}${p.ready ? '' : ' (not ready)'}`).join(' ') || 'none'}`;
    },
    heal: () => k.heal(kind, statefulSet, selector),
  };
}

/** The store as a Deployment: a worker is a pod. */
export function kubectlApp(k: Kubectl, deployment: string, selector: string): AppService {
  const kind = 'deployment' as const;
  const live = async () => (await k.pods(selector)).filter((p) => !p.terminating);
  const identity = async (): Promise<ServerIdentity> => {
    const pods = (await live()).filter((p) => p.ready);
    return {
      instance: pods.length
        ? pods
            .map((p) => p.uid)
            .sort()
            .join(',')
        : undefined,
      workers: pods.map((p) => p.uid),
    };
  };
  return {
    label: `kubectl ${k.namespace}/deployment/${deployment}`,
    actions: {
      reload: () =>
        k.act(
          `kubectl rollout restart deployment/${deployment}`,
          async (c) => void c.push(await k.run(kubectlArgv.rolloutRestart(kind, deployment))),
        ),
      stop: () => k.act(`kubectl scale deployment/${deployment} --replicas=0`, (c) => k.scaleToZero(kind, deployment, selector, c, false)),
      start: () =>
        k.act(`kubectl scale deployment/${deployment} back; rollout status; wait Ready`, async (c) => {
          await k.scaleTo(kind, deployment, selector, await k.recorded(kind, deployment, c), c);
        }),
      'kill-worker': async () => {
        const commands: CommandRecord[] = [];
        const victim = (await live()).find((p) => p.ready);
        if (!victim) throw new DriverError(`app-kill-worker: no Ready pod matches ${selector}`);
        commands.push(await k.run(kubectlArgv.deletePod(victim.name)));
        return { detail: `kubectl delete pod ${victim.name} --grace-period=0 --force (uid ${victim.uid})`, commands, victim: victim.uid };
      },
      'scale-down': () =>
        k.act(`kubectl scale deployment/${deployment} one replica down`, async (c) => {
          const n = await k.recorded(kind, deployment, c);
          if (n <= 1) throw new DriverError(`app-scale-down: deployment/${deployment} runs ${n} replica; scaling down would be an outage`);
          c.push(await k.run(kubectlArgv.scale(kind, deployment, n - 1)));
        }),
      'scale-up': () =>
        k.act(`kubectl scale deployment/${deployment} back`, async (c) => {
          await k.scaleTo(kind, deployment, selector, await k.recorded(kind, deployment, c), c);
        }),
    },
    checks: {},
    identity,
    missing: (action) =>
      action === 'reexec'
        ? "Kubernetes' zero-downtime restart is the rolling update (app-reload here); give APP_REEXEC_COMMAND for another"
        : `the kubectl driver has no ${action}`,
    status: async () => {
      const pods = await k.pods(selector);
      return `deployment/${deployment} replicas ${await k.replicas(kind, deployment)}, pods ${pods.map((p) => `${p.name}${p.ready ? '' : ' (not ready)'}`).join(' ') || 'none'}`;
    },
    heal: () => k.heal(kind, deployment, selector),
  };
}
