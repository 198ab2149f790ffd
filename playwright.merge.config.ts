/**
 * `npx playwright merge-reports --config playwright.merge.config.ts <blob folder>`: the cells of a CI
 * matrix as one Playwright HTML report and one resilience summary (reports/).
 */
import path from 'node:path';
import { defineConfig } from '@playwright/test';
import { PROJECT_ROOT } from './helpers/paths';

const reports = path.join(PROJECT_ROOT, 'reports');

export default defineConfig({
  testDir: './e2e',
  reporter: [
    ['html', { outputFolder: path.join(reports, 'html'), open: 'never' }],
    ['./helpers/report/resilience-reporter.ts', { outputDir: reports }],
  ],
});
