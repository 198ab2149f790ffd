/**
 * What test:external's checks are made of (e2e/external/drivers.spec.ts runs them): each driver's
 * settings against the outside store, the suite run as a child Playwright run, the doctor, the argv
 * the test doubles recorded and what each driver must have asked its tool for, the read-only view's
 * fingerprint. A check is a name, whether it holds, and what was seen.
 *
 * Over 250 lines: the table of what each of the four drivers must have asked its tool for is most of it,
 * one driver after the other as the doubles record them.
 */
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { readDoctorTable } from '../../helpers/doctor';
import { DbProbe } from '../../helpers/integrity/db-probe';
import { takeSnapshot, type DbSnapshot } from '../../helpers/integrity/snapshot';
import { PLAYWRIGHT_CLI, PROJECT_ROOT } from '../../helpers/paths';
import type { OutsideStore } from './outside-store';

export const DRIVERS = ['command', 'systemd', 'compose', 'kubectl'] as const;
export type Driver = (typeof DRIVERS)[number];

/** One check of a run: its name, whether it holds, what was seen. */
export interface Check {
  readonly name: string;
  readonly ok: boolean;
  readonly detail: string;
}

export const DOUBLES_BIN = path.join(PROJECT_ROOT, 'e2e/external/doubles/bin');

/** The drivers this run covers (EXTERNAL_DRIVERS, from --driver), and a narrowing of the suite (EXTERNAL_GREP, from --grep). */
export function selection(): { drivers: Driver[]; grep?: string } {
  const only = (process.env.EXTERNAL_DRIVERS ?? '').split(',').filter(Boolean);
  for (const d of only) if (!(DRIVERS as readonly string[]).includes(d)) throw new Error(`--driver=${d}: one of ${DRIVERS.join(', ')}`);
  return { drivers: DRIVERS.filter((d) => only.length === 0 || only.includes(d)), grep: process.env.EXTERNAL_GREP || undefined };
}

interface JsonResult {
  status: string;
  annotations?: Array<{ type: string; description?: string }>;
}
interface JsonSpec {
  title: string;
  tests: Array<{ projectName: string; status: string; annotations?: Array<{ type: string; description?: string }>; results: JsonResult[] }>;
}
export interface JsonSuite {
  suites?: JsonSuite[];
  specs?: JsonSpec[];
}
export interface Stats {
  expected: number;
  unexpected: number;
  flaky: number;
  skipped: number;
}

const specsOf = (s: JsonSuite): JsonSpec[] => [...(s.specs ?? []), ...(s.suites ?? []).flatMap(specsOf)];

export function driverEnv(store: OutsideStore, driver: Driver): Record<string, string> {
  const s = store.s;
  switch (driver) {
    case 'command':
      return store.commandDriverEnv();
    case 'systemd':
      return {
        DB_DRIVER: 'systemd',
        DB_SYSTEMD_UNIT: `postgresql@${s.pgVersion}-${s.cluster}`,
        APP_DRIVER: 'systemd',
        APP_SYSTEMD_UNIT: 'shop-web.service',
        PG_LOG_FILE: s.pgLogFile,
      };
    case 'compose':
      return { DB_DRIVER: 'compose', APP_DRIVER: 'compose', COMPOSE_PROJECT_NAME: 'shop', COMPOSE_FILE: path.join(s.dir, 'compose.yaml') };
    case 'kubectl':
      return { DB_DRIVER: 'kubectl', APP_DRIVER: 'kubectl', KUBE_CONTEXT: 'staging', KUBE_NAMESPACE: 'shop' };
  }
}

/** The settings every run shares: the store, its users, its read-only database, its secrets. */
export function targetEnv(store: OutsideStore, disposable: boolean): Record<string, string> {
  const s = store.s;
  return {
    TARGET: 'external',
    BASE_URL: store.baseUrl,
    STORE_USERNAME: s.users.customer.username,
    STORE_PASSWORD: s.users.customer.password,
    STORE_USERNAME_2: s.users.secondCustomer.username,
    STORE_PASSWORD_2: s.users.secondCustomer.password,
    STORE_STAFF_USERNAME: s.users.staff.username,
    STORE_STAFF_PASSWORD: s.users.staff.password,
    STORE_SERVER: 'uvicorn',
    DATABASE_URL: store.url('shop_reader'),
    TOXIPROXY_URL: store.controlUrl,
    TOXIPROXY_PROXY: 'postgres',
    TOXIPROXY_TOKEN_FILE: store.proxyTokenFile,
    TARGET_SECRETS: [s.secretKey, s.ownerPassword].join(','),
    // the store's signing key: the security family forges validly signed expired tokens
    JWT_SIGNING_KEY: s.secretKey,
    // the doubles are node processes that share the 2 cores with the store and the load while a
    // worker is replaced (measured up to 154 ms with the kubectl double, 30-60 ms with the others)
    APP_WORKER_KILL_GAP_MS: '300',
    MIGRATE_CHECK_COMMAND: `cd '${s.storeDir}' && STORE_DATABASE_URL="$CHECK_DATABASE_URL" STORE_SECRET_KEY=migrate-check-needs-no-real-key-0123456789 '${s.python}' manage.py migrate --check`,
    ...(disposable ? { ALLOW_DESTRUCTIVE_RESTORE_OF: `127.0.0.1:${s.pgPort}/shop`, RESTORE_DATABASE_URL: store.url('shop_owner') } : {}),
  };
}

/**
 * What the runs after the first leave out: whatever goes through the proxy or the API only (link
 * faults, crash points, concurrent retries, security), and what proves the store rather than the
 * driver, already proven in the first run (the ledgers under concurrent writes, the one error
 * envelope; the backup family after the first run with the opt-in: its store-stopped restore is the
 * restart the app-restart family makes through each driver). The fuzz family runs in npm test, under
 * both servers. Each driver still injects, observes and reverts every action it has: stop, crash,
 * freeze, the lock, reload, kill, restart, scale, re-exec.
 */
export const leftOut = (i: number) =>
  i === 0 ? '@fuzz' : `@link|@crashpoint|@idempotency|@security|under concurrent writes|same error body${i >= 2 ? '|@backup' : ''}`;

/** The suite run as a child Playwright run with env, its reports in dir; resolves with its results.json. */
export function runSuite(
  dir: string,
  env: Record<string, string>,
  projects: readonly string[],
  opts: { grep?: string; grepInvert?: string; stackName: string },
): Promise<{ code: number | null; log: string; report?: JsonSuite & { stats: Stats } }> {
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  const argv = [
    'test',
    ...projects.map((p) => `--project=${p}`),
    ...(opts.grep ? ['--grep', opts.grep] : []),
    ...(opts.grepInvert ? ['--grep-invert', opts.grepInvert] : []),
  ];
  // the run's own reporters (html, junit, results.json, allure) write under REPORTS_DIR
  const child = spawn(process.execPath, [PLAYWRIGHT_CLI, ...argv], {
    cwd: PROJECT_ROOT,
    env: { ...process.env, ...env, REPORTS_DIR: dir, STACK_NAME: opts.stackName },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  child.stdout.on('data', (d) => (log += String(d)));
  child.stderr.on('data', (d) => (log += String(d)));
  return new Promise((resolve) => {
    child.once('close', (code) => {
      fs.writeFileSync(path.join(dir, 'run.log'), log);
      const file = path.join(dir, 'results.json');
      resolve({
        code,
        log,
        report: fs.existsSync(file) ? (JSON.parse(fs.readFileSync(file, 'utf8')) as JsonSuite & { stats: Stats }) : undefined,
      });
    });
  });
}

/** Every skipped test of a run, with its reasons (Playwright copies a skip's annotation onto the test: each once). */
export function skipsOf(report: JsonSuite): Array<{ line: string; title: string; reason: string }> {
  const out: Array<{ line: string; title: string; reason: string }> = [];
  for (const spec of specsOf(report)) {
    for (const t of spec.tests) {
      if (t.status !== 'skipped') continue;
      const reasons = [...(t.annotations ?? []), ...t.results.flatMap((r) => r.annotations ?? [])]
        .filter((a) => a.type === 'skip')
        .map((a) => a.description ?? '');
      const reason = [...new Set(reasons)].join('; ');
      out.push({ line: `[${t.projectName}] ${spec.title}: ${reason || '(no reason)'}`, title: spec.title, reason });
    }
  }
  return out;
}

/** npm run doctor with a run's settings; its output is kept as doctor.md in dir. */
export function runDoctor(
  dir: string,
  env: Record<string, string>,
  stackName: string,
): { status: number | null; stdout: string } & ReturnType<typeof readDoctorTable> {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/doctor.ts'], {
    cwd: PROJECT_ROOT,
    env: { ...process.env, ...env, STACK_NAME: stackName },
    encoding: 'utf8',
    timeout: 120_000,
  });
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'doctor.md'), `${r.stdout}${r.stderr ? `\n\nstderr:\n${r.stderr}` : ''}`);
  return { status: r.status, stdout: r.stdout, ...readDoctorTable(r.stdout) };
}

export interface ArgvLine {
  tool: string;
  argv: string[];
  exitCode: number;
}
/** What the test doubles recorded: one JSON line per call of systemctl, journalctl, docker or kubectl. */
export function argvLog(file: string): ArgvLine[] {
  if (!fs.existsSync(file)) return [];
  return fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as ArgvLine);
}

/** Snapshot of the read-only view: every critical table, row by row, and the databases on the server. */
export async function fingerprint(store: OutsideStore): Promise<{ snap: DbSnapshot; databases: string[] }> {
  const probe = new DbProbe(store.url('shop_reader'));
  try {
    const snap = await takeSnapshot(probe);
    const databases = (await probe.query<{ datname: string }>('SELECT datname FROM pg_database ORDER BY datname')).map((r) => r.datname);
    return { snap, databases };
  } finally {
    await probe.close();
  }
}

/** What each driver must have asked its tool for: the proof that the faults went through it. */
export function toolUseChecks(driver: Driver, lines: readonly ArgvLine[]): Check[] {
  const out: Check[] = [];
  const check = (name: string, ok: boolean, detail = '') => out.push({ name, ok, detail });
  const has = (tool: string, pred: (a: string[]) => boolean) => lines.some((l) => l.tool === tool && pred(l.argv));
  const joined = (a: string[]) => a.join(' ');
  if (driver === 'systemd') {
    check(
      'systemd: systemctl stop/start of the cluster unit',
      has('systemctl', (a) => joined(a) === 'stop postgresql@15-srexternal') &&
        has('systemctl', (a) => joined(a) === 'start postgresql@15-srexternal'),
    );
    check(
      'systemd: crash is SIGQUIT to the main process',
      has('systemctl', (a) => joined(a) === 'kill --kill-whom=main --signal=SIGQUIT postgresql@15-srexternal'),
    );
    check('systemd: freeze/thaw', has('systemctl', (a) => a[0] === 'freeze') && has('systemctl', (a) => a[0] === 'thaw'));
    check(
      'systemd: reload is HUP to the main process only',
      has('systemctl', (a) => joined(a) === 'kill --kill-whom=main --signal=SIGHUP shop-web.service'),
    );
    check('systemd: never a bare systemctl kill', !has('systemctl', (a) => a[0] === 'kill' && !a.includes('--kill-whom=main')));
    check(
      'systemd: state from systemctl show',
      has('systemctl', (a) => a[0] === 'show' && a.includes('ActiveState,SubState,MainPID,NRestarts,FreezerState')),
    );
    check(
      'systemd: the store log from journalctl',
      has('journalctl', (a) => a.includes('shop-web.service')),
    );
  }
  if (driver === 'compose') {
    const c = (verb: string, svc: string) =>
      has('docker', (a) => a[0] === 'compose' && a.includes('-p') && a.includes(verb) && a[a.length - 1] === svc);
    check('compose: stop/start/pause/unpause db', c('stop', 'db') && c('start', 'db') && c('pause', 'db') && c('unpause', 'db'));
    check(
      'compose: crash is kill -s SIGKILL db',
      has('docker', (a) => joined(a).endsWith('kill -s SIGKILL db')),
    );
    check(
      'compose: reload is kill -s SIGHUP web',
      has('docker', (a) => joined(a).endsWith('kill -s SIGHUP web')),
    );
    check(
      'compose: a worker killed through exec',
      has('docker', (a) => a.includes('exec') && joined(a).includes('kill -s KILL')),
    );
    check(
      'compose: identity from docker inspect',
      has('docker', (a) => a[0] === 'inspect'),
    );
    check(
      'compose: state from ps --format json',
      has('docker', (a) => a.includes('ps') && a.includes('json')),
    );
  }
  if (driver === 'kubectl') {
    const k = (pred: (s: string) => boolean) => has('kubectl', (a) => pred(joined(a)));
    check(
      'kubectl: every call names context and namespace',
      lines.filter((l) => l.tool === 'kubectl').every((l) => joined(l.argv).startsWith('--context staging -n shop ')),
    );
    check(
      'kubectl: the replica count read before scaling',
      k((s) => s.includes('get statefulset/db -o json')) && k((s) => s.includes('get deployment/web -o json')),
    );
    check(
      'kubectl: scale to 0 and back',
      k((s) => s.includes('scale statefulset/db --replicas=0')) && k((s) => s.includes('scale statefulset/db --replicas=1')),
    );
    check(
      'kubectl: rollout restart and rollout status',
      k((s) => s.includes('rollout restart deployment/web')) && k((s) => s.includes('rollout status deployment/web --timeout=')),
    );
    check(
      'kubectl: delete pod --grace-period=0 --force',
      k((s) => s.includes('delete pod') && s.includes('--grace-period=0 --force')),
    );
    check(
      'kubectl: kubectl wait for Ready',
      k((s) => s.includes('wait --for=condition=Ready pod -l')),
    );
  }
  const failedCalls = lines.filter((l) => l.exitCode !== 0 && l.exitCode !== 3);
  out.push({
    name: `${driver}: ${lines.length} tool calls recorded`,
    ok: lines.length > 0,
    detail: `${failedCalls.length} with a non-zero exit${
      failedCalls.length
        ? ` (e.g. ${failedCalls
            .slice(0, 3)
            .map((l) => `${l.tool} ${joined(l.argv)} -> ${l.exitCode}`)
            .join('; ')})`
        : ''
    }`,
  });
  return out;
}
