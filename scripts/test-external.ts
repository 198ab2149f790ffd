/**
 * npm run test:external: starts a store outside the suite (e2e/external/outside-store.ts), then runs
 * the suite against it with TARGET=external once per driver: command (the deployment's own ops
 * scripts), systemd, compose and kubectl (the last three through test doubles of systemctl,
 * journalctl, docker and kubectl that act on the real processes). Then it checks what the runs
 * cannot see themselves: each skip names a setting, each driver really went through its tool, and
 * the database of the run without the disposable opt-in was never written to except through the
 * store's API. The link faults and crash points (through the proxy, whatever the driver), concurrent
 * retries and the security family (through the API) run in the first run only; the helpers' own tests
 * (self) do not depend on the target and run in npm test. Ends with "N passed, N failed". Options:
 * --driver=<name> (repeatable), --grep=<re>.
 *
 * Over 250 lines: the launcher of every driver's run and the checks those runs cannot make themselves
 * (argv recorded by the doubles, skips, the database untouched, the doctor).
 */
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { healthStatus } from '../helpers/api/token';
import { namesSetting, readDoctorTable } from '../helpers/doctor';
import { config } from '../helpers/config';
import { DbProbe } from '../helpers/integrity/db-probe';
import { compareSnapshots, describeDiff, takeSnapshot, type DbSnapshot } from '../helpers/integrity/snapshot';
import { PROJECT_ROOT } from '../helpers/paths';
import { log } from '../helpers/report/log';
import { scanReports } from '../helpers/report/secret-scan';
import { OutsideStore } from '../e2e/external/outside-store';
import { ToxiproxyClient } from '../helpers/faults/toxiproxy-client';
import { pgPing } from '../helpers/integrity/pg-ping';
import { childPids, isAlive, waitForExit } from '../helpers/stack/processes';
import { waitUntil } from '../helpers/wait';

const DRIVERS = ['command', 'systemd', 'compose', 'kubectl'] as const;
type Driver = (typeof DRIVERS)[number];

interface JsonResult {
  status: string;
  annotations?: Array<{ type: string; description?: string }>;
}
interface JsonSpec {
  title: string;
  tests: Array<{ projectName: string; status: string; annotations?: Array<{ type: string; description?: string }>; results: JsonResult[] }>;
}
interface JsonSuite {
  suites?: JsonSuite[];
  specs?: JsonSpec[];
}
interface Stats {
  expected: number;
  unexpected: number;
  flaky: number;
  skipped: number;
}

const specsOf = (s: JsonSuite): JsonSpec[] => [...(s.specs ?? []), ...(s.suites ?? []).flatMap(specsOf)];

const args = process.argv.slice(2);
const only = args.filter((a) => a.startsWith('--driver=')).map((a) => a.slice('--driver='.length));
const grep = args.find((a) => a.startsWith('--grep='))?.slice('--grep='.length);
const drivers = DRIVERS.filter((d) => only.length === 0 || only.includes(d));
for (const d of only) if (!(DRIVERS as readonly string[]).includes(d)) throw new Error(`--driver=${d}: one of ${DRIVERS.join(', ')}`);

const reports = path.join(config().reportsDir, 'external');
const doublesBin = path.join(PROJECT_ROOT, 'e2e/external/doubles/bin');

const checks: Array<{ name: string; ok: boolean; detail: string }> = [];
const check = (name: string, ok: boolean, detail = '') => {
  checks.push({ name, ok, detail });
  log(`${ok ? 'ok  ' : 'FAIL'} ${name}${detail ? `: ${detail}` : ''}`);
};

function driverEnv(store: OutsideStore, driver: Driver): Record<string, string> {
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
function targetEnv(store: OutsideStore, disposable: boolean): Record<string, string> {
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

/** Runs playwright with env; resolves with the parsed results.json. */
/**
 * What the runs after the first leave out: whatever goes through the proxy or the API only (link
 * faults, crash points, concurrent retries, security), and what proves the store rather than the
 * driver, already proven in the first run (the ledgers under concurrent writes, the one error
 * envelope; the backup family after the first run with the opt-in: its store-stopped restore is the
 * restart the app-restart family makes through each driver). The fuzz family runs in npm test, under
 * both servers. Each driver still injects, observes and reverts every action it has: stop, crash,
 * freeze, the lock, reload, kill, restart, scale, re-exec.
 */
const leftOut = (i: number) =>
  i === 0 ? '@fuzz' : `@link|@crashpoint|@idempotency|@security|under concurrent writes|same error body${i >= 2 ? '|@backup' : ''}`;

function runSuite(
  name: string,
  env: Record<string, string>,
  projects: string[],
  grepInvert?: string,
): Promise<{ code: number | null; report?: JsonSuite & { stats: Stats } }> {
  const dir = path.join(reports, name);
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  const argv = [
    'playwright',
    'test',
    ...projects.map((p) => `--project=${p}`),
    ...(grep ? ['--grep', grep] : []),
    ...(grepInvert ? ['--grep-invert', grepInvert] : []),
  ];
  log(`run ${name}: npx ${argv.join(' ')}`);
  // the run's own reporters (html, junit, results.json, allure) write under REPORTS_DIR; line shows progress
  const child = spawn('npx', argv, {
    cwd: PROJECT_ROOT,
    env: { ...process.env, ...env, REPORTS_DIR: dir, STACK_NAME: `external-${name}` },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  return new Promise((resolve) => {
    child.once('exit', (code) => {
      const file = path.join(dir, 'results.json');
      resolve({
        code,
        report: fs.existsSync(file) ? (JSON.parse(fs.readFileSync(file, 'utf8')) as JsonSuite & { stats: Stats }) : undefined,
      });
    });
  });
}

/** Every skip must name the setting that would make the test run. */
function checkSkips(name: string, report: JsonSuite): string[] {
  const lines: string[] = [];
  for (const spec of specsOf(report)) {
    for (const t of spec.tests) {
      if (t.status !== 'skipped') continue;
      const reasons = [...(t.annotations ?? []), ...t.results.flatMap((r) => r.annotations ?? [])]
        .filter((a) => a.type === 'skip')
        .map((a) => a.description ?? '');
      // Playwright copies a skip's annotation from the result onto the test: each reason once
      const reason = [...new Set(reasons)].join('; ');
      lines.push(`[${t.projectName}] ${spec.title}: ${reason || '(no reason)'}`);
      check(`${name}: the skip of "${spec.title}" names a setting`, namesSetting(reason), reason || 'no reason given');
    }
  }
  return lines;
}

/**
 * npm run doctor with the run's own settings: it must pass (the target reachable, each driver's
 * status and identity read), print the family table, and name a setting in each skip it lists.
 * Its output is kept beside the run's reports (doctor.md).
 */
function doctor(name: string, env: Record<string, string>): void {
  const r = spawnSync('npx', ['tsx', 'scripts/doctor.ts'], {
    cwd: PROJECT_ROOT,
    env: { ...process.env, ...env, STACK_NAME: `external-${name}` },
    encoding: 'utf8',
    timeout: 120_000,
  });
  fs.writeFileSync(path.join(reports, name, 'doctor.md'), `${r.stdout}${r.stderr ? `\n\nstderr:\n${r.stderr}` : ''}`);
  const { rows, skips, unnamed } = readDoctorTable(r.stdout);
  check(
    `${name}: npm run doctor passes and prints the family table (reports/external/${name}/doctor.md)`,
    r.status === 0 && rows.length > 0,
    `exit ${r.status ?? r.signal}, ${rows.length} rows, ${skips.length} skip`,
  );
  check(`${name}: every skip the doctor lists names a setting`, unnamed.length === 0, unnamed.join(' / '));
}

interface ArgvLine {
  tool: string;
  argv: string[];
  exitCode: number;
}
function argvLog(file: string): ArgvLine[] {
  if (!fs.existsSync(file)) return [];
  return fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as ArgvLine);
}

/** What each driver must have asked its tool for: the proof that the faults went through it. */
function checkToolUse(driver: Driver, lines: ArgvLine[]): void {
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
  log(
    `${driver}: ${lines.length} tool calls, ${failedCalls.length} with a non-zero exit${
      failedCalls.length
        ? ` (e.g. ${failedCalls
            .slice(0, 3)
            .map((l) => `${l.tool} ${joined(l.argv)} -> ${l.exitCode}`)
            .join('; ')})`
        : ''
    }`,
  );
}

/**
 * Ctrl+C in the middle of a fault on an external target: the interrupted run's teardown heals it
 * through its driver (systemd here, through the doubles). Afterwards PostgreSQL answers and is not
 * frozen, the store answers health 200 with its 2 workers, and the proxy is clean.
 */
async function interruptChecks(store: OutsideStore): Promise<void> {
  const cases = [
    {
      grep: 'concurrent writes when PostgreSQL freezes',
      what: 'PostgreSQL is frozen',
      faulted: async () => (await pgPing('127.0.0.1', store.s.pgPort, 500)).outcome === 'hang',
    },
    {
      grep: 'full restart',
      what: 'the store is down for a restart',
      faulted: async () => (await healthStatus(store.baseUrl, 2_000)) === undefined,
    },
  ];
  for (const c of cases) {
    const dir = path.join(reports, 'interrupt');
    const doublesConfig = path.join(store.s.dir, 'doubles-interrupt', 'config.json');
    store.writeDoublesConfig(doublesConfig, path.join(dir, 'doubles-argv.jsonl'));
    const env = {
      ...process.env,
      ...targetEnv(store, true),
      ...driverEnv(store, 'systemd'),
      STORE_DOUBLES_CONFIG: doublesConfig,
      PATH: `${doublesBin}:${process.env.PATH ?? ''}`,
      REPORTS_DIR: dir,
    };
    const child = spawn('npx', ['playwright', 'test', '--project=db-outage', '--project=app-restart', '--grep', c.grep], {
      cwd: PROJECT_ROOT,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    let output = '';
    child.stdout.on('data', (d) => (output += String(d)));
    child.stderr.on('data', (d) => (output += String(d)));
    let interrupted = false;
    try {
      await waitUntil(c.faulted, { description: `the child run's fault: ${c.what}`, timeoutMs: 90_000, intervalMs: 20 });
      process.kill(-child.pid!, 'SIGINT');
      interrupted = true;
      await waitForExit(child.pid!, 90_000);
    } catch (error) {
      log(`interrupt ${c.what}: ${(error as Error).message}`);
    } finally {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // the group is gone: the usual case
      }
    }
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, `${c.what.replace(/\W+/g, '-')}.log`), output);
    const pgState = await pgPing('127.0.0.1', store.s.pgPort, 1_000);
    const health = await healthStatus(store.baseUrl, 2_000);
    const master = Number(fs.readFileSync(store.s.pidFile, 'utf8').trim());
    const workers = childPids(master).filter(isAlive).length;
    const proxy = await new ToxiproxyClient(store.controlUrl).proxy('postgres');
    check(
      `interrupted (SIGINT) while ${c.what}: the run's teardown healed the target`,
      interrupted &&
        /interrupted/i.test(output) &&
        pgState.outcome === 'answered' &&
        health === 200 &&
        workers === 2 &&
        proxy.enabled &&
        proxy.toxics.length === 0,
      `interrupted ${interrupted}, postgres ${pgState.outcome}, health ${health ?? 'none'}, workers ${workers}, proxy ${proxy.enabled ? 'enabled' : 'disabled'} [${proxy.toxics.map((t) => t.name).join(', ')}]`,
    );
  }
}

/** No secret of the outside store, and no live token, in any file the runs wrote (the shared report scan). */
function secretScan(store: OutsideStore): void {
  const s = store.s;
  const { files, findings } = scanReports(reports, [
    s.ownerPassword,
    s.readerPassword,
    s.secretKey,
    s.users.customer.password,
    s.users.secondCustomer.password,
    s.users.staff.password,
  ]);
  check(
    `no secret of the store in the ${files} files under reports/external`,
    findings.length === 0,
    findings
      .slice(0, 10)
      .map((f) => `${f.file}: ${f.what}`)
      .join(', ') || 'none found',
  );
}

/** Snapshot of the read-only view: every critical table, row by row, and the databases on the server. */
async function fingerprint(store: OutsideStore): Promise<{ snap: DbSnapshot; databases: string[] }> {
  const probe = new DbProbe(store.url('shop_reader'));
  try {
    const snap = await takeSnapshot(probe);
    const databases = (await probe.query<{ datname: string }>('SELECT datname FROM pg_database ORDER BY datname')).map((r) => r.datname);
    return { snap, databases };
  } finally {
    await probe.close();
  }
}

async function main(): Promise<number> {
  // a fresh folder: the secret scan and the summary speak of this run only
  fs.rmSync(reports, { recursive: true, force: true });
  fs.mkdirSync(reports, { recursive: true });
  const store = await OutsideStore.up(log);
  const summary: string[] = [
    '# test:external',
    '',
    `outside store ${store.baseUrl}, PostgreSQL ${store.s.pgVersion}/${store.s.cluster} :${store.s.pgPort}`,
    '',
  ];
  let passed = 0;
  let failed = 0;
  const stop = () => void store.down(log).finally(() => process.exit(130));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    for (const [i, driver] of drivers.entries()) {
      // the doubles' config holds the store's secrets: it lives with the store, not in the reports
      const doublesConfig = path.join(store.s.dir, `doubles-${driver}`, 'config.json');
      const argvFile = path.join(reports, `${driver}-doubles-argv.jsonl`);
      fs.rmSync(argvFile, { force: true });
      store.writeDoublesConfig(doublesConfig, argvFile);
      // the command run has no disposable opt-in: its database must stay untouched but for the API's own writes
      const disposable = driver !== 'command';
      const before = disposable ? undefined : await fingerprint(store);
      const env = {
        ...targetEnv(store, disposable),
        ...driverEnv(store, driver),
        STORE_DOUBLES_CONFIG: doublesConfig,
        PATH: driver === 'command' ? (process.env.PATH ?? '') : `${doublesBin}:${process.env.PATH ?? ''}`,
      };
      // the helpers' own tests (self) do not depend on the target: npm test runs them
      const projects = ['smoke', 'db-outage', 'app-restart', 'backup-restore', 'crashpoint', 'idempotency', 'security'];
      const t0 = Date.now();
      // the link faults and crash points go through the proxy, concurrent retries through the API,
      // whatever the driver: the first run has them
      const { code, report } = await runSuite(driver, env, projects, leftOut(i));
      if (!report) {
        check(`${driver}: the run wrote its results`, false, `exit ${code}`);
        continue;
      }
      const st = report.stats;
      passed += st.expected;
      failed += st.unexpected + st.flaky;
      summary.push(
        `## ${driver}`,
        '',
        `${st.expected} passed, ${st.unexpected + st.flaky} failed, ${st.skipped} skipped in ${Math.round((Date.now() - t0) / 1000)} s (reports/external/${driver}/)`,
        '',
      );
      doctor(driver, env);
      const skips = checkSkips(driver, report);
      if (skips.length) summary.push('Skipped:', '', ...skips.map((l) => `- ${l}`), '');
      // a narrowed run (--grep) does not go through every action
      if (driver !== 'command' && !grep) checkToolUse(driver, argvLog(argvFile));
      if (before) {
        const after = await fingerprint(store);
        const diff = compareSnapshots(before.snap, after.snap);
        const changed = diff.tables.filter((t) => !t.equal);
        // the store's API writes orders and lines; nothing else may change, and nothing there may be removed or altered
        const foreign = changed.filter(
          (t) => !['store_orderrequest', 'store_orderline'].includes(t.table) || t.removed.length > 0 || t.changed.length > 0,
        );
        check(
          'untouched without the opt-in: no table changed but for orders added through the API',
          foreign.length === 0,
          describeDiff({ ...diff, tables: foreign }).join('; ') ||
            `orders/lines only gained rows (${changed.map((t) => `${t.table} +${t.added.length}`).join(', ') || 'none'})`,
        );
        check(
          'untouched without the opt-in: no database created or dropped (no scratch database)',
          JSON.stringify(after.databases) === JSON.stringify(before.databases),
          after.databases.join(', '),
        );
      }
    }
    if (only.length === 0 && !grep) await interruptChecks(store);
    // the backup family alone, without the opt-in: the database's fingerprint is exactly the same after
    if (only.length === 0 && !grep) {
      const before = await fingerprint(store);
      const doublesConfig = path.join(store.s.dir, 'doubles-untouched', 'config.json');
      store.writeDoublesConfig(doublesConfig, path.join(reports, 'untouched-doubles-argv.jsonl'));
      const { report } = await runSuite(
        'untouched',
        { ...targetEnv(store, false), ...store.commandDriverEnv(), STORE_DOUBLES_CONFIG: doublesConfig },
        ['backup-restore'],
      );
      const after = await fingerprint(store);
      const diff = compareSnapshots(before.snap, after.snap);
      check(
        'untouched: the backup family without the opt-in leaves the database fingerprint exactly equal',
        diff.equal && JSON.stringify(before.databases) === JSON.stringify(after.databases),
        describeDiff(diff).join('; ') || 'equal',
      );
      if (report) {
        passed += report.stats.expected;
        failed += report.stats.unexpected + report.stats.flaky;
        summary.push(
          '## backup family without the opt-in',
          '',
          `${report.stats.expected} passed, ${report.stats.unexpected} failed, ${report.stats.skipped} skipped; fingerprint ${diff.equal ? 'equal' : 'CHANGED'}`,
          '',
        );
        checkSkips('untouched', report);
      }
    }
    secretScan(store);
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
    await store.down(log, reports);
  }
  const checksFailed = checks.filter((c) => !c.ok);
  summary.push(
    '## checks of the runs',
    '',
    ...checks.map((c) => `- ${c.ok ? 'ok' : 'FAILED'}: ${c.name}${c.detail ? ` (${c.detail})` : ''}`),
    '',
  );
  fs.writeFileSync(path.join(reports, 'summary.md'), `${summary.join('\n')}\n`);
  log(`summary: ${path.join(reports, 'summary.md')}`);
  passed += checks.length - checksFailed.length;
  failed += checksFailed.length;
  fs.writeFileSync(path.join(reports, 'result.json'), JSON.stringify({ passed, failed }));
  process.stdout.write(`${passed} passed, ${failed} failed\n`);
  return failed === 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`test:external failed: ${(error as Error).stack ?? String(error)}\n`);
    process.stdout.write('0 passed, 1 failed\n');
    process.exit(1);
  },
);
