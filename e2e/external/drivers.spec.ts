/**
 * npm run test:external (playwright.external.config.ts): the suite against a store started outside it
 * (global setup: e2e/external/outside-store.ts), once per driver: command (the deployment's own ops
 * scripts), systemd, compose and kubectl (the last three through test doubles of systemctl,
 * journalctl, docker and kubectl that act on the real processes). Each driver's test runs the suite
 * as a child run and checks what that run cannot see itself: each skip names a setting, the doctor
 * passes with the same settings, the driver really went through its tool, and the database of the run
 * without the disposable opt-in was written only through the store's API. Then Ctrl+C in the middle
 * of a fault, the backup family without the opt-in, and no secret in any report.
 *
 * Over 250 lines: the tests of one run of test:external in the order they run (each driver, the two
 * interrupts, the untouched database, the secret scan), each with the checks of what it ran.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { expect, test } from '@playwright/test';
import { healthStatus } from '../../helpers/api/token';
import { config } from '../../helpers/config';
import { namesSetting } from '../../helpers/doctor';
import { ToxiproxyClient } from '../../helpers/faults/toxiproxy-client';
import { pgPing } from '../../helpers/integrity/pg-ping';
import { compareSnapshots, describeDiff } from '../../helpers/integrity/snapshot';
import { PLAYWRIGHT_CLI, PROJECT_ROOT } from '../../helpers/paths';
import { scanReports } from '../../helpers/report/secret-scan';
import { childPids, isAlive, waitForExit } from '../../helpers/stack/processes';
import { waitUntil } from '../../helpers/wait';
import { OutsideStore } from './outside-store';
import {
  DOUBLES_BIN,
  DRIVERS,
  argvLog,
  driverEnv,
  fingerprint,
  leftOut,
  runDoctor,
  runSuite,
  selection,
  skipsOf,
  targetEnv,
  toolUseChecks,
  type Check,
} from './runs';

const reports = path.join(config().reportsDir, 'external');
const { drivers, grep } = selection();
/** the families a driver's run covers: the helpers' own tests (self) do not depend on the target, npm test runs them */
const PROJECTS = ['smoke', 'db-outage', 'app-restart', 'backup-restore', 'crashpoint', 'idempotency', 'security'];
/** a whole suite run through a driver takes 60-80 s here; the bound is never the measure */
const RUN_TIMEOUT_MS = 600_000;

/** The store the global setup started (its folder is handed to the workers in OUTSIDE_STORE_DIR). */
const outside = () => OutsideStore.open(process.env.OUTSIDE_STORE_DIR ?? '');

/** Each check a step of its own, failing the test (softly: the others still run) with what was seen. */
async function checks(list: readonly Check[]): Promise<void> {
  for (const c of list)
    await test.step(c.name, () => {
      expect.soft(c.ok, `${c.name}${c.detail ? `: ${c.detail}` : ''}`).toBe(true);
    });
}

/** The run's figures, in the report and for the launcher's total (the inner tests count as tests). */
function record(name: string, stats: { expected: number; unexpected: number; flaky: number; skipped: number }): void {
  test.info().annotations.push({
    type: 'suite run',
    description: `${name}: ${stats.expected} passed, ${stats.unexpected + stats.flaky} failed, ${stats.skipped} skipped (reports/external/${name}/)`,
  });
}

test.describe('the suite against a store started outside it', { tag: '@external-drivers' }, () => {
  test.setTimeout(RUN_TIMEOUT_MS);

  for (const [i, driver] of drivers.entries()) {
    test(`should pass every family through the ${driver} driver, name a setting in each skip, pass the doctor, and go through its tool`, async () => {
      const store = outside();
      const dir = path.join(reports, driver);
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
        PATH: driver === 'command' ? (process.env.PATH ?? '') : `${DOUBLES_BIN}:${process.env.PATH ?? ''}`,
      };
      // the link faults and crash points go through the proxy, concurrent retries through the API,
      // whatever the driver: the first run has them
      const run = await test.step(`the suite through ${driver}`, () =>
        runSuite(dir, env, PROJECTS, { grep, grepInvert: leftOut(i), stackName: `external-${driver}` }));
      await test.info().attach(`${driver} run (output)`, { path: path.join(dir, 'run.log'), contentType: 'text/plain' });
      expect(run.report, `the ${driver} run wrote its results (exit ${run.code})`).toBeDefined();
      const st = run.report!.stats;
      record(driver, st);
      expect
        .soft(st.unexpected + st.flaky, `the suite through ${driver}: ${st.unexpected + st.flaky} failed (reports/external/${driver}/)`)
        .toBe(0);
      expect.soft(st.expected, `the suite through ${driver} ran tests`).toBeGreaterThan(0);

      const doctor = runDoctor(dir, env, `external-${driver}`);
      await checks([
        {
          name: `${driver}: npm run doctor passes and prints the family table (reports/external/${driver}/doctor.md)`,
          ok: doctor.status === 0 && doctor.rows.length > 0,
          detail: `exit ${doctor.status}, ${doctor.rows.length} rows, ${doctor.skips.length} skip`,
        },
        {
          name: `${driver}: every skip the doctor lists names a setting`,
          ok: doctor.unnamed.length === 0,
          detail: doctor.unnamed.join(' / '),
        },
        ...skipsOf(run.report!).map((s) => ({
          name: `${driver}: the skip of "${s.title}" names a setting`,
          ok: namesSetting(s.reason),
          detail: s.reason || 'no reason given',
        })),
      ]);
      // a narrowed run (--grep) does not go through every action
      if (driver !== 'command' && !grep) await checks(toolUseChecks(driver, argvLog(argvFile)));
      if (before) {
        const after = await fingerprint(store);
        const diff = compareSnapshots(before.snap, after.snap);
        const changed = diff.tables.filter((t) => !t.equal);
        // the store's API writes orders and lines; nothing else may change, and nothing there may be removed or altered
        const foreign = changed.filter(
          (t) => !['store_orderrequest', 'store_orderline'].includes(t.table) || t.removed.length > 0 || t.changed.length > 0,
        );
        await checks([
          {
            name: 'untouched without the opt-in: no table changed but for orders added through the API',
            ok: foreign.length === 0,
            detail:
              describeDiff({ ...diff, tables: foreign }).join('; ') ||
              `orders/lines only gained rows (${changed.map((t) => `${t.table} +${t.added.length}`).join(', ') || 'none'})`,
          },
          {
            name: 'untouched without the opt-in: no database created or dropped (no scratch database)',
            ok: JSON.stringify(after.databases) === JSON.stringify(before.databases),
            detail: after.databases.join(', '),
          },
        ]);
      }
    });
  }

  /**
   * Ctrl+C in the middle of a fault on an external target: the interrupted run's teardown heals it
   * through its driver (systemd here, through the doubles). Afterwards PostgreSQL answers and is not
   * frozen, the store answers health 200 with its 2 workers, and the proxy is clean.
   */
  const interrupts = [
    {
      grep: 'concurrent writes when PostgreSQL freezes',
      what: 'PostgreSQL is frozen',
      faulted: async (store: OutsideStore) => (await pgPing('127.0.0.1', store.s.pgPort, 500)).outcome === 'hang',
    },
    {
      grep: 'full restart',
      what: 'the store is down for a restart',
      faulted: async (store: OutsideStore) => (await healthStatus(store.baseUrl, 2_000)) === undefined,
    },
  ];
  for (const c of interrupts) {
    test(`should leave the target healed after SIGINT while ${c.what}`, async () => {
      test.skip(drivers.length < DRIVERS.length || !!grep, 'a run narrowed with --driver or --grep leaves out the interrupt checks');
      const store = outside();
      const dir = path.join(reports, 'interrupt');
      const doublesConfig = path.join(store.s.dir, 'doubles-interrupt', 'config.json');
      store.writeDoublesConfig(doublesConfig, path.join(dir, 'doubles-argv.jsonl'));
      const child = spawn(process.execPath, [PLAYWRIGHT_CLI, 'test', '--project=db-outage', '--project=app-restart', '--grep', c.grep], {
        cwd: PROJECT_ROOT,
        env: {
          ...process.env,
          ...targetEnv(store, true),
          ...driverEnv(store, 'systemd'),
          STORE_DOUBLES_CONFIG: doublesConfig,
          PATH: `${DOUBLES_BIN}:${process.env.PATH ?? ''}`,
          REPORTS_DIR: dir,
        },
        stdio: ['ignore', 'pipe', 'pipe'],
        detached: true, // its own process group: SIGINT to the group is what a terminal's Ctrl+C does
      });
      let output = '';
      child.stdout.on('data', (d) => (output += String(d)));
      child.stderr.on('data', (d) => (output += String(d)));
      try {
        await waitUntil(() => c.faulted(store), { description: `the child run's fault: ${c.what}`, timeoutMs: 90_000, intervalMs: 20 });
        process.kill(-child.pid!, 'SIGINT');
        expect(await waitForExit(child.pid!, 90_000), 'the interrupted run exits').toBe(true);
      } finally {
        try {
          process.kill(-child.pid!, 'SIGKILL'); // whatever of the child's group is left (bounded test)
        } catch {
          // the group is gone: the usual case
        }
        fs.mkdirSync(dir, { recursive: true });
        fs.writeFileSync(path.join(dir, `${c.what.replace(/\W+/g, '-')}.log`), output);
        await test.info().attach('interrupted run output', { body: output, contentType: 'text/plain' });
      }
      expect(output, 'the run says it was interrupted').toMatch(/interrupted/i);
      expect((await pgPing('127.0.0.1', store.s.pgPort, 1_000)).outcome, 'PostgreSQL answers').toBe('answered');
      expect(await healthStatus(store.baseUrl, 2_000), 'the store answers health 200').toBe(200);
      const master = Number(fs.readFileSync(store.s.pidFile, 'utf8').trim());
      expect(childPids(master).filter(isAlive).length, 'the store runs its 2 workers').toBe(2);
      const proxy = await new ToxiproxyClient(store.controlUrl).proxy('postgres');
      expect({ enabled: proxy.enabled, toxics: proxy.toxics.map((t) => t.name) }, 'the fault proxy is clean').toEqual({
        enabled: true,
        toxics: [],
      });
    });
  }

  test('should leave the database fingerprint exactly equal when the backup family runs without the opt-in', async () => {
    test.skip(drivers.length < DRIVERS.length || !!grep, 'a run narrowed with --driver or --grep leaves out the untouched check');
    const store = outside();
    const before = await fingerprint(store);
    const doublesConfig = path.join(store.s.dir, 'doubles-untouched', 'config.json');
    store.writeDoublesConfig(doublesConfig, path.join(reports, 'untouched-doubles-argv.jsonl'));
    const run = await runSuite(
      path.join(reports, 'untouched'),
      { ...targetEnv(store, false), ...store.commandDriverEnv(), STORE_DOUBLES_CONFIG: doublesConfig },
      ['backup-restore'],
      { stackName: 'external-untouched' },
    );
    const after = await fingerprint(store);
    const diff = compareSnapshots(before.snap, after.snap);
    expect(run.report, `the run wrote its results (exit ${run.code})`).toBeDefined();
    record('untouched', run.report!.stats);
    expect.soft(run.report!.stats.unexpected + run.report!.stats.flaky, 'the backup family without the opt-in: no failure').toBe(0);
    await checks(
      skipsOf(run.report!).map((s) => ({
        name: `untouched: the skip of "${s.title}" names a setting`,
        ok: namesSetting(s.reason),
        detail: s.reason || 'no reason given',
      })),
    );
    expect(describeDiff(diff), 'the fingerprint is exactly equal').toEqual([]);
    expect(after.databases, 'no database created or dropped').toEqual(before.databases);
  });

  test('should leave no secret of the store, and no live token, in any file the runs wrote', () => {
    const s = outside().s;
    const { files, findings } = scanReports(reports, [
      s.ownerPassword,
      s.readerPassword,
      s.secretKey,
      s.users.customer.password,
      s.users.secondCustomer.password,
      s.users.staff.password,
    ]);
    expect(files, 'the runs wrote reports').toBeGreaterThan(0);
    expect(
      findings.slice(0, 10).map((f) => `${f.file}: ${f.what}`),
      `no secret of the store in the ${files} files under reports/external`,
    ).toEqual([]);
  });
});
