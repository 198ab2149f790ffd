/**
 * npm run test:external: launches playwright.external.config.ts (e2e/external/drivers.spec.ts: the
 * suite against a store started outside it, through each fault driver, and the checks of those runs),
 * then writes the summary and the total: every test of every driver's suite run, and every check.
 * Ends with "N passed, N failed". Options: --driver=<name> (repeatable), --grep=<re> (narrows each
 * driver's suite run).
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { config } from '../helpers/config';
import { PLAYWRIGHT_CLI, PROJECT_ROOT } from '../helpers/paths';
import { log } from '../helpers/report/log';

interface Stats {
  expected: number;
  unexpected: number;
  flaky: number;
  skipped: number;
}
interface Spec {
  title: string;
  tests: Array<{ status: string; annotations?: Array<{ type: string; description?: string }> }>;
}
interface Suite {
  suites?: Suite[];
  specs?: Spec[];
}

const args = process.argv.slice(2);
const drivers = args.filter((a) => a.startsWith('--driver=')).map((a) => a.slice('--driver='.length));
const grep = args.find((a) => a.startsWith('--grep='))?.slice('--grep='.length);
const unknown = args.filter((a) => !a.startsWith('--driver=') && !a.startsWith('--grep='));
if (unknown.length) throw new Error(`test:external: unknown option ${unknown.join(' ')} (--driver=<name>, --grep=<re>)`);

const reports = path.join(config().reportsDir, 'external');
// a fresh folder before the run's reporters open theirs: the secret scan and the summary speak of this run only
fs.rmSync(reports, { recursive: true, force: true });
const run = spawnSync(process.execPath, [PLAYWRIGHT_CLI, 'test', '-c', 'playwright.external.config.ts'], {
  cwd: PROJECT_ROOT,
  env: { ...process.env, EXTERNAL_DRIVERS: drivers.join(','), EXTERNAL_GREP: grep ?? '' },
  stdio: 'inherit',
});

const read = <T>(file: string): T | undefined => (fs.existsSync(file) ? (JSON.parse(fs.readFileSync(file, 'utf8')) as T) : undefined);
const specsOf = (s: Suite): Spec[] => [...(s.specs ?? []), ...(s.suites ?? []).flatMap(specsOf)];
const checks = read<Suite & { stats: Stats }>(path.join(reports, 'checks', 'results.json'));
let passed = 0;
let failed = 0;
const summary = ['# test:external', ''];
for (const name of fs.existsSync(reports) ? fs.readdirSync(reports).sort() : []) {
  // each suite run's own tests count, as they did when they ran through the launcher itself
  // (the interrupted runs are cut short on purpose: their checks are the interrupt tests)
  const st =
    name === 'checks' || name === 'interrupt' ? undefined : read<{ stats: Stats }>(path.join(reports, name, 'results.json'))?.stats;
  if (!st) continue;
  passed += st.expected;
  failed += st.unexpected + st.flaky;
  summary.push(`- ${name}: ${st.expected} passed, ${st.unexpected + st.flaky} failed, ${st.skipped} skipped (reports/external/${name}/)`);
}
if (checks) {
  passed += checks.stats.expected;
  failed += checks.stats.unexpected + checks.stats.flaky;
  summary.push('', '## checks of the runs (reports/external/checks/html)', '');
  for (const spec of specsOf(checks))
    for (const t of spec.tests) summary.push(`- ${t.status === 'expected' ? 'ok' : t.status}: ${spec.title}`);
}
// a run that failed outside any test (its global setup or teardown, a crash) is a failure the line says too
if (run.status !== 0 && failed === 0) {
  failed = 1;
  summary.push('', `- FAILED: the run itself (exit ${run.status ?? run.signal}) outside any test: see its output`);
}
fs.mkdirSync(reports, { recursive: true });
fs.writeFileSync(path.join(reports, 'summary.md'), `${summary.join('\n')}\n`);
fs.writeFileSync(path.join(reports, 'result.json'), JSON.stringify({ passed, failed }));
log(`summary: ${path.join(reports, 'summary.md')}`);
process.stdout.write(`${passed} passed, ${failed} failed\n`);
process.exit(failed === 0 ? 0 : 1);
