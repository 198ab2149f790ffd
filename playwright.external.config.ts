/**
 * npm run test:external: the suite against a store started outside it, through each fault driver
 * (e2e/external/drivers.spec.ts). Its checks are tests with reports of their own in
 * reports/external/checks/; each driver's suite run writes its reports in reports/external/<driver>/.
 */
import path from 'node:path';
import { defineConfig } from '@playwright/test';
import { config } from './helpers/config';
import { standardReporters } from './helpers/report/reporters';

const cfg = config();
const checks = path.join(cfg.reportsDir, 'external', 'checks');

export default defineConfig({
  testDir: './e2e/external',
  testMatch: 'drivers.spec.ts',
  outputDir: path.join(checks, 'test-output'),
  // one store outside the suite, up for the whole run: its faults reach every client, one run at a time
  globalSetup: './e2e/external/global-setup.ts',
  globalTeardown: './e2e/external/global-teardown.ts',
  workers: 1,
  fullyParallel: false,
  retries: 0,
  timeout: 600_000,
  forbidOnly: cfg.ci,
  reporter: [
    ...standardReporters(checks, path.join(checks, 'allure-results')),
    // last: no secret of the outside store (registered by the global setup) in these reports
    ['./helpers/report/secret-scan.ts', { outputDir: checks }],
  ],
  projects: [{ name: 'external-drivers' }],
});
