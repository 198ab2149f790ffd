/**
 * The destructive opt-in decides on what a URL reaches, as libpq reads it: query parameters that
 * override the host, port or database, several hosts, a part left to a PG* variable, and a database
 * name in another case are each refused before anything starts. (What the server says it is, before
 * pg_restore runs: backup-roles.spec.ts.)
 */
import { expect, test } from './support/test';
import { ConfigError, loadConfig } from '../../helpers/config';
import { parsePgUrl, targetProblems } from '../../helpers/config/pg-url';

const DB = 'postgres://reader:pw@db.staging:5432/store';
const base = {
  TARGET: 'external',
  BASE_URL: 'http://127.0.0.1:8000',
  JWT_TOKEN: 'a.b.c',
  DATABASE_URL: DB,
  ALLOW_DESTRUCTIVE_RESTORE_OF: 'db.staging:5432/store',
  RESTORE_DATABASE_URL: 'postgres://owner:pw@db.staging:5432/store',
};
const problems = (env: Record<string, string>) => {
  try {
    loadConfig({ ...base, ...env }, { checkFiles: false });
    return [];
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    return [...error.problems];
  }
};

test.describe('the destructive opt-in', { tag: '@self' }, () => {
  test('should read a URL as libpq does: several hosts, IPv6, encoded parts, parameters', () => {
    expect(parsePgUrl('postgresql://u%40x:p@h1:5432,h2:5433/st%2Fore?sslmode=require&dbname=postgres')).toEqual({
      hosts: [
        { host: 'h1', port: 5432 },
        { host: 'h2', port: 5433 },
      ],
      database: 'st/ore',
      user: 'u@x',
      params: { sslmode: 'require', dbname: 'postgres' },
    });
    expect(parsePgUrl('postgres://[::1]:6000/db').hosts).toEqual([{ host: '::1', port: 6000 }]);
    expect(parsePgUrl('postgres:///db').hosts).toEqual([]);
  });

  test('should accept the opt-in that names the URLs exactly', () => {
    expect(problems({})).toEqual([]);
    expect(problems({ RESTORE_DATABASE_URL: `${base.RESTORE_DATABASE_URL}?sslmode=require` }), 'sslmode changes no target').toEqual([]);
  });

  for (const [what, env, reason] of [
    [
      '?dbname= naming another database',
      { RESTORE_DATABASE_URL: `${base.RESTORE_DATABASE_URL}?dbname=postgres` },
      /RESTORE_DATABASE_URL: \?dbname= would make libpq reach another/,
    ],
    [
      '?host= and ?port= naming another server',
      { RESTORE_DATABASE_URL: `${base.RESTORE_DATABASE_URL}?host=10.0.0.9&port=6543` },
      /RESTORE_DATABASE_URL: \?host=, \?port= would make libpq/,
    ],
    [
      '?service= reading the target from a service file',
      { DATABASE_URL: `${DB}?service=prod` },
      /DATABASE_URL: \?service= would make libpq/,
    ],
    [
      '?options= changing what the session sees',
      { RESTORE_DATABASE_URL: `${base.RESTORE_DATABASE_URL}?options=-csearch_path%3Dother` },
      /\?options= would make libpq/,
    ],
    [
      'a second host',
      { RESTORE_DATABASE_URL: 'postgres://owner:pw@db.staging:5432,db.prod:5432/store' },
      /RESTORE_DATABASE_URL: (names 2 hosts|expected a postgres:\/\/ URL)/,
    ],
    [
      'the database in another case',
      { ALLOW_DESTRUCTIVE_RESTORE_OF: 'db.staging:5432/STORE' },
      /ALLOW_DESTRUCTIVE_RESTORE_OF: must equal DATABASE_URL's host:port\/database \(db\.staging:5432\/store\)/,
    ],
    ['PGHOSTADDR in the environment', { PGHOSTADDR: '10.0.0.9' }, /PGHOSTADDR set in the environment would change what the URL reaches/],
    [
      'PGPORT filling a port the URLs leave out',
      {
        DATABASE_URL: 'postgres://reader:pw@db.staging/store',
        RESTORE_DATABASE_URL: 'postgres://owner:pw@db.staging/store',
        PGPORT: '6543',
      },
      /PGPORT set in the environment/,
    ],
  ] as const) {
    test(`should refuse ${what}`, () => {
      expect(problems(env).join('\n')).toMatch(reason);
    });
  }

  test('should name no problem for a URL that reaches what it names, and each for one that does not', () => {
    expect(targetProblems('X', DB, {})).toEqual([]);
    expect(targetProblems('X', 'postgres://u@/store', { PGHOST: 'prod' })).toEqual([
      'X: names no host (libpq would take PGHOST or a local socket): name it',
      'X: PGHOST set in the environment would change what the URL reaches: unset it',
    ]);
  });
});
