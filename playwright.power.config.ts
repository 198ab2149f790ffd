/** The meta-test (npm run test:power): each flaw of the reference store must turn its test red. */
import path from 'node:path';
import { defineConfig } from '@playwright/test';
import { config } from './helpers/config';
import { standardReporters } from './helpers/report/reporters';

const cfg = config();
const reports = (name: string) => path.join(cfg.reportsDir, 'power', name);

export default defineConfig({
  testDir: './e2e/power',
  outputDir: reports('test-output'),
  // each case starts a stack of its own in a child run, two at a time (2.8 min against 4.2); a case
  // that judges timing under load runs alone (power.spec.ts: slot): at once, a reload once found idle
  // workers on the busier machine and a store that drops in-flight requests went green
  workers: 2,
  fullyParallel: true,
  globalTeardown: './e2e/power/teardown.ts',
  retries: 0,
  timeout: 240_000,
  forbidOnly: cfg.ci,
  reporter: [
    // Allure results of its own (report:allure reads both folders): the suite's environment stays the suite's
    ...standardReporters(path.join(cfg.reportsDir, 'power'), path.join(cfg.reportsDir, 'power', 'allure-results')),
    // the child runs scanned their own reports; this scans the meta-test's (the child logs it attached)
    ['./helpers/report/secret-scan.ts', { outputDir: path.join(cfg.reportsDir, 'power') }],
  ],
  projects: [{ name: 'power', testMatch: '**/*.spec.ts' }],
});
