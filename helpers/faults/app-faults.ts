/** Faults of the app server through its driver: reload, kill a worker, restart, re-exec, scale down and up. */
import { checkKey, type AppAction } from '../config/external';
import type { ServerIdentity } from '../drivers/types';
import type { AppFaultName, FaultContext, FaultOrMissing } from './catalog';
import { all, buildFault, checkObservation, missing, type FaultSpec, type Observation } from './observe';

export function appFault(ctx: FaultContext, name: AppFaultName): FaultOrMissing {
  const { app } = ctx;
  if (!app) return missing(`${name} needs an app-server driver: ${ctx.appMissing}`);
  const needs: Record<AppFaultName, AppAction[]> = {
    'app-reload': ['reload'],
    'app-kill-worker': ['kill-worker'],
    'app-restart': ['stop', 'start'],
    'app-scale-down': ['scale-down', 'scale-up'],
    'app-reexec': ['reexec'],
  };
  for (const a of needs[name]) if (!app.actions[a]) return missing(`${name}: ${app.missing(a)}`);
  const action = needs[name][0]!;
  const check = app.checks[action];
  const checkName = checkKey('APP', action);
  const identity = app.identity;
  // worker-level faults are proven on the workers' identities, or by the user's check command
  if (name === 'app-reexec' && !identity) return missing(`app-reexec is proven by a new server instance: ${app.missing('identity')}`);
  if (!identity && name !== 'app-restart' && !check) {
    return missing(`${name} cannot prove it took effect: ${app.missing('identity')}; or give ${checkName}`);
  }
  const health: Observation = {
    expected: 'the store answers health 200',
    probe: async () => {
      const s = await ctx.health();
      return { ok: s === 200, detail: `health ${s ?? 'no answer'}` };
    },
  };
  let before: ServerIdentity | undefined;
  let victim: string | undefined;
  const expectedWorkers = async () => (await ctx.expectedWorkers()) ?? before?.workers.length;
  const idObservation = (expected: string, ok: (now: ServerIdentity, want: number | undefined) => boolean): Observation | undefined =>
    identity && {
      expected,
      probe: async () => {
        const now = await identity();
        const want = await expectedWorkers();
        return { ok: ok(now, want), detail: `instance ${now.instance ?? 'none'}, workers [${now.workers.join(' ')}]` };
      },
    };
  const steady = (extra: (now: ServerIdentity) => boolean, what: string) =>
    idObservation(`${what}, the full worker count again`, (now, want) => extra(now) && now.workers.length >= (want ?? 1));
  // a reload or a re-exec is over when every worker of before is gone and the store answers
  const oldWorkersGone = () =>
    all(
      steady((now) => now.workers.every((w) => !before?.workers.includes(w)), 'every old worker gone'),
      health,
    );

  // a zero-downtime action (reload, a killed worker, re-exec, scaling) must leave the store serving:
  // when its effect is not seen and the store is down, the action broke the deployment
  const broken: FaultSpec['broken'] = async () => {
    // health first, the identity only when it fails: an identity through kubectl or docker costs the
    // CPU the store shares, and this runs all through the fault's window
    const h = await ctx.health();
    if (h === 200) return { state: undefined, seen: 'health 200' };
    const id = identity ? await identity().catch(() => undefined) : undefined;
    const seen = `health ${h ?? 'no answer'}${id ? `, instance ${id.instance ?? 'none'}, workers [${id.workers.join(' ')}]` : ''}`;
    const state =
      id && id.instance === undefined
        ? 'with no server instance, and nothing answering'
        : id && id.workers.length === 0
          ? `with a server instance (${id.instance}) and no worker: nothing answers (the workers die as they boot)`
          : `not answering health (${h ?? 'no answer'})`;
    return { state, seen };
  };

  const specs: Record<AppFaultName, () => FaultSpec> = {
    'app-reload': () => ({
      name,
      description: `graceful reload: new workers start, the old ones drain (${app.label})`,
      driver: app.label,
      before: async () => void (before = identity ? await identity() : undefined),
      inject: app.actions.reload!,
      // the store keeps serving: a reload that took it down is not a reload (broken tells which it was)
      effect: () =>
        all(
          idObservation('a new worker', (now) => now.workers.some((w) => !before?.workers.includes(w))),
          checkObservation(checkName, check),
          health,
        ),
      reverted: oldWorkersGone,
      expectedWorkers,
      broken,
    }),
    'app-kill-worker': () => ({
      name,
      description: `one worker killed without warning (SIGKILL), its master or controller replaces it (${app.label})`,
      driver: app.label,
      before: async () => void (before = identity ? await identity() : undefined),
      inject: async (args) => {
        const r = await app.actions['kill-worker']!(args);
        victim = r.victim;
        return r;
      },
      effect: () =>
        all(
          victim === undefined ? undefined : idObservation(`worker ${victim} gone`, (now) => !now.workers.includes(victim!)),
          checkObservation(checkName, check),
          health,
        ),
      reverted: () =>
        all(
          steady((now) => victim === undefined || !now.workers.includes(victim), 'the killed worker replaced'),
          health,
        ),
      expectedWorkers,
      broken,
    }),
    'app-restart': () => ({
      name,
      description: `full restart: the app server stopped (its workers drain), then started (${app.label})`,
      driver: app.label,
      before: async () => void (before = identity ? await identity() : undefined),
      inject: app.actions.stop!,
      effect: () =>
        all(
          {
            expected: 'the store stops answering health 200',
            probe: async () => {
              const s = await ctx.health();
              return { ok: s !== 200, detail: `health ${s ?? 'no answer'}` };
            },
          },
          idObservation('no server instance', (now) => now.instance === undefined),
          checkObservation(checkKey('APP', 'stop'), app.checks.stop),
        ),
      revert: app.actions.start!,
      reverted: () =>
        all(
          steady((now) => now.instance !== undefined && now.instance !== before?.instance, 'a new server instance'),
          health,
          checkObservation(checkKey('APP', 'start'), app.checks.start),
        ),
      expectedWorkers,
    }),
    'app-scale-down': () => ({
      name,
      description: `scale down by one worker, then back up (${app.label})`,
      driver: app.label,
      before: async () => void (before = identity ? await identity() : undefined),
      inject: app.actions['scale-down']!,
      effect: () =>
        all(
          idObservation('one worker fewer', (now) => before !== undefined && now.workers.length === before.workers.length - 1),
          checkObservation(checkName, check),
          health,
        ),
      revert: app.actions['scale-up']!,
      reverted: () =>
        all(
          steady(() => true, 'scaled back up'),
          health,
          checkObservation(checkKey('APP', 'scale-up'), app.checks['scale-up']),
        ),
      expectedWorkers,
      broken,
    }),
    'app-reexec': () => ({
      name,
      description: `zero-downtime restart: a new server on the same socket, then the old one retired (${app.label})`,
      driver: app.label,
      before: async () => void (before = identity ? await identity() : undefined),
      inject: async (args) => app.actions.reexec!({ workers: args?.workers ?? (await expectedWorkers()) }),
      effect: () =>
        all(
          idObservation('a new server instance', (now) => now.instance !== undefined && now.instance !== before?.instance),
          checkObservation(checkName, check),
          health,
        ),
      reverted: oldWorkersGone,
      expectedWorkers,
      broken,
    }),
  };
  return { ok: true, value: buildFault(specs[name](), ctx) };
}
