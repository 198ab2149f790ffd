/** The Allure quality gate (allurerc.mjs) fails a run with a failure or too few tests, and passes a green one. */
import { randomUUID } from 'node:crypto';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { expect, test } from './support/test';
import { PROJECT_ROOT } from '../../helpers/paths';
import { categorize } from '../../helpers/report/categories';
import { FAILED_PHASE_LABEL } from '../../helpers/report/evidence';
import { DID_NOT_RECOVER, FAULT_NOT_OBSERVED, STORE_DEFECT, SUITE_ERROR } from '../../allurerc.mjs';

interface Fake {
  status: string;
  phase?: string;
  message?: string;
}

function results(tests: ReadonlyArray<string | Fake>): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sr-allure-'));
  const now = Date.now();
  tests.forEach((t, i) => {
    const { status, phase, message } = typeof t === 'string' ? ({ status: t } as Fake) : t;
    const uuid = randomUUID();
    const labels = phase ? [{ name: FAILED_PHASE_LABEL, value: phase }] : [];
    fs.writeFileSync(
      path.join(dir, `${uuid}-result.json`),
      JSON.stringify({
        uuid,
        historyId: `h${i}`,
        testCaseId: `t${i}`,
        fullName: `test ${i}`,
        name: `test ${i}`,
        status,
        statusDetails: { message },
        stage: 'finished',
        start: now,
        stop: now + 1,
        labels,
        steps: [],
        attachments: [],
        parameters: [],
      }),
    );
  });
  return dir;
}

/** The gate on a results folder, with the suite's rules and no history: these runs are not the suite's (they would show in its trends). */
const gate = (dir: string, minTests: number) => {
  const config = path.join(dir, 'allurerc.mjs');
  fs.writeFileSync(
    config,
    `import base from ${JSON.stringify(pathToFileURL(path.join(PROJECT_ROOT, 'allurerc.mjs')).href)};\nexport default { ...base, historyPath: undefined, output: ${JSON.stringify(path.join(dir, 'report'))} };\n`,
  );
  return new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = spawn(
      process.execPath,
      ['--require', './scripts/node20-iterator-helpers.cjs', 'node_modules/allure/cli.js', 'quality-gate', dir, '--config', config],
      { cwd: PROJECT_ROOT, timeout: 60_000, env: { ...process.env, ALLURE_MIN_TESTS: String(minTests) } },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += String(d)));
    child.stderr.on('data', (d) => (stderr += String(d)));
    child.once('close', (status) => resolve({ status, stdout, stderr }));
  });
};

test.describe('Allure quality gate', { tag: '@self' }, () => {
  test('should pass a green run and fail a run with a failure or too few tests', async () => {
    const green = results(['passed', 'passed', 'passed']);
    const red = results(['passed', 'failed', 'passed']);
    try {
      // three gates at once (each a node start of 0.8 s)
      const [ok, failing, few] = await Promise.all([gate(green, 3), gate(red, 3), gate(green, 100)]);
      expect(ok.status, `${ok.stdout}${ok.stderr}`).toBe(0);
      expect(failing.status, 'a failure fails the gate').toBe(1);
      expect(failing.stdout + failing.stderr).toMatch(/maxFailures/);
      expect(few.status, 'too few tests fail the gate').toBe(1);
      expect(few.stdout + few.stderr).toMatch(/minTestsCount/);
    } finally {
      fs.rmSync(green, { recursive: true, force: true });
      fs.rmSync(red, { recursive: true, force: true });
    }
  });
});

test.describe('Allure categories', { tag: '@self' }, () => {
  test('should file a failure by its phase and message: store defect, a broken deployment, fault not observed, did not recover, suite error', async () => {
    const cases: Array<[Fake, string | undefined]> = [
      [{ status: 'passed' }, undefined],
      [{ status: 'failed', phase: 'During fault', message: 'expect(received).toBe(expected)' }, STORE_DEFECT],
      [{ status: 'failed', phase: 'Verify' }, STORE_DEFECT],
      [{ status: 'failed', phase: 'Recover' }, STORE_DEFECT],
      [{ status: 'failed' }, STORE_DEFECT], // a test without phases (security, smoke)
      [{ status: 'failed', phase: 'Baseline' }, SUITE_ERROR], // the store was not ready before the fault
      [{ status: 'broken', message: 'TimeoutError: fixture setup' }, SUITE_ERROR],
      [{ status: 'broken', phase: 'Inject', message: 'fault not observed: db-stop: PostgreSQL still answers' }, FAULT_NOT_OBSERVED],
      [{ status: 'broken', phase: 'Recover', message: 'did not recover: db-stop: PostgreSQL refuses connections' }, DID_NOT_RECOVER],
      // a zero-downtime action that took the deployment down: the deployment's defect, in whatever phase
      [
        {
          status: 'failed',
          phase: 'Inject',
          message: 'the deployment broke: app-reexec (your commands) ... left it with no server instance',
        },
        STORE_DEFECT,
      ],
    ];
    const dir = results(cases.map(([t]) => t));
    try {
      const got = (await categorize(dir)).sort((a, b) => a.name.localeCompare(b.name, 'en', { numeric: true }));
      expect(got.map((r) => r.category)).toEqual(cases.map(([, c]) => c));
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
