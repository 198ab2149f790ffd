/**
 * npm run ci:replay: the workflow's `suite` and `reports` jobs run here, read from
 * .github/workflows/resilience.yml itself (helpers/ci/workflow-replay.ts runs the steps as the
 * runner would), for a reduced matrix, then checks what a user of CI gets:
 * - every cell's tests ran, and uploaded its blob and its Allure results;
 * - the merged Playwright HTML report lists every test of every cell, each with its cell's tag;
 * - the Allure results hold each cell's results with its cell label, parameters and environment,
 *   and the Allure report was generated;
 * - the quality gate ran;
 * - the merged resilience summary has each cell's every scenario, as a row of its own.
 * The reduction: REPLAY_PG (default "15 13") x REPLAY_SERVERS ("gunicorn uvicorn") x the workflow's
 * shards, each `npx playwright test` with --grep REPLAY_GREP (default "@smoke|@crashpoint": tests of
 * seconds, and one scenario with figures), and the gate's minimum test count that of the reduced
 * run. REPLAY_WORKFLOW=<file> replays another workflow (an older one goes red).
 * The jobs run in .scratch/ci-replay/ (a clean checkout of HEAD per job, node_modules kept between the
 * suite's cells as the runner's npm cache would); the account is reports/ci-replay/summary.md.
 * UPDATE_README_SCREENSHOTS=1 also takes docs/screenshots/ci-allure.png of the merged Allure report
 * (Debian's chromium). Ends with "N passed, N failed".
 *
 * Over 250 lines: the two jobs as the workflow orders them, then every check of what a user of CI
 * gets, read in one sitting.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { expand, runJob, shouldRun, writeShims, type JobRun, type Replay, type Workflow } from '../helpers/ci/workflow-replay';
import { PROJECT_ROOT } from '../helpers/paths';
import { base64Runs, unzipTexts } from '../helpers/report/archive-texts';

const workflowFile = path.resolve(process.env.REPLAY_WORKFLOW ?? path.join(PROJECT_ROOT, '.github/workflows/resilience.yml'));
const pgs = (process.env.REPLAY_PG ?? '15 13').split(/[ ,]+/).filter(Boolean);
const servers = (process.env.REPLAY_SERVERS ?? 'gunicorn uvicorn').split(/[ ,]+/).filter(Boolean);
const grep = process.env.REPLAY_GREP ?? '@smoke|@crashpoint';
const scratch = path.join(PROJECT_ROOT, '.scratch', 'ci-replay');
const out = path.join(PROJECT_ROOT, 'reports', 'ci-replay');

const lines: string[] = [];
const say = (line: string) => {
  lines.push(line);
  process.stdout.write(`${line}\n`);
};
const git = (cwd: string, ...args: string[]) =>
  execFileSync('git', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
const readJson = <T>(file: string): T | undefined => (fs.existsSync(file) ? (JSON.parse(fs.readFileSync(file, 'utf8')) as T) : undefined);

/** A clean checkout of HEAD (kept: node_modules and the fetched PostgreSQL servers, as the runner's caches). */
function checkout(dir: string, keep: boolean): void {
  const sha = git(PROJECT_ROOT, 'rev-parse', 'HEAD');
  if (!keep || !fs.existsSync(path.join(dir, '.git'))) {
    fs.rmSync(dir, { recursive: true, force: true });
    git(PROJECT_ROOT, 'clone', '-q', '--no-checkout', PROJECT_ROOT, dir);
  }
  git(dir, 'fetch', '-q', PROJECT_ROOT, sha);
  git(dir, 'checkout', '-q', '-f', sha);
  git(dir, 'clean', '-q', '-ffdx', '-e', 'node_modules', '-e', '.pg');
  // the fetched servers shared with the project (the runner's cache of npm packages)
  fs.mkdirSync(path.join(PROJECT_ROOT, '.pg'), { recursive: true });
  if (!fs.existsSync(path.join(dir, '.pg'))) fs.symlinkSync(path.join(PROJECT_ROOT, '.pg'), path.join(dir, '.pg'));
}

/** The environment a runner starts a job with: nothing of this shell's suite settings. */
function baseEnv(): Record<string, string> {
  const keep = ['PATH', 'HOME', 'USER', 'LANG', 'LC_ALL', 'TERM', 'TMPDIR', 'CHROMIUM_PATH'];
  return { ...Object.fromEntries(keep.filter((k) => process.env[k]).map((k) => [k, process.env[k]!])), CI: 'true', GITHUB_ACTIONS: 'true' };
}

interface CellResult {
  cell: string;
  ok: boolean;
  tests: number;
  allureResults: number;
  scenarios: string[];
}

interface HtmlReport {
  stats: { total: number };
  files: Array<{ tests: Array<{ title: string; projectName: string; tags?: string[] }> }>;
}

/** The report data a Playwright HTML report embeds (a base64 zip holding report.json). */
function htmlReportData(file: string): HtmlReport | undefined {
  if (!fs.existsSync(file)) return undefined;
  for (const run of base64Runs(fs.readFileSync(file, 'utf8'))) {
    const zip = Buffer.from(run, 'base64');
    if (zip.readUInt32LE(0) !== 0x04034b50) continue;
    for (const text of unzipTexts(zip)) {
      try {
        const data = JSON.parse(text) as HtmlReport;
        if (data.stats && Array.isArray(data.files)) return data;
      } catch {
        // another file of the archive
      }
    }
  }
  return undefined;
}

async function main(): Promise<number> {
  const wf = parse(fs.readFileSync(workflowFile, 'utf8')) as Workflow;
  const suite = wf.jobs.suite;
  const reportsJob = wf.jobs.reports;
  if (!suite || !reportsJob) throw new Error(`${workflowFile}: no suite or reports job`);
  fs.rmSync(path.join(scratch, 'artifacts'), { recursive: true, force: true });
  fs.rmSync(out, { recursive: true, force: true });
  const r: Replay = {
    artifactsDir: path.join(scratch, 'artifacts'),
    cacheDir: path.join(scratch, 'cache'),
    shimsDir: path.join(scratch, 'shims'),
    logsDir: path.join(out, 'logs'),
    playwrightArgs: grep ? ['--grep', grep] : [],
    envOverrides: {},
  };
  fs.mkdirSync(r.logsDir, { recursive: true });
  writeShims(r.shimsDir);
  const shards = (suite.strategy?.matrix?.shard ?? [1]).map(String);
  say(`# ci:replay of ${path.relative(PROJECT_ROOT, workflowFile)} at ${git(PROJECT_ROOT, 'rev-parse', '--short', 'HEAD')}`);
  say(`\nReduced: PostgreSQL ${pgs.join(', ')} x ${servers.join(', ')} x shards ${shards.join(', ')}; --grep ${grep || '(none)'}\n`);

  const cells: CellResult[] = [];
  const suiteDir = path.join(scratch, 'work', 'suite');
  for (const pg of pgs)
    for (const server of servers)
      for (const shard of shards) {
        checkout(suiteDir, true);
        const matrix = { pg, server, shard };
        const run: JobRun = {
          id: `suite-pg${pg}-${server}-${shard}`,
          job: suite,
          matrix,
          workspace: suiteDir,
          env: {},
          records: [],
          cacheSaves: [],
        };
        Object.assign(run.env, baseEnv(), Object.fromEntries(Object.entries(wf.env ?? {}).map(([k, v]) => [k, String(v)])));
        for (const [k, v] of Object.entries(suite.env ?? {})) run.env[k] = expand(String(v), run);
        const cell = run.env.CI_CELL ?? `pg${pg}-${server}-${shard}`;
        say(`## suite: ${cell}`);
        const ok = runJob(run, r, say);
        const results = readJson<{ stats: { expected: number; unexpected: number; flaky: number; skipped: number } }>(
          path.join(suiteDir, 'reports', 'results.json'),
        );
        const st = results?.stats;
        const allureDir = path.join(suiteDir, 'reports', 'allure-results');
        const summary = readJson<{ scenarios: Array<{ scenario: string }> }>(path.join(suiteDir, 'reports', 'resilience-summary.json'));
        cells.push({
          cell,
          ok,
          tests: st ? st.expected + st.unexpected + st.flaky + st.skipped : 0,
          allureResults: fs.existsSync(allureDir) ? fs.readdirSync(allureDir).filter((f) => f.endsWith('-result.json')).length : 0,
          scenarios: (summary?.scenarios ?? []).map((s) => s.scenario),
        });
      }

  const total = cells.reduce((a, c) => a + c.tests, 0);
  // the reduced run's gate: at least the tests the cells ran (the workflow's minimum is a full run's)
  (r.envOverrides as Record<string, string>).ALLURE_MIN_TESTS = String(total);
  const reportsDir = path.join(scratch, 'work', 'reports');
  checkout(reportsDir, true);
  const rrun: JobRun = { id: 'reports', job: reportsJob, matrix: {}, workspace: reportsDir, env: {}, records: [], cacheSaves: [] };
  Object.assign(rrun.env, baseEnv(), Object.fromEntries(Object.entries(wf.env ?? {}).map(([k, v]) => [k, String(v)])));
  // the job's own condition over its needs (success() unless it says otherwise: !cancelled() runs it
  // after failed cells too)
  const suiteFailed = cells.some((c) => !c.ok);
  const reportsRan = shouldRun(reportsJob.if, rrun, suiteFailed);
  say(`## reports${reportsRan ? '' : ` (not run: its if is false with ${suiteFailed ? 'a failed' : 'no failed'} cell)`}`);
  if (reportsRan) runJob(rrun, r, say);

  // the checks
  const checks: Array<[string, boolean, string]> = [];
  const check = (what: string, ok: boolean, detail: string) => checks.push([what, ok, detail]);
  for (const c of cells) {
    check(`${c.cell}: its tests ran and passed`, c.ok && c.tests > 0, `${c.tests} tests${c.ok ? '' : ', a step failed'}`);
    const blobs = path.join(r.artifactsDir, `blob-${c.cell}`);
    check(`${c.cell}: its blob report was uploaded`, fs.existsSync(blobs), fs.existsSync(blobs) ? fs.readdirSync(blobs).join(' ') : 'none');
    const allure = path.join(r.artifactsDir, `allure-${c.cell}`);
    const uploaded = fs.existsSync(allure) ? fs.readdirSync(allure).filter((f) => f.endsWith('-result.json')).length : 0;
    check(
      `${c.cell}: its Allure results were uploaded`,
      uploaded > 0 && uploaded === c.allureResults,
      `${uploaded} of ${c.allureResults} results`,
    );
  }
  const html = htmlReportData(path.join(reportsDir, 'reports', 'html', 'index.html'));
  const htmlTests = html?.files.flatMap((f) => f.tests) ?? [];
  check(
    'the merged HTML report lists every test of every cell',
    !!html && total > 0 && htmlTests.length === total,
    `${htmlTests.length} tests, the cells ran ${total}`,
  );
  for (const c of cells) {
    const n = htmlTests.filter((t) => (t.tags ?? []).includes(`@cell:${c.cell}`)).length;
    check(`${c.cell}: its tests are in the merged HTML report, tagged with the cell`, n === c.tests && n > 0, `${n} of ${c.tests}`);
  }
  const merged = path.join(reportsDir, 'reports', 'allure-results');
  const labelled = new Map<string, number>();
  const params = new Map<string, Set<string>>();
  if (fs.existsSync(merged))
    for (const f of fs.readdirSync(merged).filter((x) => x.endsWith('-result.json'))) {
      const res = JSON.parse(fs.readFileSync(path.join(merged, f), 'utf8')) as {
        labels?: Array<{ name: string; value: string }>;
        parameters?: Array<{ name: string; value: string }>;
      };
      const cell = res.labels?.find((l) => l.name === 'cell')?.value ?? '(none)';
      labelled.set(cell, (labelled.get(cell) ?? 0) + 1);
      const p = params.get(cell) ?? new Set<string>();
      for (const x of res.parameters ?? []) if (x.name === 'server' || x.name === 'PostgreSQL') p.add(`${x.name}=${x.value}`);
      params.set(cell, p);
    }
  const env = fs.existsSync(path.join(merged, 'environment.properties'))
    ? fs.readFileSync(path.join(merged, 'environment.properties'), 'utf8')
    : '';
  for (const c of cells) {
    const [pg, server] = /^pg(\d+)-(\w+)-/.exec(c.cell)?.slice(1) ?? [];
    const p = [...(params.get(c.cell) ?? [])];
    check(
      `${c.cell}: its Allure results, with its label, server and PostgreSQL`,
      labelled.get(c.cell) === c.allureResults && c.allureResults > 0 && p.includes(`server=${server}`) && p.includes(`PostgreSQL=${pg}`),
      `${labelled.get(c.cell) ?? 0} of ${c.allureResults} results; ${p.join(', ') || 'no parameter'}`,
    );
  }
  const envCells = /^cells=(.*)$/m.exec(env)?.[1]?.split(' ') ?? [];
  check(
    'the Allure environment keeps every cell',
    cells.every((c) => envCells.includes(c.cell)),
    `cells=${envCells.join(' ')}`,
  );
  const allureReport = path.join(reportsDir, 'reports', 'allure-report', 'index.html');
  check('the Allure report was generated', fs.existsSync(allureReport), path.relative(scratch, allureReport));
  const gate = rrun.records.find((s) => /quality.gate/i.test(s.step));
  check('the quality gate ran, and passed', gate?.outcome === 'success', gate ? `${gate.step}: ${gate.outcome}` : 'no step');
  const summary = readJson<{ scenarios: Array<{ scenario: string }> }>(path.join(reportsDir, 'reports', 'resilience-summary.json'));
  const rows = new Set((summary?.scenarios ?? []).map((s) => s.scenario));
  // a cell's own summary names its rows for the cell already (the tests carry the cell's tag)
  const expected = cells.flatMap((c) => c.scenarios.map((s) => (s.endsWith(`[${c.cell}]`) ? s : `${s} (not named for ${c.cell})`)));
  const missing = expected.filter((e) => !rows.has(e));
  check(
    'the merged resilience summary has every scenario of every cell, a row each',
    expected.length > 0 && missing.length === 0,
    `${expected.length - missing.length} of ${expected.length}${missing.length ? `; missing: ${missing.join('; ')}` : ''}`,
  );

  if (process.env.UPDATE_README_SCREENSHOTS === '1' && fs.existsSync(allureReport)) {
    const { chromium } = await import('@playwright/test');
    const browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium' });
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    await page.goto(`file://${allureReport}`);
    await page
      .getByText(/store-resilience/)
      .first()
      .waitFor({ timeout: 30_000 });
    await page.screenshot({ path: path.join(PROJECT_ROOT, 'docs', 'screenshots', 'ci-allure.png') });
    await browser.close();
    say('\ndocs/screenshots/ci-allure.png: the merged Allure report');
  }

  say('\n## Checks\n');
  for (const [what, ok, detail] of checks) say(`- ${ok ? 'ok' : 'FAILED'}: ${what} (${detail})`);
  const failed = checks.filter((c) => !c[1]).length;
  fs.writeFileSync(path.join(out, 'summary.md'), `${lines.join('\n')}\n`);
  fs.writeFileSync(path.join(out, 'result.json'), JSON.stringify({ passed: checks.length - failed, failed }));
  process.stdout.write(`\nreports/ci-replay/summary.md\n${checks.length - failed} passed, ${failed} failed\n`);
  return failed ? 1 : 0;
}

main().then(
  (code) => (process.exitCode = code),
  (error: unknown) => {
    process.stderr.write(`ci:replay: ${(error as Error).stack ?? String(error)}\n0 passed, 1 failed\n`);
    process.exitCode = 1;
  },
);
