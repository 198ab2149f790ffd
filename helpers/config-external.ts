/**
 * Settings of an external target: where the store is, who logs in, how far its database may be
 * touched, and which driver reaches each service (database, app server). Parsed by config.ts, the
 * only reader of the environment; every problem names its variable.
 */
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import type { Credentials, ServerKind } from './config';

/** How faults reach a service of an external target. `none`: they do not (fault tests skip, naming the key). */
export const DRIVER_KINDS = ['none', 'command', 'systemd', 'compose', 'kubectl'] as const;
export type DriverKind = (typeof DRIVER_KINDS)[number];

/** What a database driver can do; each action may also be given as a user command (DB_<ACTION>_COMMAND). */
export const DB_ACTIONS = ['stop', 'start', 'crash', 'freeze', 'unfreeze'] as const;
export type DbAction = (typeof DB_ACTIONS)[number];
/** What an app-server driver can do (APP_<ACTION>_COMMAND). */
export const APP_ACTIONS = ['reload', 'stop', 'start', 'kill-worker', 'scale-down', 'scale-up', 'reexec'] as const;
export type AppAction = (typeof APP_ACTIONS)[number];

/** The environment variable of a service action's command, e.g. DB_STOP_COMMAND, APP_KILL_WORKER_COMMAND. */
export const commandKey = (service: 'DB' | 'APP', action: string): string =>
  `${service}_${action.toUpperCase().replace(/-/g, '_')}_COMMAND`;
/** ... and of its check: a command that exits 0 once the action took effect (DB_STOP_CHECK). */
export const checkKey = (service: 'DB' | 'APP', action: string): string => `${service}_${action.toUpperCase().replace(/-/g, '_')}_CHECK`;

/** A user's shell command for one action, and the key it came from (for messages). */
export interface UserCommand {
  readonly key: string;
  readonly command: string;
}

export interface DbDriverSettings {
  readonly kind: DriverKind;
  /** user commands, per action; they replace the driver's own way for that action */
  readonly commands: Readonly<Partial<Record<DbAction, UserCommand>>>;
  readonly checks: Readonly<Partial<Record<DbAction, UserCommand>>>;
  /** systemd: the cluster unit, e.g. postgresql@15-main */
  readonly systemdUnit?: string;
  readonly composeService?: string;
  readonly kubeStatefulSet?: string;
  readonly kubeSelector?: string;
}

export interface AppDriverSettings {
  readonly kind: DriverKind;
  readonly commands: Readonly<Partial<Record<AppAction, UserCommand>>>;
  readonly checks: Readonly<Partial<Record<AppAction, UserCommand>>>;
  /** command driver: prints the worker identities, one per line (APP_WORKERS_COMMAND) */
  readonly workersCommand?: UserCommand;
  /** command driver: prints the server instance's identity, e.g. the master PID (APP_INSTANCE_COMMAND) */
  readonly instanceCommand?: UserCommand;
  readonly systemdUnit?: string;
  /** systemd reload: `systemctl reload` (the unit has ExecReload) or `systemctl kill --kill-whom=main -s HUP` */
  readonly systemdReload: 'reload' | 'hup';
  readonly composeService?: string;
  readonly kubeDeployment?: string;
  readonly kubeSelector?: string;
}

/** host:port/database: what the disposable opt-in names, so that `store` on another host never matches. */
export interface DatabaseIdentity {
  readonly host: string;
  readonly port: number;
  readonly database: string;
}

export interface ExternalTarget {
  readonly baseUrl: string;
  /** customer whose token the suite uses; or jwtToken instead */
  readonly customer?: Credentials;
  readonly jwtToken?: string;
  readonly secondCustomer?: Credentials;
  readonly staff?: Credentials;
  /** read-only integrity probes (every session default_transaction_read_only) */
  readonly databaseUrl?: string;
  /** pg_dump's role (SELECT on every table and sequence, or pg_read_all_data); defaults to databaseUrl */
  readonly backupDatabaseUrl?: string;
  /** only with the disposable opt-in: the role that may restore, seed and create scratch databases */
  readonly restoreDatabaseUrl?: string;
  /** set when ALLOW_DESTRUCTIVE_RESTORE_OF names exactly DATABASE_URL's host:port/database */
  readonly disposable?: DatabaseIdentity;
  /** the deployment's app server: gunicorn sync workers or uvicorn workers (STORE_SERVER) */
  readonly server: ServerKind;
  /** workers the deployment runs (STORE_WORKERS), when the driver cannot count them */
  readonly workers?: number;
  readonly db: DbDriverSettings;
  readonly app: AppDriverSettings;
  readonly compose?: { readonly project: string; readonly files: readonly string[] };
  readonly kube?: { readonly context?: string; readonly namespace: string };
  /** a Toxiproxy (or this suite's fault proxy) between the store and PostgreSQL: network faults */
  readonly toxiproxy?: { readonly url: string; readonly proxy: string };
  readonly logs: { readonly storeFile?: string; readonly postgresFile?: string };
  /** runs `manage.py migrate --check` of the deployment; CHECK_DATABASE_URL names the database */
  readonly migrateCheckCommand?: UserCommand;
  /** strings that must never appear in an answer or a report (TARGET_SECRETS, passwords) */
  readonly secrets: readonly string[];
  /** the store's JWT signing key (JWT_SIGNING_KEY): the security family forges validly signed tokens */
  readonly jwtSigningKey?: string;
}

/** What config.ts lends the parser: the raw getter, a validating parser, and the problem list. */
export interface ParseContext {
  readonly get: (name: string) => string | undefined;
  readonly parse: <T>(name: string, schema: z.ZodType<T>, accepts: string, fallback: T) => T;
  readonly problems: string[];
  readonly checkFiles: boolean;
}

const pgUrl = z.string().refine((s) => URL.canParse(s) && /^postgres(ql)?:$/.test(new URL(s).protocol));
const unitName = z.string().regex(/^[\w@.:\\-]+$/);
const k8sName = z.string().regex(/^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/);
const selector = z.string().regex(/^[\w./-]+=[\w.-]+(,[\w./-]+=[\w.-]+)*$/);

/** host:port/database of a postgres URL (port 5432 when absent). */
export function databaseIdentity(url: string): DatabaseIdentity {
  const u = new URL(url);
  return { host: u.hostname.toLowerCase(), port: Number(u.port || 5432), database: decodeURIComponent(u.pathname.replace(/^\//, '')) };
}
export const formatIdentity = (d: DatabaseIdentity): string => `${d.host}:${d.port}/${d.database}`;

/** Parses the external target's settings; problems are pushed to ctx.problems. */
export function parseExternal(
  ctx: ParseContext,
  base: {
    baseUrl: string;
    customer?: Credentials;
    jwtToken?: string;
    secondCustomer?: Credentials;
    staff?: Credentials;
    server: ServerKind;
  },
): ExternalTarget {
  const { get, parse, problems } = ctx;
  const databaseUrl = parse('DATABASE_URL', pgUrl, 'a postgres:// URL (used read-only)', '') || undefined;
  const sameDatabase = (key: string, url: string | undefined) => {
    if (!url || !databaseUrl) return;
    const a = databaseIdentity(url);
    const b = databaseIdentity(databaseUrl);
    if (formatIdentity(a) !== formatIdentity(b)) {
      problems.push(`${key}: must reach the same database as DATABASE_URL (${formatIdentity(b)}), got ${formatIdentity(a)}`);
    }
  };
  const backupDatabaseUrl = parse('BACKUP_DATABASE_URL', pgUrl, 'a postgres:// URL (the role pg_dump uses)', '') || undefined;
  if (backupDatabaseUrl && !databaseUrl) problems.push('BACKUP_DATABASE_URL: needs DATABASE_URL too (the read-only probes)');
  sameDatabase('BACKUP_DATABASE_URL', backupDatabaseUrl);

  // the disposable opt-in: host:port/database, exactly DATABASE_URL's
  const optIn = get('ALLOW_DESTRUCTIVE_RESTORE_OF');
  const restoreDatabaseUrl = parse('RESTORE_DATABASE_URL', pgUrl, 'a postgres:// URL (the role that restores)', '') || undefined;
  let disposable: DatabaseIdentity | undefined;
  if (optIn !== undefined) {
    const actual = databaseUrl && URL.canParse(databaseUrl) ? formatIdentity(databaseIdentity(databaseUrl)) : undefined;
    if (!/^[^\s:/]+:\d+\/[^\s/]+$/.test(optIn)) {
      problems.push(
        `ALLOW_DESTRUCTIVE_RESTORE_OF: names the database a backup test may wipe and restore as host:port/database (${actual ?? 'DATABASE_URL is not set'}), got "${optIn}"`,
      );
    } else if (optIn.toLowerCase() !== actual?.toLowerCase()) {
      problems.push(
        `ALLOW_DESTRUCTIVE_RESTORE_OF: must equal DATABASE_URL's host:port/database (${actual ?? 'no DATABASE_URL'}), got "${optIn}"`,
      );
    } else if (databaseUrl) {
      disposable = databaseIdentity(databaseUrl);
    }
    if (!restoreDatabaseUrl) {
      problems.push(
        "RESTORE_DATABASE_URL: required with ALLOW_DESTRUCTIVE_RESTORE_OF (the role that owns the store's tables restores; DATABASE_URL stays read-only)",
      );
    }
  } else if (restoreDatabaseUrl) {
    problems.push(
      'RESTORE_DATABASE_URL: only used with ALLOW_DESTRUCTIVE_RESTORE_OF=host:port/database; without that opt-in nothing is ever written to the database',
    );
  }
  sameDatabase('RESTORE_DATABASE_URL', restoreDatabaseUrl);

  const workersRaw = get('STORE_WORKERS');
  const workers = workersRaw === undefined ? undefined : Number(workersRaw);

  const db = parseDb(ctx);
  const app = parseApp(ctx);
  const usesCompose = db.kind === 'compose' || app.kind === 'compose';
  const usesKube = db.kind === 'kubectl' || app.kind === 'kubectl';

  let compose: ExternalTarget['compose'];
  if (usesCompose) {
    const project = parse(
      'COMPOSE_PROJECT_NAME',
      z.string().regex(/^[a-z0-9][a-z0-9_-]*$/),
      'a compose project name (lower-case letters, digits, - and _)',
      '',
    );
    if (!get('COMPOSE_PROJECT_NAME')) problems.push('COMPOSE_PROJECT_NAME: required by the compose driver (docker compose -p)');
    const files = (get('COMPOSE_FILE') ?? '').split(':').filter(Boolean);
    for (const f of files) if (ctx.checkFiles && !fs.existsSync(f)) problems.push(`COMPOSE_FILE: ${f} does not exist`);
    compose = { project, files };
  }
  let kube: ExternalTarget['kube'];
  if (usesKube) {
    const namespace = parse('KUBE_NAMESPACE', k8sName, 'a Kubernetes namespace', '');
    if (!get('KUBE_NAMESPACE')) problems.push('KUBE_NAMESPACE: required by the kubectl driver');
    const context = parse('KUBE_CONTEXT', z.string().regex(/^\S+$/), 'a kubeconfig context name', '') || undefined;
    kube = { namespace, context };
  }

  let toxiproxy: ExternalTarget['toxiproxy'];
  const toxUrl = parse(
    'TOXIPROXY_URL',
    z.string().refine((s) => URL.canParse(s) && /^https?:$/.test(new URL(s).protocol)),
    'the http URL of a Toxiproxy API',
    '',
  );
  const toxProxy = get('TOXIPROXY_PROXY');
  if (toxUrl && !toxProxy) problems.push('TOXIPROXY_PROXY: required with TOXIPROXY_URL (the proxy between the store and PostgreSQL)');
  if (toxProxy && !get('TOXIPROXY_URL')) problems.push('TOXIPROXY_URL: required with TOXIPROXY_PROXY');
  if (toxUrl && toxProxy) toxiproxy = { url: toxUrl.replace(/\/+$/, ''), proxy: toxProxy };

  const absFile = (key: string) =>
    parse(
      key,
      z.string().refine((s) => path.isAbsolute(s)),
      'an absolute path',
      '',
    ) || undefined;
  const logs = { storeFile: absFile('STORE_LOG_FILE'), postgresFile: absFile('PG_LOG_FILE') };
  const migrate = get('MIGRATE_CHECK_COMMAND');
  const secrets = (get('TARGET_SECRETS') ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const jwtSigningKey = get('JWT_SIGNING_KEY');
  if (jwtSigningKey !== undefined && jwtSigningKey.length < 8)
    problems.push('JWT_SIGNING_KEY: the signing key of your store, at least 8 characters');
  for (const s of secrets)
    if (s.length < 4) problems.push('TARGET_SECRETS: each secret needs at least 4 characters (shorter ones match by chance)');
  const urlPasswords = [databaseUrl, backupDatabaseUrl, restoreDatabaseUrl]
    .filter((u): u is string => !!u && URL.canParse(u))
    .map((u) => decodeURIComponent(new URL(u).password))
    .filter((p) => p.length >= 4);
  const userPasswords = [base.customer, base.secondCustomer, base.staff].map((c) => c?.password ?? '').filter((p) => p.length >= 4);

  return {
    ...base,
    databaseUrl,
    backupDatabaseUrl,
    restoreDatabaseUrl: disposable ? restoreDatabaseUrl : undefined,
    disposable,
    workers,
    db,
    app,
    compose,
    kube,
    toxiproxy,
    logs,
    migrateCheckCommand: migrate ? { key: 'MIGRATE_CHECK_COMMAND', command: migrate } : undefined,
    secrets: [...new Set([...secrets, ...urlPasswords, ...userPasswords, ...(jwtSigningKey ? [jwtSigningKey] : [])])],
    jwtSigningKey,
  };
}

function driverKind(ctx: ParseContext, key: string): DriverKind {
  return ctx.parse(key, z.enum(DRIVER_KINDS), DRIVER_KINDS.map((k) => `"${k}"`).join(', '), 'none');
}

function userCommands<A extends string>(ctx: ParseContext, service: 'DB' | 'APP', actions: readonly A[]) {
  const commands: Partial<Record<A, UserCommand>> = {};
  const checks: Partial<Record<A, UserCommand>> = {};
  for (const a of actions) {
    const c = ctx.get(commandKey(service, a));
    if (c) commands[a] = { key: commandKey(service, a), command: c };
    const k = ctx.get(checkKey(service, a));
    if (k) checks[a] = { key: checkKey(service, a), command: k };
  }
  return { commands, checks };
}

/** Commands set while the service has no driver: most likely DB_DRIVER=command was forgotten. */
function noDriverProblems(ctx: ParseContext, service: 'DB' | 'APP', keys: string[]): void {
  for (const key of keys) {
    if (ctx.get(key))
      ctx.problems.push(`${key}: set ${service}_DRIVER (command, systemd, compose or kubectl) to use it; ${service}_DRIVER is none`);
  }
}

/** The recovery each action needs from the command driver (a stop without a start cannot be reverted). */
function pairProblems<A extends string>(
  ctx: ParseContext,
  service: 'DB' | 'APP',
  commands: Partial<Record<A, UserCommand>>,
  pairs: ReadonlyArray<[A, A]>,
): void {
  for (const [action, revert] of pairs) {
    if (commands[action] && !commands[revert]) {
      ctx.problems.push(`${commandKey(service, revert)}: required with ${commandKey(service, action)} (it reverts the fault)`);
    }
  }
}

function parseDb(ctx: ParseContext): DbDriverSettings {
  const kind = driverKind(ctx, 'DB_DRIVER');
  const { commands, checks } = userCommands(ctx, 'DB', DB_ACTIONS);
  const settings: { -readonly [K in keyof DbDriverSettings]: DbDriverSettings[K] } = { kind, commands, checks };
  const keys = [...Object.values(commands), ...Object.values(checks)].map((c) => c.key);
  if (kind === 'none') noDriverProblems(ctx, 'DB', keys);
  if (kind === 'command') {
    if (Object.keys(commands).length === 0) {
      ctx.problems.push(`DB_DRIVER=command: give at least one of ${DB_ACTIONS.map((a) => commandKey('DB', a)).join(', ')}`);
    }
    pairProblems(ctx, 'DB', commands, [
      ['stop', 'start'],
      ['crash', 'start'],
      ['freeze', 'unfreeze'],
    ]);
  }
  if (kind === 'systemd') {
    const unit = ctx.parse('DB_SYSTEMD_UNIT', unitName, 'a systemd unit name such as postgresql@15-main', '');
    if (!unit) ctx.problems.push('DB_SYSTEMD_UNIT: required by DB_DRIVER=systemd (the cluster unit, e.g. postgresql@15-main)');
    else if (/^postgresql(\.service)?$/.test(unit)) {
      ctx.problems.push(
        `DB_SYSTEMD_UNIT: "${unit}" is Debian/Ubuntu's umbrella unit, always "active (exited)": stopping it says nothing about the server. Name the cluster unit, e.g. postgresql@15-main`,
      );
    }
    settings.systemdUnit = unit;
  }
  if (kind === 'compose') settings.composeService = ctx.parse('DB_COMPOSE_SERVICE', k8sName, 'a compose service name', 'db');
  if (kind === 'kubectl') {
    settings.kubeStatefulSet = ctx.parse('DB_KUBE_STATEFULSET', k8sName, 'a StatefulSet name', 'db');
    settings.kubeSelector = ctx.parse('DB_KUBE_SELECTOR', selector, 'a label selector such as app=db', `app=${settings.kubeStatefulSet}`);
  }
  return settings;
}

function parseApp(ctx: ParseContext): AppDriverSettings {
  const kind = driverKind(ctx, 'APP_DRIVER');
  const { commands, checks } = userCommands(ctx, 'APP', APP_ACTIONS);
  const workers = ctx.get('APP_WORKERS_COMMAND');
  const instance = ctx.get('APP_INSTANCE_COMMAND');
  const settings: { -readonly [K in keyof AppDriverSettings]: AppDriverSettings[K] } = {
    kind,
    commands,
    checks,
    workersCommand: workers ? { key: 'APP_WORKERS_COMMAND', command: workers } : undefined,
    instanceCommand: instance ? { key: 'APP_INSTANCE_COMMAND', command: instance } : undefined,
    systemdReload: ctx.parse(
      'APP_SYSTEMD_RELOAD',
      z.enum(['reload', 'hup']),
      '"reload" (systemctl reload) or "hup" (systemctl kill --kill-whom=main -s HUP)',
      'hup',
    ),
  };
  const keys = [...Object.values(commands), ...Object.values(checks)].map((c) => c.key);
  if (kind === 'none')
    noDriverProblems(ctx, 'APP', [...keys, ...(workers ? ['APP_WORKERS_COMMAND'] : []), ...(instance ? ['APP_INSTANCE_COMMAND'] : [])]);
  if (kind === 'command') {
    if (Object.keys(commands).length === 0) {
      ctx.problems.push(`APP_DRIVER=command: give at least one of ${APP_ACTIONS.map((a) => commandKey('APP', a)).join(', ')}`);
    }
    pairProblems(ctx, 'APP', commands, [
      ['stop', 'start'],
      ['scale-down', 'scale-up'],
    ]);
  }
  if (kind === 'systemd') {
    const unit = ctx.parse('APP_SYSTEMD_UNIT', unitName, 'a systemd unit name such as store.service', '');
    if (!unit) ctx.problems.push('APP_SYSTEMD_UNIT: required by APP_DRIVER=systemd (the gunicorn service, e.g. store.service)');
    settings.systemdUnit = unit;
  }
  if (kind === 'compose') settings.composeService = ctx.parse('APP_COMPOSE_SERVICE', k8sName, 'a compose service name', 'web');
  if (kind === 'kubectl') {
    settings.kubeDeployment = ctx.parse('APP_KUBE_DEPLOYMENT', k8sName, 'a Deployment name', 'web');
    settings.kubeSelector = ctx.parse('APP_KUBE_SELECTOR', selector, 'a label selector such as app=web', `app=${settings.kubeDeployment}`);
  }
  return settings;
}
