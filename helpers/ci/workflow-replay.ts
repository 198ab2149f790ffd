/**
 * The steps of a GitHub Actions job, run on this machine as the runner would run them (npm run
 * ci:replay). Read from the workflow file itself: its expressions (matrix, env, github, the status
 * functions) are evaluated, `run:` scripts run under `bash -e` with the workflow's, the job's and the
 * step's env and $GITHUB_ENV, and the few actions the workflow uses are done as they do it:
 * - actions/checkout: the job's workspace is a clean checkout of the commit (made before the job);
 * - actions/setup-node: this machine's Node, checked against node-version;
 * - actions/upload-artifact (v4): the files under the least common ancestor of the paths, into an
 *   artifact of that name; no file is a warning (if-no-files-found: warn); a name used twice fails;
 * - actions/download-artifact: by name or pattern, into path/<artifact>/, or all into path with
 *   merge-multiple (a file of one artifact overwrites the same file of another, as there);
 * - actions/cache: restored by key or the newest restore-keys prefix, saved when the job ends.
 * What this machine cannot do is replaced, and said in the step's line: apt-get and the PostgreSQL
 * apt repository's script (no network to it) report what is installed and what is not; sudo runs
 * the command (root here).
 *
 * Over 250 lines: a runner's semantics in one place (expressions, conditions, $GITHUB_ENV, the four
 * actions, the run step), each a few lines; cut apart, a step's meaning would be read in several files.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

interface WorkflowStep {
  name?: string;
  uses?: string;
  run?: string;
  if?: string;
  env?: Record<string, string | number | boolean>;
  with?: Record<string, string | number | boolean>;
}

interface WorkflowJob {
  name?: string;
  needs?: string | string[];
  if?: string;
  env?: Record<string, string | number | boolean>;
  steps: WorkflowStep[];
  'timeout-minutes'?: number;
  strategy?: { matrix?: Record<string, unknown[]> };
}

export interface Workflow {
  env?: Record<string, string | number | boolean>;
  jobs: Record<string, WorkflowJob>;
}

interface StepRecord {
  step: string;
  outcome: 'success' | 'failure' | 'skipped';
  ms: number;
  /** what the replay did in place of the runner, and warnings (no files for an artifact) */
  notes: string[];
  log?: string;
}

export interface Replay {
  /** artifacts by name: a folder each */
  readonly artifactsDir: string;
  readonly cacheDir: string;
  /** the shims (apt-get, sudo, the PostgreSQL repository's script), first on PATH */
  readonly shimsDir: string;
  readonly logsDir: string;
  /** each `npx playwright test` of a run step gets these arguments too (the reduced run) */
  readonly playwrightArgs: readonly string[];
  /** env values the replay sets over the step's own (the reduced run's gate), said in the step's line */
  readonly envOverrides: Readonly<Record<string, string>>;
  /** how long a step past its job's timeout has after SIGINT before SIGKILL (default 30 s) */
  readonly stopGraceMs?: number;
}

export interface JobRun {
  readonly id: string;
  readonly job: WorkflowJob;
  readonly matrix: Readonly<Record<string, string>>;
  readonly workspace: string;
  readonly env: Record<string, string>;
  readonly records: StepRecord[];
  /** caches to save when the job ends: key -> path */
  readonly cacheSaves: Array<{ key: string; path: string }>;
}

/** An expression this replay cannot evaluate: named, never guessed. */
class UnknownExpression extends Error {}

const APT_REPO_SCRIPT = '/usr/share/postgresql-common/pgdg/apt.postgresql.org.sh';

/** Writes the shims for what this machine does not do as a runner would. */
export function writeShims(dir: string): void {
  fs.mkdirSync(dir, { recursive: true });
  const script = (name: string, body: string) => fs.writeFileSync(path.join(dir, name), `#!/usr/bin/env bash\n${body}\n`, { mode: 0o755 });
  script(
    'apt-get',
    `# ci:replay: what apt-get would install, and whether it is here (no package is installed)
[ "$1" = install ] || { echo "ci:replay: apt-get $* (not run)"; exit 0; }
shift
for p in "$@"; do
  case "$p" in -*) continue ;; esac
  if dpkg-query -W -f='\${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then echo "ci:replay: apt-get install $p: here"
  else echo "ci:replay: apt-get install $p: NOT HERE (not installed by the replay)"; fi
done`,
  );
  script('sudo', `# ci:replay: root here\ncase "$1" in --preserve-env*) shift ;; esac\nexec "$@"`);
  script('apt-repository', `echo "ci:replay: ${APT_REPO_SCRIPT} $* (the PostgreSQL apt repository is not reachable here: not run)"`);
}

/** The value of one expression (without ${{ }}). */
function evaluate(e: string, run: JobRun, failed: boolean): string | boolean {
  const x = e.trim();
  if (x === '!cancelled()' || x === 'always()') return true;
  if (x === 'cancelled()') return false;
  if (x === 'success()') return !failed;
  if (x === 'failure()') return failed;
  let m = /^matrix\.(\w+)$/.exec(x);
  if (m) {
    if (!(m[1]! in run.matrix)) throw new UnknownExpression(`matrix.${m[1]} is not in the job's matrix`);
    return run.matrix[m[1]!]!;
  }
  m = /^env\.(\w+)$/.exec(x);
  if (m) return run.env[m[1]!] ?? '';
  m = /^github\.(\w+)$/.exec(x);
  if (m) {
    const github: Record<string, string> = {
      ref_name: 'main',
      ref: 'refs/heads/main',
      run_id: '1',
      event_name: 'push',
      workspace: run.workspace,
    };
    if (m[1]! in github) return github[m[1]!]!;
  }
  if (/^(secrets|inputs)\.\w+$/.test(x)) return '';
  throw new UnknownExpression(`ci:replay cannot evaluate \${{ ${x} }}`);
}

/** A text with every ${{ expression }} replaced by its value. */
export function expand(text: string, run: JobRun, failed = false): string {
  return text.replace(/\$\{\{(.*?)\}\}/g, (_, e: string) => String(evaluate(e, run, failed)));
}

/** Whether a step (or job) runs: its `if:`, or success() when it has none. */
export function shouldRun(cond: string | undefined, run: JobRun, failed: boolean): boolean {
  if (!cond) return !failed;
  const inner = /^\s*\$\{\{(.*)\}\}\s*$/.exec(cond)?.[1] ?? cond;
  const v = evaluate(inner, run, failed);
  return v === true || v === 'true';
}

const asEnv = (o: Record<string, string | number | boolean> | undefined, run: JobRun) =>
  Object.fromEntries(Object.entries(o ?? {}).map(([k, v]) => [k, expand(String(v), run)]));

/** KEY=value lines (and KEY<<EOF blocks) of a $GITHUB_ENV file. */
function readGithubEnv(file: string): Record<string, string> {
  if (!fs.existsSync(file)) return {};
  const out: Record<string, string> = {};
  const lines = fs.readFileSync(file, 'utf8').split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const heredoc = /^(\w+)<<(.+)$/.exec(line);
    if (heredoc) {
      const body: string[] = [];
      for (i++; i < lines.length && lines[i] !== heredoc[2]; i++) body.push(lines[i]!);
      out[heredoc[1]!] = body.join('\n');
    } else if (line.includes('=')) out[line.slice(0, line.indexOf('='))] = line.slice(line.indexOf('=') + 1);
  }
  return out;
}

function copyInto(from: string, to: string): number {
  let n = 0;
  const st = fs.statSync(from);
  if (st.isDirectory()) {
    fs.mkdirSync(to, { recursive: true });
    for (const e of fs.readdirSync(from)) n += copyInto(path.join(from, e), path.join(to, e));
  } else {
    fs.mkdirSync(path.dirname(to), { recursive: true });
    fs.copyFileSync(from, to);
    n = 1;
  }
  return n;
}

/** The folder all paths share (upload-artifact's root). */
function commonRoot(paths: string[]): string {
  const parts = paths.map((p) => (fs.statSync(p).isDirectory() ? p : path.dirname(p)).split(path.sep));
  const first = parts[0]!;
  let n = 0;
  while (n < first.length && parts.every((p) => p[n] === first[n])) n++;
  return first.slice(0, n).join(path.sep) || path.sep;
}

const globToRegExp = (glob: string) => new RegExp(`^${glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*')}$`);

function action(step: WorkflowStep, run: JobRun, r: Replay, notes: string[]): boolean {
  const uses = step.uses!.split('@')[0]!;
  const w = asEnv(step.with, run);
  if (uses === 'actions/checkout') {
    notes.push('the workspace is a clean checkout of the commit');
    return true;
  }
  if (uses === 'actions/setup-node') {
    const want = Number(w['node-version'] ?? 0);
    const have = Number(process.versions.node.split('.')[0]);
    notes.push(`node ${process.versions.node} here (node-version ${want})`);
    return have >= want;
  }
  if (uses === 'actions/upload-artifact') {
    const name = w.name ?? 'artifact';
    const dest = path.join(r.artifactsDir, name);
    if (fs.existsSync(dest)) {
      notes.push(`an artifact named ${name} was already uploaded (v4 refuses a second)`);
      return false;
    }
    const paths = (w.path ?? '')
      .split('\n')
      .map((p) => p.trim())
      .filter(Boolean)
      .map((p) => path.resolve(run.workspace, p))
      .filter((p) => fs.existsSync(p));
    if (paths.length === 0) {
      notes.push(`WARNING: no files were found with the provided path: ${w.path}. No artifact will be uploaded.`);
      return true;
    }
    const root = commonRoot(paths);
    let files = 0;
    for (const p of paths) files += copyInto(p, path.join(dest, path.relative(root, p)));
    notes.push(`artifact ${name}: ${files} files`);
    return true;
  }
  if (uses === 'actions/download-artifact') {
    const all = fs.existsSync(r.artifactsDir) ? fs.readdirSync(r.artifactsDir) : [];
    const names = w.name ? all.filter((n) => n === w.name) : all.filter((n) => globToRegExp(w.pattern ?? '*').test(n));
    const into = path.resolve(run.workspace, w.path ?? '.');
    const merge = w['merge-multiple'] === 'true' || !!w.name;
    let files = 0;
    for (const n of names) files += copyInto(path.join(r.artifactsDir, n), merge ? into : path.join(into, n));
    notes.push(`${names.length} artifacts (${files} files) into ${w.path ?? '.'}${merge ? ', merged' : ', a folder each'}`);
    return names.length > 0 || !w.name;
  }
  if (uses === 'actions/cache') {
    const key = w.key ?? '';
    const prefixes = (w['restore-keys'] ?? '')
      .split('\n')
      .map((k) => k.trim())
      .filter(Boolean);
    const saved = fs.existsSync(r.cacheDir) ? fs.readdirSync(r.cacheDir) : [];
    const hit = saved.includes(key)
      ? key
      : prefixes
          .map(
            (p) =>
              saved
                .filter((s) => s.startsWith(p))
                .sort((a, b) => fs.statSync(path.join(r.cacheDir, b)).mtimeMs - fs.statSync(path.join(r.cacheDir, a)).mtimeMs)[0],
          )
          .find(Boolean);
    const target = path.resolve(run.workspace, w.path ?? '');
    if (hit) copyInto(path.join(r.cacheDir, hit, 'data'), target);
    notes.push(hit ? `cache restored from ${hit}` : 'no cache yet');
    run.cacheSaves.push({ key, path: target });
    return true;
  }
  notes.push(`ci:replay does not know the action ${uses}`);
  return false;
}

/**
 * A step past its job's deadline: its whole process group is interrupted (a Playwright run then
 * tears its stack down, as on Ctrl+C), and killed if it is still there after graceMs (what a
 * non-interactive shell started in the background ignores SIGINT).
 */
const STOP_GRACE_MS = 30_000;
function stopGroup(pgid: number, graceMs: number): string {
  const alive = () => {
    try {
      process.kill(-pgid, 0);
      return true;
    } catch {
      return false;
    }
  };
  const pause = (ms: number) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
  for (const [signal, waitMs] of [
    ['SIGINT', graceMs],
    ['SIGKILL', 5_000],
  ] as const) {
    if (!alive()) return signal === 'SIGINT' ? 'nothing of it was left' : 'its processes stopped on SIGINT';
    process.kill(-pgid, signal);
    const until = Date.now() + waitMs;
    while (alive() && Date.now() < until) pause(100);
  }
  return alive() ? `process group ${pgid} still there after SIGKILL` : 'its processes were killed (SIGKILL)';
}

/** Runs a job's steps in order, as the runner would; the records say what each did. */
export function runJob(run: JobRun, r: Replay, log: (line: string) => void): boolean {
  let failed = false;
  const githubEnv = path.join(r.logsDir, `${run.id}.github-env`);
  fs.writeFileSync(githubEnv, '');
  const deadline = Date.now() + (run.job['timeout-minutes'] ?? 360) * 60_000;
  run.job.steps.forEach((step, i) => {
    const label = expand(step.name ?? (step.uses ? `uses ${step.uses}` : `run ${(step.run ?? '').split('\n')[0]}`), run);
    const t0 = Date.now();
    const notes: string[] = [];
    if (Date.now() > deadline) {
      // timeout-minutes: the runner cancels the job, which fails
      failed = true;
      run.records.push({ step: label, outcome: 'skipped', ms: 0, notes: ['the job timed out'] });
      return;
    }
    if (!shouldRun(step.if, run, failed)) {
      run.records.push({ step: label, outcome: 'skipped', ms: 0, notes: [] });
      return;
    }
    let ok: boolean;
    let logFile: string | undefined;
    if (step.uses) ok = action(step, run, r, notes);
    else {
      let script = expand(step.run ?? '', run)
        .split(APT_REPO_SCRIPT)
        .join('apt-repository');
      if (r.playwrightArgs.length)
        script = script.replace(
          /npx playwright test\b/g,
          `npx playwright test ${r.playwrightArgs.map((a) => `'${a.replace(/'/g, "'\\''")}'`).join(' ')}`,
        );
      const env: Record<string, string> = { ...run.env, ...asEnv(step.env, run), ...readGithubEnv(githubEnv) };
      for (const [k, v] of Object.entries(r.envOverrides)) {
        if (k in env && env[k] !== v) notes.push(`${k}=${v} (the reduced run's; the workflow says ${env[k]})`);
        env[k] = v;
      }
      logFile = path.join(r.logsDir, `${run.id}.${String(i).padStart(2, '0')}.log`);
      const file = path.join(r.logsDir, `${run.id}.${String(i).padStart(2, '0')}.sh`);
      fs.writeFileSync(file, script);
      const out = fs.openSync(logFile, 'w');
      // setsid: the step's processes are a group of their own, stopped together when the job times out
      const res = spawnSync('setsid', ['bash', '--noprofile', '--norc', '-e', '-o', 'pipefail', file], {
        cwd: run.workspace,
        env: { ...env, GITHUB_ENV: githubEnv, GITHUB_WORKSPACE: run.workspace, PATH: `${r.shimsDir}:${env.PATH ?? ''}` },
        stdio: ['ignore', out, out],
        timeout: Math.max(1_000, deadline - Date.now()),
      });
      fs.closeSync(out);
      if (res.error && (res.error as NodeJS.ErrnoException).code === 'ETIMEDOUT' && res.pid) {
        notes.push(`past the job's timeout-minutes: ${stopGroup(res.pid, r.stopGraceMs ?? STOP_GRACE_MS)}`);
      }
      ok = res.status === 0;
      if (!ok) notes.push(`exit ${res.status ?? res.signal}`);
      const replaced = fs
        .readFileSync(logFile, 'utf8')
        .split('\n')
        .filter((l) => l.startsWith('ci:replay: ') && !l.endsWith(': here'));
      notes.push(...replaced.map((l) => l.slice('ci:replay: '.length)));
    }
    if (!ok) failed = true;
    const rec: StepRecord = { step: label, outcome: ok ? 'success' : 'failure', ms: Date.now() - t0, notes, log: logFile };
    run.records.push(rec);
    log(`  ${rec.outcome === 'success' ? 'ok  ' : 'FAIL'} ${label} (${rec.ms} ms)${notes.length ? `: ${notes.join('; ')}` : ''}`);
  });
  for (const c of run.cacheSaves)
    if (fs.existsSync(c.path) && !fs.existsSync(path.join(r.cacheDir, c.key))) copyInto(c.path, path.join(r.cacheDir, c.key, 'data'));
  return !failed;
}
