/** The embedded stack as a Target: local drivers, its own fault proxy, a disposable database. */
import { PgBackupDriver } from '../backup/backup-driver';
import { RATE_LIMITS, parseRateLimit, type Config, type LimitName, type RateLimit } from '../config';
import { localApp, localDb } from '../drivers/local';
import { fileLog } from '../drivers/logs';
import { createFault, statementLogOf, type FaultContext } from '../faults/catalog';
import { clientTooOld, toolMajor } from '../config/pg-servers';
import { pgAddress } from '../integrity/pg-ping';
import { CommandError } from '../stack/command';
import type { EmbeddedStack } from '../stack/embedded-stack';
import { healStack } from '../stack/heal';
import { lacking, provided, type Capability, type MigrateCheck, type Target } from '../target';

/** migrate --check with the embedded store's manage.py; Django prints nothing when it fails, so the plan is added. */
function migrateCheck(stack: EmbeddedStack): MigrateCheck {
  return {
    anyDatabase: true,
    run: async (databaseUrl) => {
      try {
        return await stack.store.manage(['migrate', '--check'], 120_000, databaseUrl);
      } catch (error) {
        if (!(error instanceof CommandError)) throw error;
        const plan = await stack.store
          .manage(['migrate', '--plan'], 120_000, databaseUrl)
          .catch((e: unknown) => (e instanceof CommandError ? e.record : undefined));
        throw new CommandError({ ...error.record, stdout: `${error.record.stdout}\n${plan?.stdout ?? ''}`.trim() });
      }
    },
  };
}

/** The backup driver, unless its pg_dump is older than the stack's server (PG_VERSION above the client's major). */
function backupOrTooOld(driver: PgBackupDriver, cfg: Config): Capability<PgBackupDriver> {
  const tooOld = clientTooOld(cfg.embedded.pgClientBin, toolMajor(cfg.embedded.pgBin, 'postgres'));
  return tooOld ? lacking(tooOld) : provided(driver);
}

/** The limits the stack's store was started with (a stack from before the settings: the store's defaults). */
function limitsOf(started: Readonly<Record<string, string>> = {}): Record<LimitName, Capability<RateLimit>> {
  const of = (name: LimitName) => {
    const text = started[name] ?? RATE_LIMITS[name].embedded;
    const limit = parseRateLimit(text);
    return limit
      ? provided(limit)
      : lacking<RateLimit>(`the embedded store's ${RATE_LIMITS[name].store} "${text}" is not a rate the suite can count`);
  };
  return { login: of('login'), loginAddress: of('loginAddress'), refresh: of('refresh') };
}

/** The target for an embedded stack that global setup (or the playground) started. */
export function embeddedTarget(stack: EmbeddedStack, cfg: Config): Target {
  const t = cfg.thresholds;
  const s = stack.state;
  const db = localDb(stack, t.recoverTimeoutMs);
  const app = localApp(stack, t.recoverTimeoutMs);
  const ctx: FaultContext = {
    db,
    dbMissing: '',
    app,
    appMissing: '',
    link: {
      label: `fault proxy 127.0.0.1:${s.proxy.port}`,
      client: stack.proxy.client,
      proxy: s.proxy.name,
      listen: async () => ({ host: '127.0.0.1', port: s.proxy.port }),
      storePathUrl: stack.storeDatabaseUrl,
    },
    linkMissing: '',
    dbAddress: pgAddress(stack.databaseUrl),
    dbProbeUrl: stack.databaseUrl,
    lockUrl: stack.databaseUrl,
    health: () => stack.store.healthStatus(),
    storeLog: () => fileLog(stack.store.logFile).open(),
    expectedWorkers: async () => stack.store.expectedWorkers,
    observeTimeoutMs: t.faultObserveTimeoutMs,
    hangProbeMs: t.faultHangProbeMs,
    recoverTimeoutMs: t.recoverTimeoutMs,
  };
  const target: Target = {
    kind: 'embedded',
    get label() {
      return `embedded stack (${stack.state.store.server} x${stack.store.expectedWorkers}${s.store.flaws.length ? `, flaws ${s.store.flaws.join(',')}` : ''})`;
    },
    baseUrl: stack.baseUrl,
    users: s.users,
    databaseUrl: stack.databaseUrl,
    secrets: [s.postgres.password, s.postgres.superPassword, s.users.customer.password, s.store.secretKey],
    server: {
      get kind() {
        return stack.state.store.server;
      },
      expectedWorkers: async () => stack.store.expectedWorkers,
      identity: provided(app.identity!),
    },
    fault: (name, opts) => createFault(ctx, name, opts),
    statementLog: provided(statementLogOf(ctx.link!)),
    jwtSigningKey: provided(s.store.secretKey),
    // the limit this stack's store was started with (a stack from before the setting: the store's default)
    rateLimits: limitsOf(s.store.rateLimits),
    backup: backupOrTooOld(
      new PgBackupDriver({
        clientBin: cfg.embedded.pgClientBin,
        label: `the embedded database ${s.postgres.database} on 127.0.0.1:${s.postgres.port}`,
        dumpUrl: stack.databaseUrl,
        restoreUrl: stack.databaseUrl,
        adminUrl: stack.cluster.url('postgres', s.postgres.superPassword, 'postgres'),
        disposable: true,
      }),
      cfg,
    ),
    disposableDatabaseUrl: provided(stack.databaseUrl),
    logs: { store: provided(fileLog(stack.store.logFile)), postgres: provided(fileLog(stack.cluster.logFile)) },
    migrateCheck: provided(migrateCheck(stack)),
    switchServer: (kind) => stack.useServer(kind, t.storeReadyTimeoutMs),
    preflight: async () => [`embedded stack in ${s.dir}: store ${stack.baseUrl}, postgres 127.0.0.1:${s.postgres.port}`],
    heal: () => healStack(stack, t.recoverTimeoutMs),
  };
  return target;
}
