/**
 * Sums the runs' JSON results (reports/results.json, and reports/power/results.json when the
 * meta-test ran, reports/reports-check/results.json when the reports were checked in a browser, reports/external/result.json after test:external and reports/ci-replay/result.json after ci:replay) and prints "N passed, N failed" as the last line, for CI.
 */
import fs from 'node:fs';
import path from 'node:path';
import { config } from '../helpers/config';

interface Stats {
  expected: number;
  unexpected: number;
  flaky: number;
  skipped: number;
}

const dir = config().reportsDir;
const files = [
  path.join(dir, 'results.json'),
  path.join(dir, 'power', 'results.json'),
  path.join(dir, 'reports-check', 'results.json'),
].filter((f) => fs.existsSync(f));
if (!fs.existsSync(path.join(dir, 'results.json'))) {
  process.stderr.write(`no ${path.join(dir, 'results.json')}: the test run did not finish\n`);
  process.stdout.write('0 passed, 1 failed\n');
  process.exit(1);
}
let passed = 0;
let failed = 0;
let skipped = 0;
for (const f of files) {
  const stats = (JSON.parse(fs.readFileSync(f, 'utf8')) as { stats: Stats }).stats;
  passed += stats.expected;
  failed += stats.unexpected + stats.flaky;
  skipped += stats.skipped;
  process.stdout.write(
    `${path.relative(dir, f)}: ${stats.expected} passed, ${stats.unexpected + stats.flaky} failed, ${stats.skipped} skipped\n`,
  );
}
// test:external (runs and its own checks), when it ran
const external = path.join(dir, 'external', 'result.json');
if (fs.existsSync(external)) {
  const r = JSON.parse(fs.readFileSync(external, 'utf8')) as { passed: number; failed: number };
  passed += r.passed;
  failed += r.failed;
  process.stdout.write(`external/result.json: ${r.passed} passed, ${r.failed} failed\n`);
}
// ci:replay's checks of the workflow, when it ran
const replay = path.join(dir, 'ci-replay', 'result.json');
if (fs.existsSync(replay)) {
  const r = JSON.parse(fs.readFileSync(replay, 'utf8')) as { passed: number; failed: number };
  passed += r.passed;
  failed += r.failed;
  process.stdout.write(`ci-replay/result.json: ${r.passed} passed, ${r.failed} failed\n`);
}
if (skipped > 0) process.stdout.write(`${skipped} skipped (see the lines above)\n`);
process.stdout.write(`${passed} passed, ${failed} failed\n`);
