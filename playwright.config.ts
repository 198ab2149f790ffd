import path from 'node:path';
import { defineConfig } from '@playwright/test';
import { config } from './helpers/config';
import { standardReporters } from './helpers/report/reporters';
import type { AppServerOption } from './e2e/fixtures';

// validates the whole configuration before anything starts: a bad value ends the run here
const cfg = config();
const reports = (name: string) => path.join(cfg.reportsDir, name);

export default defineConfig<AppServerOption>({
  testDir: './e2e',
  outputDir: reports('test-output'),
  globalSetup: './e2e/global-setup.ts',
  globalTeardown: './e2e/global-teardown.ts',
  // one stack, faults that affect every client: tests run one at a time, and never retried
  workers: 1,
  fullyParallel: false,
  retries: 0,
  timeout: 90_000,
  expect: { timeout: 10_000 },
  forbidOnly: true,
  // every test of a run against an external deployment carries @external in the reports
  ...(cfg.target === 'external' ? { tag: '@external' } : {}),
  reporter: [
    ...standardReporters(cfg.reportsDir, reports('allure-results'), {
      target: cfg.target === 'external' ? `external ${cfg.external?.baseUrl}` : 'embedded',
      store_server: cfg.external?.server ?? cfg.embedded.server,
      store_workers: String(cfg.external ? (cfg.external.workers ?? 'counted') : cfg.embedded.workers),
      store_flaws: cfg.target === 'external' ? 'n/a' : cfg.embedded.flaws.join(',') || 'none',
      db_driver: cfg.external?.db.kind ?? 'local',
      app_driver: cfg.external?.app.kind ?? 'local',
    }),
    ['./helpers/report/resilience-reporter.ts', { outputDir: cfg.reportsDir }],
    // last: once every report is written, no secret and no live token may be in any of them
    ['./helpers/report/secret-scan.ts', { outputDir: cfg.reportsDir }],
  ],
  projects: [
    { name: 'self', testMatch: 'self/**/*.spec.ts' },
    { name: 'smoke', testMatch: 'smoke.spec.ts' },
    { name: 'db-outage', testMatch: 'db-outage.spec.ts' },
    { name: 'app-restart', testMatch: 'app-restart.spec.ts' },
    { name: 'backup-restore', testMatch: 'backup-restore.spec.ts' },
    { name: 'crashpoint', testMatch: 'crashpoint.spec.ts' },
    { name: 'idempotency', testMatch: 'idempotency.spec.ts' },
    { name: 'security', testMatch: 'security.spec.ts' },
    // the same scenarios with gunicorn + uvicorn workers (ASGI), unless the run already is uvicorn
    // (an external target runs what it runs: STORE_SERVER says which)
    ...(cfg.target === 'embedded' && cfg.embedded.server === 'gunicorn'
      ? [
          { name: 'app-restart-uvicorn', testMatch: 'app-restart.spec.ts', use: { appServer: 'uvicorn' as const } },
          { name: 'crashpoint-uvicorn', testMatch: 'crashpoint.spec.ts', use: { appServer: 'uvicorn' as const } },
        ]
      : []),
  ],
});
