/**
 * Every successful answer of a load run, judged against the database: a read of the catalogue must
 * show the products and brands the database holds (an empty or partial list during an outage is
 * false, a cache's stale copy after a restore too); a read of one's own orders must show orders that
 * exist, as they are stored, as many as were acknowledged before it began and no more than were sent
 * before it ended; an order's 201 must be the order that was sent and is stored.
 */
import { CLIENT_ORDER_FIELDS, type OrderBody } from '../api/payloads';
import type { LoadRecord } from '../load/load-runner';
import type { DbProbe } from './db-probe';
import { judgeRead, readCatalog, readOrders, readOrdersOf, type TableRows } from './store-truth';
import { objectProblems, sameValue } from './truth';

/** An answer that said something the database does not hold. */
export interface FalseAnswer {
  readonly phase: string;
  readonly op: string;
  readonly at: string;
  readonly status?: number;
  readonly problems: readonly string[];
}

/** The verdict on a run's successful answers, with a row per phase and operation for the report. */
export interface AnswerVerdict {
  readonly judged: number;
  readonly false: readonly FalseAnswer[];
  readonly table: ReadonlyArray<{ phase: string; op: string; ok: number; distinct: number; false: number }>;
}

export interface AnswerContext {
  readonly db: DbProbe;
  /** the user whose token the load sent: its own orders are the ones its reads may show */
  readonly customerId: number;
  /** the user's orders before the load began */
  readonly ordersBefore: number;
  /** the catalogue before the load began (it does not change under load; either state is accepted) */
  readonly catalogBefore: Awaited<ReturnType<typeof readCatalog>>;
  /** the body sent under each Idempotency-Key */
  readonly bodies: ReadonlyMap<string, OrderBody>;
}

/** An order's 201 against the body that was sent: every field the client owns is kept as sent. */
export function asSentProblems(what: string, answer: unknown, sent: Readonly<Record<string, unknown>>): string[] {
  const a = (answer ?? {}) as Record<string, unknown>;
  return CLIENT_ORDER_FIELDS.filter((f) => f in sent && !sameValue(a[f], sent[f])).map(
    (f) => `${what}.${f} is ${JSON.stringify(a[f])}, the client sent ${JSON.stringify(sent[f])}`,
  );
}

/** Judges every 2xx answer whose content the runner kept. */
export async function judgeAnswers(records: readonly LoadRecord[], answers: readonly string[], ctx: AnswerContext): Promise<AnswerVerdict> {
  const catalogNow = await readCatalog(ctx.db);
  const orders: TableRows = await readOrdersOf(ctx.db, ctx.customerId);
  const parsed = new Map<number, unknown>();
  const body = (i: number) => {
    if (!parsed.has(i)) {
      try {
        parsed.set(i, JSON.parse(answers[i]!));
      } catch {
        parsed.set(i, answers[i]);
      }
    }
    return parsed.get(i);
  };
  // the catalogue does not depend on the moment: one verdict per distinct answer
  const catalogVerdicts = new Map<number, string[]>();
  const catalogProblems = (r: LoadRecord, i: number) => {
    let v = catalogVerdicts.get(i);
    if (!v) {
      const now = judgeRead(r.path, body(i), catalogNow) ?? [`${r.path}: no rows to judge it by`];
      v = now.length === 0 ? now : (judgeRead(r.path, body(i), ctx.catalogBefore) ?? now).length === 0 ? [] : now;
      catalogVerdicts.set(i, v);
    }
    return v;
  };
  // the orders acknowledged and sent, by time: what a read of one's own orders may show
  const writes = records.filter((r) => r.key !== undefined);
  const orderCount = (r: LoadRecord) => ({
    min: ctx.ordersBefore + new Set(writes.filter((w) => isOk(w) && w.end < r.start).map((w) => w.key)).size,
    max: ctx.ordersBefore + new Set(writes.filter((w) => w.start < r.end).map((w) => w.key)).size,
  });

  const falseAnswers: FalseAnswer[] = [];
  const rows = new Map<string, { phase: string; op: string; ok: number; distinct: Set<number>; false: number }>();
  let judged = 0;
  for (const r of records) {
    if (!isOk(r)) continue;
    const row = rows.get(`${r.phase}\n${r.op}`) ?? { phase: r.phase, op: r.op, ok: 0, distinct: new Set<number>(), false: 0 };
    rows.set(`${r.phase}\n${r.op}`, row);
    row.ok++;
    let problems: string[];
    if (r.answer === undefined) {
      // a read whose content was not kept is not judged: only the order writes and judged reads count
      if (r.key === undefined) continue;
      problems = ['a 201 without a body to judge'];
    } else if (r.key !== undefined) {
      const sent = ctx.bodies.get(r.key);
      const answer = body(r.answer);
      const id = r.orderId;
      problems = [
        ...(sent
          ? asSentProblems(`POST order ${r.key}`, answer, sent as unknown as Record<string, unknown>)
          : [`no body recorded for ${r.key}`]),
        ...(id === undefined
          ? ['the 201 names no order id']
          : objectProblems(`POST order ${r.key} (order ${id})`, answer, orders.rows.get(id), orders.children(id))),
      ];
    } else if (/\/order-requests\//.test(r.path)) {
      problems = judgeRead(r.path, body(r.answer), { orders, orderCount: orderCount(r) }) ?? [`${r.path}: no rows to judge it by`];
    } else {
      problems = catalogProblems(r, r.answer);
    }
    judged++;
    row.distinct.add(r.answer ?? -1);
    if (problems.length > 0) {
      row.false++;
      falseAnswers.push({ phase: r.phase, op: r.op, at: new Date(r.start).toISOString().slice(11, 23), status: r.status, problems });
    }
  }
  return {
    judged,
    false: falseAnswers,
    table: [...rows.values()].map((x) => ({ phase: x.phase, op: x.op, ok: x.ok, distinct: x.distinct.size, false: x.false })),
  };
}

const isOk = (r: LoadRecord) => r.status !== undefined && r.status >= 200 && r.status < 300;

/** The verdict as a Markdown table for the report. */
export function answerTable(v: AnswerVerdict): string {
  return [
    '| phase | operation | 2xx answers | distinct contents | false |',
    '|---|---|---|---|---|',
    ...v.table.map((r) => `| ${r.phase} | ${r.op} | ${r.ok} | ${r.distinct} | ${r.false} |`),
    '',
    `${v.judged} answers judged against the database, ${v.false.length} false`,
  ].join('\n');
}

/** One line per kind of false answer (the same operation, phase and problems), for an assertion message. */
export function describeFalse(xs: readonly FalseAnswer[], max = 20): string[] {
  const groups = new Map<string, FalseAnswer[]>();
  for (const x of xs) {
    const k = `${x.op} (${x.phase}, ${x.status}): ${x.problems.slice(0, 3).join('; ')}`;
    groups.set(k, [...(groups.get(k) ?? []), x]);
  }
  return [...groups]
    .slice(0, max)
    .map(([k, g]) => (g.length === 1 ? `${k} at ${g[0]!.at}` : `${g.length} answers from ${g[0]!.at} to ${g[g.length - 1]!.at}: ${k}`));
}

/**
 * What an order's 201 gets wrong: the fields the client owns must be as sent, and the order it names
 * must be stored as it says (its lines included).
 */
export async function orderAnswerProblems(db: DbProbe, what: string, answer: unknown, sent: object): Promise<string[]> {
  const id = (answer as { id?: unknown } | null)?.id;
  if (typeof id !== 'number') return [`${what}: the 201 names no order id: ${JSON.stringify(answer)?.slice(0, 200)}`];
  const stored = await readOrders(db, [id]);
  return [
    ...asSentProblems(what, answer, sent as Record<string, unknown>),
    ...objectProblems(`${what} (order ${id})`, answer, stored.rows.get(id), stored.children(id)),
  ];
}
