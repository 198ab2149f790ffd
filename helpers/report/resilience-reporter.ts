/**
 * A Playwright reporter that gathers every test's resilience figures (the "resilience-metrics"
 * attachments), prints them at the end of the run and writes reports/resilience-summary.{json,md,html}.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { FullResult, Reporter, TestCase, TestResult } from '@playwright/test/reporter';
import { METRICS_ATTACHMENT } from './metrics';
import { cellOf } from './reporters';
import { POOLED_FIGURES, powerStatement, type RepeatedTest } from './repeats';
import { renderSummaryHtml, type SummaryRow } from './summary-html';

/** The attachment name of a load timeline picture (db-outage, app-restart). */
const TIMELINE_ATTACHMENT = 'timeline.svg';

export default class ResilienceReporter implements Reporter {
  private readonly rows: SummaryRow[] = [];
  private readonly outDir: string;
  /** test time per project (family), printed at the end: where the suite's time goes */
  private readonly secondsByFamily = new Map<string, number>();
  private startedAt = Date.now();
  /** every test's runs (more than one with --repeat-each or REPEAT), with the counts pooled over them */
  private readonly repeats = new Map<
    string,
    { test: string; project: string; runs: number; failed: number; pooled: Record<string, number> }
  >();

  constructor(options: { outputDir?: string } = {}) {
    this.outDir = options.outputDir ?? 'reports';
  }

  printsToStdio(): boolean {
    return true;
  }

  onBegin(): void {
    this.startedAt = Date.now();
  }

  onTestEnd(test: TestCase, result: TestResult): void {
    const family = test.parent.project()?.name ?? 'unknown';
    this.secondsByFamily.set(family, (this.secondsByFamily.get(family) ?? 0) + result.duration / 1000);
    // a CI matrix cell (merged reports): the same test in two cells is two tests, never two repeats
    const cell = cellOf(test.tags);
    const project = cell ? `${family} [${cell}]` : family;
    // repeats of one test share its title path and project; a skip is not a run
    const key = `${project}\n${test.titlePath().slice(1).join(' > ')}`;
    const rep = this.repeats.get(key) ?? { test: test.title, project, runs: 0, failed: 0, pooled: {} };
    this.repeats.set(key, rep);
    if (result.status !== 'skipped') {
      rep.runs++;
      if (result.status !== 'passed') rep.failed++;
    }
    const timeline = result.attachments.find((a) => a.name === TIMELINE_ATTACHMENT);
    const timelineSvg =
      timeline?.body?.toString('utf8') ??
      (timeline?.path && fs.existsSync(timeline.path) ? fs.readFileSync(timeline.path, 'utf8') : undefined);
    for (const a of result.attachments) {
      if (a.name !== METRICS_ATTACHMENT || !a.body) continue;
      const m = JSON.parse(a.body.toString('utf8')) as SummaryRow;
      const scenario = cell ? `${m.scenario} [${cell}]` : m.scenario;
      this.rows.push({ ...m, scenario, test: test.title, testId: test.id, status: result.status, timelineSvg });
      for (const f of POOLED_FIGURES) {
        const v = m.figures[f];
        if (typeof v === 'number') rep.pooled[f] = (rep.pooled[f] ?? 0) + v;
      }
    }
  }

  onEnd(result: FullResult): void {
    this.printTimes();
    if (this.rows.length === 0) return;
    fs.mkdirSync(this.outDir, { recursive: true });
    const scenarios = this.rows.map(({ timelineSvg, ...row }) => ({ ...row, timeline: timelineSvg !== undefined }));
    const repeated: Array<RepeatedTest & { statement: string }> = [...this.repeats.values()]
      .filter((r) => r.runs > 1)
      .map((r) => ({ ...r, statement: powerStatement(r) }));
    fs.writeFileSync(
      path.join(this.outDir, 'resilience-summary.json'),
      JSON.stringify({ status: result.status, scenarios, repeated }, null, 2),
    );
    fs.writeFileSync(
      path.join(this.outDir, 'resilience-summary.html'),
      renderSummaryHtml({ runStatus: result.status, generatedAt: new Date(), htmlReport: 'html/index.html', rows: this.rows, repeated }),
    );
    const md = [
      this.markdown(),
      ...(repeated.length
        ? ['', '## Repeated tests: what the repeats prove', '', ...repeated.map((r) => `- **${r.test}** (${r.project}): ${r.statement}`)]
        : []),
    ].join('\n');
    fs.writeFileSync(path.join(this.outDir, 'resilience-summary.md'), md);
    process.stdout.write(`\nResilience figures (reports/resilience-summary.md)\n${md}\n`);
  }

  private printTimes(): void {
    if (this.secondsByFamily.size === 0) return;
    const total = [...this.secondsByFamily.values()].reduce((a, b) => a + b, 0);
    const parts = [...this.secondsByFamily].sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${v.toFixed(1)}`);
    const wall = (Date.now() - this.startedAt) / 1000;
    process.stdout.write(`\nTime by family (s of tests): ${parts.join(', ')}; tests ${total.toFixed(1)}, wall ${wall.toFixed(1)}\n`);
  }

  private markdown(): string {
    const fmt = (v: unknown) => (typeof v === 'number' ? (Number.isInteger(v) ? String(v) : v.toFixed(1)) : String(v));
    const lines = ['| scenario | status | figures | bounds |', '|---|---|---|---|'];
    for (const r of this.rows) {
      const figures = Object.entries(r.figures)
        .map(([k, v]) => `${k}=${fmt(v)}`)
        .join(', ');
      const bounds = Object.entries(r.bounds ?? {})
        .map(([k, v]) => `${k}<=${v}`)
        .join(', ');
      lines.push(`| ${r.scenario} | ${r.status} | ${figures} | ${bounds} |`);
    }
    return lines.join('\n');
  }
}
