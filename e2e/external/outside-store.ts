/**
 * A store started outside the suite, as a user's staging deployment would be: Debian's own
 * PostgreSQL tooling (pg_createcluster, pg_ctlcluster) on another port, a copy of the reference
 * store in another folder under uvicorn workers (2) with a pidfile, users other than the seed's
 * (and other ids), an owner role and a read-only role, a Toxiproxy-compatible fault proxy between
 * the store and PostgreSQL, and the deployment's own ops scripts. `npm run test:external` tests it
 * through every driver; the test doubles of systemctl, docker and kubectl act on it.
 *
 * Over 250 lines: a whole deployment set up and torn down in order (cluster, roles, store copy,
 * proxy, ops scripts), read top to bottom as a runbook of its own.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { healthStatus } from '../../helpers/api/token';
import { childEnv, newestPgBin } from '../../helpers/config';
import { PROJECT_ROOT, REFERENCE_STORE_DIR } from '../../helpers/paths';
import { runCommand } from '../../helpers/stack/command';
import { findFreePort } from '../../helpers/stack/ports';
import { childPids, isAlive, pidsWithMarker, readPidFile, signalIfOurs, waitForExit } from '../../helpers/stack/processes';
import { ProxyProcess } from '../../helpers/stack/proxy-process';
import { waitUntil } from '../../helpers/wait';
import type { DoublesConfig } from './doubles/lib';

export const CLUSTER = 'srexternal';
const PORTS = { min: 24000, max: 26999 };
const secret = () => randomBytes(15).toString('base64url');

export interface OutsideStoreState {
  readonly dir: string;
  readonly pgVersion: string;
  readonly cluster: string;
  readonly dataDir: string;
  readonly pgLogFile: string;
  readonly pgPort: number;
  readonly storePort: number;
  readonly proxyPort: number;
  readonly controlPort: number;
  readonly storeDir: string;
  readonly pidFile: string;
  readonly storeLogFile: string;
  readonly python: string;
  readonly ownerPassword: string;
  readonly readerPassword: string;
  readonly secretKey: string;
  readonly users: { readonly customer: Cred; readonly secondCustomer: Cred; readonly staff: Cred };
}
interface Cred {
  readonly username: string;
  readonly password: string;
}

// a master started with setsid is reparented to PID 1, which may reap it seconds late (measured 1.3 s
// here): `kill -0` on its zombie succeeds, so "alive" means present and not a zombie
const ALIVE = 'alive() { st=$(ps -o stat= -p "$1" 2>/dev/null) && [ "${st#Z}" = "$st" ]; }';

// the SQL goes on stdin: a role's password in argv would be in every `ps` on the machine
const psqlArgv = (port: number, db: string) => [
  '-u',
  'postgres',
  '--',
  'psql',
  '-X',
  '-q',
  '-v',
  'ON_ERROR_STOP=1',
  '-p',
  String(port),
  '-d',
  db,
];

/** The outside store: start with up(), always end with down(). */
export class OutsideStore {
  private constructor(
    readonly s: OutsideStoreState,
    private readonly proxy: ProxyProcess,
  ) {}

  get baseUrl(): string {
    return `http://127.0.0.1:${this.s.storePort}`;
  }
  url(role: 'shop_owner' | 'shop_reader', port = this.s.pgPort): string {
    const pw = role === 'shop_owner' ? this.s.ownerPassword : this.s.readerPassword;
    return `postgres://${role}:${pw}@127.0.0.1:${port}/shop`;
  }
  /** the statement log's token of the store's fault proxy (TOXIPROXY_TOKEN_FILE) */
  get proxyTokenFile(): string {
    return this.proxy.tokenFile;
  }

  get controlUrl(): string {
    return `http://127.0.0.1:${this.s.controlPort}`;
  }

  /** The store's environment (settings come from the environment). */
  storeEnv(): Record<string, string> {
    return {
      DJANGO_SETTINGS_MODULE: 'storeproject.settings',
      PYTHONDONTWRITEBYTECODE: '1',
      PYTHONUNBUFFERED: '1',
      // through the fault proxy: the link faults act between the store and PostgreSQL
      STORE_DATABASE_URL: this.url('shop_owner', this.s.proxyPort),
      STORE_SECRET_KEY: this.s.secretKey,
      STORE_SERVER: 'uvicorn',
      STORE_WORKERS: '2',
      STORE_BIND: `127.0.0.1:${this.s.storePort}`,
      STORE_PIDFILE: this.s.pidFile,
      STORE_CACHE_DIR: path.join(this.s.dir, 'run', 'cache'),
      // Debian's cluster has TLS on: the store's path stays plaintext so that the fault proxy can
      // count its statements (crash points)
      STORE_DB_SSLMODE: 'disable',
    };
  }

  /** The gunicorn command line (the doubles' systemd unit, compose service and deployment run it). */
  storeCommand() {
    return {
      file: this.s.python,
      args: ['serve.py', '-c', 'gunicorn.conf.py', '--pid', this.s.pidFile],
      cwd: this.s.storeDir,
      env: this.storeEnv(),
    };
  }

  /** The store up() started, from its folder (another process of the same run: a test worker). */
  static open(dir: string): OutsideStore {
    const s = JSON.parse(fs.readFileSync(path.join(dir, 'state.json'), 'utf8')) as OutsideStoreState;
    return new OutsideStore(s, OutsideStore.proxyOf(s));
  }

  private static proxyOf(s: OutsideStoreState): ProxyProcess {
    return new ProxyProcess({
      dir: path.join(s.dir, 'proxy'),
      name: 'postgres',
      listenPort: s.proxyPort,
      upstreamPort: s.pgPort,
      controlPort: s.controlPort,
    });
  }

  static async up(log: (line: string) => void): Promise<OutsideStore> {
    const root = path.join('/tmp', 'sr-external');
    await OutsideStore.cleanLeftover(root, log);
    const pgBin = newestPgBin();
    if (!pgBin) throw new Error('no /usr/lib/postgresql/*/bin: install postgresql');
    const pgVersion = path.basename(path.dirname(pgBin));
    const dir = fs.mkdtempSync(`${root}-`);
    fs.writeFileSync(path.join(root + '.owner'), dir);
    const pgPort = await findFreePort(PORTS);
    const storePort = await findFreePort(PORTS, [pgPort]);
    const proxyPort = await findFreePort(PORTS, [pgPort, storePort]);
    const controlPort = await findFreePort(PORTS, [pgPort, storePort, proxyPort]);
    const storeDir = path.join(dir, 'store');
    fs.cpSync(REFERENCE_STORE_DIR, storeDir, { recursive: true, filter: (src) => !src.includes('__pycache__') });
    fs.mkdirSync(path.join(dir, 'run'), { recursive: true });
    const s: OutsideStoreState = {
      dir,
      pgVersion,
      cluster: CLUSTER,
      dataDir: `/var/lib/postgresql/${pgVersion}/${CLUSTER}`,
      pgLogFile: `/var/log/postgresql/postgresql-${pgVersion}-${CLUSTER}.log`,
      pgPort,
      storePort,
      proxyPort,
      controlPort,
      storeDir,
      pidFile: path.join(dir, 'run', 'gunicorn.pid'),
      storeLogFile: path.join(dir, 'run', 'store.log'),
      python: process.env.PYTHON ?? '/usr/bin/python3',
      ownerPassword: secret(),
      readerPassword: secret(),
      secretKey: secret() + secret(),
      users: {
        customer: { username: 'alice', password: secret() },
        secondCustomer: { username: 'bob', password: secret() },
        staff: { username: 'ops', password: secret() },
      },
    };
    fs.writeFileSync(path.join(dir, 'state.json'), JSON.stringify(s, null, 2), { mode: 0o600 });
    const store = new OutsideStore(s, OutsideStore.proxyOf(s));
    try {
      await store.provision(log);
    } catch (error) {
      await store.down(log);
      throw error;
    }
    return store;
  }

  private async provision(log: (line: string) => void): Promise<void> {
    const s = this.s;
    const t0 = Date.now();
    await runCommand(
      'pg_createcluster',
      [s.pgVersion, s.cluster, '--port', String(s.pgPort), '--start-conf=manual', '--', '--auth-host=scram-sha-256', '--auth-local=peer'],
      { timeoutMs: 120_000 },
    );
    await runCommand('pg_ctlcluster', [s.pgVersion, s.cluster, 'start'], { timeoutMs: 60_000 });
    const sql = (db: string, q: string) => runCommand('runuser', psqlArgv(s.pgPort, db), { timeoutMs: 60_000, input: q });
    await sql('postgres', `CREATE ROLE shop_owner LOGIN CREATEDB PASSWORD '${s.ownerPassword}'`);
    await sql('postgres', `CREATE ROLE shop_reader LOGIN PASSWORD '${s.readerPassword}'`);
    await sql('postgres', 'CREATE DATABASE shop OWNER shop_owner');
    await this.proxy.start();
    const manage = (args: string[], extra: Record<string, string> = {}) =>
      runCommand(s.python, ['manage.py', ...args], {
        cwd: s.storeDir,
        env: childEnv({ ...this.storeEnv(), STORE_DATABASE_URL: this.url('shop_owner'), ...extra }, ['PATH', 'LANG', 'HOME']),
        timeoutMs: 120_000,
      });
    await manage(['migrate', '--noinput', '-v', '0']);
    // two older accounts first: the suite's users do not have the seed's ids either
    await sql(
      'shop',
      'INSERT INTO auth_user (password, is_superuser, username, first_name, last_name, email, is_staff, is_active, date_joined) ' +
        "VALUES ('!', false, 'legacy-a', '', '', '', false, true, now()), ('!', false, 'legacy-b', '', '', '', false, true, now())",
    );
    await manage(['seed'], { STORE_SEED_PASSWORD: secret() });
    // other names, other passwords than the seed's
    const renames = [
      ['customer1', s.users.customer],
      ['customer2', s.users.secondCustomer],
      ['staff', s.users.staff],
    ] as const;
    const script = renames
      .map(
        ([from, to]) =>
          `u = User.objects.get(username=${JSON.stringify(from)}); u.username = ${JSON.stringify(to.username)}; u.set_password(${JSON.stringify(to.password)}); u.save()`,
      )
      .join('\n');
    await manage(['shell', '-c', `from django.contrib.auth.models import User\n${script}`]);
    // the read-only role: SELECT on every table and sequence (what pg_dump needs too)
    await sql(
      'shop',
      'GRANT USAGE ON SCHEMA public TO shop_reader; GRANT SELECT ON ALL TABLES IN SCHEMA public TO shop_reader; GRANT SELECT ON ALL SEQUENCES IN SCHEMA public TO shop_reader',
    );
    this.writeOpsScripts();
    await runCommand(path.join(s.dir, 'ops', 'start-store.sh'), [], { timeoutMs: 60_000 });
    await waitUntil(async () => (await healthStatus(this.baseUrl)) === 200, {
      description: `the outside store on ${this.baseUrl} to answer health 200`,
      timeoutMs: 30_000,
    });
    log(
      `outside store up in ${Date.now() - t0}ms: ${this.baseUrl} (uvicorn x2), PostgreSQL ${s.pgVersion}/${s.cluster} on 127.0.0.1:${s.pgPort}, fault proxy :${s.proxyPort}, in ${s.dir}`,
    );
  }

  /** The deployment's own ops scripts: what a team would have, and what the command driver runs. */
  private writeOpsScripts(): void {
    const s = this.s;
    const ops = path.join(s.dir, 'ops');
    fs.mkdirSync(ops, { recursive: true });
    const env = Object.entries(this.storeEnv())
      .map(([k, v]) => `export ${k}='${v}'`)
      .join('\n');
    const write = (name: string, body: string) =>
      fs.writeFileSync(path.join(ops, name), `#!/bin/sh\n# ${name}: ops script of the outside store\nset -eu\n${body}\n`, { mode: 0o700 });
    write(
      'start-store.sh',
      `${env}
${ALIVE}
pid=$(cat '${s.pidFile}' 2>/dev/null || true)
if [ -n "$pid" ] && alive "$pid"; then exit 0; fi
cd '${s.storeDir}'
setsid '${s.python}' serve.py -c gunicorn.conf.py --pid '${s.pidFile}' >>'${s.storeLogFile}' 2>&1 </dev/null &
# bounded: 30 s for the pidfile
i=0; while [ ! -s '${s.pidFile}' ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i+1)); done
[ -s '${s.pidFile}' ]`,
    );
    write(
      'stop-store.sh',
      `${ALIVE}
pid=$(cat '${s.pidFile}' 2>/dev/null || true)
[ -n "$pid" ] || exit 0
kill -TERM "$pid" 2>/dev/null || exit 0
# bounded: 30 s for the master to exit
i=0; while alive "$pid" && [ $i -lt 600 ]; do sleep 0.05; i=$((i+1)); done
! alive "$pid"`,
    );
    write(
      'reexec-store.sh',
      `${ALIVE}
# zero-downtime restart: USR2 starts a new master on the same socket (it writes the pidfile .2)
old=$(cat '${s.pidFile}')
kill -USR2 "$old"
want=\${STORE_WORKERS:-2}
# bounded: 30 s for the new master and its workers
i=0; new=''
while [ $i -lt 600 ]; do
  new=$(cat '${s.pidFile}.2' 2>/dev/null || true)
  if [ -n "$new" ] && alive "$new" && [ "$(pgrep -P "$new" | wc -l)" -ge "$want" ]; then break; fi
  sleep 0.05; i=$((i+1))
done
[ -n "$new" ] && alive "$new"
kill -TERM "$old"
i=0; while alive "$old" && [ $i -lt 600 ]; do sleep 0.05; i=$((i+1)); done
! alive "$old"`,
    );
    const postmaster = `$(head -1 '${s.dataDir}/postmaster.pid')`;
    write('freeze-db.sh', `pm=${postmaster}\nkill -STOP "$pm"\npkill -STOP -P "$pm" || true`);
    write('thaw-db.sh', `pm=${postmaster}\npkill -CONT -P "$pm" || true\nkill -CONT "$pm"`);
    write(
      'start-db.sh',
      `pg_ctlcluster ${s.pgVersion} ${s.cluster} status >/dev/null 2>&1 || pg_ctlcluster ${s.pgVersion} ${s.cluster} start`,
    );
  }

  /** Environment of the command driver: the ops scripts and plain signals by pidfile. */
  commandDriverEnv(): Record<string, string> {
    const s = this.s;
    const ops = path.join(s.dir, 'ops');
    const master = `$(cat '${s.pidFile}')`;
    return {
      DB_DRIVER: 'command',
      DB_STOP_COMMAND: `pg_ctlcluster ${s.pgVersion} ${s.cluster} stop -m fast`,
      DB_STOP_CHECK: `! pg_isready -q -h 127.0.0.1 -p ${s.pgPort} -t 1`,
      DB_START_COMMAND: path.join(ops, 'start-db.sh'),
      DB_START_CHECK: `pg_isready -q -h 127.0.0.1 -p ${s.pgPort} -t 1`,
      DB_CRASH_COMMAND: `pg_ctlcluster ${s.pgVersion} ${s.cluster} stop -m immediate`,
      DB_FREEZE_COMMAND: path.join(ops, 'freeze-db.sh'),
      DB_UNFREEZE_COMMAND: path.join(ops, 'thaw-db.sh'),
      APP_DRIVER: 'command',
      APP_RELOAD_COMMAND: `kill -HUP ${master}`,
      APP_STOP_COMMAND: path.join(ops, 'stop-store.sh'),
      APP_START_COMMAND: path.join(ops, 'start-store.sh'),
      APP_KILL_WORKER_COMMAND: `kill -KILL $(pgrep -P ${master} | head -1)`,
      APP_SCALE_DOWN_COMMAND: `kill -TTOU ${master}`,
      APP_SCALE_UP_COMMAND: `kill -TTIN ${master}`,
      APP_REEXEC_COMMAND: path.join(ops, 'reexec-store.sh'),
      APP_WORKERS_COMMAND: `pgrep -P ${master}`,
      APP_INSTANCE_COMMAND: `cat '${s.pidFile}'`,
      STORE_LOG_FILE: s.storeLogFile,
      PG_LOG_FILE: s.pgLogFile,
    };
  }

  /** The test doubles' configuration: which unit, compose service and workload is which process. */
  writeDoublesConfig(file: string, argvLog: string): void {
    const s = this.s;
    const config: DoublesConfig = {
      argvLog,
      stateDir: path.join(path.dirname(file), 'doubles-state'),
      services: {
        db: { kind: 'postgres', version: s.pgVersion, cluster: s.cluster, dataDir: s.dataDir, port: s.pgPort, logFile: s.pgLogFile },
        web: {
          kind: 'gunicorn',
          pidFile: s.pidFile,
          logFile: s.storeLogFile,
          command: this.storeCommand(),
          healthUrl: `${this.baseUrl}/api/health/`,
          workers: 2,
        },
      },
      systemd: { units: { [`postgresql@${s.pgVersion}-${s.cluster}`]: 'db', 'shop-web.service': 'web' } },
      compose: { project: 'shop', files: [path.join(s.dir, 'compose.yaml')], services: { db: 'db', web: 'web' } },
      kubernetes: {
        context: 'staging',
        namespace: 'shop',
        statefulsets: { db: { service: 'db', selector: 'app=db' } },
        deployments: { web: { service: 'web', selector: 'app=web' } },
      },
    };
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, JSON.stringify(config, null, 2), { mode: 0o600 });
    fs.rmSync(config.stateDir, { recursive: true, force: true });
    // the compose file this deployment would have (the docker double does not read it; a user's would)
    fs.writeFileSync(path.join(s.dir, 'compose.yaml'), fs.readFileSync(path.join(PROJECT_ROOT, 'e2e/external/examples/compose.yaml')));
  }

  /** Stops what up() started, by PID and cluster name, and removes the folder. */
  async down(log: (line: string) => void, keepLogsIn?: string): Promise<void> {
    const s = this.s;
    const done: string[] = [];
    const master = readPidFile(s.pidFile);
    if (master !== undefined && signalIfOurs(master, 'SIGCONT', s.pidFile)) {
      for (const w of childPids(master)) signalIfOurs(w, 'SIGCONT', s.pidFile);
      signalIfOurs(master, 'SIGTERM', s.pidFile);
      await waitForExit(master, 10_000);
      done.push(`stopped gunicorn ${master}`);
    }
    for (const pid of pidsWithMarker(s.pidFile)) signalIfOurs(pid, 'SIGKILL', s.pidFile);
    await this.proxy.stop();
    // the logs are evidence: kept next to the reports, the rest (store copy, secrets) removed
    if (keepLogsIn) {
      fs.mkdirSync(keepLogsIn, { recursive: true });
      for (const f of [s.storeLogFile, s.pgLogFile])
        if (fs.existsSync(f)) fs.copyFileSync(f, path.join(keepLogsIn, `outside-${path.basename(f)}`));
    }
    await dropCluster(s.pgVersion, s.cluster, s.dataDir, done);
    fs.rmSync(s.dir, { recursive: true, force: true });
    fs.rmSync('/tmp/sr-external.owner', { force: true });
    log(`outside store down: ${done.join('; ')}`);
  }

  /** A run killed before its down(): its cluster, processes and folder. */
  private static async cleanLeftover(root: string, log: (line: string) => void): Promise<void> {
    const marker = `${root}.owner`;
    const done: string[] = [];
    if (fs.existsSync(marker)) {
      const dir = fs.readFileSync(marker, 'utf8').trim();
      if (dir.startsWith(`${root}-`)) {
        for (const pid of pidsWithMarker(dir)) {
          signalIfOurs(pid, 'SIGCONT', dir);
          signalIfOurs(pid, 'SIGKILL', dir);
        }
        fs.rmSync(dir, { recursive: true, force: true });
        done.push(`removed ${dir}`);
      }
      fs.rmSync(marker, { force: true });
    }
    const pgBin = newestPgBin();
    if (pgBin) {
      const v = path.basename(path.dirname(pgBin));
      if (fs.existsSync(`/etc/postgresql/${v}/${CLUSTER}`)) await dropCluster(v, CLUSTER, `/var/lib/postgresql/${v}/${CLUSTER}`, done);
    }
    if (done.length) log(`cleaned a leftover outside store: ${done.join('; ')}`);
  }
}

/** Wakes a frozen postmaster tree, then pg_dropcluster --stop. */
async function dropCluster(version: string, cluster: string, dataDir: string, done: string[]): Promise<void> {
  const pm = readPidFile(path.join(dataDir, 'postmaster.pid'));
  if (pm !== undefined && isAlive(pm) && signalIfOurs(pm, 'SIGCONT', dataDir)) {
    for (const c of childPids(pm)) {
      try {
        process.kill(c, 'SIGCONT');
      } catch {
        // gone
      }
    }
  }
  if (fs.existsSync(`/etc/postgresql/${version}/${cluster}`)) {
    await runCommand('pg_dropcluster', [version, cluster, '--stop'], { timeoutMs: 60_000 });
    done.push(`dropped cluster ${version}/${cluster}`);
  }
}
