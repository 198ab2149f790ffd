/**
 * Benchmark: the embedded stack's first start (the template cluster built), its later starts (the
 * template copied), each part, and the smoke suite's wall time.
 * Appends a record to bench/results/stack-start.json. Goal (issue 2): cold start <= 5 s.
 * Run: npm run bench:stack [-- --runs 5]
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import os from 'node:os';
import { childEnv, loadConfig, readEnv } from '../helpers/config';
import { PROJECT_ROOT } from '../helpers/paths';
import { log } from '../helpers/report/log';
import { recordResult } from './record';
import { EmbeddedStack } from '../helpers/stack/embedded-stack';

const GOAL_COLD_START_MS = 5_000;
const runsArg = process.argv.indexOf('--runs');
const runs = Math.max(2, runsArg > 0 ? Number(process.argv[runsArg + 1]) : 4);

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? NaN;
};

// a stack root of its own: the first start builds the template cluster (initdb, createdb, migrate), the others copy it
const root = path.join(os.tmpdir(), `sr-bench-${randomBytes(4).toString('hex')}`);
const cfg = loadConfig({ ...readEnv(), STACK_NAME: 'bench', STACK_ROOT: root, TARGET: 'embedded' });
const samples: Array<Record<string, number>> = [];
try {
  for (let i = 0; i < runs; i++) {
    await using stack = await EmbeddedStack.up(cfg, { pid: process.pid, kind: 'test' });
    samples.push({ ...stack.state.timings });
    log(`start ${i + 1}/${runs}${i === 0 ? ' (template built)' : ''}: ${stack.state.timings.totalMs}ms`);
  }
} finally {
  fs.rmSync(root, { recursive: true, force: true });
}
const [first, ...later] = samples;
const parts = Object.keys(later[0] ?? {});
const coldStart = first ?? {};
const warmStart = Object.fromEntries(parts.map((k) => [k, median(later.map((s) => s[k] ?? NaN))]));

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
  /** the first start on a machine: it builds the template cluster */
  firstStartMs: coldStart,
  /** every later start: the template copied (median of runs - 1) */
  startMedianMs: warmStart,
  coldStartGoalMs: GOAL_COLD_START_MS,
  coldStartMeetsGoal: (coldStart.totalMs ?? Infinity) <= GOAL_COLD_START_MS,
  smokeSuite: { wallMs: smokeWallMs, exitCode: smoke.status, includesStackUpDown: true },
};
recordResult('stack-start', record);
if (smoke.status !== 0) process.stderr.write(smoke.stdout.slice(-2000));
