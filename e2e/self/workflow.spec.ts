/** The CI workflow passes actionlint, and the lint really fails a broken workflow. */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect, test } from './support/test';
import { runJob, type JobRun, type Replay } from '../../helpers/ci/workflow-replay';
import { isAlive } from '../../helpers/stack/processes';
import { PROJECT_ROOT } from '../../helpers/paths';

const lint = (...files: string[]) =>
  spawnSync(process.execPath, ['--import', 'tsx', path.join(PROJECT_ROOT, 'scripts/lint-workflows.ts'), ...files], {
    cwd: PROJECT_ROOT,
    encoding: 'utf8',
    timeout: 60_000,
  });

test.describe('CI workflow', { tag: '@self' }, () => {
  test('should pass actionlint, and fail it when broken', () => {
    const good = lint();
    expect(good.status, `${good.stdout}${good.stderr}`).toBe(0);
    expect(good.stdout).toMatch(/actionlint: 1 workflow\(s\), 0 finding\(s\)/);
    const broken = test.info().outputPath('broken.yml');
    const text = fs.readFileSync(path.join(PROJECT_ROOT, '.github/workflows/resilience.yml'), 'utf8');
    fs.writeFileSync(broken, text.replace('needs: suite', 'needs: no-such-job').replace('${{ matrix.pg }}', '${{ matrix.postgres }}'));
    const bad = lint(broken);
    expect(bad.status, 'a broken workflow fails the lint').toBe(1);
    expect(bad.stdout).toMatch(/no-such-job/);
    expect(bad.stdout).toMatch(/postgres/);
  });

  test('should take its reporters from the configuration: no --reporter, a blob per cell, one merge of every cell', () => {
    const text = fs.readFileSync(path.join(PROJECT_ROOT, '.github/workflows/resilience.yml'), 'utf8');
    // a --reporter on the command line replaces every reporter of the config (redaction, Allure, the summary, the scan)
    expect(text.match(/^\s*run: .*--reporter.*$/gm) ?? [], 'no run step passes --reporter').toEqual([]);
    expect(text).toMatch(/CI_CELL: pg\$\{\{ matrix\.pg \}\}-\$\{\{ matrix\.server \}\}-\$\{\{ matrix\.shard \}\}/);
    expect(text).toMatch(/name: blob-\$\{\{ env\.CI_CELL \}\}/);
    expect(text).toMatch(/merge-reports --config playwright\.merge\.config\.ts/);
    expect(text).toMatch(/run: npm run report:quality-gate/);
  });
});

test.describe('ci:replay', { tag: '@self' }, () => {
  test("should stop every process of a step past its job's timeout-minutes, not only its shell", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sr-replay-'));
    const pidFile = path.join(dir, 'background.pid');
    const r: Replay = {
      artifactsDir: path.join(dir, 'artifacts'),
      cacheDir: path.join(dir, 'cache'),
      shimsDir: path.join(dir, 'shims'),
      logsDir: dir,
      playwrightArgs: [],
      envOverrides: {},
      // a background process of a script ignores SIGINT: it is killed after this
      stopGraceMs: 200,
    };
    const run: JobRun = {
      id: 'timeout',
      // 0.01 minutes: 0.6 s; the step leaves a process in the background and waits far longer
      job: { 'timeout-minutes': 0.01, steps: [{ name: 'hangs', run: `sleep 120 & echo $! > ${pidFile}; sleep 120` }] },
      matrix: {},
      workspace: dir,
      env: { PATH: process.env.PATH ?? '' },
      records: [],
      cacheSaves: [],
    };
    try {
      const t0 = Date.now();
      expect(
        runJob(run, r, () => {}),
        'a job past its timeout fails',
      ).toBe(false);
      expect(Date.now() - t0, 'it ends at its timeout, not when the step would have').toBeLessThan(15_000);
      const background = Number(fs.readFileSync(pidFile, 'utf8'));
      expect(isAlive(background), "the step's background process is gone too").toBe(false);
      expect(run.records[0]?.notes.join('; ')).toMatch(/past the job's timeout-minutes: its processes were killed \(SIGKILL\)/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
