/**
 * The fault drivers' command construction and state parsing, on outputs of the real tools
 * (e2e/self/support/recorded/, each with its source in SOURCES.md), and what a target without a
 * capability says it lacks.
 */
import fs from 'node:fs';
import path from 'node:path';
import { expect, test } from './support/test';
import { loadConfig, readEnv, type Config } from '../../helpers/config';
import { composeArgv, parseChildren, parseComposePs, parseContainerState } from '../../helpers/drivers/compose';
import { kubectlArgv, parsePods, parseReplicas } from '../../helpers/drivers/kubectl';
import { parseUnitState, systemctlArgv } from '../../helpers/drivers/systemd';
import { DriverError } from '../../helpers/drivers/types';
import { externalTarget, listenAddress } from '../../helpers/targets/external-target';
import { userIdOfToken } from '../fixtures';

const recorded = (name: string) => fs.readFileSync(path.join(import.meta.dirname, 'support', 'recorded', name), 'utf8');

/** An external target from env (files not checked: nothing here runs the tools). */
function external(env: Record<string, string>): ReturnType<typeof externalTarget> {
  const base = {
    TARGET: 'external',
    BASE_URL: 'http://127.0.0.1:8000',
    JWT_TOKEN: 'a.b.c',
    REPORTS_DIR: test.info().outputPath('reports'),
  };
  const cfg: Config = loadConfig({ ...base, ...env }, { checkFiles: false });
  return externalTarget(cfg.external!, cfg);
}

const missingOf = (t: ReturnType<typeof externalTarget>, name: Parameters<ReturnType<typeof externalTarget>['fault']>[0]) => {
  const f = t.fault(name);
  return f.ok ? '(available)' : f.missing;
};

test.describe('fault drivers', { tag: '@self' }, () => {
  test('systemd: reads systemctl show, and signals only the main process', () => {
    expect(parseUnitState(recorded('systemctl-show-active.txt'))).toEqual({
      ActiveState: 'active',
      SubState: 'running',
      MainPID: 3764255,
      NRestarts: 0,
      FreezerState: 'running',
    });
    expect(parseUnitState(recorded('systemctl-show-inactive.txt'))).toMatchObject({
      ActiveState: 'inactive',
      SubState: 'dead',
      MainPID: 0,
    });
    // a full `systemctl show`: values with '=' in them, [not set], n/a
    expect(parseUnitState(recorded('systemctl-show-active-full.txt'))).toMatchObject({ ActiveState: 'active', MainPID: 3764255 });
    // a show without ActiveState is an error, not an inactive unit
    expect(() => parseUnitState(recorded('systemctl-show-failed-partial.txt'))).toThrow(DriverError);
    expect(systemctlArgv.signalMain('store.service', 'SIGHUP')).toEqual(['kill', '--kill-whom=main', '--signal=SIGHUP', 'store.service']);
    expect(systemctlArgv.show('postgresql@15-main')).toEqual([
      'show',
      '-p',
      'ActiveState,SubState,MainPID,NRestarts,FreezerState',
      'postgresql@15-main',
    ]);
  });

  test('compose: reads ps --format json in both forms and docker inspect State', () => {
    const ndjson = parseComposePs(recorded('compose-ps-ndjson.txt'));
    expect(ndjson.length, 'two containers, one per line').toBe(2);
    expect(ndjson[0]).toMatchObject({ ID: '2d5c5b0343d0', State: 'running' });
    expect(parseComposePs(recorded('compose-ps-ndjson-exited.txt'))[0]).toMatchObject({ State: 'exited', ExitCode: 143 });
    const array = parseComposePs(recorded('compose-ps-array.json'));
    expect(array.map((c) => [c.Service, c.State])).toEqual([
      ['bar', 'exited'],
      ['foo', 'running'],
    ]);
    expect(parseComposePs(recorded('compose-ps-array-jq.json')).length).toBeGreaterThan(0);
    expect(parseComposePs(''), 'no container: an empty list, which the driver turns into an error').toEqual([]);
    expect(parseContainerState(recorded('docker-inspect-state.json'))).toEqual({
      Status: 'running',
      Running: true,
      Paused: false,
      Pid: 58102,
      StartedAt: '2017-08-04T08:52:17.813347421Z',
    });
    expect(parseContainerState(recorded('docker-inspect-state-exited.json'))).toMatchObject({ Status: 'exited', Running: false, Pid: 0 });
    expect(parseContainerState(recorded('docker-inspect-state-restarting.json')).Status).toBe('restarting');
    expect(parseChildren('7 8 9\n')).toEqual(['7', '8', '9']);
    expect(composeArgv.base('shop', ['/srv/compose.yaml'])).toEqual(['compose', '-p', 'shop', '-f', '/srv/compose.yaml']);
    expect(composeArgv.kill('web', 'SIGHUP')).toEqual(['kill', '-s', 'SIGHUP', 'web']);
    expect(composeArgv.killPid('web', '7')).toEqual(['exec', '-T', 'web', 'sh', '-c', 'kill -s KILL 7']);
  });

  test('kubectl: reads pods with their UID and readiness, replicas, and names context and namespace', () => {
    const pods = parsePods(recorded('kubectl-get-pods.json'));
    expect(pods).toEqual([
      { name: 'queue-l4dv8', uid: 'd8aa9a47-ad0f-4bbe-bc12-ab31605d3211', ready: true, terminating: false, phase: 'Running' },
    ]);
    // the recorded pod, marked for deletion by hand: a terminating pod is no recovery
    const list = JSON.parse(recorded('kubectl-get-pods.json')) as { items: Array<{ metadata: Record<string, unknown> }> };
    list.items[0]!.metadata.deletionTimestamp = '2022-12-23T10:00:00Z';
    expect(parsePods(JSON.stringify(list))[0]?.terminating).toBe(true);
    expect(parseReplicas(recorded('kubectl-get-deployment.json'))).toBe(3);
    expect(() => parsePods('{"kind":"Status"}'), 'no items is an error').toThrow(DriverError);
    expect(kubectlArgv.base('shop', 'staging')).toEqual(['--context', 'staging', '-n', 'shop']);
    expect(kubectlArgv.deletePod('web-1')).toEqual(['delete', 'pod', 'web-1', '--grace-period=0', '--force']);
    // kubectl logs -l prints only 10 lines per pod unless told otherwise
    expect(kubectlArgv.logs('app=web', '2026-01-01T00:00:00.000Z')).toContain('--tail=-1');
    expect(recorded('kubectl-rollout-status-timeout.txt')).toContain('error: timed out waiting for the condition');
  });

  test('a target without a driver or capability names the setting that would give it', () => {
    const none = external({ DATABASE_URL: 'postgres://ro:pw@db.example:5432/shop' });
    expect(missingOf(none, 'db-stop')).toMatch(/DB_DRIVER is none/);
    expect(missingOf(none, 'app-reload')).toMatch(/APP_DRIVER is none/);
    expect(missingOf(none, 'db-partition-down')).toMatch(/TOXIPROXY_URL and TOXIPROXY_PROXY/);
    expect(none.migrateCheck.ok ? '' : none.migrateCheck.missing).toMatch(/MIGRATE_CHECK_COMMAND/);
    expect(none.disposableDatabaseUrl.ok ? '' : none.disposableDatabaseUrl.missing).toMatch(
      /ALLOW_DESTRUCTIVE_RESTORE_OF=db\.example:5432\/shop/,
    );
    expect(none.logs.store.ok ? '' : none.logs.store.missing).toMatch(/STORE_LOG_FILE/);
    const kube = external({
      DATABASE_URL: 'postgres://ro:pw@db.example:5432/shop',
      DB_DRIVER: 'kubectl',
      APP_DRIVER: 'kubectl',
      KUBE_NAMESPACE: 'shop',
    });
    expect(missingOf(kube, 'db-freeze')).toMatch(/DB_FREEZE_COMMAND and DB_UNFREEZE_COMMAND/);
    expect(missingOf(kube, 'db-stop')).toBe('(available)');
    expect(kube.logs.store.ok, 'kubectl reads the store log itself').toBe(true);
    const freezeByCommand = external({
      DATABASE_URL: 'postgres://ro:pw@db.example:5432/shop',
      DB_DRIVER: 'kubectl',
      KUBE_NAMESPACE: 'shop',
      DB_FREEZE_COMMAND: 'x',
      DB_UNFREEZE_COMMAND: 'y',
    });
    expect(missingOf(freezeByCommand, 'db-freeze'), 'a command fills the action the driver lacks').toBe('(available)');
    const cmd = external({ APP_DRIVER: 'command', APP_RELOAD_COMMAND: 'kill -HUP 1' });
    expect(missingOf(cmd, 'app-reload'), 'a reload that nothing can observe').toMatch(/APP_WORKERS_COMMAND.*or give APP_RELOAD_CHECK/);
    expect(missingOf(cmd, 'app-kill-worker')).toMatch(/APP_KILL_WORKER_COMMAND is not set/);
    expect(missingOf(external({ APP_DRIVER: 'command', APP_RELOAD_COMMAND: 'kill -HUP 1', APP_RELOAD_CHECK: 'true' }), 'app-reload')).toBe(
      '(available)',
    );
    const noDb = external({ DB_DRIVER: 'systemd', DB_SYSTEMD_UNIT: 'postgresql@15-main' });
    expect(missingOf(noDb, 'db-stop'), 'a database fault is proven on the database itself').toMatch(/needs DATABASE_URL/);
  });

  test('reads a Toxiproxy listen address and a token user id', () => {
    expect(listenAddress('127.0.0.1:26000', 'http://toxiproxy:8474')).toEqual({ host: '127.0.0.1', port: 26000 });
    expect(listenAddress('[::]:26000', 'http://toxiproxy:8474')).toEqual({ host: 'toxiproxy', port: 26000 });
    expect(listenAddress('0.0.0.0:5433', 'http://10.0.0.5:8474')).toEqual({ host: '10.0.0.5', port: 5433 });
    const token = (claims: object) => `e30.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.sig`;
    expect(userIdOfToken(token({ user_id: 42, token_type: 'access' }))).toBe(42);
    expect(() => userIdOfToken(token({ sub: 'x' }))).toThrow(/no user_id claim/);
  });
});

test.describe('driver configuration', { tag: '@self' }, () => {
  const problems = (env: Record<string, string>) => {
    try {
      loadConfig({ TARGET: 'external', BASE_URL: 'http://127.0.0.1:8000', JWT_TOKEN: 'a.b.c', ...env }, { checkFiles: false });
      return '';
    } catch (error) {
      return (error as Error).message;
    }
  };

  test('should name the key of every bad driver setting', () => {
    expect(problems({ DB_DRIVER: 'ansible' })).toContain(
      'DB_DRIVER: expected "none", "command", "systemd", "compose", "kubectl", got "ansible"',
    );
    expect(problems({ DB_DRIVER: 'systemd' })).toContain('DB_SYSTEMD_UNIT: required by DB_DRIVER=systemd');
    expect(problems({ DB_DRIVER: 'systemd', DB_SYSTEMD_UNIT: 'postgresql' })).toMatch(
      /DB_SYSTEMD_UNIT: "postgresql" is Debian\/Ubuntu's umbrella unit, always "active \(exited\)".*postgresql@15-main/,
    );
    expect(problems({ APP_DRIVER: 'systemd' })).toContain('APP_SYSTEMD_UNIT: required by APP_DRIVER=systemd');
    expect(problems({ APP_DRIVER: 'compose' })).toContain('COMPOSE_PROJECT_NAME: required by the compose driver');
    expect(problems({ DB_DRIVER: 'kubectl' })).toContain('KUBE_NAMESPACE: required by the kubectl driver');
    expect(problems({ APP_DRIVER: 'kubectl', KUBE_NAMESPACE: 'shop', APP_KUBE_SELECTOR: 'not a selector' })).toContain(
      'APP_KUBE_SELECTOR: expected a label selector',
    );
    expect(problems({ DB_STOP_COMMAND: 'pg_ctlcluster 15 main stop' })).toContain(
      'DB_STOP_COMMAND: set DB_DRIVER (command, systemd, compose or kubectl) to use it',
    );
    expect(problems({ DB_DRIVER: 'command' })).toContain('DB_DRIVER=command: give at least one of DB_STOP_COMMAND');
    expect(problems({ DB_DRIVER: 'command', DB_STOP_COMMAND: 'x' })).toContain(
      'DB_START_COMMAND: required with DB_STOP_COMMAND (it reverts the fault)',
    );
    expect(problems({ APP_DRIVER: 'command', APP_SCALE_DOWN_COMMAND: 'x' })).toContain(
      'APP_SCALE_UP_COMMAND: required with APP_SCALE_DOWN_COMMAND',
    );
    expect(problems({ TOXIPROXY_URL: 'http://127.0.0.1:8474' })).toContain('TOXIPROXY_PROXY: required with TOXIPROXY_URL');
    expect(problems({ DATABASE_URL: 'postgres://a:b@db:5432/shop', BACKUP_DATABASE_URL: 'postgres://a:b@other:5432/shop' })).toContain(
      'BACKUP_DATABASE_URL: must reach the same database as DATABASE_URL (db:5432/shop), got other:5432/shop',
    );
    expect(problems({ DATABASE_URL: 'postgres://a:b@db:5432/shop', RESTORE_DATABASE_URL: 'postgres://o:c@db:5432/shop' })).toContain(
      'RESTORE_DATABASE_URL: only used with ALLOW_DESTRUCTIVE_RESTORE_OF',
    );
    expect(problems({ STORE_FLAWS: 'leaky_errors' })).toContain('STORE_FLAWS: switches flaws of the embedded reference store');
    const valid = loadConfig(
      {
        TARGET: 'external',
        BASE_URL: 'http://127.0.0.1:8000',
        JWT_TOKEN: 'a.b.c',
        DB_DRIVER: 'kubectl',
        APP_DRIVER: 'kubectl',
        KUBE_NAMESPACE: 'shop',
        KUBE_CONTEXT: 'staging',
      },
      { checkFiles: false },
    );
    expect(valid.external?.db).toMatchObject({ kind: 'kubectl', kubeStatefulSet: 'db', kubeSelector: 'app=db' });
    expect(valid.external?.app).toMatchObject({ kind: 'kubectl', kubeDeployment: 'web', kubeSelector: 'app=web' });
  });

  test('an embedded run ignores external settings left in .env', () => {
    const cfg = loadConfig({ ...readEnv(), TARGET: 'embedded', DB_DRIVER: 'systemd' }, { checkFiles: false });
    expect(cfg.external).toBeUndefined();
  });
});
