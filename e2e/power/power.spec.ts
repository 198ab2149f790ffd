/**
 * The meta-test: the suite must be able to fail. For each flaw, a child run of the catching test
 * against a store started with that flaw must go red, with the expected failure message.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { expect, test } from '@playwright/test';
import { childEnv } from '../../helpers/config';
import { PROJECT_ROOT } from '../../helpers/paths';
import { FLAW_CASES } from './flaw-cases';

interface JsonTest { status: string; results: Array<{ status: string; errors: Array<{ message?: string }> }> }
interface JsonSpec { title: string; tests: JsonTest[] }
interface JsonSuite { suites?: JsonSuite[]; specs?: JsonSpec[] }

function specsOf(suite: JsonSuite): JsonSpec[] {
  return [...(suite.specs ?? []), ...(suite.suites ?? []).flatMap(specsOf)];
}

const strip = (s: string) => s.replace(/\u001b\[[0-9;]*m/g, '');

for (const c of FLAW_CASES) {
  test(`should go red when the store has the ${c.flaw} flaw: ${c.why} @power`, async () => {
    test.setTimeout(240_000);
    const out = test.info().outputPath('child');
    fs.mkdirSync(out, { recursive: true });
    const jsonFile = path.join(out, 'results.json');
    const child = spawn('npx', ['playwright', 'test', `--project=${c.project}`, '--grep', c.grep, '--reporter=json'], {
      cwd: PROJECT_ROOT,
      env: childEnv({
        TARGET: 'embedded',
        STORE_FLAWS: c.flaw,
        STACK_NAME: `power-${c.flaw.replace(/_/g, '-')}`,
        REPORTS_DIR: out,
        PLAYWRIGHT_JSON_OUTPUT_NAME: jsonFile,
      }),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let log = '';
    child.stdout.on('data', (d) => (log += String(d)));
    child.stderr.on('data', (d) => (log += String(d)));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    await test.info().attach('child run log', { body: log, contentType: 'text/plain' });
    expect(fs.existsSync(jsonFile), `the child run wrote its results: ${log.slice(-1500)}`).toBe(true);
    const report = JSON.parse(fs.readFileSync(jsonFile, 'utf8')) as JsonSuite & { errors?: Array<{ message?: string }> };
    expect(report.errors ?? [], 'the child run itself worked (no setup error)').toEqual([]);
    const specs = specsOf(report);
    expect(specs.length, `the grep ${c.grep} selects the catching test`).toBeGreaterThan(0);
    const messages = specs.flatMap((s) => s.tests.flatMap((t) => t.results.flatMap((r) => r.errors.map((e) => strip(e.message ?? '')))));
    await test.info().attach('failure messages', { body: messages.join('\n\n-----\n\n'), contentType: 'text/plain' });
    expect(code, 'the child run is red').not.toBe(0);
    const red = specs.filter((s) => s.tests.some((t) => t.status === 'unexpected'));
    expect(red.map((s) => s.title), `the catching test fails against ${c.flaw}`).not.toEqual([]);
    expect(messages.some((m) => c.reason.test(m)), `failed for the right reason (${c.reason}); messages:\n${messages.join('\n---\n').slice(0, 3000)}`).toBe(true);
  });
}
