import { PG_MAJORS, clientTooOld, defaultServerBin, toolMajor } from '../../helpers/config/pg-servers';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { expect, test } from './support/test';
import { ConfigError, EPHEMERAL_PORT_START, KNOWN_FLAWS, childEnv, laneConfig, loadConfig, readEnv } from '../../helpers/config';
import { PLAYWRIGHT_CLI, PROJECT_ROOT, REFERENCE_STORE_DIR } from '../../helpers/paths';

const problemsOf = (env: Record<string, string>) => {
  try {
    loadConfig(env, { checkFiles: false });
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).message;
  }
  throw new Error('expected a ConfigError');
};

test.describe('config', { tag: '@self' }, () => {
  test('should default to the embedded target with 3 gunicorn workers on ports below the ephemeral range', () => {
    const cfg = loadConfig({}, { checkFiles: false });
    expect(cfg.target).toBe('embedded');
    expect(cfg.embedded.server).toBe('gunicorn');
    expect(cfg.embedded.workers).toBe(3);
    expect(cfg.embedded.flaws).toEqual([]);
    expect(cfg.embedded.python).toBe('/usr/bin/python3');
    expect(cfg.embedded.portRange.max).toBeLessThan(EPHEMERAL_PORT_START);
    expect(cfg.embedded.portRange.min, 'the machine cluster on 5432 is out of range').toBeGreaterThan(5432);
    expect(Object.isFrozen(cfg) && Object.isFrozen(cfg.embedded) && Object.isFrozen(cfg.embedded.flaws)).toBe(true);
  });

  test('should name the variable and what it accepts for each bad value', () => {
    const message = problemsOf({
      STORE_WORKERS: 'abc',
      STORE_SERVER: 'waitress',
      STORE_FLAWS: 'non_atomic_orders,made_up',
      STACK_PORT_RANGE: '30000-40000',
      TARGET: 'cloud',
    });
    expect(message).toContain('STORE_WORKERS: expected an integer from 1 to 32, got "abc"');
    expect(message).toContain('STORE_SERVER: expected "gunicorn" or "uvicorn", got "waitress"');
    expect(message).toContain('STORE_FLAWS: expected a comma-separated list of:');
    expect(message).toContain('"non_atomic_orders,made_up"');
    expect(message).toMatch(/STACK_PORT_RANGE: .*ephemeral range/);
    expect(message).toContain('TARGET: expected "embedded" or "external", got "cloud"');
  });

  test('should require a URL and credentials or a token for an external target', () => {
    expect(problemsOf({ TARGET: 'external' })).toContain('BASE_URL: required when TARGET=external');
    const bad = problemsOf({ TARGET: 'external', BASE_URL: 'not a url', STORE_USERNAME: 'u' });
    expect(bad).toContain('BASE_URL: expected an http(s) URL');
    expect(bad).toContain('STORE_PASSWORD: required together with STORE_USERNAME');
    expect(problemsOf({ TARGET: 'external', BASE_URL: 'http://127.0.0.1:8000', DATABASE_URL: 'mysql://x' })).toContain(
      'DATABASE_URL: expected a postgres:// URL',
    );
    const ok = loadConfig({ TARGET: 'external', BASE_URL: 'http://127.0.0.1:8000/', JWT_TOKEN: 'aaa.bbb.ccc' }, { checkFiles: false });
    expect(ok.external?.baseUrl).toBe('http://127.0.0.1:8000');
  });

  test('should give each lane a stack of its own, and refuse lanes on one reused stack or one deployment', () => {
    const cfg = loadConfig({ STACK_LANES: '2', STACK_NAME: 'run' }, { checkFiles: false });
    expect(cfg.embedded.lanes).toBe(2);
    expect(laneConfig(cfg, 0).embedded.stackDir).toBe(cfg.embedded.stackDir);
    expect(laneConfig(cfg, 1).embedded.stackDir).toBe(`${cfg.embedded.stackDir}-lane1`);
    expect(path.basename(laneConfig(cfg, 1).embedded.stackDir), 'a sibling under STACK_ROOT').toBe('run-lane1');
    // one reused stack, one deployment: one lane, by default, and a clear refusal of more
    expect(loadConfig({ STACK_REUSE: '1' }, { checkFiles: false }).embedded.lanes).toBe(1);
    expect(problemsOf({ STACK_REUSE: '1', STACK_LANES: '2' })).toContain(
      'STACK_LANES: 2 lanes need 2 stacks, and STACK_REUSE=1 reuses one',
    );
    const external = { TARGET: 'external', BASE_URL: 'http://127.0.0.1:8000', JWT_TOKEN: 'aaa.bbb.ccc' };
    expect(loadConfig(external, { checkFiles: false }).embedded.lanes).toBe(1);
    expect(problemsOf({ ...external, STACK_LANES: '2' })).toContain('STACK_LANES: an external target is one deployment');
    expect(problemsOf({ STACK_LANES: '0' })).toContain('STACK_LANES: expected an integer from 1 to 8');
  });

  test('should report a missing interpreter and PostgreSQL binaries for the embedded stack', () => {
    let message = '';
    try {
      loadConfig({ PYTHON: '/nonexistent/python3', PG_BIN: '/nonexistent/bin' });
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toContain('PYTHON: /nonexistent/python3 does not exist');
    expect(message).toContain('PG_BIN: /nonexistent/bin does not hold initdb, pg_ctl, postgres');
  });

  test('should name the PostgreSQL majors it runs, and refuse a server folder of another major than PG_VERSION', () => {
    const problems = (env: Record<string, string>) => {
      try {
        loadConfig(env);
        return '';
      } catch (error) {
        return (error as Error).message;
      }
    };
    expect(problems({ PG_VERSION: '12' })).toContain(`PG_VERSION: expected a PostgreSQL major: ${PG_MAJORS.join(', ')}, got "12"`);
    const debian = defaultServerBin();
    test.skip(!debian, 'no Debian PostgreSQL server here');
    const major = toolMajor(debian!, 'postgres')!;
    const other = PG_MAJORS.find((m) => m !== major)!;
    expect(problems({ PG_VERSION: String(other), PG_BIN: debian! })).toContain(
      `PG_BIN: ${debian} holds PostgreSQL ${major}, not PG_VERSION=${other}`,
    );
    expect(problems({ PG_CLIENT_BIN: '/nonexistent/client' })).toContain(
      'PG_CLIENT_BIN: /nonexistent/client does not hold pg_dump and pg_restore',
    );
    // a client older than the server: the backup family is told which client it needs
    expect(clientTooOld(debian!, major + 1)).toBe(
      `pg_dump ${major} (${debian}) cannot dump PostgreSQL ${major + 1}: set PG_CLIENT_BIN to a folder with pg_dump and pg_restore ${major + 1} or newer (Debian/Ubuntu: postgresql-client-${major + 1} from apt.postgresql.org)`,
    );
    expect(clientTooOld(debian!, major - 2)).toBeUndefined();
  });

  test('should know exactly the flaws the reference store knows', () => {
    const python = loadConfig(readEnv(), { checkFiles: false }).embedded.python;
    const out = spawnSync(python, ['-c', 'from storeproject.flaws import KNOWN_FLAWS; print(",".join(sorted(KNOWN_FLAWS)))'], {
      cwd: REFERENCE_STORE_DIR,
      encoding: 'utf8',
    });
    expect(out.status, out.stderr).toBe(0);
    expect(out.stdout.trim().split(',')).toEqual([...KNOWN_FLAWS].sort());
  });

  test('should stop `playwright test` before anything starts when a value is bad', () => {
    const stackRoot = fs.mkdtempSync(path.join('/tmp', 'sr-badcfg-'));
    const run = spawnSync(process.execPath, [PLAYWRIGHT_CLI, 'test', '--project=smoke'], {
      cwd: PROJECT_ROOT,
      encoding: 'utf8',
      timeout: 60_000,
      env: childEnv({
        TARGET: 'embedded',
        STORE_WORKERS: 'three',
        STACK_ROOT: stackRoot,
        REPORTS_DIR: test.info().outputPath('child-reports'),
      }),
    });
    const output = `${run.stdout}\n${run.stderr}`;
    expect(run.status, output).not.toBe(0);
    expect(output).toContain('STORE_WORKERS: expected an integer from 1 to 32, got "three"');
    expect(fs.readdirSync(stackRoot), 'no stack folder was created').toEqual([]);
    fs.rmSync(stackRoot, { recursive: true, force: true });
  });

  test('should refuse --workers other than the lanes before anything starts', () => {
    const stackRoot = fs.mkdtempSync(path.join('/tmp', 'sr-badcfg-'));
    const run = spawnSync(process.execPath, [PLAYWRIGHT_CLI, 'test', '--project=smoke', '--workers=3'], {
      cwd: PROJECT_ROOT,
      encoding: 'utf8',
      timeout: 60_000,
      env: childEnv({ TARGET: 'embedded', STACK_LANES: '2', STACK_ROOT: stackRoot, REPORTS_DIR: test.info().outputPath('child-reports') }),
    });
    const output = `${run.stdout}\n${run.stderr}`;
    expect(run.status, output).not.toBe(0);
    expect(output).toContain('--workers=3: the workers are the lanes (2, STACK_LANES); set STACK_LANES instead of --workers');
    expect(
      fs.readdirSync(stackRoot).filter((f) => !f.startsWith('report-secrets')),
      'no stack folder was created',
    ).toEqual([]);
    fs.rmSync(stackRoot, { recursive: true, force: true });
  });

  test('should stop `playwright test` before any fault when a driver setting is bad', () => {
    const run = spawnSync(process.execPath, [PLAYWRIGHT_CLI, 'test', '--project=db-outage'], {
      cwd: PROJECT_ROOT,
      encoding: 'utf8',
      timeout: 60_000,
      // nothing listens at BASE_URL: had the run started, global setup would fail on it instead
      env: childEnv({
        TARGET: 'external',
        BASE_URL: 'http://127.0.0.1:9',
        JWT_TOKEN: 'a.b.c',
        DB_DRIVER: 'systemd',
        APP_DRIVER: 'compose',
        REPORTS_DIR: test.info().outputPath('child-reports'),
      }),
    });
    const output = `${run.stdout}\n${run.stderr}`;
    expect(run.status, output).not.toBe(0);
    expect(output).toContain('Invalid configuration (nothing was started)');
    expect(output).toContain('DB_SYSTEMD_UNIT: required by DB_DRIVER=systemd');
    expect(output).toContain('COMPOSE_PROJECT_NAME: required by the compose driver');
    expect(output, 'global setup never ran').not.toContain('preflight');
  });
});
