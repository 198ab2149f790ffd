/** Faults of the database server through its driver (stop, crash, freeze), and a lock another session holds. */
import { checkKey, type DbAction } from '../config/external';
import { pgAccepts } from '../integrity/pg-ready';
import pg from 'pg';
import type { DbFaultName, FaultContext, FaultOrMissing } from './catalog';
import { all, buildFault, checkObservation, missing, pingObservation, PROBE_TIMEOUT_MS } from './observe';

/** The table a migration-like lock holds (the orders' idempotency keys: every order takes it). */
export const LOCK_TABLE = 'store_orderrequest';

export function dbFault(ctx: FaultContext, name: DbFaultName, action: DbAction, description: string): FaultOrMissing {
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
        ? pingObservation('PostgreSQL accepts TCP but never answers', dbAddress, (p) => p.outcome === 'hang', ctx.hangProbeMs)
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

/**
 * Another session holds an ACCESS EXCLUSIVE lock on the orders table (a migration during a deploy):
 * every statement on it waits, until the store's statement timeout cancels it, or forever.
 */
export function lockFault(ctx: FaultContext): FaultOrMissing {
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
