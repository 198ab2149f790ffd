/**
 * npm run report:allure / report:quality-gate: Allure 3 over the suite's results and, when it ran,
 * the meta-test's (reports/allure-results, reports/power/allure-results: two folders, so that the
 * meta-test never overwrites the suite's environment). Node 20 needs Node 22's iterator helpers
 * for Allure's gate (scripts/node20-iterator-helpers.cjs).
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { config } from '../helpers/config';
import { PROJECT_ROOT } from '../helpers/paths';

const command = process.argv[2];
if (command !== 'generate' && command !== 'quality-gate') throw new Error('usage: tsx scripts/allure.ts generate | quality-gate');
const reports = config().reportsDir;
const dirs = [path.join(reports, 'allure-results'), path.join(reports, 'power', 'allure-results')].filter((d) => fs.existsSync(d));
const r = spawnSync(
  process.execPath,
  ['--require', './scripts/node20-iterator-helpers.cjs', 'node_modules/allure/cli.js', command, ...dirs, '--config', 'allurerc.mjs'],
  { cwd: PROJECT_ROOT, stdio: 'inherit' },
);
process.exitCode = r.status ?? 1;
