/**
 * Server-owned fields, generated rather than hand-listed: for a writable endpoint, every field its
 * answer shows and every column its table holds, less the fields the client owns, is the server's.
 * Each gets adversarial values derived from its type (another id, a date in 2001, a flipped flag,
 * every choice the store admits or a lifecycle word), sent one at a time on a valid body. The store
 * must refuse the request (4xx, nothing written) or ignore the field: the stored row must then equal
 * what two plain requests store, column by column, except the columns that differ between those two
 * (an id, a timestamp, a key), which must not take the value sent.
 */
import { sameValue, type Row } from './truth';

/** Words a lifecycle or payment state is made of, for a field whose choices the store does not publish. */
export const LIFECYCLE_WORDS = [
  'paid',
  'confirmed',
  'cancelled',
  'shipped',
  'delivered',
  'completed',
  'refunded',
  'approved',
  'processing',
  'active',
] as const;

const INSTANT = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}/;
const WORD = /^[a-z][a-z_]*$/;

/** A field a client may not set, and the value it was set to by one probe. */
export interface Probe {
  readonly field: string;
  readonly value: unknown;
}

/**
 * The fields of an endpoint that are the server's: the answer's fields and the table's columns (a
 * foreign key `x_id` both as itself and as `x`), less what the client owns and less nested collections
 * handled apart.
 */
export function serverFields(
  answer: Readonly<Record<string, unknown>>,
  columns: readonly string[],
  clientFields: readonly string[],
): string[] {
  const client = new Set(clientFields.flatMap((f) => [f, `${f}_id`]));
  const fields = new Set<string>();
  for (const f of Object.keys(answer)) if (!client.has(f)) fields.add(f);
  for (const c of columns) {
    if (client.has(c)) continue;
    fields.add(c);
    if (c.endsWith('_id')) fields.add(c.slice(0, -3));
  }
  return [...fields];
}

/**
 * Adversarial values of a field, from its value in a plain request's answer or row: numbers another
 * (far from any id a request would get naturally, and the next one for a reference to another
 * user), instants in 2001, words every other choice, flags flipped, lists with a changed first item.
 */
export function adversarialValues(
  field: string,
  control: unknown,
  opts: { choices?: readonly unknown[]; natural?: boolean; otherIds?: readonly number[] } = {},
): unknown[] {
  const out: unknown[] = [];
  if (typeof control === 'number') {
    out.push(control + 1_000_000);
    if (!opts.natural) out.push(control + 1, ...(opts.otherIds ?? []));
  } else if (typeof control === 'boolean') {
    out.push(!control);
  } else if (typeof control === 'string' && INSTANT.test(control)) {
    out.push('2001-01-01T00:00:00Z');
  } else if (typeof control === 'string' && WORD.test(control)) {
    out.push(...(opts.choices ?? []), ...LIFECYCLE_WORDS);
  } else if (typeof control === 'string') {
    out.push(`chosen-by-the-client-${field}`);
  } else if (control === null || control === undefined) {
    out.push('2001-01-01T00:00:00Z', ...(opts.choices ?? []), 'paid', 1, true);
  } else if (Array.isArray(control)) {
    const first: unknown = control[0];
    if (first && typeof first === 'object') {
      const changed = Object.fromEntries(
        Object.entries(first as Record<string, unknown>).map(([k, v]) => [k, typeof v === 'number' ? v * 1000 + 1 : v]),
      );
      out.push([changed]);
    } else out.push([]);
  }
  return [...new Map(out.filter((v) => !sameValue(v, control)).map((v) => [JSON.stringify(v), v])).values()];
}

/** The columns whose values differ between two plain requests: the server's per-request values. */
export function naturalColumns(a: Row, b: Row): Set<string> {
  return new Set(Object.keys(a).filter((c) => !sameValue(a[c], b[c])));
}

/**
 * What a probe's stored row gets wrong: a column that took the value sent, or a column (not natural,
 * not the client's) that differs from the plain request's row.
 */
export function storedProblems(
  what: string,
  probe: Probe,
  row: Row,
  control: Row,
  natural: ReadonlySet<string>,
  clientColumns: ReadonlySet<string>,
): string[] {
  const problems: string[] = [];
  for (const [column, value] of Object.entries(row)) {
    if (clientColumns.has(column)) continue;
    const probed = column === probe.field || column === `${probe.field}_id`;
    if (natural.has(column)) {
      if (probed && sameValue(value, probe.value))
        problems.push(`${what}: ${column} took the value the client sent (${JSON.stringify(probe.value)})`);
    } else if (!sameValue(value, control[column])) {
      problems.push(`${what}: ${column} is ${JSON.stringify(value)}, a plain request stores ${JSON.stringify(control[column])}`);
    }
  }
  return problems;
}
