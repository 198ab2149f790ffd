/** Reads reports/results.json (Playwright's JSON reporter) and prints "N passed, N failed" last. */
import fs from 'node:fs';
import path from 'node:path';
import { REPORTS_DIR } from '../helpers/paths';

interface Stats { expected: number; unexpected: number; flaky: number; skipped: number; duration: number }

const file = path.join(REPORTS_DIR, 'results.json');
if (!fs.existsSync(file)) {
  process.stdout.write('0 passed, 1 failed\n');
  process.stderr.write(`no ${file}: the test run did not finish\n`);
  process.exit(1);
}
const stats = (JSON.parse(fs.readFileSync(file, 'utf8')) as { stats: Stats }).stats;
const passed = stats.expected;
const failed = stats.unexpected + stats.flaky;
if (stats.skipped > 0) process.stdout.write(`${stats.skipped} skipped\n`);
process.stdout.write(`${passed} passed, ${failed} failed\n`);
