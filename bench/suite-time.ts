/**
 * Where the suite's time goes: per project and per test file (seconds of tests), and each project's
 * span of the wall (the lanes run at once), from the last run's reports/results.json (run `npm test`
 * first). Appends to bench/results/suite-time.json.
 * Run: npm run bench:suite-time
 */
import fs from 'node:fs';
import path from 'node:path';
import { config } from '../helpers/config';
import { recordResult } from './record';

interface Suite {
  file?: string;
  suites?: Suite[];
  specs?: Array<{
    file: string;
    tests: Array<{ projectName: string; results: Array<{ duration: number; startTime: string; parallelIndex: number }> }>;
  }>;
}
interface Results {
  stats: { startTime: string; duration: number; expected: number; unexpected: number; skipped: number };
  suites: Suite[];
}

const file = path.join(config().reportsDir, 'results.json');
if (!fs.existsSync(file)) throw new Error(`no ${file}: run npm test first`);
const r = JSON.parse(fs.readFileSync(file, 'utf8')) as Results;
const byProject: Record<string, number> = {};
const byFile: Record<string, number> = {};
// a project's span of the wall: its first test's start to its last test's end (the lanes run at once)
const span: Record<string, { from: number; to: number }> = {};
const lanes = new Set<number>();
let tests = 0;
const walk = (s: Suite) => {
  for (const sp of s.specs ?? []) {
    for (const t of sp.tests) {
      const ms = t.results.reduce((a, x) => a + x.duration, 0);
      byProject[t.projectName] = (byProject[t.projectName] ?? 0) + ms;
      byFile[sp.file] = (byFile[sp.file] ?? 0) + ms;
      for (const x of t.results) {
        const from = Date.parse(x.startTime);
        const p = (span[t.projectName] ??= { from, to: from });
        p.from = Math.min(p.from, from);
        p.to = Math.max(p.to, from + x.duration);
        lanes.add(x.parallelIndex);
      }
      tests++;
    }
  }
  for (const c of s.suites ?? []) walk(c);
};
for (const s of r.suites) walk(s);
const round = (o: Record<string, number>) => Object.fromEntries(Object.entries(o).map(([k, v]) => [k, Math.round(v / 100) / 10]));
recordResult('suite-time', {
  at: r.stats.startTime,
  tests,
  passed: r.stats.expected,
  failed: r.stats.unexpected,
  wallS: Math.round(r.stats.duration / 100) / 10,
  lanes: lanes.size,
  secondsByProject: round(byProject),
  wallSecondsByProject: round(Object.fromEntries(Object.entries(span).map(([k, v]) => [k, v.to - v.from]))),
  secondsByFile: round(byFile),
});
