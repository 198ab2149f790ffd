/**
 * What a configuration lets the suite do, before a run: every family and its tests, each marked
 * "runs" or "skips" with the setting that would make it run, from the same capabilities the tests ask
 * the target for (need(), requireDb(), faults.create()); and what each driver's commands need to be
 * allowed to do. Nothing here injects a fault or writes anything to the target.
 */
import type { FaultName } from './faults/catalog';
import type { Capability, Target } from './target';

export interface DoctorRow {
  readonly family: string;
  readonly test: string;
  /** undefined: it runs; else why it skips (the setting that would let it run) */
  readonly skips?: string;
}

type Need = (t: Target) => Capability<unknown> | Promise<Capability<unknown>>;
const ok: Capability<unknown> = { ok: true, value: undefined };
const cap = (v: boolean, missing: string): Capability<unknown> => (v ? ok : { ok: false, missing });

const database: Need = (t) =>
  cap(t.databaseUrl !== undefined, 'the target has no DATABASE_URL: database checks need read-only access to it');
const fault =
  (name: FaultName): Need =>
  (t) => {
    const f = t.fault(name);
    return f.ok ? ok : f;
  };
const user =
  (who: 'secondCustomer' | 'staff', setting: string): Need =>
  (t) =>
    cap(t.users[who] !== undefined, `${setting} not set: the test needs that user`);
const identity: Need = (t) => t.server.identity;
const statements: Need = async (t) => {
  if (!t.statementLog.ok) return t.statementLog;
  return cap(
    await t.statementLog.value.supported(),
    "TOXIPROXY_URL is a Toxiproxy: crash points need this suite's fault proxy (scripts/fault-proxy.ts)",
  );
};

const DB_FAULTS: ReadonlyArray<[FaultName, string]> = [
  ['db-stop', 'PostgreSQL stops'],
  ['db-crash', 'PostgreSQL crashes'],
  ['db-freeze', 'PostgreSQL freezes'],
  ['db-partition-down', 'the link goes down'],
  ['db-partition-blackhole', 'the link black-holes'],
  ['db-partition-reset-peer', 'every connection is reset'],
];

/** Each family's tests and what each needs of the target (the same capabilities the specs ask for). */
const FAMILIES: ReadonlyArray<{ family: string; tests: ReadonlyArray<{ test: string; needs: readonly Need[] }> }> = [
  {
    family: 'smoke',
    tests: [
      { test: 'the runbook health checks, 401 without a token, JSON errors', needs: [] },
      { test: 'the runbook order and invalid orders, checked in the database', needs: [database] },
      { test: 'an order filed under the token user', needs: [database, user('secondCustomer', 'STORE_USERNAME_2/STORE_PASSWORD_2')] },
      { test: "passwords and tokens out of the store's and PostgreSQL's logs", needs: [(t) => t.logs.store, (t) => t.logs.postgres] },
    ],
  },
  {
    family: 'db-outage',
    tests: [
      ...DB_FAULTS.map(([f, what]) => ({ test: `the runbook order when ${what}`, needs: [database, fault(f)] })),
      ...DB_FAULTS.map(([f, what]) => ({ test: `the ledger under concurrent writes when ${what}`, needs: [database, fault(f)] })),
      { test: 'one error envelope (stop, freeze, reset)', needs: [fault('db-stop'), fault('db-freeze'), fault('db-partition-reset-peer')] },
      { test: 'a lock on the orders table', needs: [database, fault('db-lock')] },
      {
        test: 'an idle restart of PostgreSQL',
        needs: [
          fault('db-stop'),
          async (t) => cap((await t.server.expectedWorkers()) !== undefined, 'STORE_WORKERS not set: every worker must be reached'),
        ],
      },
      { test: 'a slow link', needs: [fault('db-latency')] },
    ],
  },
  {
    family: 'app-restart',
    tests: [
      { test: 'graceful reload under load', needs: [database, identity, fault('app-reload')] },
      { test: 'one worker killed under load', needs: [database, identity, fault('app-kill-worker')] },
      { test: 'full restart under load', needs: [database, fault('app-restart')] },
      { test: 'zero-downtime re-exec under load', needs: [database, identity, fault('app-reexec')] },
      { test: 'scale down and up under load', needs: [database, identity, fault('app-scale-down')] },
    ],
  },
  {
    family: 'backup-restore',
    tests: [
      {
        test: 'dump, change, restore --clean (store running, stopped, with thousands of orders)',
        needs: [
          database,
          (t) => t.disposableDatabaseUrl,
          (t) => t.backup,
          (t) => t.migrateCheck,
          user('staff', 'STORE_STAFF_USERNAME/STORE_STAFF_PASSWORD'),
        ],
      },
      { test: 'a truncated dump stops in the scratch database', needs: [database, (t) => t.disposableDatabaseUrl, (t) => t.backup] },
      { test: 'a database not marked disposable is refused', needs: [database] },
    ],
  },
  { family: 'crashpoint', tests: [{ test: 'every crash point of the runbook order', needs: [database, statements] }] },
  { family: 'idempotency', tests: [{ test: 'concurrent retries with one key', needs: [database] }] },
  {
    family: 'security',
    tests: [
      { test: 'forged, unsigned and foreign-key tokens', needs: [database] },
      { test: 'expired tokens, inactive and deleted users', needs: [database, (t) => t.jwtSigningKey, (t) => t.disposableDatabaseUrl] },
      { test: "another customer's order", needs: [user('secondCustomer', 'STORE_USERNAME_2/STORE_PASSWORD_2')] },
      { test: 'server-owned fields (orders; products where the database is disposable)', needs: [database] },
      { test: 'the login limit counted exactly, X-Forwarded-For, padded names', needs: [(t) => t.rateLimits.login] },
      { test: 'logins per address (spraying)', needs: [(t) => t.rateLimits.loginAddress] },
      { test: 'refreshes per user', needs: [(t) => t.rateLimits.refresh] },
      { test: 'malformed input, body limits, the fuzz family', needs: [] },
    ],
  },
];

/** Every family's tests on this target: runs, or skips naming the setting. */
export async function familyTable(target: Target): Promise<DoctorRow[]> {
  const rows: DoctorRow[] = [];
  for (const { family, tests } of FAMILIES) {
    for (const { test, needs } of tests) {
      let skips: string | undefined;
      for (const need of needs) {
        const c = await need(target);
        if (!c.ok) {
          skips = c.missing;
          break;
        }
      }
      rows.push({ family, test, ...(skips ? { skips } : {}) });
    }
  }
  return rows;
}

/** What each driver's commands must be allowed to do on the machine or cluster it acts on. */
export const DRIVER_PRIVILEGES: Readonly<Record<string, string>> = {
  local: 'the embedded stack: root or the user that started it (PostgreSQL runs as the postgres user)',
  command: 'whatever your own commands need: they run as the user of the test run, through sh -c',
  systemd: 'root, or polkit rights to start, stop, kill, freeze and thaw the two units (systemctl), and to read their journal (journalctl)',
  compose: 'membership in the docker group (or root): docker compose stop, start, pause, unpause, kill, ps, logs on the project',
  kubectl:
    'RBAC in the namespace: get, list and delete pods; get and patch (scale) statefulsets and deployments; rollout restart and status; pods/log',
};

/** The table as Markdown. */
export function doctorTable(rows: readonly DoctorRow[]): string {
  const runs = rows.filter((r) => !r.skips).length;
  return [
    `${runs} of ${rows.length} tests would run; each skip names the setting that would let it run.`,
    '',
    '| family | test | verdict |',
    '|---|---|---|',
    ...rows.map((r) => `| ${r.family} | ${r.test} | ${r.skips ? `skips: ${r.skips}` : 'runs'} |`),
  ].join('\n');
}

/** A skip's reason names the setting that would let the test run: an environment variable (LOGIN_RATE_LIMIT). */
export const namesSetting = (reason: string): boolean => /\b[A-Z][A-Z0-9]*_[A-Z0-9_]+\b/.test(reason);

/** The rows of a printed doctor table (doctorTable), and the skips among them that name no setting. */
export function readDoctorTable(text: string): { rows: string[]; skips: string[]; unnamed: string[] } {
  const rows = text.split('\n').filter((l) => /^\| (?!family \||---)/.test(l));
  const skips = rows.filter((l) => l.includes('| skips:'));
  return { rows, skips, unnamed: skips.filter((l) => !namesSetting(l)) };
}
