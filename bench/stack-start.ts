/**
 * Benchmark: cold start of the embedded stack (each part) and the smoke suite's wall time.
 * Appends a record to bench/results/stack-start.json. Goal (issue 2): cold start <= 5 s.
 * Run: npm run bench:stack [-- --runs 5]
 */
import { spawnSync } from 'node:child_process';
import os from 'node:os';
import { childEnv, loadConfig, readEnv } from '../helpers/config';
import { PROJECT_ROOT } from '../helpers/paths';
import { log } from '../helpers/report/log';
import { recordResult } from './record';
import { EmbeddedStack } from '../helpers/stack/embedded-stack';

const GOAL_COLD_START_MS = 5_000;
const runsArg = process.argv.indexOf('--runs');
const runs = runsArg > 0 ? Number(process.argv[runsArg + 1]) : 3;

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? NaN;
};

const cfg = loadConfig({ ...readEnv(), STACK_NAME: 'bench', TARGET: 'embedded' });
const samples: Array<Record<string, number>> = [];
for (let i = 0; i < runs; i++) {
  await using stack = await EmbeddedStack.up(cfg, { pid: process.pid, kind: 'test' });
  samples.push({ ...stack.state.timings });
  log(`cold start ${i + 1}/${runs}: ${stack.state.timings.totalMs}ms`);
}
const parts = Object.keys(samples[0] ?? {});
const coldStart = Object.fromEntries(parts.map((k) => [k, median(samples.map((s) => s[k] ?? NaN))]));

const t0 = Date.now();
const smoke = spawnSync('npx', ['playwright', 'test', '--project=smoke', '--reporter=dot'], {
  cwd: PROJECT_ROOT,
  env: childEnv({ STACK_NAME: 'bench-smoke' }),
  encoding: 'utf8',
  timeout: 300_000,
});
const smokeWallMs = Date.now() - t0;

const record = {
  date: new Date().toISOString(),
  machine: { cpus: os.cpus().length, memGiB: Math.round(os.totalmem() / 2 ** 30), node: process.version },
  runs,
  coldStartMedianMs: coldStart,
  coldStartGoalMs: GOAL_COLD_START_MS,
  coldStartMeetsGoal: (coldStart.totalMs ?? Infinity) <= GOAL_COLD_START_MS,
  smokeSuite: { wallMs: smokeWallMs, exitCode: smoke.status, includesStackUpDown: true },
};
recordResult('stack-start', record);
if (smoke.status !== 0) process.stderr.write(smoke.stdout.slice(-2000));
