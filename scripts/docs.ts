/** npm run docs: rewrites every generated table of the docs from its source (bench/results); --check only compares. */
import fs from 'node:fs';
import path from 'node:path';
import { docFiles, regenerate } from '../helpers/report/docs';
import { PROJECT_ROOT } from '../helpers/paths';

const check = process.argv.includes('--check');
let stale = 0;
for (const file of docFiles()) {
  const text = fs.readFileSync(file, 'utf8');
  const fresh = regenerate(text);
  if (fresh === text) continue;
  stale++;
  if (check) process.stdout.write(`stale: ${path.relative(PROJECT_ROOT, file)}\n`);
  else fs.writeFileSync(file, fresh);
}
process.stdout.write(check ? `${stale} stale docs\n` : `${stale} docs rewritten\n`);
process.exitCode = check && stale > 0 ? 1 : 0;
