/**
 * PostgreSQL connection URLs read the way libpq reads them, so that what the suite decides about a
 * URL (this is the disposable database) is what pg_dump, pg_restore and psql then reach. libpq lets
 * query parameters override the URL's own parts (`?dbname=postgres`, `?host=10.0.0.9&port=6543`),
 * takes several hosts (`h1:5432,h2:5433`) and fills missing parts from PG* variables: a URL whose
 * text names one database and reaches another is refused here, naming the part.
 */

/** A libpq URI taken apart: the hosts and ports of its netloc, its database, user and parameters. */
export interface PgUrl {
  readonly hosts: ReadonlyArray<{ readonly host: string; readonly port?: number }>;
  readonly database?: string;
  readonly user?: string;
  readonly params: Readonly<Record<string, string>>;
}

/** Query parameters that change which server or database a connection reaches (or what its session sees). */
export const TARGET_PARAMS = ['dbname', 'host', 'hostaddr', 'port', 'service', 'servicefile', 'options'] as const;

/**
 * PG* variables libpq (and node-postgres) apply: PGHOSTADDR, PGSERVICE, PGSERVICEFILE and PGOPTIONS
 * whatever the URL says; PGHOST, PGPORT and PGDATABASE where the URL leaves that part out.
 */
const ALWAYS_APPLY = ['PGHOSTADDR', 'PGSERVICE', 'PGSERVICEFILE', 'PGOPTIONS'] as const;

/** Parses postgres:// or postgresql:// as libpq does (percent-decoding each part); throws on another scheme. */
export function parsePgUrl(url: string): PgUrl {
  const m = /^postgres(?:ql)?:\/\/([^/?#]*)(\/[^?#]*)?(?:\?([^#]*))?$/.exec(url);
  if (!m) throw new Error(`not a postgres:// URL: ${url.replace(/:[^:@/]*@/, ':***@')}`);
  const [, netloc = '', path, query] = m;
  const at = netloc.lastIndexOf('@');
  const userinfo = at >= 0 ? netloc.slice(0, at) : undefined;
  const hostspec = at >= 0 ? netloc.slice(at + 1) : netloc;
  const hosts = hostspec
    .split(',')
    .filter((h, i, all) => h !== '' || all.length === 1)
    .map((h) => {
      // [v6]:port, or host:port
      const v6 = /^\[([^\]]+)\](?::(\d*))?$/.exec(h);
      const [host, port] = v6 ? [v6[1]!, v6[2]] : [h.replace(/:\d*$/, ''), /:(\d*)$/.exec(h)?.[1]];
      return { host: decodeURIComponent(host), ...(port ? { port: Number(port) } : {}) };
    })
    .filter((h) => h.host !== '' || h.port !== undefined);
  const params: Record<string, string> = {};
  for (const pair of (query ?? '').split('&').filter(Boolean)) {
    const eq = pair.indexOf('=');
    const k = decodeURIComponent(eq < 0 ? pair : pair.slice(0, eq));
    params[k] = decodeURIComponent(eq < 0 ? '' : pair.slice(eq + 1).replace(/\+/g, ' '));
  }
  const database = path && path.length > 1 ? decodeURIComponent(path.slice(1)) : undefined;
  const user = userinfo === undefined ? undefined : decodeURIComponent(userinfo.split(':')[0] ?? '') || undefined;
  return { hosts, ...(database !== undefined ? { database } : {}), ...(user ? { user } : {}), params };
}

/**
 * Why a URL may not name a database the suite writes to (empty when it may): a parameter that
 * overrides its target, several hosts, a part left out, or a PG* variable that would apply.
 */
export function targetProblems(key: string, url: string, env: Readonly<Record<string, string | undefined>>): string[] {
  let u: PgUrl;
  try {
    u = parsePgUrl(url);
  } catch (error) {
    return [`${key}: ${(error as Error).message}`];
  }
  const problems: string[] = [];
  const overrides = TARGET_PARAMS.filter((p) => p in u.params);
  if (overrides.length)
    problems.push(
      `${key}: ${overrides.map((p) => `?${p}=`).join(', ')} would make libpq reach another server or database than the URL names: write the host, port and database in the URL itself`,
    );
  if (u.hosts.length > 1) problems.push(`${key}: names ${u.hosts.length} hosts: libpq would try each in turn; name one`);
  const h = u.hosts[0];
  if (!h?.host) problems.push(`${key}: names no host (libpq would take PGHOST or a local socket): name it`);
  if (h?.host.startsWith('/')) problems.push(`${key}: a socket folder as host: name a TCP host and port`);
  if (u.database === undefined) problems.push(`${key}: names no database (libpq would take PGDATABASE or the user's name): name it`);
  const applying = [
    ...ALWAYS_APPLY.filter((v) => env[v]),
    ...(h?.host ? [] : env.PGHOST ? ['PGHOST'] : []),
    ...(h?.port !== undefined ? [] : env.PGPORT ? ['PGPORT'] : []),
    ...(u.database !== undefined ? [] : env.PGDATABASE ? ['PGDATABASE'] : []),
  ];
  if (applying.length) problems.push(`${key}: ${applying.join(', ')} set in the environment would change what the URL reaches: unset it`);
  return problems;
}

/** The environment of a libpq client without any PG* variable but those given: what it reaches is the URL's. */
export function libpqEnv(
  base: Readonly<Record<string, string | undefined>>,
  own: Readonly<Record<string, string>>,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(base)) if (v !== undefined && !k.startsWith('PG')) out[k] = v;
  return { ...out, ...own };
}
