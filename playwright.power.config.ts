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
  // each case starts a stack of its own in a child run, one at a time: two at once (2.8 min against
  // 4.2) left a store that drops in-flight requests on reload green once (its old workers were idle
  // when told to stop on the busier machine), and a meta-test must not depend on luck
  workers: 1,
  globalTeardown: './e2e/power/teardown.ts',
  retries: 0,
  timeout: 240_000,
  forbidOnly: true,
  reporter: [
    ...standardReporters(path.join(cfg.reportsDir, 'power'), path.join(cfg.reportsDir, 'allure-results')),
    // the child runs scanned their own reports; this scans the meta-test's (the child logs it attached)
    ['./helpers/report/secret-scan.ts', { outputDir: path.join(cfg.reportsDir, 'power') }],
  ],
  projects: [{ name: 'power', testMatch: '**/*.spec.ts' }],
});
