/** Statistics of a load run: per phase availability, errors by kind, latency percentiles, downtime. */
import type { LoadRecord } from './load-runner';

export interface LatencySummary {
  readonly p50: number;
  readonly p95: number;
  readonly p99: number;
  readonly max: number;
}

export interface PhaseStats {
  readonly phase: string;
  readonly requests: number;
  readonly ok: number;
  /** share of 2xx answers among the requests that started in the phase (1 when none started) */
  readonly availability: number;
  /** "http 503", "reset", "refused", "timeout" ... */
  readonly errorsByKind: Readonly<Record<string, number>>;
  /** latency of every answered request, ms */
  readonly latencyMs: LatencySummary;
  readonly throughputRps: number;
}

export interface LoadStats {
  readonly phases: readonly PhaseStats[];
  readonly overall: PhaseStats;
  /** the longest stretch without a successful answer (between two successes, or from the run's start/end) */
  readonly downtimeMs: number;
  readonly downtimeFrom: number;
  readonly downtimeTo: number;
  /** first success that started after `recoveredAt`, measured from it */
  readonly firstSuccessAfterRecoverMs?: number;
  /** requests a client retried on a fresh connection after a stale keep-alive socket failed before any answer */
  readonly staleSocketRetries: number;
}

/** Nearest-rank percentile of sorted values (0 when empty). */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank]!;
}

export const isOk = (r: LoadRecord) => r.status !== undefined && r.status >= 200 && r.status < 300;

/** "http 503" for an error answer, the network error kind otherwise, undefined for a 2xx. */
export function errorKind(r: LoadRecord): string | undefined {
  if (isOk(r)) return undefined;
  return r.status !== undefined ? `http ${r.status}` : (r.errorKind ?? 'other');
}

function phaseStats(phase: string, records: readonly LoadRecord[]): PhaseStats {
  const ok = records.filter(isOk).length;
  const errorsByKind: Record<string, number> = {};
  for (const r of records) {
    const k = errorKind(r);
    if (k) errorsByKind[k] = (errorsByKind[k] ?? 0) + 1;
  }
  const latencies = records
    .filter((r) => r.status !== undefined)
    .map((r) => r.end - r.start)
    .sort((a, b) => a - b);
  const span = records.length ? Math.max(...records.map((r) => r.end)) - Math.min(...records.map((r) => r.start)) : 0;
  return {
    phase,
    requests: records.length,
    ok,
    availability: records.length ? ok / records.length : 1,
    errorsByKind,
    latencyMs: {
      p50: percentile(latencies, 50),
      p95: percentile(latencies, 95),
      p99: percentile(latencies, 99),
      max: latencies.at(-1) ?? 0,
    },
    throughputRps: span > 0 ? (records.length * 1000) / span : 0,
  };
}

/** Statistics of records, per phase in order of first appearance. */
export function loadStats(records: readonly LoadRecord[], opts: { startedAt: number; endedAt: number; recoveredAt?: number }): LoadStats {
  const phases: string[] = [];
  for (const r of records) if (!phases.includes(r.phase)) phases.push(r.phase);
  const successes = records
    .filter(isOk)
    .map((r) => r.end)
    .sort((a, b) => a - b);
  const edges = [opts.startedAt, ...successes, opts.endedAt];
  let downtimeMs = 0;
  let downtimeFrom = opts.startedAt;
  let downtimeTo = opts.startedAt;
  for (let i = 1; i < edges.length; i++) {
    const gap = edges[i]! - edges[i - 1]!;
    if (gap > downtimeMs) {
      downtimeMs = gap;
      downtimeFrom = edges[i - 1]!;
      downtimeTo = edges[i]!;
    }
  }
  const firstAfter =
    opts.recoveredAt === undefined
      ? undefined
      : records.filter((r) => isOk(r) && r.start >= opts.recoveredAt!).sort((a, b) => a.end - b.end)[0];
  return {
    phases: phases.map((p) =>
      phaseStats(
        p,
        records.filter((r) => r.phase === p),
      ),
    ),
    overall: phaseStats('overall', records),
    downtimeMs,
    downtimeFrom,
    downtimeTo,
    firstSuccessAfterRecoverMs: firstAfter && opts.recoveredAt !== undefined ? firstAfter.end - opts.recoveredAt : undefined,
    staleSocketRetries: records.filter((r) => r.retriedStaleSocket).length,
  };
}

/** A readable table of the statistics, for the report. */
export function statsTable(s: LoadStats): string {
  const row = (p: PhaseStats) =>
    `| ${p.phase} | ${p.requests} | ${(p.availability * 100).toFixed(2)}% | ${
      Object.entries(p.errorsByKind)
        .map(([k, v]) => `${k}: ${v}`)
        .join(', ') || '-'
    } | ${p.latencyMs.p50.toFixed(1)} / ${p.latencyMs.p95.toFixed(1)} / ${p.latencyMs.p99.toFixed(1)} | ${p.throughputRps.toFixed(0)} |`;
  return [
    '| phase | requests | availability | errors | latency p50 / p95 / p99 ms | req/s |',
    '|---|---|---|---|---|---|',
    ...s.phases.map(row),
    row(s.overall),
    '',
    `longest stretch without a success (downtime): ${s.downtimeMs.toFixed(0)} ms`,
    s.firstSuccessAfterRecoverMs !== undefined ? `first success after recovery: ${s.firstSuccessAfterRecoverMs.toFixed(0)} ms` : '',
    `stale keep-alive sockets retried: ${s.staleSocketRetries}`,
  ].join('\n');
}
