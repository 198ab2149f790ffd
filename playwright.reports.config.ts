/**
 * The check of the reports in a real browser (npm run test:reports), run after a full run:
 * the Playwright HTML report, the Allure report and the resilience summary, in Debian's Chromium.
 * No stack: it reads what the run left in the reports folder.
 */
import path from 'node:path';
import { defineConfig } from '@playwright/test';
import { CHROMIUM, hasChromium } from './e2e/reports/chromium';
import { config } from './helpers/config';

const cfg = config();
const out = path.join(cfg.reportsDir, 'reports-check');

export default defineConfig({
  testDir: './e2e/reports',
  outputDir: path.join(out, 'test-output'),
  workers: 1,
  retries: 0,
  timeout: 120_000,
  expect: { timeout: 15_000 },
  forbidOnly: true,
  reporter: [['list'], ['json', { outputFile: path.join(out, 'results.json') }]],
  use: {
    browserName: 'chromium',
    viewport: { width: 1400, height: 900 },
    ...(hasChromium() ? { launchOptions: { executablePath: CHROMIUM } } : {}),
  },
  projects: [{ name: 'reports', testMatch: '**/*.spec.ts' }],
});
