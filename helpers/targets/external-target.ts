/**
 * An external deployment as a Target: drivers per service from config (command, systemd, compose,
 * kubectl), a Toxiproxy for link faults, the database read-only unless marked disposable.
 *
 * Over 250 lines: the one place that turns the external settings into every capability of a
 * Target (faults, backup, logs, identity, migrate check, preflight, heal); each is a few lines.
 */
import fs from 'node:fs';
import path from 'node:path';
import { healthStatus } from '../api/token';
import { PgBackupDriver } from '../backup/backup-driver';
import { RATE_LIMITS, type Config, type ExternalTarget, type LimitName, type RateLimit } from '../config';
import { formatIdentity } from '../config/external';
import { runUserCommand, withUserCommandsApp, withUserCommandsDb } from '../drivers/command';
import { Compose, composeApp, composeArgv, composeDb } from '../drivers/compose';
import { Kubectl, kubectlApp, kubectlArgv, kubectlDb, ReplicaRecord } from '../drivers/kubectl';
import { commandLog, fileLog, type LogSource } from '../drivers/logs';
import { systemdApp, systemdDb } from '../drivers/systemd';
import type { AppService, DbService } from '../drivers/types';
import { createFault, statementLogOf, type FaultContext, type LinkService } from '../faults/catalog';
import { ToxiproxyClient } from '../faults/toxiproxy-client';
import { pgAddress, pgPing } from '../integrity/pg-ping';
import { lacking, provided, type Capability, type Target } from '../target';

/** What the run saw before its first test (worker count), shared with global teardown. */
interface Baseline {
  readonly workers?: number;
}

/** host:port a Toxiproxy proxy listens on; 0.0.0.0 / [::] mean the Toxiproxy host. */
export function listenAddress(listen: string, apiUrl: string): { host: string; port: number } {
  const m = /^(.*):(\d+)$/.exec(listen);
  if (!m) throw new Error(`toxiproxy: cannot read the listen address ${JSON.stringify(listen)}`);
  const host = m[1]!.replace(/^\[|\]$/g, '');
  return { host: ['', '0.0.0.0', '::'].includes(host) ? new URL(apiUrl).hostname : host, port: Number(m[2]) };
}

/** The target for TARGET=external. */
export function externalTarget(ext: ExternalTarget, cfg: Config): Target {
  const timeoutMs = cfg.thresholds.driverCommandTimeoutMs;
  const t = cfg.thresholds;
  const baselineFile = path.join(cfg.reportsDir, 'external-baseline.json');
  const readBaseline = (): Baseline => {
    try {
      return JSON.parse(fs.readFileSync(baselineFile, 'utf8')) as Baseline;
    } catch {
      return {};
    }
  };
  const compose = ext.compose && new Compose(ext.compose.project, ext.compose.files, timeoutMs);
  const kube =
    ext.kube &&
    new Kubectl(ext.kube.namespace, ext.kube.context, timeoutMs, new ReplicaRecord(path.join(cfg.reportsDir, 'external-replicas.json')));

  let dbBase: DbService | undefined;
  if (ext.db.kind === 'systemd') dbBase = systemdDb(ext.db.systemdUnit!, timeoutMs);
  if (ext.db.kind === 'compose') dbBase = composeDb(compose!, ext.db.composeService!);
  if (ext.db.kind === 'kubectl') dbBase = kubectlDb(kube!, ext.db.kubeStatefulSet!, ext.db.kubeSelector!);
  const db = ext.db.kind === 'none' ? undefined : withUserCommandsDb(dbBase, ext.db, timeoutMs);

  let appBase: AppService | undefined;
  if (ext.app.kind === 'systemd') appBase = systemdApp(ext.app.systemdUnit!, ext.app.systemdReload, timeoutMs);
  if (ext.app.kind === 'compose') appBase = composeApp(compose!, ext.app.composeService!);
  if (ext.app.kind === 'kubectl') appBase = kubectlApp(kube!, ext.app.kubeDeployment!, ext.app.kubeSelector!);
  const app = ext.app.kind === 'none' ? undefined : withUserCommandsApp(appBase, ext.app, timeoutMs);

  let link: LinkService | undefined;
  if (ext.toxiproxy) {
    const { url, proxy, tokenFile } = ext.toxiproxy;
    const client = new ToxiproxyClient(url, 5_000, () => (tokenFile ? fs.readFileSync(tokenFile, 'utf8').trim() : undefined));
    link = {
      label: `toxiproxy ${url} proxy ${proxy}`,
      client,
      proxy,
      listen: async () => listenAddress((await client.proxy(proxy)).listen, url),
    };
  }

  const expectedWorkers = async () => ext.workers ?? readBaseline().workers;
  const health = () => healthStatus(ext.baseUrl, 2_000);
  const ctx: FaultContext = {
    db,
    dbMissing: 'DB_DRIVER is none: set DB_DRIVER to command, systemd, compose or kubectl (README: Test your own deployment)',
    app,
    appMissing: 'APP_DRIVER is none: set APP_DRIVER to command, systemd, compose or kubectl (README: Test your own deployment)',
    link,
    linkMissing: 'TOXIPROXY_URL and TOXIPROXY_PROXY are not set (a Toxiproxy the store reaches PostgreSQL through)',
    dbAddress: ext.databaseUrl ? pgAddress(ext.databaseUrl) : undefined,
    dbProbeUrl: ext.databaseUrl,
    lockUrl: ext.disposable ? ext.restoreDatabaseUrl : undefined,
    lockMissing:
      'the database is not marked disposable (a lock held on it is an outage): set ALLOW_DESTRUCTIVE_RESTORE_OF and RESTORE_DATABASE_URL',
    health,
    storeLog: () => {
      const log = storeLog();
      return log.ok ? log.value.open() : { read: async () => `(no store log: ${log.missing})` };
    },
    expectedWorkers,
    observeTimeoutMs: t.faultObserveTimeoutMs,
    hangProbeMs: t.faultHangProbeMs,
    recoverTimeoutMs: t.recoverTimeoutMs,
  };

  const storeLog = (): Capability<LogSource> => {
    if (ext.logs.storeFile) return provided(fileLog(ext.logs.storeFile));
    if (ext.app.kind === 'systemd') return provided(journal(ext.app.systemdUnit!, timeoutMs));
    if (ext.app.kind === 'compose') return provided(composeLog(compose!, ext.app.composeService!, timeoutMs));
    if (ext.app.kind === 'kubectl') return provided(kubeLog(kube!, ext.app.kubeSelector!, timeoutMs));
    return lacking(
      'STORE_LOG_FILE is not set (the store log of each fault window; the systemd, compose and kubectl drivers read it themselves)',
    );
  };
  const postgresLog = (): Capability<LogSource> => {
    if (ext.logs.postgresFile) return provided(fileLog(ext.logs.postgresFile));
    if (ext.db.kind === 'systemd') return provided(journal(ext.db.systemdUnit!, timeoutMs));
    if (ext.db.kind === 'compose') return provided(composeLog(compose!, ext.db.composeService!, timeoutMs));
    if (ext.db.kind === 'kubectl') return provided(kubeLog(kube!, ext.db.kubeSelector!, timeoutMs));
    return lacking('PG_LOG_FILE is not set (the PostgreSQL log of each fault window)');
  };

  const backup = (): Capability<PgBackupDriver> => {
    if (!ext.databaseUrl) return lacking("DATABASE_URL is not set: the backup family dumps the store's database");
    const id = pgAddress(ext.databaseUrl);
    const database = decodeURIComponent(new URL(ext.databaseUrl).pathname.slice(1));
    return provided(
      new PgBackupDriver({
        clientBin: cfg.embedded.pgClientBin,
        label: `the external database ${database} on ${id.host}:${id.port}`,
        dumpUrl: ext.backupDatabaseUrl ?? ext.databaseUrl,
        restoreUrl: ext.disposable ? ext.restoreDatabaseUrl : undefined,
        adminUrl: ext.disposable ? ext.restoreDatabaseUrl : undefined,
        disposable: ext.disposable !== undefined,
        mustReach: ext.disposable && { database: ext.disposable.database, readOnlyUrl: ext.databaseUrl },
      }),
    );
  };
  const optIn = ext.databaseUrl
    ? `ALLOW_DESTRUCTIVE_RESTORE_OF=${formatIdentity({ ...pgAddress(ext.databaseUrl), database: decodeURIComponent(new URL(ext.databaseUrl).pathname.slice(1)) })} (with RESTORE_DATABASE_URL)`
    : 'DATABASE_URL and ALLOW_DESTRUCTIVE_RESTORE_OF';

  const migrate = ext.migrateCheckCommand;
  const driverLabels = `db: ${db?.label ?? 'none'}; app: ${app?.label ?? 'none'}${link ? `; link: ${link.label}` : ''}`;

  return {
    kind: 'external',
    label: `external ${ext.baseUrl} (${driverLabels})`,
    baseUrl: ext.baseUrl,
    users: { customer: ext.customer, jwtToken: ext.jwtToken, secondCustomer: ext.secondCustomer, staff: ext.staff },
    databaseUrl: ext.databaseUrl,
    secrets: ext.secrets,
    server: {
      kind: ext.server,
      expectedWorkers,
      identity: app?.identity ? provided(app.identity) : lacking(app ? app.missing('identity') : ctx.appMissing),
    },
    fault: (name, opts) => createFault(ctx, name, opts),
    rateLimits: Object.fromEntries(
      (Object.keys(RATE_LIMITS) as LimitName[]).map((name) => {
        const limit = cfg.rateLimits[name];
        const l = RATE_LIMITS[name];
        return [
          name,
          limit
            ? provided(limit)
            : lacking<RateLimit>(`${l.env} not set: the store's limit on ${l.what} (e.g. ${l.embedded}) is what the suite counts`),
        ];
      }),
    ) as Record<LimitName, Capability<RateLimit>>,
    jwtSigningKey: ext.jwtSigningKey
      ? provided(ext.jwtSigningKey)
      : lacking(
          'JWT_SIGNING_KEY is not set (the key your store signs its JWTs with, for validly signed expired tokens and tokens of inactive or deleted users)',
        ),
    statementLog: link
      ? provided(statementLogOf(link))
      : lacking(`${ctx.linkMissing}: crash points need this suite's fault proxy (scripts/fault-proxy.ts) between the store and PostgreSQL`),
    backup: backup(),
    disposableDatabaseUrl:
      ext.disposable && ext.restoreDatabaseUrl
        ? provided(ext.restoreDatabaseUrl)
        : lacking(`the database is not marked disposable: set ${optIn} to let the suite write to it`),
    logs: { store: storeLog(), postgres: postgresLog() },
    migrateCheck: migrate
      ? provided({
          // the command reads CHECK_DATABASE_URL when it can check another database (a scratch restore)
          anyDatabase: /CHECK_DATABASE_URL/.test(migrate.command),
          run: (databaseUrl?: string) =>
            runUserCommand(migrate, timeoutMs, { CHECK_DATABASE_URL: databaseUrl ?? ext.restoreDatabaseUrl ?? ext.databaseUrl ?? '' }),
        })
      : lacking(
          'MIGRATE_CHECK_COMMAND is not set (runs `manage.py migrate --check` of your deployment, e.g. `docker compose exec -T web python manage.py migrate --check`)',
        ),
    preflight: async () => {
      const seen: string[] = [];
      const status = await health();
      if (status !== 200)
        throw new Error(
          `the external target ${ext.baseUrl} answers /api/health/ with ${status ?? 'nothing'}: it must be healthy before any fault`,
        );
      seen.push(`${ext.baseUrl}/api/health/ 200`);
      if (ext.databaseUrl) {
        const a = pgAddress(ext.databaseUrl);
        const p = await pgPing(a.host, a.port, 5_000);
        if (p.outcome !== 'answered')
          throw new Error(`DATABASE_URL: PostgreSQL at ${a.host}:${a.port} does not answer (${p.outcome}: ${p.detail})`);
        seen.push(`PostgreSQL ${a.host}:${a.port} answers`);
      }
      if (db)
        seen.push(
          `db driver ${db.label}: ${await db.status().catch((e: unknown) => {
            throw new Error(`DB_DRIVER=${ext.db.kind} (${db.label}) cannot reach the database service: ${(e as Error).message}`);
          })}`,
        );
      if (app)
        seen.push(
          `app driver ${app.label}: ${await app.status().catch((e: unknown) => {
            throw new Error(`APP_DRIVER=${ext.app.kind} (${app.label}) cannot reach the app server: ${(e as Error).message}`);
          })}`,
        );
      if (app?.identity) {
        const id = await app.identity();
        fs.mkdirSync(path.dirname(baselineFile), { recursive: true });
        fs.writeFileSync(baselineFile, JSON.stringify({ workers: id.workers.length } satisfies Baseline));
        seen.push(`${id.workers.length} workers (instance ${id.instance ?? 'unknown'})`);
        if (ext.workers !== undefined && id.workers.length !== ext.workers) {
          throw new Error(`STORE_WORKERS=${ext.workers}, but ${app.label} runs ${id.workers.length} workers now`);
        }
      }
      if (link) {
        const d = await link.client.proxy(link.proxy).catch((e: unknown) => {
          throw new Error(`TOXIPROXY_URL/TOXIPROXY_PROXY: ${(e as Error).message}`);
        });
        if (!d.enabled || d.toxics.length) await link.client.reset();
        seen.push(`toxiproxy ${link.proxy}: ${d.listen} -> ${d.upstream}`);
      }
      return seen;
    },
    heal: async () => {
      const done: string[] = [];
      const errors: unknown[] = [];
      const step = async (what: string, f: () => Promise<string[]>) => {
        try {
          done.push(...(await f()));
        } catch (error) {
          errors.push(new Error(`${what}: ${(error as Error).message}`));
        }
      };
      if (link) {
        await step('link', async () => {
          const d = await link.client.proxy(link.proxy);
          if (d.enabled && d.toxics.length === 0) return [];
          await link.client.reset();
          return [`reset ${link.label}`];
        });
      }
      // the command driver knows no state: its start and thaw commands run only when the service is not well
      const dbWell = async () => {
        if (!ctx.dbAddress) return false;
        const p = await pgPing(ctx.dbAddress.host, ctx.dbAddress.port, 1_000);
        return p.outcome === 'answered';
      };
      const appWell = async () => {
        if ((await health()) !== 200) return false;
        const want = await expectedWorkers();
        return !app?.identity || want === undefined || (await app.identity()).workers.length >= want;
      };
      if (db && !(ext.db.kind === 'command' && (await dbWell()))) await step('database', () => db.heal());
      if (app && !(ext.app.kind === 'command' && (await appWell())))
        await step('app server', async () => app.heal(await expectedWorkers()));
      if (errors.length > 0)
        throw new AggregateError(errors, `healing the external target failed: ${errors.map((e) => (e as Error).message).join('; ')}`);
      return done;
    },
  };
}

function journal(unit: string, timeoutMs: number): LogSource {
  return commandLog(
    `journalctl -u ${unit}`,
    'journalctl',
    (since) => ['-u', unit, `--since=@${Math.floor(since / 1000)}`, '--no-pager', '-o', 'short-iso'],
    timeoutMs,
  );
}

function composeLog(c: Compose, service: string, timeoutMs: number): LogSource {
  return commandLog(
    `docker compose logs ${service}`,
    'docker',
    (since) => [...composeArgv.base(c.project, c.files), ...composeArgv.logs(service, new Date(since).toISOString())],
    timeoutMs,
  );
}

function kubeLog(k: Kubectl, selector: string, timeoutMs: number): LogSource {
  return commandLog(
    `kubectl logs -l ${selector}`,
    'kubectl',
    (since) => [...kubectlArgv.base(k.namespace, k.context), ...kubectlArgv.logs(selector, new Date(since).toISOString())],
    timeoutMs,
  );
}
