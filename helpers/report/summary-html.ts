/**
 * reports/resilience-summary.html: the run's resilience figures as a page a person reads. One row
 * per scenario: its verdict, each figure next to the bound it was held to (over the bound in red),
 * the timeline picture as a thumbnail, and a link to the test in the Playwright HTML report.
 */
import type { ScenarioMetrics } from './metrics';

export interface SummaryRow extends ScenarioMetrics {
  readonly test: string;
  /** Playwright's test id: the HTML report opens the test at #?testId=... */
  readonly testId: string;
  readonly status: string;
  /** the test's timeline picture (SVG text), when it drew one */
  readonly timelineSvg?: string;
}

export interface SummaryPage {
  readonly runStatus: string;
  readonly generatedAt: Date;
  /** the Playwright HTML report, relative to the summary page */
  readonly htmlReport: string;
  readonly rows: readonly SummaryRow[];
  /** tests run more than once, with what their repeats prove */
  readonly repeated?: ReadonlyArray<{ test: string; project: string; runs: number; failed: number; statement: string }>;
}

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const fmt = (v: unknown) => (typeof v === 'number' ? (Number.isInteger(v) ? String(v) : v.toFixed(1)) : String(v));

/** A figure with its bound: within, or over (a figure named in bounds is held to <= bound). */
function figureCell(name: string, value: unknown, bound: number | undefined): string {
  if (bound === undefined) return `<li><span class="k">${esc(name)}</span> ${esc(fmt(value))}</li>`;
  const over = typeof value !== 'number' || value > bound;
  return `<li class="${over ? 'over' : 'within'}"><span class="k">${esc(name)}</span> ${esc(fmt(value))} <span class="bound">≤ ${esc(fmt(bound))}</span></li>`;
}

export function renderSummaryHtml(page: SummaryPage): string {
  const passed = page.rows.filter((r) => r.status === 'passed').length;
  const rows = page.rows.map((r) => {
    const bounds = r.bounds ?? {};
    const figures = Object.entries(r.figures).map(([k, v]) => figureCell(k, v, bounds[k]));
    // bounds whose figure the test did not report are shown too: a missing figure is not a pass
    const missing = Object.keys(bounds)
      .filter((k) => !(k in r.figures))
      .map((k) => figureCell(k, 'missing', bounds[k]));
    const link = `${page.htmlReport}#?testId=${encodeURIComponent(r.testId)}`;
    const svg = r.timelineSvg && `data:image/svg+xml;base64,${Buffer.from(r.timelineSvg).toString('base64')}`;
    const thumb = svg
      ? `<a href="${svg}" target="_blank"><img class="timeline" alt="timeline of ${esc(r.scenario)}" src="${svg}"></a>`
      : '<span class="none">no timeline</span>';
    return `<tr class="${r.status === 'passed' ? 'pass' : 'fail'}" data-scenario="${esc(r.scenario)}">
  <td><a href="${esc(link)}">${esc(r.scenario)}</a><div class="test">${esc(r.test)}</div></td>
  <td class="verdict">${esc(r.status)}</td>
  <td><ul>${[...figures, ...missing].join('')}</ul></td>
  <td>${thumb}</td>
</tr>`;
  });
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>store-resilience: resilience summary</title>
<style>
body{font:14px/1.4 system-ui,sans-serif;margin:1.5rem;color:#212121}
table{border-collapse:collapse;width:100%}th,td{border-bottom:1px solid #ddd;padding:.4rem .6rem;vertical-align:top;text-align:left}
tr.pass .verdict{color:#2e7d32;font-weight:600}tr.fail .verdict{color:#c62828;font-weight:700}
ul{margin:0;padding:0;list-style:none;columns:2}li.over{color:#c62828;font-weight:600}li.within .bound{color:#2e7d32}
.k{color:#555}.bound{font-size:12px}.test{font-size:12px;color:#666}.timeline{width:260px;border:1px solid #ccc}.none{color:#999}
</style></head>
<body>
<h1>Resilience summary</h1>
<p id="totals">Run ${esc(page.runStatus)}: ${passed} of ${page.rows.length} scenarios passed. Generated ${esc(page.generatedAt.toISOString())}.
Each scenario links to its test, phases and evidence in the <a href="${esc(page.htmlReport)}">Playwright HTML report</a>.</p>
<table><thead><tr><th>scenario</th><th>verdict</th><th>figures (bound)</th><th>timeline</th></tr></thead>
<tbody>
${rows.join('\n')}
</tbody></table>
${
  page.repeated?.length
    ? `<h2>Repeated tests: what the repeats prove</h2>
<table id="repeats"><thead><tr><th>test</th><th>project</th><th>runs</th><th>failed</th><th>what the runs prove</th></tr></thead><tbody>
${page.repeated
  .map(
    (r) =>
      `<tr class="${r.failed ? 'fail' : 'pass'}"><td>${esc(r.test)}</td><td>${esc(r.project)}</td><td>${r.runs}</td><td class="verdict">${r.failed}</td><td>${esc(r.statement)}</td></tr>`,
  )
  .join('\n')}
</tbody></table>`
    : ''
}
</body></html>
`;
}
