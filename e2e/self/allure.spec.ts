/** The Allure quality gate (allurerc.mjs) fails a run with a failure or too few tests, and passes a green one. */
import { randomUUID } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect, test } from '@playwright/test';
import { PROJECT_ROOT } from '../../helpers/paths';

function results(statuses: readonly string[]): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sr-allure-'));
  const now = Date.now();
  statuses.forEach((status, i) => {
    const uuid = randomUUID();
    fs.writeFileSync(
      path.join(dir, `${uuid}-result.json`),
      JSON.stringify({ uuid, historyId: `h${i}`, testCaseId: `t${i}`, fullName: `test ${i}`, name: `test ${i}`, status, stage: 'finished', start: now, stop: now + 1, labels: [], steps: [], attachments: [], parameters: [] }),
    );
  });
  return dir;
}

const gate = (dir: string, minTests: number) =>
  spawnSync(process.execPath, ['--require', './scripts/node20-iterator-helpers.cjs', 'node_modules/allure/cli.js', 'quality-gate', dir, '--config', 'allurerc.mjs'], {
    cwd: PROJECT_ROOT,
    encoding: 'utf8',
    timeout: 60_000,
    env: { ...process.env, ALLURE_MIN_TESTS: String(minTests) },
  });

test.describe('Allure quality gate @self', () => {
  test('should pass a green run and fail a run with a failure or too few tests', () => {
    const green = results(['passed', 'passed', 'passed']);
    const red = results(['passed', 'failed', 'passed']);
    try {
      const ok = gate(green, 3);
      expect(ok.status, `${ok.stdout}${ok.stderr}`).toBe(0);
      const failing = gate(red, 3);
      expect(failing.status, 'a failure fails the gate').toBe(1);
      expect(failing.stdout + failing.stderr).toMatch(/maxFailures/);
      const few = gate(green, 100);
      expect(few.status, 'too few tests fail the gate').toBe(1);
      expect(few.stdout + few.stderr).toMatch(/minTestsCount/);
    } finally {
      fs.rmSync(green, { recursive: true, force: true });
      fs.rmSync(red, { recursive: true, force: true });
    }
  });
});
