/**
 * The meta-test: the suite must be able to fail. For each flaw, a child run of the catching test
 * against a store started with that flaw must go red, with the expected failure message.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { expect, test } from '@playwright/test';
import { childEnv } from '../../helpers/config';
import { PLAYWRIGHT_CLI, PROJECT_ROOT } from '../../helpers/paths';
import { categorize } from '../../helpers/report/categories';
import { redactText, shown } from '../../helpers/report/redact';
import { readJsonReport, specsOf } from '../../helpers/report/results-json';
import { STORE_DEFECT } from '../../allurerc.mjs';
import { FLAW_CASES, type FlawCase } from './flaw-cases';
import { writePowerTable, type Row } from './table';
import { waitUntil } from '../../helpers/wait';

/** A child run of the catching tests (a rare defect repeats them up to 64 times) */
const CHILD_TIMEOUT_MS = 240_000;

// the child's messages carry terminal colours (ESC [ ... m): the reason patterns match the plain text
// eslint-disable-next-line no-control-regex
const strip = (s: string) => s.replace(/\u001b\[[0-9;]*m/g, '');

/** Writes this case's row as a file (a failed case restarts its worker: rows in memory would be lost), then the table. */
function writeTable(row: Row): void {
  const rowsDir = path.join(test.info().project.outputDir, 'power-rows');
  fs.mkdirSync(rowsDir, { recursive: true });
  fs.writeFileSync(path.join(rowsDir, `${String(row.index).padStart(3, '0')}.json`), JSON.stringify(row));
  writePowerTable(rowsDir, path.join(test.info().project.outputDir, '..', 'power-table.md'));
}

/**
 * Cases whose catching test judges timing under load run alone: two cases at once on 2 cores, a
 * reload found idle workers and a store that drops in-flight requests went green (once in a run).
 * The others run two at a time.
 */
const EXCLUSIVE_PROJECTS: ReadonlySet<string> = new Set(['app-restart']);

/**
 * A slot to run a child in: shared (a file of its own in slots/, taken only while no exclusive case
 * holds slots/exclusive) or exclusive (slots/exclusive made, then every shared file gone). Each side
 * announces itself before it looks at the other, so the two never run at once. Returns the release.
 */
async function slot(exclusive: boolean): Promise<() => void> {
  const dir = path.join(test.info().project.outputDir, 'slots');
  fs.mkdirSync(dir, { recursive: true });
  const lock = path.join(dir, 'exclusive');
  const opts = { timeoutMs: CHILD_TIMEOUT_MS, intervalMs: 100 };
  if (exclusive) {
    await waitUntil(
      () => {
        try {
          fs.mkdirSync(lock);
          return true;
        } catch {
          return false;
        }
      },
      { ...opts, description: 'the exclusive slot (another exclusive case holds it)' },
    );
    await waitUntil(() => !fs.readdirSync(dir).some((f) => f.startsWith('shared-')), {
      ...opts,
      description: 'the shared cases to finish',
    });
    return () => fs.rmSync(lock, { recursive: true, force: true });
  }
  const mine = path.join(dir, `shared-${process.pid}-${test.info().testId}`);
  await waitUntil(
    () => {
      fs.writeFileSync(mine, '');
      if (!fs.existsSync(lock)) return true;
      fs.rmSync(mine, { force: true });
      return false;
    },
    { ...opts, description: 'a shared slot (an exclusive case runs)' },
  );
  return () => fs.rmSync(mine, { force: true });
}

interface ChildRun {
  readonly code: number | null;
  readonly log: string;
  readonly out: string;
}

/**
 * The child run of a case, or of its group: cases of one group switch their flaws on together in one
 * store and run their catching tests in one child (each test's flaw leaves the others' tests alone:
 * flaw-cases.ts says which go together). The run is kept on disk, so that the group's later cases
 * (and a worker restarted after a failed case) read it instead of running it again.
 */
async function childRun(i: number, c: FlawCase): Promise<ChildRun> {
  const members = c.group ? FLAW_CASES.filter((x) => x.group === c.group) : [c];
  const name = c.group ? `group-${c.group}` : `case-${i}-${c.flaw.replace(/_/g, '-').slice(0, 30)}`;
  const out = path.join(test.info().project.outputDir, 'children', name);
  const marker = path.join(out, 'exit.json');
  const read = () => JSON.parse(fs.readFileSync(marker, 'utf8')) as ChildRun;
  if (fs.existsSync(marker)) return read();
  fs.mkdirSync(path.dirname(out), { recursive: true });
  // cases run two at a time: the first of a group to get here runs its child, the others wait for it
  try {
    fs.mkdirSync(out);
  } catch {
    await waitUntil(() => fs.existsSync(marker), { description: `the ${name} child run of another case`, timeoutMs: CHILD_TIMEOUT_MS });
    return read();
  }
  const repeat = c.repeat ? [`--repeat-each=${c.repeat}`, '--max-failures=1'] : [];
  const projects = [...new Set(members.map((m) => m.project))].map((p) => `--project=${p}`);
  const grep = members.length === 1 ? c.grep : members.map((m) => `(?:${m.grep})`).join('|');
  // the child writes the suite's own reports into out (results.json, Allure results, the secret scan)
  const child = spawn(process.execPath, [PLAYWRIGHT_CLI, 'test', ...projects, '--grep', grep, ...repeat], {
    cwd: PROJECT_ROOT,
    env: childEnv({
      TARGET: 'embedded',
      STORE_FLAWS: [...new Set(members.map((m) => m.flaw))].join(','),
      STACK_NAME: `power-${name}`.slice(0, 40).replace(/-+$/, ''),
      // one lane: two children already run at once, and a case judged under load runs alone (slot)
      STACK_LANES: '1',
      ...members.reduce<Record<string, string>>((env, m) => ({ ...env, ...m.env }), {}),
      REPORTS_DIR: out,
    }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  child.stdout.on('data', (d) => (log += String(d)));
  child.stderr.on('data', (d) => (log += String(d)));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  const run: ChildRun = { code, log: redactText(log), out };
  fs.writeFileSync(`${marker}.tmp`, JSON.stringify(run));
  fs.renameSync(`${marker}.tmp`, marker);
  return run;
}

for (const [i, c] of FLAW_CASES.entries()) {
  test(`should go red when the store has the ${c.flaw} flaw: ${c.why}`, { tag: '@power' }, async () => {
    test.setTimeout(2 * CHILD_TIMEOUT_MS + 30_000);
    const release = await slot(EXCLUSIVE_PROJECTS.has(c.project));
    const { code, log, out } = await childRun(i, c).finally(release);
    // the suite's own json reporter writes REPORTS_DIR/results.json
    const jsonFile = path.join(out, 'results.json');
    await test.info().attach('child run log', { body: log, contentType: 'text/plain' });
    expect(fs.existsSync(jsonFile), `the child run wrote its results: ${shown(log.slice(-1500), 1500)}`).toBe(true);
    const report = readJsonReport(jsonFile);
    // a repeated case stops at its first failure, which Playwright reports as a run error
    const stoppedEarly = (m?: string) => c.repeat !== undefined && /Testing stopped early after 1 maximum allowed failures/.test(m ?? '');
    expect(
      (report.errors ?? []).filter((e) => !stoppedEarly(e.message)),
      'the child run itself worked (no setup error)',
    ).toEqual([]);
    // this case's catching test(s): in a group's run, the ones its own grep selects in its project
    const own = new RegExp(c.grep);
    const specs = specsOf(report)
      .filter((s) => own.test(s.title))
      .map((s) => ({ ...s, tests: s.tests.filter((t) => t.projectName === c.project) }))
      .filter((s) => s.tests.length > 0);
    expect(specs.length, `the grep ${c.grep} selects the catching test`).toBeGreaterThan(0);
    const messages = specs.flatMap((s) => s.tests.flatMap((t) => t.results.flatMap((r) => r.errors.map((e) => strip(e.message ?? '')))));
    await test.info().attach('failure messages', { body: redactText(messages.join('\n\n-----\n\n')), contentType: 'text/plain' });
    const red = specs.filter((s) => s.tests.some((t) => t.status === 'unexpected'));
    const forTheReason = messages.some((m) => c.reason.test(m));
    // where a reviewer of the Allure report finds each failure: Allure's own matcher on allurerc.mjs
    const failures = (await categorize(path.join(out, 'allure-results'))).filter(
      (r) => (r.status === 'failed' || r.status === 'broken') && own.test(r.name),
    );
    await test.info().attach('allure categories', { body: JSON.stringify(failures, null, 2), contentType: 'application/json' });
    writeTable({
      index: i,
      flaw: c.flaw,
      test: `${c.project}: ${c.grep}${c.group ? ` (run with the ${c.group} group)` : ''}`,
      caught: code !== 0 && red.length > 0 && forTheReason,
      detail:
        code === 0
          ? 'the run stayed green'
          : forTheReason
            ? c.why
            : `red, but not for the expected reason: ${(messages[0] ?? '').split('\n')[0]?.slice(0, 160)}`,
      category:
        [...new Set(failures.map((f) => `${f.category ?? 'none'}${f.failedPhase ? ` (${f.failedPhase})` : ''}`))].join('; ') ||
        'no failure',
    });
    expect(code, 'the child run is red').not.toBe(0);
    expect(
      red.map((s) => s.title),
      `the catching test fails against ${c.flaw}`,
    ).not.toEqual([]);
    expect(
      messages.some((m) => c.reason.test(m)),
      `failed for the right reason (${c.reason}); messages:\n${shown(messages.join('\n---\n'), 3000)}`,
    ).toBe(true);
    expect(failures.length, 'the child run wrote an Allure result for its failure').toBeGreaterThan(0);
    expect(
      failures.map((f) => [f.name, f.category]),
      'the Allure report files every failure under store defect',
    ).toEqual(failures.map((f) => [f.name, STORE_DEFECT]));
  });
}
