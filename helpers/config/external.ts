/**
 * Settings of an external target: where the store is, who logs in, how far its database may be
 * touched, and which driver reaches each service (database, app server). Parsed by config.ts, the
 * only reader of the environment; every problem names its variable.
 */
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import type { Credentials, EmbeddedSettings, ServerKind } from './embedded';
import { k8sName, parseApp, parseDb } from './external-drivers';
import type { DatabaseIdentity, ExternalTarget } from './external-types';
import { MIN_SECRET_LENGTH as MIN_SECRET, type ParseContext } from './parse';
import { parsePgUrl, targetProblems } from './pg-url';

/** The PG* variables that could change what a URL reaches (pg-url.ts). */
const PG_VARIABLES = ['PGHOST', 'PGHOSTADDR', 'PGPORT', 'PGDATABASE', 'PGSERVICE', 'PGSERVICEFILE', 'PGOPTIONS'] as const;

export * from './external-types';

const pgUrl = z.string().refine((s) => URL.canParse(s) && /^postgres(ql)?:$/.test(new URL(s).protocol));

/**
 * host:port/database of a postgres URL as libpq reads it (port 5432 when absent; the host's case does
 * not matter, the database's does: PostgreSQL's STORE and store are two databases). Query parameters
 * that would override them are refused where it matters (targetProblems).
 */
export function databaseIdentity(url: string): DatabaseIdentity {
  const u = parsePgUrl(url);
  const h = u.hosts[0];
  return { host: (h?.host ?? '').toLowerCase(), port: h?.port ?? 5432, database: u.database ?? '' };
}
export const formatIdentity = (d: DatabaseIdentity): string => `${d.host}:${d.port}/${d.database}`;
const sameIdentity = (a: DatabaseIdentity, b: DatabaseIdentity) => a.host === b.host && a.port === b.port && a.database === b.database;

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
    if (!sameIdentity(a, b)) {
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
    const actualId = databaseUrl && URL.canParse(databaseUrl) ? databaseIdentity(databaseUrl) : undefined;
    const actual = actualId && formatIdentity(actualId);
    const m = /^([^\s:/]+):(\d+)\/([^\s/]+)$/.exec(optIn);
    // the URLs the opt-in covers must reach what their text names: no overrides, no PG* variable filling a part
    const pgEnv = Object.fromEntries(PG_VARIABLES.map((v) => [v, get(v)]));
    for (const [key, url] of [
      ['DATABASE_URL', databaseUrl],
      ['RESTORE_DATABASE_URL', restoreDatabaseUrl],
      ['BACKUP_DATABASE_URL', backupDatabaseUrl],
    ] as const)
      if (url) problems.push(...targetProblems(key, url, pgEnv));
    if (!m) {
      problems.push(
        `ALLOW_DESTRUCTIVE_RESTORE_OF: names the database a backup test may wipe and restore as host:port/database (${actual ?? 'DATABASE_URL is not set'}), got "${optIn}"`,
      );
    } else if (!actualId || !sameIdentity({ host: m[1]!.toLowerCase(), port: Number(m[2]), database: m[3]! }, actualId)) {
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
  // this suite's fault proxy guards its statement log with a token (scripts/fault-proxy.ts --token-file)
  const toxToken =
    parse(
      'TOXIPROXY_TOKEN_FILE',
      z.string().refine((s) => path.isAbsolute(s)),
      'an absolute path',
      '',
    ) || undefined;
  if (toxUrl && toxProxy) toxiproxy = { url: toxUrl.replace(/\/+$/, ''), proxy: toxProxy, ...(toxToken ? { tokenFile: toxToken } : {}) };

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
    if (s.length < MIN_SECRET)
      problems.push(`TARGET_SECRETS: each secret needs at least ${MIN_SECRET} characters (shorter ones match by chance)`);
  const urlPasswords = [databaseUrl, backupDatabaseUrl, restoreDatabaseUrl]
    .filter((u): u is string => !!u && URL.canParse(u))
    .map((u) => decodeURIComponent(new URL(u).password))
    .filter((p) => p.length >= MIN_SECRET);
  const userPasswords = [base.customer, base.secondCustomer, base.staff]
    .map((c) => c?.password ?? '')
    .filter((p) => p.length >= MIN_SECRET);

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

const httpUrl = z
  .string()
  .refine((s) => URL.canParse(s) && /^https?:$/.test(new URL(s).protocol))
  .transform((s) => s.replace(/\/+$/, ''));

/** TARGET=external: the store's URL, its users, then every setting parseExternal reads. */
export function parseExternalTarget(ctx: ParseContext, embedded: EmbeddedSettings): ExternalTarget {
  const { get, parse, problems, checkFiles } = ctx;
  const baseUrl = parse('BASE_URL', httpUrl, 'an http(s) URL such as http://127.0.0.1:8000', '');
  if (!get('BASE_URL')) problems.push('BASE_URL: required when TARGET=external (the store to test)');
  const creds = (user: string, pass: string): Credentials | undefined => {
    const username = get(user);
    const password = get(pass);
    if (!username && !password) return undefined;
    if (!username || !password) {
      problems.push(`${username ? pass : user}: required together with ${username ? user : pass}`);
      return undefined;
    }
    return { username, password };
  };
  const customer = creds('STORE_USERNAME', 'STORE_PASSWORD');
  const jwtToken = parse('JWT_TOKEN', z.string().regex(/^[\w-]+\.[\w-]+\.[\w-]*$/), 'a JWT (three dot-separated parts)', '') || undefined;
  if (!customer && !jwtToken) problems.push('STORE_USERNAME/STORE_PASSWORD or JWT_TOKEN: one is required when TARGET=external');
  if (embedded.flaws.length > 0)
    problems.push('STORE_FLAWS: switches flaws of the embedded reference store; an external target runs what it runs');
  const { pgClientBin } = embedded;
  if (checkFiles && pgClientBin && !['pg_dump', 'pg_restore'].every((b) => fs.existsSync(path.join(pgClientBin, b)))) {
    problems.push(`PG_CLIENT_BIN: ${pgClientBin} does not hold pg_dump and pg_restore (the backup family runs them against DATABASE_URL)`);
  }
  return parseExternal(ctx, {
    baseUrl,
    customer,
    jwtToken,
    secondCustomer: creds('STORE_USERNAME_2', 'STORE_PASSWORD_2'),
    staff: creds('STORE_STAFF_USERNAME', 'STORE_STAFF_PASSWORD'),
    server: embedded.server,
  });
}
