/**
 * A fault proves it took effect and that it was reverted, on real processes: an action that does
 * nothing is "fault not observed", a revert that does not bring the service back is "did not
 * recover", each named as such. A stack of its own, driven as an external target by the command
 * driver (the run's own target may be external).
 */
import { expect, test } from '@playwright/test';
import { loadConfig, readEnv } from '../../helpers/config';
import { FaultDidNotRecover, FaultNotObserved, type Fault } from '../../helpers/faults/fault';
import { EmbeddedStack } from '../../helpers/stack/embedded-stack';
import { externalTarget } from '../../helpers/targets/external-target';

test.describe('faults prove their effect @self', () => {
  test.setTimeout(90_000);
  const embedded = loadConfig({ ...readEnv(), STACK_NAME: 'self-fault-proof', TARGET: 'embedded' });
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
    const t = target({ DB_DRIVER: 'command', DB_STOP_COMMAND: 'true', DB_START_COMMAND: 'true' });
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
      APP_WORKERS_COMMAND: `pgrep -P $(cat ${s.store.pidFile})`,
      APP_INSTANCE_COMMAND: `cat ${s.store.pidFile}`,
    });
    const error = await fault(t, 'app-reload')
      .inject()
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(FaultNotObserved);
    expect((error as Error).message).toMatch(/^fault not observed: app-reload \(your commands\): a new worker not seen/);
  });

  test('should fail with "did not recover" when the revert leaves the database down, and the fault was real', async () => {
    const s = stack!;
    const t = target({ DB_DRIVER: 'command', DB_STOP_COMMAND: pgCtl('stop -m fast'), DB_START_COMMAND: 'true' });
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
});
