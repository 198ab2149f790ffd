/**
 * npm run report:allure / report:quality-gate: Allure 3 over the suite's results and, when it ran,
 * the meta-test's (reports/allure-results, reports/power/allure-results: two folders, so that the
 * meta-test never overwrites the suite's environment). Node 20 needs Node 22's iterator helpers
 * for Allure's gate (scripts/node20-iterator-helpers.cjs). The report is written with the gate's
 * verdict in it (scripts/allure-generate.mjs).
 *
 * The cells of a CI matrix (the reports job downloads each cell's results into a folder of its own,
 * reports/allure-cells/allure-<cell>/) are first combined into reports/allure-results: every result
 * kept (each carries its cell's label and parameters), and one environment file in which a value
 * that differs between cells is kept per cell (`postgresql[pg16-uvicorn-2]`), never overwritten.
 * Each cell is then an environment of the report, with its own variables (allurerc.mjs reads ALLURE_CELLS).
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { config } from '../helpers/config';
import { PROJECT_ROOT } from '../helpers/paths';

const command = process.argv[2];
if (command !== 'generate' && command !== 'quality-gate') throw new Error('usage: tsx scripts/allure.ts generate | quality-gate');
const reports = config().reportsDir;

/** KEY=value lines of an Allure environment file. */
function readProperties(file: string): Map<string, string> {
  const out = new Map<string, string>();
  if (!fs.existsSync(file)) return out;
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    const at = line.indexOf('=');
    if (at > 0) out.set(line.slice(0, at).trim(), line.slice(at + 1).trim());
  }
  return out;
}

/** Combines reports/allure-cells/<artifact>/ into reports/allure-results; returns each cell's environment. */
function combineCells(): Record<string, Record<string, string>> {
  const cellsDir = path.join(reports, 'allure-cells');
  if (!fs.existsSync(cellsDir)) return {};
  const cells = fs
    .readdirSync(cellsDir, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => d.name)
    .sort();
  const into = path.join(reports, 'allure-results');
  fs.mkdirSync(into, { recursive: true });
  const envs = new Map<string, Map<string, string>>();
  for (const artifact of cells) {
    const dir = path.join(cellsDir, artifact);
    const cell = artifact.replace(/^allure-/, '');
    envs.set(cell, readProperties(path.join(dir, 'environment.properties')));
    for (const f of fs.readdirSync(dir)) if (f !== 'environment.properties') fs.copyFileSync(path.join(dir, f), path.join(into, f));
  }
  const keys = [...new Set([...envs.values()].flatMap((m) => [...m.keys()]))].sort();
  const lines = [`cells=${[...envs.keys()].join(' ')}`];
  for (const k of keys) {
    const values = new Set([...envs.values()].map((m) => m.get(k) ?? ''));
    if (values.size === 1) lines.push(`${k}=${[...values][0]}`);
    else for (const [cell, m] of envs) lines.push(`${k}[${cell}]=${m.get(k) ?? ''}`);
  }
  fs.writeFileSync(path.join(into, 'environment.properties'), `${lines.join('\n')}\n`);
  process.stdout.write(`allure: ${envs.size} cells combined into ${path.relative(PROJECT_ROOT, into)}\n`);
  return Object.fromEntries([...envs].map(([cell, m]) => [cell, Object.fromEntries(m)]));
}

const cells = combineCells();
const dirs = [path.join(reports, 'allure-results'), path.join(reports, 'power', 'allure-results')].filter((d) => fs.existsSync(d));
const r = spawnSync(
  process.execPath,
  command === 'generate'
    ? // the report with the gate's verdict in it (allure generate alone evaluates no gate)
      ['--require', './scripts/node20-iterator-helpers.cjs', 'scripts/allure-generate.mjs', ...dirs]
    : ['--require', './scripts/node20-iterator-helpers.cjs', 'node_modules/allure/cli.js', command, ...dirs, '--config', 'allurerc.mjs'],
  {
    cwd: PROJECT_ROOT,
    stdio: 'inherit',
    env: { ...process.env, ...(Object.keys(cells).length ? { ALLURE_CELLS: JSON.stringify(cells) } : {}) },
  },
);
process.exitCode = r.status ?? 1;
