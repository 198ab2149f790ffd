import { spawn } from 'node:child_process';
import { expect, test } from './support/test';
import { childEnv, loadConfig, readEnv } from '../../helpers/config';
import { PLAYWRIGHT_CLI, PROJECT_ROOT } from '../../helpers/paths';
import { redactText, shown } from '../../helpers/report/redact';
import { EmbeddedStack } from '../../helpers/stack/embedded-stack';
import { childPids, pidsWithMarker, processState, waitForExit } from '../../helpers/stack/processes';
import { waitUntil } from '../../helpers/wait';

// a helper stack of its own per lane (a run with --fully-parallel spreads these tests over both)
const STACK_NAME = `self-interrupt-${process.env.TEST_PARALLEL_INDEX ?? 0}`;

/**
 * Ctrl+C in the middle of a fault: the run is interrupted while PostgreSQL is frozen or stopped.
 * The child run reuses a stack this test owns, so that what the interruption leaves behind can be
 * inspected afterwards: PostgreSQL must be running and unfrozen, the proxy clean, the store healthy.
 */
test.describe('interrupting a run mid-fault', { tag: '@self' }, () => {
  test.setTimeout(120_000);
  const cfg = loadConfig({ ...readEnv(), STACK_NAME, TARGET: 'embedded' });
  let stack: EmbeddedStack | undefined;
  test.beforeAll(async () => {
    stack = await EmbeddedStack.up(cfg, { pid: process.pid, kind: 'helper-test' });
  });
  test.afterAll(async () => {
    await stack?.down();
  });

  const cases = [
    {
      project: 'db-outage',
      grep: 'concurrent writes when PostgreSQL freezes',
      faulted: (s: EmbeddedStack) => s.cluster.isFrozen(),
      what: 'PostgreSQL is frozen',
    },
    {
      project: 'db-outage',
      grep: 'concurrent writes when PostgreSQL stops',
      faulted: (s: EmbeddedStack) => !s.cluster.isRunning(),
      what: 'PostgreSQL is stopped',
    },
    {
      project: 'app-restart',
      grep: 'full restart',
      faulted: (s: EmbeddedStack) => !s.store.isRunning(),
      what: 'the store is down for a restart',
    },
  ];
  for (const c of cases) {
    test(`should leave every service running and unfrozen after SIGINT while ${c.what}`, async () => {
      const s = stack!;
      const child = spawn(process.execPath, [PLAYWRIGHT_CLI, 'test', `--project=${c.project}`, '--grep', c.grep, '--reporter=line'], {
        cwd: PROJECT_ROOT,
        env: childEnv({ STACK_NAME, TARGET: 'embedded', STACK_REUSE: '1', REPORTS_DIR: test.info().outputPath('child-reports') }),
        stdio: ['ignore', 'pipe', 'pipe'],
        detached: true, // its own process group: SIGINT to the group is what a terminal's Ctrl+C does
      });
      const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
      let output = '';
      child.stdout?.on('data', (d) => (output += String(d)));
      child.stderr?.on('data', (d) => (output += String(d)));
      try {
        await waitUntil(() => c.faulted(s), { description: `the child run's fault: ${c.what}`, timeoutMs: 60_000, intervalMs: 10 });
        process.kill(-child.pid!, 'SIGINT');
        expect(await waitForExit(child.pid!, 60_000), `the interrupted run exits: ${shown(output.slice(-2000), 2000)}`).toBe(true);
        await exited;
      } finally {
        try {
          process.kill(-child.pid!, 'SIGKILL'); // whatever of the child's group is left (bounded test)
        } catch {
          // the group is gone: the usual case
        }
      }
      await test.info().attach('interrupted run output', { body: redactText(output), contentType: 'text/plain' });
      expect(output).toMatch(/interrupted/i);
      const postmaster = s.cluster.postmasterPid();
      expect(postmaster, 'PostgreSQL runs').toBeDefined();
      const frozen = [postmaster!, ...childPids(postmaster!)].filter((p) => processState(p) === 'T');
      expect(frozen, 'no postgres process is stopped (SIGSTOP)').toEqual([]);
      const proxy = await s.proxy.client.proxy(s.state.proxy.name);
      expect({ enabled: proxy.enabled, toxics: proxy.toxics }, 'the fault proxy is clean').toEqual({ enabled: true, toxics: [] });
      expect(await s.store.healthStatus(), 'the store answers health 200').toBe(200);
      const storeProcesses = pidsWithMarker(s.store.pidFile);
      expect(storeProcesses.length, `one gunicorn master and its ${s.store.expectedWorkers} workers, nothing left over`).toBe(
        s.store.expectedWorkers + 1,
      );
    });
  }
});
