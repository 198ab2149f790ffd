/** The reporters every run writes into a reports folder (the main suite and the meta-test share them). */
import path from 'node:path';
import type { ReporterDescription } from '@playwright/test';

/** list, HTML, JUnit, JSON into dir; Allure results into allureDir. */
export function standardReporters(dir: string, allureDir: string, environmentInfo: Record<string, string> = {}): ReporterDescription[] {
  return [
    // first: masks secrets in errors before any other reporter sees them
    ['./helpers/report/redacting-reporter.ts'],
    ['list'],
    ['html', { outputFolder: path.join(dir, 'html'), open: 'never' }],
    ['junit', { outputFile: path.join(dir, 'junit.xml') }],
    ['json', { outputFile: path.join(dir, 'results.json') }],
    ['allure-playwright', { resultsDir: allureDir, suiteTitle: true, environmentInfo }],
  ];
}
