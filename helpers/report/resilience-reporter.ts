/**
 * A Playwright reporter that gathers every test's resilience figures (the "resilience-metrics"
 * attachments), prints them at the end of the run and writes reports/resilience-summary.{json,md}.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { FullResult, Reporter, TestCase, TestResult } from '@playwright/test/reporter';
import { METRICS_ATTACHMENT, type ScenarioMetrics } from './metrics';

interface Row extends ScenarioMetrics {
  readonly test: string;
  readonly status: string;
}

export default class ResilienceReporter implements Reporter {
  private readonly rows: Row[] = [];
  private readonly outDir: string;

  constructor(options: { outputDir?: string } = {}) {
    this.outDir = options.outputDir ?? 'reports';
  }

  printsToStdio(): boolean {
    return true;
  }

  onTestEnd(test: TestCase, result: TestResult): void {
    for (const a of result.attachments) {
      if (a.name !== METRICS_ATTACHMENT || !a.body) continue;
      const m = JSON.parse(a.body.toString('utf8')) as ScenarioMetrics;
      this.rows.push({ ...m, test: test.title, status: result.status });
    }
  }

  onEnd(result: FullResult): void {
    if (this.rows.length === 0) return;
    fs.mkdirSync(this.outDir, { recursive: true });
    fs.writeFileSync(path.join(this.outDir, 'resilience-summary.json'), JSON.stringify({ status: result.status, scenarios: this.rows }, null, 2));
    const md = this.markdown();
    fs.writeFileSync(path.join(this.outDir, 'resilience-summary.md'), md);
    process.stdout.write(`\nResilience figures (reports/resilience-summary.md)\n${md}\n`);
  }

  private markdown(): string {
    const fmt = (v: unknown) => (typeof v === 'number' ? (Number.isInteger(v) ? String(v) : v.toFixed(1)) : String(v));
    const lines = ['| scenario | status | figures | bounds |', '|---|---|---|---|'];
    for (const r of this.rows) {
      const figures = Object.entries(r.figures).map(([k, v]) => `${k}=${fmt(v)}`).join(', ');
      const bounds = Object.entries(r.bounds ?? {}).map(([k, v]) => `${k}<=${v}`).join(', ');
      lines.push(`| ${r.scenario} | ${r.status} | ${figures} | ${bounds} |`);
    }
    return lines.join('\n');
  }
}
