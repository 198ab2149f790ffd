/**
 * The crash-point checker: what one cut of the store's connection at statement k may leave (a
 * controlled answer, the order whole or absent, exactly one whole order after a retry with the same
 * key), and the table of every point. Pure: e2e/crashpoint.spec.ts gathers, this judges.
 */
import type { Exchange } from '../api/store-api';
import { shown } from '../report/redact';
import { orderLineProblems, type OrderRow } from './db-probe';

/** What was seen at one crash point. */
export interface CrashPointSeen {
  readonly k: number;
  readonly when: 'before' | 'after';
  readonly statement: string;
  /** the order's answer while the connection was cut */
  readonly answer: Exchange;
  /** how many times the cut fired (0: statement k was never reached) */
  readonly cuts: number;
  /** the orders of the key after the crash, and after the retry */
  readonly held: readonly OrderRow[];
  readonly retry: Exchange;
  readonly after: readonly OrderRow[];
  /** problems of the 201 answers' bodies against the database (orderAnswerProblems) */
  readonly answerProblems: readonly string[];
}

export interface CrashPointResult {
  readonly k: number;
  readonly when: 'before' | 'after';
  readonly statement: string;
  readonly answer: string;
  readonly cuts: number;
  readonly held: string;
  readonly retry: string;
  readonly problems: readonly string[];
}

export const answerOf = (ex: Exchange): string =>
  ex.status !== undefined ? `${ex.status}${ex.responseHeaders?.['retry-after'] ? ' (Retry-After)' : ''}` : `network ${ex.error?.kind}`;

export const heldOf = (rows: readonly OrderRow[]): string =>
  rows.length === 0
    ? 'nothing'
    : rows.map((o) => `order ${o.id}${orderLineProblems(o).length ? ' PARTIAL' : ' whole'} (${o.lines.length} lines)`).join(', ');

/** A 503 with Retry-After, or no HTTP answer at all: what a client retries. */
const controlled = (ex: Exchange) =>
  (ex.status === 503 && /^\d+$/.test(ex.responseHeaders?.['retry-after'] ?? '')) || (ex.status === undefined && ex.error !== undefined);

/** Judges one crash point. */
export function judgeCrashPoint(s: CrashPointSeen): CrashPointResult {
  const problems: string[] = [];
  if (s.cuts === 0)
    problems.push(`statement ${s.k} was never reached: the request took another path than the fault-free one (fault not observed)`);
  if (s.answer.status === 201) {
    if (s.held.length !== 1 || orderLineProblems(s.held[0]!).length) problems.push(`answered 201 but the database holds ${heldOf(s.held)}`);
  } else if (!controlled(s.answer)) {
    problems.push(
      `answered ${answerOf(s.answer)} (${shown(s.answer.rawBody, 120)}): a client gives up on that, the order is silently lost`,
    );
  }
  for (const o of s.held) for (const p of orderLineProblems(o)) problems.push(`after the crash: ${p}`);
  if (s.retry.status !== 201) problems.push(`the retry with the same key answered ${answerOf(s.retry)}: ${shown(s.retry.rawBody, 120)}`);
  problems.push(...s.answerProblems);
  if (s.after.length !== 1) problems.push(`after the retry the key has ${s.after.length} orders (${heldOf(s.after)})`);
  for (const o of s.after) for (const p of orderLineProblems(o)) problems.push(`after the retry: ${p}`);
  return {
    k: s.k,
    when: s.when,
    statement: s.statement,
    answer: answerOf(s.answer),
    cuts: s.cuts,
    held: heldOf(s.held),
    retry: `${answerOf(s.retry)}${s.retry.responseHeaders?.['idempotent-replayed'] ? ' replayed' : ''} -> ${heldOf(s.after)}`,
    problems,
  };
}

/** The points as a Markdown table, with a line of totals. */
export function crashPointTable(results: readonly CrashPointResult[], statements: number): string {
  const cell = (s: string) => s.replace(/\|/g, '\\|');
  const count = (f: (r: CrashPointResult) => boolean) => results.filter(f).length;
  const totals = [
    'all',
    `${results.length} points`,
    `${statements} statements`,
    `${count((r) => /^503/.test(r.answer))} x 503, ${count((r) => r.answer.startsWith('network'))} network errors`,
    String(results.reduce((a, r) => a + r.cuts, 0)),
    `${count((r) => r.held !== 'nothing')} written`,
    `${count((r) => /replayed/.test(r.retry))} replayed`,
    `${count((r) => r.problems.length > 0)} with problems`,
  ];
  return [
    '| k | cut | statement | answer | cuts | database held | retry with the same key | problems |',
    '|---|---|---|---|---|---|---|---|',
    ...results.map((r) =>
      [
        r.k,
        r.when,
        `\`${cell(r.statement).slice(0, 80)}\``,
        r.answer,
        r.cuts,
        r.held,
        cell(r.retry),
        cell(r.problems.join('; ')) || 'none',
      ].join(' | '),
    ),
    totals.join(' | '),
  ]
    .map((line) => (line.startsWith('|') ? line : `| ${line} |`))
    .join('\n');
}
