/**
 * Listed before allure-playwright: a run starts from an empty Allure results folder. allure-playwright
 * adds to what it finds, so the results of every earlier run piled up (4,208 results of 16 runs in
 * one folder, seen): the Allure report showed them as this run's retries, and the scan read them all.
 */
import fs from 'node:fs';
import type { Reporter } from '@playwright/test/reporter';

export default class AllureFreshReporter implements Reporter {
  constructor(private readonly opts: { resultsDir: string }) {}

  onBegin(): void {
    fs.rmSync(this.opts.resultsDir, { recursive: true, force: true });
  }

  printsToStdio(): boolean {
    return false;
  }
}
