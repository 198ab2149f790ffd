// npm's pretest: on a fresh clone, one line naming the set-up command instead of "playwright: not found".
// Plain Node, no dependencies (it runs before they exist); fast when everything is present.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const missing = [];
if (!fs.existsSync(path.join(root, 'node_modules', '.bin', 'playwright'))) missing.push('npm packages');
// the reference store's interpreter (config.ts reads PYTHON; this pre-step runs before it can)
const python = process.env.PYTHON || '/usr/bin/python3';
const py = spawnSync(python, ['-c', 'import django, rest_framework, rest_framework_simplejwt, psycopg2, gunicorn, uvicorn'], {
  stdio: 'ignore',
});
if (py.status !== 0) missing.push(`Django packages for ${python}`);
if (!process.env.PG_BIN && !fs.existsSync('/usr/lib/postgresql')) missing.push('PostgreSQL binaries');
if (missing.length > 0) {
  process.stderr.write(`store-resilience: not set up (${missing.join(', ')} missing): run ./scripts/setup.sh once, then npm test\n`);
  process.exit(1);
}
