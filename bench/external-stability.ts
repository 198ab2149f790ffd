/**
 * How stable `npm run test:external` is (the gate .ci/run ends with): runs it RUNS times (default 5)
 * one after another, and records in bench/results/external-stability.json each run's counts, wall
 * time, failures (driver, test, first line of the error) and every bounded figure of each driver
 * next to its bound, so that a bound that flickers shows how close it runs before it fails.
 * Run: npm run bench:external-stability   (RUNS=<n> to change the count; ~5 min a run)
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { childEnv, config } from '../helpers/config';
import { PROJECT_ROOT } from '../helpers/paths';
import { recordResult } from './record';

const runs = Number(process.env.RUNS ?? 5);
if (!Number.isInteger(runs) || runs < 1 || runs > 50) throw new Error(`RUNS=${process.env.RUNS}: a whole number from 1 to 50`);
const reports = path.join(config().reportsDir, 'external');
const DRIVERS = ['command', 'systemd', 'compose', 'kubectl'];

interface Spec {
  title: string;
  tests: Array<{ projectName: string; status: string; results: Array<{ status: string; error?: { message?: string } }> }>;
}
interface Suite {
  suites?: Suite[];
  specs?: Spec[];
}
interface Scenario {
  scenario: string;
  status: string;
  figures: Record<string, unknown>;
  bounds?: Record<string, unknown>;
}

const specsOf = (s: Suite): Spec[] => [...(s.specs ?? []), ...(s.suites ?? []).flatMap(specsOf)];
const readJson = <T>(file: string): T | undefined => (fs.existsSync(file) ? (JSON.parse(fs.readFileSync(file, 'utf8')) as T) : undefined);
const ANSI_COLOUR = new RegExp(String.fromCharCode(27) + '\\[[0-9;]*m', 'g');
const firstLine = (text: string | undefined) => (text ?? '').replace(ANSI_COLOUR, '').split('\n')[0]?.slice(0, 300) ?? '';

function failuresOf(driver: string): Array<{ driver: string; test: string; error: string }> {
  const report = readJson<Suite>(path.join(reports, driver, 'results.json'));
  if (!report) return [{ driver, test: '(the run wrote no results)', error: '' }];
  return specsOf(report).flatMap((spec) =>
    spec.tests
      .filter((t) => t.status === 'unexpected' || t.status === 'flaky')
      .map((t) => ({
        driver,
        test: `[${t.projectName}] ${spec.title}`,
        error: firstLine(t.results.find((r) => r.status !== 'passed')?.error?.message),
      })),
  );
}

/** Each scenario's bounded figures: { figure: [measured, bound] }. */
function boundedOf(driver: string): Record<string, Record<string, [unknown, unknown]>> {
  const summary = readJson<{ scenarios: Scenario[] }>(path.join(reports, driver, 'resilience-summary.json'));
  const out: Record<string, Record<string, [unknown, unknown]>> = {};
  for (const s of summary?.scenarios ?? []) {
    const bounded = Object.entries(s.bounds ?? {})
      .filter(([k]) => k in s.figures)
      .map(([k, bound]): [string, [unknown, unknown]] => [k, [s.figures[k], bound]]);
    if (bounded.length) out[`${s.scenario}${s.status === 'passed' ? '' : ` (${s.status})`}`] = Object.fromEntries(bounded);
  }
  return out;
}

const records = [];
for (let i = 1; i <= runs; i++) {
  const started = Date.now();
  const run = spawnSync('npm', ['run', '-s', 'test:external'], { cwd: PROJECT_ROOT, env: childEnv({}), stdio: 'inherit' });
  const result = readJson<{ passed: number; failed: number }>(path.join(reports, 'result.json'));
  const record = {
    run: i,
    exitCode: run.status,
    passed: result?.passed ?? null,
    failed: result?.failed ?? null,
    wallS: Math.round((Date.now() - started) / 1000),
    failures: DRIVERS.flatMap(failuresOf),
    bounded: Object.fromEntries(DRIVERS.map((d) => [d, boundedOf(d)])),
  };
  process.stdout.write(`run ${i} of ${runs}: exit ${run.status}, ${record.passed} passed, ${record.failed} failed, ${record.wallS} s\n`);
  records.push(record);
}
recordResult('external-stability', {
  date: new Date().toISOString(),
  runs,
  green: records.filter((r) => r.exitCode === 0).length,
  records,
});
