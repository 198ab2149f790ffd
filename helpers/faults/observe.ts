/** How a fault proves itself: probes it polls until its effect shows (inject) or its steady state returns (recover). */
import { lastLines } from '../drivers/logs';
import { delay } from '../wait';
import { pgPing, type PgPing } from '../integrity/pg-ping';
import type { CommandRecord } from '../stack/command';
import type { Action } from '../drivers/types';
import { act, FaultDidNotRecover, FaultNotObserved, TargetBroken, type Fault, type FaultAction } from './fault';
import type { FaultContext, FaultName, FaultOrMissing } from './catalog';

export interface Seen {
  readonly ok: boolean;
  readonly detail: string;
}

/** Something a fault waits to see: the effect of inject, or the steady state after recover. */
export interface Observation {
  readonly expected: string;
  readonly probe: () => Promise<Seen>;
}

export const PROBE_TIMEOUT_MS = 1_000;

export async function observe(
  o: Observation,
  timeoutMs: number,
  fail: (elapsedMs: number, last: string) => Error,
): Promise<{ detail: string; at: number; lookMs: number }> {
  const t0 = Date.now();
  let last = 'no observation';
  let probeMs = 0;
  for (;;) {
    const p0 = Date.now();
    try {
      const seen = await o.probe();
      if (seen.ok) return { detail: `${o.expected}: ${seen.detail}`, at: Date.now(), lookMs: Date.now() - p0 };
      last = seen.detail;
    } catch (error) {
      last = (error as Error).message.split('\n')[0] ?? String(error);
    }
    probeMs = Date.now() - p0;
    const elapsed = Date.now() - t0;
    if (elapsed >= timeoutMs) throw fail(elapsed, last);
    // a probe that runs a tool (kubectl, docker) costs CPU the store under test shares: poll at most half the time
    await delay(Math.min(Math.max(50, probeMs), timeoutMs - elapsed));
  }
}

/** All of several observations at once. */
export function all(...os: Array<Observation | undefined>): Observation {
  const list = os.filter((o): o is Observation => o !== undefined);
  return {
    expected: list.map((o) => o.expected).join(' and '),
    probe: async () => {
      const seen = await Promise.all(list.map((o) => o.probe()));
      return { ok: seen.every((s) => s.ok), detail: seen.map((s) => s.detail).join('; ') };
    },
  };
}

export function checkObservation(key: string | undefined, check: (() => Promise<CommandRecord>) | undefined): Observation | undefined {
  if (!check) return undefined;
  return {
    expected: `${key ?? 'the check command'} exits 0`,
    probe: async () => {
      try {
        await check();
        return { ok: true, detail: 'check exit 0' };
      } catch (error) {
        return { ok: false, detail: `check: ${(error as Error).message.split('\n')[0]}` };
      }
    },
  };
}

export const pingObservation = (
  expected: string,
  addr: { host: string; port: number },
  ok: (p: PgPing) => boolean,
  timeoutMs = PROBE_TIMEOUT_MS,
): Observation => ({
  expected,
  probe: async () => {
    const p = await pgPing(addr.host, addr.port, timeoutMs);
    return { ok: ok(p), detail: `${addr.host}:${addr.port} ${p.outcome} in ${p.ms}ms` };
  },
});

export interface FaultSpec {
  readonly name: FaultName;
  readonly description: string;
  readonly driver: string;
  readonly before?: () => Promise<void>;
  readonly inject: Action;
  readonly effect: () => Observation;
  /** undefined: the target heals itself (a reload completes, a killed worker is respawned) */
  readonly revert?: Action;
  readonly reverted: () => Observation;
  readonly expectedWorkers?: () => Promise<number | undefined>;
  /**
   * how the target is broken right now, when the fault's action must not take it down (a reload, a
   * re-exec, a killed worker, scaling): undefined while it serves. Watched during the action's
   * observation; a fault whose effect is not seen while the target is broken failed the target
   */
  readonly broken?: () => Promise<{ state: string | undefined; seen: string }>;
}

/** Polls broken() until stopped, keeping one line per change of what it sees. */
function watchBroken(broken: NonNullable<FaultSpec['broken']>, t0: number): { timeline: string[]; stop: () => Promise<void> } {
  const timeline: string[] = [];
  let running = true;
  const loop = (async () => {
    while (running) {
      const p0 = Date.now();
      const { seen } = await broken().catch((e: unknown) => ({ seen: `probe failed: ${(e as Error).message}` }));
      const line = `+${Date.now() - t0}ms ${seen}`;
      if (timeline.at(-1)?.replace(/^\+\d+ms /, '') !== seen) timeline.push(line);
      // as observe(): a look that ran a tool waits as long as it took
      await delay(Math.max(WATCH_INTERVAL_MS, Date.now() - p0));
    }
  })();
  return {
    timeline,
    stop: async () => {
      running = false;
      await loop;
    },
  };
}

/** How often the target is looked at while a zero-downtime action is observed. */
const WATCH_INTERVAL_MS = 100;

/** An action's result with what its observation saw, when, and how long the look took. */
const outcome = (
  r: { detail: string; commands?: readonly CommandRecord[] },
  endedAt: number,
  seen: { detail: string; at: number; lookMs: number },
) => ({ detail: r.detail, commands: r.commands, endedAt, observation: seen.detail, observedAt: seen.at, lookMs: seen.lookMs });

export function buildFault(spec: FaultSpec, ctx: FaultContext): Fault {
  let injected = false;
  /**
   * Ctrl+C leaves a test's body running while its teardown recovers: the body's inject may still be
   * acting, and its own recover may start beside the teardown's. A recover waits for the inject in
   * flight, and a second recover shares the one under way: two starts at once left a store answering
   * health with no pidfile, and a start during a stop found the old server still up and did nothing
   * (each then waited 30 s for a recovery that never came).
   */
  let injecting: Promise<FaultAction> | undefined;
  let recovering: Promise<FaultAction> | undefined;
  const recover = () =>
    act(spec.name, 'recover', async () => {
      await injecting?.catch(() => undefined);
      if (!injected) return { detail: 'nothing to revert', changed: false };
      const workers = spec.expectedWorkers ? await spec.expectedWorkers() : undefined;
      const r = spec.revert ? await spec.revert({ workers }) : { detail: 'the target recovers on its own', commands: [] };
      const endedAt = Date.now();
      const reverted = spec.reverted();
      const seen = await observe(
        reverted,
        ctx.recoverTimeoutMs,
        (ms, last) => new FaultDidNotRecover(spec.name, spec.driver, reverted.expected, ms, last),
      );
      injected = false;
      return outcome(r, endedAt, seen);
    });
  return {
    name: spec.name,
    description: spec.description,
    recover: () => (recovering ??= recover().finally(() => (recovering = undefined))),
    inject: () =>
      (injecting = act(spec.name, 'inject', async () => {
        await spec.before?.();
        injected = true; // before the action: a half-applied fault is reverted too
        const t0 = Date.now();
        const watch = spec.broken && watchBroken(spec.broken, t0);
        const log = spec.broken && ctx.storeLog?.();
        try {
          const r = await spec.inject();
          const endedAt = Date.now();
          const effect = spec.effect();
          const seen = await observe(
            effect,
            ctx.observeTimeoutMs,
            (ms, last) => new FaultNotObserved(spec.name, spec.driver, effect.expected, ms, last),
          );
          return outcome(r, endedAt, seen);
        } catch (error) {
          // not "not observed" when the action took the target down: that is the deployment's failure
          const now = spec.broken && (await spec.broken().catch(() => undefined));
          if (spec.broken && now?.state && watch) {
            await watch.stop();
            throw new TargetBroken(spec.name, spec.driver, spec.description, {
              state: now.state,
              timeline: watch.timeline,
              log: log && lastLines(await log.read().catch((e: unknown) => `(could not read it: ${(e as Error).message})`)),
            });
          }
          throw error;
        } finally {
          await watch?.stop();
        }
      })),
  };
}

/** A fault the target cannot run, and the setting that would make it possible. */
export const missing = (m: string): FaultOrMissing => ({ ok: false, missing: m });
