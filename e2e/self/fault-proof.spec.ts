/**
 * A fault proves it took effect and that it was reverted, on real processes: an action that does
 * nothing is "fault not observed", a revert that does not bring the service back is "did not
 * recover", each named as such. A stack of its own, driven as an external target by the command
 * driver (the run's own target may be external).
 */
import { expect, test } from './support/test';
import { loadConfig, readEnv } from '../../helpers/config';
import { FaultDidNotRecover, FaultNotObserved, TargetBroken, type Fault } from '../../helpers/faults/fault';
import { REFERENCE_STORE_DIR } from '../../helpers/paths';
import { pidsWithMarker, signalIfOurs, startDetached } from '../../helpers/stack/processes';
import { EmbeddedStack } from '../../helpers/stack/embedded-stack';
import { externalTarget } from '../../helpers/targets/external-target';

test.describe('faults prove their effect', { tag: '@self' }, () => {
  test.setTimeout(90_000);
  const embedded = loadConfig({ ...readEnv(), STACK_NAME: `self-fault-proof-${process.env.TEST_PARALLEL_INDEX ?? 0}`, TARGET: 'embedded' });
  let stack: EmbeddedStack | undefined;
  test.beforeAll(async () => {
    stack = await EmbeddedStack.up(embedded, { pid: process.pid, kind: 'helper-test' });
  });
  test.afterAll(async () => {
    await stack?.down();
  });

  /** The stack as an external target with these driver settings. */
  function target(env: Record<string, string>) {
    const s = stack!;
    const keep = Object.fromEntries(
      Object.entries(readEnv()).filter(
        ([k]) => !/^(DB|APP)_|^TOXIPROXY_|^COMPOSE_|^KUBE_|^ALLOW_DESTRUCTIVE|^RESTORE_DATABASE_URL$|^STORE_FLAWS$/.test(k),
      ),
    );
    const cfg = loadConfig(
      {
        ...keep,
        TARGET: 'external',
        BASE_URL: s.baseUrl,
        JWT_TOKEN: 'a.b.c',
        DATABASE_URL: s.databaseUrl,
        FAULT_OBSERVE_TIMEOUT_MS: '1500',
        RECOVER_TIMEOUT_MS: '2000',
        REPORTS_DIR: test.info().outputPath('reports'),
        ...env,
      },
      { checkFiles: false },
    );
    return externalTarget(cfg.external!, cfg);
  }
  const fault = (t: ReturnType<typeof target>, name: Parameters<typeof t.fault>[0]): Fault => {
    const f = t.fault(name);
    if (!f.ok) throw new Error(f.missing);
    return f.value;
  };
  const pgCtl = (action: string) => `runuser -u postgres -- ${stack!.state.pgBin}/pg_ctl ${action} -D ${stack!.cluster.dataDir} -w`;

  test('should fail with "fault not observed" when the action changes nothing', async () => {
    // a bound shorter than the run's: the test waits it out, and nothing ever shows
    const t = target({ DB_DRIVER: 'command', DB_STOP_COMMAND: 'true', DB_START_COMMAND: 'true', FAULT_OBSERVE_TIMEOUT_MS: '700' });
    const f = fault(t, 'db-stop');
    const error = await f.inject().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(FaultNotObserved);
    expect((error as Error).message).toMatch(
      /^fault not observed: db-stop \(your commands\): PostgreSQL stops answering not seen within \d+ms after the action \(last: 127\.0\.0\.1:\d+ answered/,
    );
    await f.recover();
  });

  test('should fail with "fault not observed" when a reload replaces no worker', async () => {
    const s = stack!;
    const t = target({
      APP_DRIVER: 'command',
      APP_RELOAD_COMMAND: 'true',
      FAULT_OBSERVE_TIMEOUT_MS: '700',
      APP_WORKERS_COMMAND: `pgrep -P $(cat ${s.store.pidFile})`,
      APP_INSTANCE_COMMAND: `cat ${s.store.pidFile}`,
    });
    const error = await fault(t, 'app-reload')
      .inject()
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(FaultNotObserved);
    expect((error as Error).message).toMatch(
      /^fault not observed: app-reload \(your commands\): a new worker and the store answers health 200 not seen/,
    );
  });

  test('should fail with "did not recover" when the revert leaves the database down, and the fault was real', async () => {
    const s = stack!;
    const t = target({
      DB_DRIVER: 'command',
      DB_STOP_COMMAND: pgCtl('stop -m fast'),
      DB_START_COMMAND: 'true',
      RECOVER_TIMEOUT_MS: '1000',
    });
    const f = fault(t, 'db-stop');
    try {
      const injected = await f.inject();
      expect(injected.observation, 'the stop was observed on the database').toMatch(/PostgreSQL stops answering: 127\.0\.0\.1:\d+ refused/);
      const error = await f.recover().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(FaultDidNotRecover);
      expect((error as Error).message).toMatch(
        /^did not recover: db-stop \(your commands\): PostgreSQL accepts queries again .* not seen within \d+ms of the revert/,
      );
    } finally {
      if (!s.cluster.isRunning()) await s.cluster.start();
    }
  });

  test('should observe a real stop and a real start through the command driver', async () => {
    const t = target({
      DB_DRIVER: 'command',
      DB_STOP_COMMAND: pgCtl('stop -m fast'),
      DB_START_COMMAND: pgCtl('start -l /dev/null'),
      DB_STOP_CHECK: 'true',
    });
    const f = fault(t, 'db-stop');
    const injected = await f.inject();
    expect(injected.observation).toMatch(/refused.*DB_STOP_CHECK exits 0|DB_STOP_CHECK/);
    const recovered = await f.recover();
    expect(recovered.observation).toMatch(/PostgreSQL accepts queries again/);
    expect(stack!.cluster.isRunning()).toBe(true);
  });
  test('should file a zero-downtime restart that leaves nothing serving as the deployment breaking, with its evidence', async () => {
    const s = stack!;
    const pidfile = s.store.pidFile;
    // the store as a user may run it: python -m gunicorn. A USR2 re-exec runs the same command line,
    // from gunicorn's own folder, where "http" is gunicorn's module: the new workers cannot boot
    await s.store.stop(5_000);
    await startDetached({
      file: s.state.python,
      args: ['-m', 'gunicorn', '-c', 'gunicorn.conf.py', '--pid', pidfile],
      cwd: REFERENCE_STORE_DIR,
      env: s.store.env(),
      logFile: s.store.logFile,
      ready: async () => (await s.store.healthStatus()) === 200,
      description: 'the store under python -m gunicorn',
      timeoutMs: 30_000,
    });
    try {
      const t = target({
        APP_DRIVER: 'command',
        // the user's procedure: a new master on the same socket, then TERM to the old one
        APP_REEXEC_COMMAND: `old=$(cat ${pidfile}); kill -USR2 $old; sleep 1; kill -TERM $old`,
        APP_INSTANCE_COMMAND: `cat ${pidfile} 2>/dev/null || true`,
        APP_WORKERS_COMMAND: `pgrep -P "$(cat ${pidfile} 2>/dev/null)" || true`,
        STORE_LOG_FILE: s.store.logFile,
      });
      const error = await fault(t, 'app-reexec')
        .inject()
        .catch((e: unknown) => e);
      expect(error, String(error)).toBeInstanceOf(TargetBroken);
      const message = (error as Error).message;
      expect(message).toMatch(
        /^the deployment broke: app-reexec \(your commands\) was meant to leave the store serving \(.*\), and left it (with no server instance|with a server instance .* no worker|not answering health)/,
      );
      expect(message, 'health over time: serving first, then not').toMatch(
        /health and server over time: \+\d+ms health 200.*\| \+\d+ms health no answer/s,
      );
      expect(message, "the store log's last lines say why").toMatch(
        /last lines of the store's log:[\s\S]*(Worker failed to boot|ModuleNotFoundError|ImportError|Traceback)/,
      );
    } finally {
      // what the manual start left (by the pidfile's marker), then the stack's own store again
      for (const pid of pidsWithMarker(pidfile)) signalIfOurs(pid, 'SIGKILL', pidfile);
      await s.store.start();
    }
  });
});
