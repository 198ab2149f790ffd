/**
 * The faults a scenario can name, composed from a target's service drivers. Each fault proves it
 * took effect (the database refuses or hangs, the link drops, workers are replaced, the server is
 * down) and that it was reverted, with probes of its own that do not ask the store under test;
 * "fault not observed" and "did not recover" are failures of their own (FaultNotObserved,
 * FaultDidNotRecover), never confused with a defect of the store.
 */
import { checkKey, type AppAction, type DbAction } from '../config/external';
import { pgAccepts } from '../integrity/pg-ready';
import { pgPing, type PgPing } from '../integrity/pg-ping';
import type { CommandRecord } from '../stack/command';
import type { Action, AppService, DbService, ServerIdentity } from '../drivers/types';
import { act, FaultDidNotRecover, FaultNotObserved, type Fault } from './fault';
import type { ConnectionLog } from './proxy';
import type { ToxiproxyClient } from './toxiproxy-client';
import pg from 'pg';

export const DB_FAULTS = [
  'db-stop',
  'db-crash',
  'db-freeze',
  'db-partition-down',
  'db-partition-blackhole',
  'db-partition-reset-peer',
  'db-latency',
  'db-crash-point',
  'db-lock',
] as const;
export type DbFaultName = (typeof DB_FAULTS)[number];
export const APP_FAULTS = ['app-reload', 'app-kill-worker', 'app-restart', 'app-scale-down', 'app-reexec'] as const;
export type AppFaultName = (typeof APP_FAULTS)[number];
export type FaultName = DbFaultName | AppFaultName;

export interface FaultOptions {
  /** db-latency: added delay */
  readonly latencyMs?: number;
  /** db-crash-point: the statement of each connection (from 1) at which the connection dies */
  readonly statement?: number;
  /** db-crash-point: true, the server executes that statement and its answer is lost; false, it never gets it */
  readonly afterStatement?: boolean;
}

/** The statements the store sends PostgreSQL, as this suite's fault proxy counts them. */
export interface StatementLog {
  /** false for a proxy that cannot count statements (a Toxiproxy) */
  supported(): Promise<boolean>;
  /** forget what was seen: every connection counts from 1 again */
  clear(): Promise<void>;
  connections(): Promise<ConnectionLog[]>;
  /** how many times the armed crash point cut a connection */
  fired(): Promise<number>;
}

export const CRASH_POINT_TOXIC = 'crash_point';
const LOCK_TABLE = 'store_orderrequest';

/** The statement log of a link through this suite's fault proxy. */
export function statementLogOf(link: LinkService): StatementLog {
  return {
    supported: async () => (await link.client.version().catch(() => '')).startsWith('store-resilience-fault-proxy'),
    clear: () => link.client.clearConnections(link.proxy),
    connections: () => link.client.connections(link.proxy),
    fired: async () => (await link.client.proxy(link.proxy)).toxics.find((t) => t.name === CRASH_POINT_TOXIC)?.attributes.fired ?? 0,
  };
}

/** A fault, or the setting that would make it possible on this target. */
export type FaultOrMissing = { readonly ok: true; readonly value: Fault } | { readonly ok: false; readonly missing: string };

/** The link between the store and PostgreSQL: a Toxiproxy-compatible proxy the store connects through. */
export interface LinkService {
  readonly label: string;
  readonly client: ToxiproxyClient;
  readonly proxy: string;
  /** the address the store connects to */
  listen(): Promise<{ host: string; port: number }>;
  /** the store's own database URL through the proxy, when known: recovery waits until it accepts */
  readonly storePathUrl?: string;
}

export interface FaultContext {
  readonly db?: DbService;
  /** why there is no database driver: the setting to give */
  readonly dbMissing: string;
  readonly app?: AppService;
  readonly appMissing: string;
  readonly link?: LinkService;
  readonly linkMissing: string;
  /** the database itself (DATABASE_URL's host:port): observed directly, not through the store */
  readonly dbAddress?: { readonly host: string; readonly port: number };
  /** read-only URL: "accepts queries again" */
  readonly dbProbeUrl?: string;
  /** a role that may lock the store's tables (a disposable database only), for db-lock */
  readonly lockUrl?: string;
  /** why there is no lockUrl */
  readonly lockMissing?: string;
  /** the store's /api/health/ status, undefined when nothing answers */
  readonly health: () => Promise<number | undefined>;
  /** the workers the app server runs in its steady state, when known */
  readonly expectedWorkers: () => Promise<number | undefined>;
  readonly observeTimeoutMs: number;
  readonly recoverTimeoutMs: number;
}

interface Seen {
  readonly ok: boolean;
  readonly detail: string;
}

/** Something a fault waits to see: the effect of inject, or the steady state after recover. */
interface Observation {
  readonly expected: string;
  readonly probe: () => Promise<Seen>;
}

const PROBE_TIMEOUT_MS = 1_000;

async function observe(
  o: Observation,
  timeoutMs: number,
  fail: (elapsedMs: number, last: string) => Error,
): Promise<{ detail: string; at: number }> {
  const t0 = Date.now();
  let last = 'no observation';
  let probeMs = 0;
  for (;;) {
    const p0 = Date.now();
    try {
      const seen = await o.probe();
      if (seen.ok) return { detail: `${o.expected}: ${seen.detail}`, at: Date.now() };
      last = seen.detail;
    } catch (error) {
      last = (error as Error).message.split('\n')[0] ?? String(error);
    }
    probeMs = Date.now() - p0;
    const elapsed = Date.now() - t0;
    if (elapsed >= timeoutMs) throw fail(elapsed, last);
    // a probe that runs a tool (kubectl, docker) costs CPU the store under test shares: poll at most half the time
    await new Promise((r) => setTimeout(r, Math.min(Math.max(50, probeMs), timeoutMs - elapsed)));
  }
}

/** All of several observations at once. */
function all(...os: Array<Observation | undefined>): Observation {
  const list = os.filter((o): o is Observation => o !== undefined);
  return {
    expected: list.map((o) => o.expected).join(' and '),
    probe: async () => {
      const seen = await Promise.all(list.map((o) => o.probe()));
      return { ok: seen.every((s) => s.ok), detail: seen.map((s) => s.detail).join('; ') };
    },
  };
}

function checkObservation(key: string | undefined, check: (() => Promise<CommandRecord>) | undefined): Observation | undefined {
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

const pingObservation = (
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

interface FaultSpec {
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
}

function buildFault(spec: FaultSpec, ctx: FaultContext): Fault {
  let injected = false;
  return {
    name: spec.name,
    description: spec.description,
    inject: () =>
      act(spec.name, 'inject', async () => {
        await spec.before?.();
        injected = true; // before the action: a half-applied fault is reverted too
        const r = await spec.inject();
        const endedAt = Date.now();
        const effect = spec.effect();
        const seen = await observe(
          effect,
          ctx.observeTimeoutMs,
          (ms, last) => new FaultNotObserved(spec.name, spec.driver, effect.expected, ms, last),
        );
        return { detail: r.detail, commands: r.commands, endedAt, observation: seen.detail, observedAt: seen.at };
      }),
    recover: () =>
      act(spec.name, 'recover', async () => {
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
        return { detail: r.detail, commands: r.commands, endedAt, observation: seen.detail, observedAt: seen.at };
      }),
  };
}

const missing = (m: string): FaultOrMissing => ({ ok: false, missing: m });

/** The named fault on this target, or the setting that would make it possible. */
export function createFault(ctx: FaultContext, name: FaultName, opts: FaultOptions = {}): FaultOrMissing {
  switch (name) {
    case 'db-stop':
      return dbFault(ctx, name, 'stop', 'PostgreSQL stopped, then started again');
    case 'db-crash':
      return dbFault(ctx, name, 'crash', 'PostgreSQL crashed (no clean shutdown), then started with crash recovery');
    case 'db-freeze':
      return dbFault(ctx, name, 'freeze', 'PostgreSQL frozen (every process stopped, connections hang), then thawed');
    case 'db-partition-down':
    case 'db-partition-blackhole':
    case 'db-partition-reset-peer':
    case 'db-latency':
      return linkFault(ctx, name, opts);
    case 'db-crash-point':
      return crashPointFault(ctx, opts);
    case 'db-lock':
      return lockFault(ctx);
    case 'app-reload':
    case 'app-kill-worker':
    case 'app-restart':
    case 'app-scale-down':
    case 'app-reexec':
      return appFault(ctx, name);
  }
}

function dbFault(ctx: FaultContext, name: DbFaultName, action: DbAction, description: string): FaultOrMissing {
  const { db, dbAddress } = ctx;
  if (!db) return missing(`${name} needs a database driver: ${ctx.dbMissing}`);
  const revertAction: DbAction = action === 'freeze' ? 'unfreeze' : 'start';
  const inject = db.actions[action];
  const revert = db.actions[revertAction];
  if (!inject) return missing(`${name}: ${db.missing(action)}`);
  if (!revert) return missing(`${name}: ${db.missing(revertAction)}`);
  if (!dbAddress || !ctx.dbProbeUrl)
    return missing(`${name} needs DATABASE_URL: the fault is proven on the database itself (it must refuse or hang, then accept again)`);
  const effect = () =>
    all(
      action === 'freeze'
        ? pingObservation('PostgreSQL accepts TCP but never answers', dbAddress, (p) => p.outcome === 'hang')
        : pingObservation('PostgreSQL stops answering', dbAddress, (p) => p.outcome !== 'answered' && p.outcome !== 'hang'),
      checkObservation(checkKey('DB', action), db.checks[action]),
    );
  const reverted = () =>
    all(
      {
        expected: 'PostgreSQL accepts queries again (SELECT 1 with DATABASE_URL)',
        probe: async () => ({ ok: await pgAccepts(ctx.dbProbeUrl!, PROBE_TIMEOUT_MS), detail: 'SELECT 1' }),
      },
      ctx.link?.storePathUrl
        ? {
            expected: "and on the store's path",
            probe: async () => ({ ok: await pgAccepts(ctx.link!.storePathUrl!, PROBE_TIMEOUT_MS), detail: 'through the proxy' }),
          }
        : undefined,
      checkObservation(checkKey('DB', revertAction), db.checks[revertAction]),
    );
  return {
    ok: true,
    value: buildFault({ name, description: `${description} (${db.label})`, driver: db.label, inject, effect, revert, reverted }, ctx),
  };
}

function linkFault(ctx: FaultContext, name: DbFaultName, opts: FaultOptions): FaultOrMissing {
  const link = ctx.link;
  if (!link) return missing(`${name} needs a proxy between the store and PostgreSQL: ${ctx.linkMissing}`);
  const p = link.proxy;
  const latencyMs = opts.latencyMs ?? 200;
  type Toxic = Parameters<ToxiproxyClient['addToxic']>[1];
  const modes: Record<
    string,
    { description: string; toxics: Toxic[]; disable?: boolean; effect: (x: PgPing) => boolean; expected: string }
  > = {
    'db-partition-down': {
      description: 'the link from the store to PostgreSQL is down: connections refused and closed (proxy disabled)',
      toxics: [],
      disable: true,
      effect: (x) => x.outcome === 'refused' || x.outcome === 'closed' || x.outcome === 'reset',
      expected: "the store's path to PostgreSQL refuses connections",
    },
    'db-partition-blackhole': {
      description: 'the link from the store to PostgreSQL is a black hole: connections accepted, nothing ever answers',
      toxics: [
        { name: 'blackhole_downstream', type: 'timeout', stream: 'downstream', attributes: { timeout: 0 } },
        { name: 'blackhole_upstream', type: 'timeout', stream: 'upstream', attributes: { timeout: 0 } },
      ],
      effect: (x) => x.outcome === 'hang',
      expected: "the store's path to PostgreSQL hangs",
    },
    'db-partition-reset-peer': {
      description: 'every connection from the store to PostgreSQL is reset (TCP RST)',
      toxics: [{ name: 'reset_peer', type: 'reset_peer', stream: 'downstream', attributes: { timeout: 0 } }],
      effect: (x) => x.outcome === 'reset' || x.outcome === 'closed',
      expected: "the store's path to PostgreSQL resets connections",
    },
    'db-latency': {
      description: `every answer from PostgreSQL to the store is delayed by ${latencyMs} ms`,
      toxics: [{ name: 'latency', type: 'latency', stream: 'downstream', attributes: { latency: latencyMs, jitter: 0 } }],
      effect: (x) => x.outcome === 'answered' && x.ms >= latencyMs * 0.8,
      expected: `answers on the store's path to PostgreSQL take at least ${Math.round(latencyMs * 0.8)}ms`,
    },
  };
  const m = modes[name]!;
  let listen: { host: string; port: number } | undefined;
  const inject: Action = async () => {
    listen = await link.listen();
    if (m.disable) {
      await link.client.setEnabled(p, false);
      return { detail: `POST /proxies/${p} {"enabled": false}`, commands: [] };
    }
    for (const t of m.toxics) await link.client.addToxic(p, t);
    return { detail: m.toxics.map((t) => `POST /proxies/${p}/toxics ${JSON.stringify(t)}`).join('\n'), commands: [] };
  };
  const revert: Action = async () => {
    const before = await link.client.proxy(p);
    const steps: string[] = [];
    for (const t of before.toxics) {
      await link.client.removeToxic(p, t.name);
      steps.push(`DELETE /proxies/${p}/toxics/${t.name}`);
    }
    if (name === 'db-partition-blackhole' && before.enabled) {
      // connections that lost data in the black hole are beyond repair: drop them, as TCP would time out
      await link.client.setEnabled(p, false);
      steps.push(`POST /proxies/${p} {"enabled": false}`);
    }
    if (!before.enabled || name === 'db-partition-blackhole') {
      await link.client.setEnabled(p, true);
      steps.push(`POST /proxies/${p} {"enabled": true}`);
    }
    return { detail: steps.join('\n') || 'nothing to revert', commands: [] };
  };
  const effect = () => pingObservation(m.expected, listen!, m.effect, Math.max(PROBE_TIMEOUT_MS, latencyMs * 3));
  const reverted = () => linkReverted(link, () => listen ?? { host: '127.0.0.1', port: 0 });
  return {
    ok: true,
    value: buildFault({ name, description: `${m.description} (${link.label})`, driver: link.label, inject, effect, revert, reverted }, ctx),
  };
}

/** The link back to normal: no toxic, enabled, the store's path and the database answering. */
function linkReverted(link: LinkService, listen: () => { host: string; port: number }): Observation {
  return all(
    {
      expected: 'the proxy is enabled without toxics',
      probe: async () => {
        const d = await link.client.proxy(link.proxy);
        return {
          ok: d.enabled && d.toxics.length === 0,
          detail: `enabled ${d.enabled}, toxics [${d.toxics.map((t) => t.name).join(', ')}]`,
        };
      },
    },
    pingObservation("the store's path to PostgreSQL answers", listen(), (x) => x.outcome === 'answered'),
    link.storePathUrl
      ? {
          expected: 'PostgreSQL accepts queries through the proxy',
          probe: async () => ({ ok: await pgAccepts(link.storePathUrl!, PROBE_TIMEOUT_MS), detail: 'SELECT 1' }),
        }
      : undefined,
  );
}

/**
 * A crash at one point of the write path: the connection that sends its k-th statement dies there
 * (before the server gets it, or after the server executed it and before the answer comes back),
 * and PostgreSQL stays unreachable until recover. Needs this suite's fault proxy.
 */
function crashPointFault(ctx: FaultContext, opts: FaultOptions): FaultOrMissing {
  const link = ctx.link;
  if (!link) return missing(`db-crash-point needs this suite's fault proxy between the store and PostgreSQL: ${ctx.linkMissing}`);
  const k = opts.statement ?? 1;
  const after = opts.afterStatement === true;
  let listen: { host: string; port: number } = { host: '127.0.0.1', port: 0 };
  const toxic = {
    name: CRASH_POINT_TOXIC,
    type: 'pg_statement_cut' as const,
    stream: 'upstream' as const,
    attributes: { statement: k, after: after ? 1 : 0, unreachable: 1 },
  };
  return {
    ok: true,
    value: buildFault(
      {
        name: 'db-crash-point',
        description: `PostgreSQL lost at statement ${k} of a connection (${after ? 'executed, its answer lost' : 'never received'}), unreachable until recovered (${link.label})`,
        driver: link.label,
        inject: async () => {
          listen = await link.listen();
          await link.client.addToxic(link.proxy, toxic);
          return { detail: `POST /proxies/${link.proxy}/toxics ${JSON.stringify(toxic)}`, commands: [] };
        },
        effect: () => ({
          expected: `the cut armed at statement ${k}`,
          probe: async () => {
            const t = (await link.client.proxy(link.proxy)).toxics.find((x) => x.name === CRASH_POINT_TOXIC);
            return { ok: t?.attributes.statement === k, detail: t ? JSON.stringify(t.attributes) : 'no toxic' };
          },
        }),
        revert: async () => {
          const before = await link.client.proxy(link.proxy);
          if (before.toxics.some((t) => t.name === CRASH_POINT_TOXIC)) await link.client.removeToxic(link.proxy, CRASH_POINT_TOXIC);
          return { detail: `DELETE /proxies/${link.proxy}/toxics/${CRASH_POINT_TOXIC}`, commands: [] };
        },
        reverted: () => linkReverted(link, () => listen),
      },
      ctx,
    ),
  };
}

/**
 * Another session holds an ACCESS EXCLUSIVE lock on the orders table (a migration during a deploy):
 * every statement on it waits, until the store's statement timeout cancels it, or forever.
 */
function lockFault(ctx: FaultContext): FaultOrMissing {
  const { lockUrl, dbProbeUrl } = ctx;
  if (!lockUrl || !dbProbeUrl) return missing(`db-lock needs a role that may lock the orders table: ${ctx.lockMissing ?? 'DATABASE_URL'}`);
  let holder: pg.Client | undefined;
  const locked = async () => {
    const c = new pg.Client({ connectionString: dbProbeUrl, connectionTimeoutMillis: PROBE_TIMEOUT_MS, query_timeout: PROBE_TIMEOUT_MS });
    c.on('error', () => {});
    await c.connect();
    try {
      const r = await c.query<{ n: number }>(
        "SELECT count(*)::int AS n FROM pg_locks l JOIN pg_class c ON c.oid = l.relation WHERE c.relname = $1 AND l.mode = 'AccessExclusiveLock' AND l.granted",
        [LOCK_TABLE],
      );
      return r.rows[0]!.n > 0; // count(*) always answers one row
    } finally {
      await c.end().catch(() => undefined);
    }
  };
  return {
    ok: true,
    value: buildFault(
      {
        name: 'db-lock',
        description: `another session holds an ACCESS EXCLUSIVE lock on ${LOCK_TABLE} (as a migration would), then releases it`,
        driver: 'a session of the disposable role',
        inject: async () => {
          holder = new pg.Client({ connectionString: lockUrl, connectionTimeoutMillis: 10_000 });
          holder.on('error', () => {});
          await holder.connect();
          await holder.query('BEGIN');
          await holder.query(`LOCK TABLE ${LOCK_TABLE} IN ACCESS EXCLUSIVE MODE`);
          return { detail: `BEGIN; LOCK TABLE ${LOCK_TABLE} IN ACCESS EXCLUSIVE MODE (held open)`, commands: [] };
        },
        effect: () => ({
          expected: `pg_locks shows the lock on ${LOCK_TABLE} granted`,
          probe: async () => ({ ok: await locked(), detail: 'pg_locks' }),
        }),
        revert: async () => {
          const h = holder;
          holder = undefined;
          if (h) {
            await h.query('ROLLBACK').catch(() => undefined);
            await h.end().catch(() => undefined);
          }
          return { detail: h ? 'ROLLBACK (the lock released)' : 'no lock held', commands: [] };
        },
        reverted: () => ({
          expected: `no lock on ${LOCK_TABLE} any more`,
          probe: async () => ({ ok: !(await locked()), detail: 'pg_locks' }),
        }),
      },
      ctx,
    ),
  };
}

function appFault(ctx: FaultContext, name: AppFaultName): FaultOrMissing {
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

  const specs: Record<AppFaultName, () => FaultSpec> = {
    'app-reload': () => ({
      name,
      description: `graceful reload: new workers start, the old ones drain (${app.label})`,
      driver: app.label,
      before: async () => void (before = identity ? await identity() : undefined),
      inject: app.actions.reload!,
      effect: () =>
        all(
          idObservation('a new worker', (now) => now.workers.some((w) => !before?.workers.includes(w))),
          checkObservation(checkName, check),
        ),
      reverted: () =>
        all(
          steady((now) => now.workers.every((w) => !before?.workers.includes(w)), 'every old worker gone'),
          health,
        ),
      expectedWorkers,
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
        ),
      reverted: () =>
        all(
          steady((now) => victim === undefined || !now.workers.includes(victim), 'the killed worker replaced'),
          health,
        ),
      expectedWorkers,
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
        ),
      revert: app.actions['scale-up']!,
      reverted: () =>
        all(
          steady(() => true, 'scaled back up'),
          health,
          checkObservation(checkKey('APP', 'scale-up'), app.checks['scale-up']),
        ),
      expectedWorkers,
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
        ),
      reverted: () =>
        all(
          steady((now) => now.workers.every((w) => !before?.workers.includes(w)), 'every old worker gone'),
          health,
        ),
      expectedWorkers,
    }),
  };
  return { ok: true, value: buildFault(specs[name](), ctx) };
}
