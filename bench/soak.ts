/**
 * The app-server families repeated, and what the repeats prove: runs `npm run test:soak` (REPEAT,
 * default 20, in reports/soak), then records the summary's repeated tests (runs, failures, the
 * stated power, figures pooled over the runs) in bench/results/soak.json.
 * Run: npm run bench:soak
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { childEnv, config } from '../helpers/config';
import { PROJECT_ROOT } from '../helpers/paths';
import { recordResult } from './record';

// REPEAT when set (above 1), else 20 runs of each test
const repeat = config().repeat > 1 ? config().repeat : 20;
const reports = path.join(config().reportsDir, 'soak');
const started = Date.now();
const run = spawnSync('npm', ['run', '-s', 'test:soak'], {
  cwd: PROJECT_ROOT,
  env: childEnv({ REPEAT: String(repeat), REPORTS_DIR: reports }),
  stdio: 'inherit',
});
const summary = JSON.parse(fs.readFileSync(path.join(reports, 'resilience-summary.json'), 'utf8')) as {
  status: string;
  repeated?: unknown[];
};
recordResult('soak', {
  date: new Date().toISOString(),
  repeat,
  exitCode: run.status,
  status: summary.status,
  wallS: Math.round((Date.now() - started) / 1000),
  repeated: summary.repeated ?? [],
});
