/**
 * A timeline picture of a load run, as plain SVG (no browser, no library): every request as a dot
 * (time, latency) coloured by outcome, throughput per time bucket below it, the fault's inject and
 * recover moments marked, the fault window shaded and the longest stretch without a success bracketed.
 */
import type { LoadRecord } from './load-runner';
import { errorKind } from './stats';

export interface TimelineMarker {
  /** epoch ms */
  readonly at: number;
  readonly label: string;
  readonly kind: 'inject' | 'recover' | 'info';
}

export interface TimelineOptions {
  readonly title: string;
  readonly subtitle?: string;
  readonly startedAt: number;
  readonly endedAt: number;
  readonly markers?: readonly TimelineMarker[];
  readonly downtime?: { readonly from: number; readonly to: number };
}

const COLORS: Record<string, string> = {
  ok: '#2e7d32',
  http: '#c62828',
  refused: '#ef6c00',
  reset: '#8e24aa',
  timeout: '#546e7a',
  other: '#212121',
};
const LEGEND: Array<[string, string]> = [
  ['ok', '2xx'],
  ['http', 'HTTP error (4xx/5xx)'],
  ['refused', 'refused (bars: any network error)'],
  ['reset', 'reset'],
  ['timeout', 'timeout'],
];

const colorOf = (r: LoadRecord) => {
  const k = errorKind(r);
  if (!k) return COLORS.ok!;
  if (k.startsWith('http')) return COLORS.http!;
  return COLORS[k] ?? COLORS.other!;
};
const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** Renders the records as an SVG document. */
export function renderTimeline(records: readonly LoadRecord[], opts: TimelineOptions): string {
  const W = 1100;
  const H = 540;
  const left = 70;
  const right = 20;
  const top = 92;
  const plotH = 250;
  const gap = 40;
  const barsH = 110;
  const plotW = W - left - right;
  const t0 = opts.startedAt;
  const span = Math.max(1, opts.endedAt - t0);
  const x = (t: number) => left + ((t - t0) / span) * plotW;
  const latencies = records.map((r) => Math.max(0.5, r.end - r.start));
  const maxLat = Math.max(10, ...latencies);
  const logMin = Math.log10(0.5);
  const logMax = Math.log10(maxLat * 1.2);
  const y = (ms: number) => top + plotH - ((Math.log10(Math.max(0.5, ms)) - logMin) / (logMax - logMin)) * plotH;
  const barsTop = top + plotH + gap;
  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
  );
  out.push(`<rect width="${W}" height="${H}" fill="#ffffff"/>`);
  out.push(`<text x="${left}" y="24" font-size="16" font-weight="bold">${esc(opts.title)}</text>`);
  if (opts.subtitle) out.push(`<text x="${left}" y="44" fill="#444">${esc(opts.subtitle)}</text>`);

  // fault window and downtime
  const inject = opts.markers?.find((m) => m.kind === 'inject');
  const recover = opts.markers?.find((m) => m.kind === 'recover');
  if (inject) {
    const x1 = x(inject.at);
    const x2 = recover ? x(recover.at) : left + plotW;
    out.push(
      `<rect x="${x1}" y="${top}" width="${Math.max(1, x2 - x1)}" height="${plotH + gap + barsH}" fill="#ffcdd2" fill-opacity="0.35"/>`,
    );
  }
  if (opts.downtime && opts.downtime.to > opts.downtime.from) {
    const x1 = x(opts.downtime.from);
    const x2 = x(opts.downtime.to);
    const yb = top + plotH + 16;
    out.push(`<line x1="${x1}" y1="${yb}" x2="${x2}" y2="${yb}" stroke="#b71c1c" stroke-width="3"/>`);
    out.push(`<line x1="${x1}" y1="${yb - 6}" x2="${x1}" y2="${yb + 6}" stroke="#b71c1c" stroke-width="2"/>`);
    out.push(`<line x1="${x2}" y1="${yb - 6}" x2="${x2}" y2="${yb + 6}" stroke="#b71c1c" stroke-width="2"/>`);
    out.push(
      `<text x="${(x1 + x2) / 2}" y="${yb + 18}" text-anchor="middle" fill="#b71c1c">no success for ${(opts.downtime.to - opts.downtime.from).toFixed(0)} ms</text>`,
    );
  }

  // axes: latency (log) and time
  out.push(`<line x1="${left}" y1="${top}" x2="${left}" y2="${top + plotH}" stroke="#333"/>`);
  out.push(`<line x1="${left}" y1="${top + plotH}" x2="${left + plotW}" y2="${top + plotH}" stroke="#333"/>`);
  for (let e = 0; e <= Math.ceil(logMax); e++) {
    const v = 10 ** e;
    if (v > maxLat * 1.2) break;
    out.push(`<line x1="${left - 4}" y1="${y(v)}" x2="${left + plotW}" y2="${y(v)}" stroke="#eee"/>`);
    out.push(`<text x="${left - 8}" y="${y(v) + 4}" text-anchor="end">${v >= 1000 ? `${v / 1000}s` : `${v}ms`}</text>`);
  }
  out.push(`<text x="16" y="${top + plotH / 2}" transform="rotate(-90 16 ${top + plotH / 2})" text-anchor="middle">latency (log)</text>`);
  const tickEvery = niceStep(span / 10);
  for (let t = 0; t <= span; t += tickEvery) {
    out.push(`<line x1="${x(t0 + t)}" y1="${top + plotH}" x2="${x(t0 + t)}" y2="${top + plotH + 4}" stroke="#333"/>`);
    out.push(
      `<text x="${x(t0 + t)}" y="${barsTop + barsH + 16}" text-anchor="middle">${(t / 1000).toFixed(tickEvery < 1000 ? 1 : 0)}s</text>`,
    );
  }

  // requests: failures drawn last so they stay visible
  const sorted = [...records].sort((a, b) => Number(errorKind(a) !== undefined) - Number(errorKind(b) !== undefined));
  for (const r of sorted) {
    out.push(
      `<circle cx="${x(r.start).toFixed(1)}" cy="${y(r.end - r.start).toFixed(1)}" r="${errorKind(r) ? 2.6 : 1.8}" fill="${colorOf(r)}" fill-opacity="0.75"/>`,
    );
  }

  // answers per bucket, stacked: ok, HTTP errors, network errors
  const buckets = Math.min(100, Math.max(10, Math.round(span / 100)));
  const bw = plotW / buckets;
  const counts = Array.from({ length: buckets }, () => ({ ok: 0, http: 0, net: 0 }));
  for (const r of records) {
    const b = Math.min(buckets - 1, Math.max(0, Math.floor(((r.end - t0) / span) * buckets)));
    const k = errorKind(r);
    counts[b]![!k ? 'ok' : k.startsWith('http') ? 'http' : 'net'] += 1;
  }
  const maxCount = Math.max(1, ...counts.map((c) => c.ok + c.http + c.net));
  for (let i = 0; i < buckets; i++) {
    let yTop = barsTop + barsH;
    const bx = (left + i * bw).toFixed(1);
    for (const [key, color] of [
      ['ok', COLORS.ok],
      ['http', COLORS.http],
      ['net', COLORS.refused],
    ] as const) {
      const h = (counts[i]![key] / maxCount) * barsH;
      if (h <= 0) continue;
      yTop -= h;
      out.push(
        `<rect x="${bx}" y="${yTop.toFixed(1)}" width="${Math.max(1, bw - 1).toFixed(1)}" height="${h.toFixed(1)}" fill="${color}"/>`,
      );
    }
  }
  out.push(`<line x1="${left}" y1="${barsTop + barsH}" x2="${left + plotW}" y2="${barsTop + barsH}" stroke="#333"/>`);
  out.push(
    `<text x="16" y="${barsTop + barsH / 2}" transform="rotate(-90 16 ${barsTop + barsH / 2})" text-anchor="middle">answers / ${(span / buckets).toFixed(0)}ms</text>`,
  );
  out.push(`<text x="${left - 8}" y="${barsTop + 10}" text-anchor="end">${maxCount}</text>`);

  // markers
  for (const [i, m] of (opts.markers ?? []).entries()) {
    const mx = x(m.at);
    const labelY = top - 10 + (i % 2) * 16; // alternate rows so that close markers do not overprint
    const color = m.kind === 'inject' ? '#b71c1c' : m.kind === 'recover' ? '#1b5e20' : '#37474f';
    out.push(
      `<line x1="${mx}" y1="${top - 8}" x2="${mx}" y2="${barsTop + barsH}" stroke="${color}" stroke-width="1.5" stroke-dasharray="5,3"/>`,
    );
    out.push(`<text x="${mx + 4}" y="${labelY}" fill="${color}" font-weight="bold">${esc(m.label)}</text>`);
  }

  // legend, on its own line under the subtitle
  let lx = left;
  for (const [key, label] of LEGEND) {
    out.push(`<circle cx="${lx + 5}" cy="59" r="5" fill="${COLORS[key]}"/><text x="${lx + 14}" y="63">${esc(label)}</text>`);
    lx += 30 + label.length * 7;
  }
  out.push('</svg>');
  return out.join('\n');
}

function niceStep(raw: number): number {
  const steps = [100, 200, 250, 500, 1000, 2000, 5000, 10000, 15000, 30000, 60000];
  return steps.find((s) => s >= raw) ?? 60000;
}
