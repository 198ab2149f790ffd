/** The meta-test (npm run test:power): each flaw of the reference store must turn its test red. */
import path from 'node:path';
import { defineConfig } from '@playwright/test';
import { config } from './helpers/config';

const cfg = config();
const reports = (name: string) => path.join(cfg.reportsDir, 'power', name);

export default defineConfig({
  testDir: './e2e/power',
  outputDir: reports('test-output'),
  // each case starts a stack of its own in a child run; one at a time keeps fault timings honest
  workers: 1,
  retries: 0,
  timeout: 240_000,
  forbidOnly: true,
  reporter: [
    ['list'],
    ['html', { outputFolder: reports('html'), open: 'never' }],
    ['junit', { outputFile: reports('junit.xml') }],
    ['json', { outputFile: reports('results.json') }],
    ['allure-playwright', { resultsDir: path.join(cfg.reportsDir, 'allure-results'), suiteTitle: true }],
  ],
  projects: [{ name: 'power', testMatch: '**/*.spec.ts' }],
});
