import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { defineConfig } from '@playwright/test';
import { config } from './helpers/config';
import { CELL_TAG, listing, standardReporters } from './helpers/report/reporters';
import type { AppServerOption } from './e2e/fixtures';

// validates the whole configuration before anything starts: a bad value ends the run here
const cfg = config();
// every Allure result of a CI matrix cell carries the cell as a label (allure-playwright reads
// ALLURE_LABEL_*): the merged report shows each cell as an environment (allurerc.mjs)
if (cfg.ciCell) process.env.ALLURE_LABEL_cell = cfg.ciCell;

/** Versions of what the embedded store runs on, for the Allure environment (best effort, 2 s). */
function versions(): Record<string, string> {
  if (cfg.target === 'external') return {};
  const out = (file: string, args: string[]) => {
    const r = spawnSync(file, args, { encoding: 'utf8', timeout: 2_000 });
    return r.status === 0 ? r.stdout.trim() : 'unknown';
  };
  const py = out(cfg.embedded.python, [
    '-c',
    'import django, rest_framework, gunicorn; print(django.get_version(), rest_framework.VERSION, gunicorn.__version__)',
  ]).split(' ');
  return {
    postgresql: out(path.join(cfg.embedded.pgBin, 'pg_ctl'), ['--version']).replace(/^pg_ctl \(PostgreSQL\) /, ''),
    django: py[0] ?? 'unknown',
    drf: py[1] ?? 'unknown',
    gunicorn: py[2] ?? 'unknown',
  };
}
const reports = (name: string) => path.join(cfg.reportsDir, name);

export default defineConfig<AppServerOption>({
  testDir: './e2e',
  outputDir: reports('test-output'),
  globalSetup: './e2e/global-setup.ts',
  globalTeardown: './e2e/global-teardown.ts',
  // a fault reaches every client of its stack: each worker has a stack of its own (a lane,
  // STACK_LANES; an external deployment is one), its tests run one at a time, never retried
  workers: cfg.embedded.lanes,
  fullyParallel: false,
  retries: 0,
  // REPEAT=K (or --repeat-each=K): every test K times; the summary states what the K runs prove
  repeatEach: cfg.repeat,
  timeout: 90_000,
  expect: { timeout: 10_000 },
  // test.only is a mistake in CI, and a tool while working on a test
  forbidOnly: cfg.ci,
  // every test of a run against an external deployment carries @external in the reports, and every
  // test of a CI matrix cell its cell (@cell:pg16-uvicorn-2): merged, the cells stay apart
  ...(cfg.target === 'external' || cfg.ciCell
    ? { tag: [...(cfg.target === 'external' ? ['@external'] : []), ...(cfg.ciCell ? [`${CELL_TAG}${cfg.ciCell}`] : [])] }
    : {}),
  reporter: listing(process.argv)
    ? [['list']]
    : [
        ...standardReporters(
          cfg.reportsDir,
          reports('allure-results'),
          {
            target: cfg.target === 'external' ? `external ${cfg.external?.baseUrl}` : 'embedded',
            store_server: cfg.external?.server ?? cfg.embedded.server,
            store_workers: String(cfg.external ? (cfg.external.workers ?? 'counted') : cfg.embedded.workers),
            store_flaws: cfg.target === 'external' ? 'n/a' : cfg.embedded.flaws.join(',') || 'none',
            db_driver: cfg.external?.db.kind ?? 'local',
            app_driver: cfg.external?.app.kind ?? 'local',
            ...versions(),
          },
          cfg.ciCell,
        ),
        ['./helpers/report/resilience-reporter.ts', { outputDir: cfg.reportsDir }],
        // last: once every report is written, no secret and no live token may be in any of them
        ['./helpers/report/secret-scan.ts', { outputDir: cfg.reportsDir }],
      ],
  projects: [
    { name: 'self', testMatch: 'self/**/*.spec.ts' },
    { name: 'smoke', testMatch: 'smoke.spec.ts' },
    { name: 'db-outage', testMatch: /db-(outage(-ledger)?|envelope)\.spec\.ts/ },
    { name: 'app-restart', testMatch: 'app-restart.spec.ts' },
    { name: 'backup-restore', testMatch: /backup-(restore|checker)\.spec\.ts/ },
    { name: 'crashpoint', testMatch: 'crashpoint.spec.ts' },
    { name: 'idempotency', testMatch: 'idempotency.spec.ts' },
    { name: 'security', testMatch: /(security(-input|-throttle)?|fuzz)\.spec\.ts/ },
    // the same scenarios with gunicorn + uvicorn workers (ASGI), unless the run already is uvicorn
    // (an external target runs what it runs: STORE_SERVER says which)
    ...(cfg.target === 'embedded' && cfg.embedded.server === 'gunicorn'
      ? [
          { name: 'app-restart-uvicorn', testMatch: 'app-restart.spec.ts', use: { appServer: 'uvicorn' as const } },
          { name: 'crashpoint-uvicorn', testMatch: 'crashpoint.spec.ts', use: { appServer: 'uvicorn' as const } },
          // what any store must refuse, under the other server too (body limits, throttles, malformed input)
          { name: 'security-uvicorn', testMatch: /(security(-input|-throttle)?|fuzz)\.spec\.ts/, use: { appServer: 'uvicorn' as const } },
        ]
      : []),
  ],
});
