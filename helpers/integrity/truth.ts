/**
 * What a successful answer says, judged against what the database holds: every field of an API
 * object that names a column of its row (`name`, or `brand` for `brand_id`) must hold that column's
 * value, nested lines must be the rows that belong to it, and a list must show exactly the rows it
 * claims to (its count, no row missing, none that does not exist). A 200 whose content is false
 * (an empty catalogue during an outage, a cache serving what a restore removed, a replay of an
 * order that is gone) fails here, whatever its status says. Pure functions: self tests see them red.
 */

/** One database row as `row_to_json` gives it (numbers, strings, ISO instants, JSON columns). */
export type Row = Readonly<Record<string, unknown>>;

/** Nested collections of an object: API field -> the rows that belong to the object (an order's lines). */
export type Children = Readonly<Record<string, readonly Row[]>>;

const INSTANT = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}(:?\d{2})?)$/;
const NUMERIC = /^-?\d+(\.\d+)?$/;

/** A number, a numeric string ("10.00") or undefined. */
function asNumber(v: unknown): number | undefined {
  if (typeof v === 'number') return v;
  if (typeof v === 'string' && NUMERIC.test(v.trim())) return Number(v);
  return undefined;
}

/**
 * The value an API shows equals the column's: numbers by value (a decimal as "10.00" or 10), instants
 * by time, JSON by content (keys in any order, numbers by value), anything else exactly.
 */
export function sameValue(api: unknown, db: unknown): boolean {
  if (api === null || api === undefined || db === null || db === undefined) return (api ?? null) === (db ?? null);
  if (Array.isArray(api) || Array.isArray(db)) {
    return Array.isArray(api) && Array.isArray(db) && api.length === db.length && api.every((v, i) => sameValue(v, db[i]));
  }
  if (typeof api === 'object' || typeof db === 'object') {
    if (typeof api !== 'object' || typeof db !== 'object') return false;
    const a = api as Record<string, unknown>;
    const b = db as Record<string, unknown>;
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    return [...keys].every((k) => sameValue(a[k], b[k]));
  }
  const an = asNumber(api);
  const bn = asNumber(db);
  if (an !== undefined && bn !== undefined) return Math.abs(an - bn) < 0.005;
  if (typeof api === 'string' && typeof db === 'string' && INSTANT.test(api) && INSTANT.test(db)) {
    return Date.parse(api.replace(' ', 'T')) === Date.parse(db.replace(' ', 'T'));
  }
  return api === db;
}

/** The column an API field shows: itself, or `<field>_id` for a foreign key shown as its id. */
export function columnOf(field: string, row: Row): string | undefined {
  if (field in row) return field;
  if (`${field}_id` in row) return `${field}_id`;
  return undefined;
}

const short = (v: unknown) => {
  const s = JSON.stringify(v);
  return s === undefined ? String(v) : s.length > 80 ? `${s.slice(0, 77)}...` : s;
};

/**
 * What one API object gets wrong against its row (empty when it tells the truth). A row that does not
 * exist is a problem; an object with no field that names a column cannot be judged, and says so.
 */
export function objectProblems(what: string, item: unknown, row: Row | undefined, children: Children = {}): string[] {
  if (item === null || typeof item !== 'object' || Array.isArray(item)) return [`${what}: not an object: ${short(item)}`];
  const obj = item as Record<string, unknown>;
  if (row === undefined) return [`${what}: shown, but no such row in the database`];
  const problems: string[] = [];
  let compared = 0;
  for (const [field, value] of Object.entries(obj)) {
    const nested = children[field];
    if (nested !== undefined) {
      compared++;
      problems.push(...childrenProblems(`${what}.${field}`, value, nested));
      continue;
    }
    const column = columnOf(field, row);
    if (column === undefined) continue; // computed by the API, no column to hold it to
    compared++;
    if (!sameValue(value, row[column])) problems.push(`${what}.${field} is ${short(value)}, the database holds ${short(row[column])}`);
  }
  if (compared < 2) problems.push(`${what}: no field names a column of its row, nothing to judge (${Object.keys(obj).join(', ')})`);
  return problems;
}

/** Nested items (an order's lines) against their rows, as a multiset: none missing, none extra, each equal. */
function childrenProblems(what: string, value: unknown, rows: readonly Row[]): string[] {
  if (!Array.isArray(value)) return [`${what}: not a list: ${short(value)}`];
  const left = [...rows];
  const problems: string[] = [];
  for (const [i, item] of value.entries()) {
    const match = left.findIndex((r) => objectProblems('', item, r).length === 0);
    if (match < 0) problems.push(`${what}[${i}] ${short(item)} is not one of its rows in the database`);
    else left.splice(match, 1);
  }
  for (const r of left) problems.push(`${what}: the database holds ${short(r)}, the answer leaves it out`);
  return problems;
}

/** The items and paging fields of a list answer (a plain array, or DRF's {count, next, results}). */
export function pageOf(body: unknown): { items: unknown[]; count?: number; next?: unknown } | undefined {
  if (Array.isArray(body)) return { items: body };
  if (body === null || typeof body !== 'object') return undefined;
  const b = body as { results?: unknown; count?: unknown; next?: unknown };
  if (!Array.isArray(b.results)) return undefined;
  return { items: b.results, count: typeof b.count === 'number' ? b.count : undefined, next: b.next };
}

export interface ListTruth {
  /** every row the list may show, by id */
  readonly rows: ReadonlyMap<number, Row>;
  /** nested rows of each object, by its id and API field */
  readonly children?: (id: number) => Children;
  /**
   * how many rows the list holds at the moment of the answer: exact, or a range when writes were in
   * flight (a list of one's own orders while orders are being written)
   */
  readonly total: number | { readonly min: number; readonly max: number };
  /** the page size asked for (`limit`): a page holds min(limit, total - offset) items */
  readonly limit?: number;
  readonly offset?: number;
}

/**
 * What a list answer gets wrong: not a list, a count that is not the database's, items missing (an
 * empty or partial page), items that do not exist or differ from their rows, a duplicate.
 */
export function listProblems(what: string, body: unknown, truth: ListTruth): string[] {
  const page = pageOf(body);
  if (!page) return [`${what}: not a list answer: ${short(body)}`];
  const { min, max } = typeof truth.total === 'number' ? { min: truth.total, max: truth.total } : truth.total;
  const problems: string[] = [];
  if (page.count !== undefined && (page.count < min || page.count > max)) {
    problems.push(`${what}: count ${page.count}, the database holds ${min === max ? min : `${min} to ${max}`}`);
  }
  const offset = truth.offset ?? 0;
  // no limit asked and a next page: the store's own page size, at least one item when there are rows
  const serverPaged = truth.limit === undefined && page.next != null;
  const wantMin = serverPaged ? Math.min(1, min) : Math.max(0, Math.min(truth.limit ?? Infinity, min - offset));
  const wantMax = Math.max(0, Math.min(truth.limit ?? Infinity, max - offset));
  if (page.items.length < wantMin || page.items.length > wantMax) {
    problems.push(
      `${what}: ${page.items.length} items, the database holds ${wantMin === wantMax ? wantMin : `${wantMin} to ${wantMax}`} for this page`,
    );
  }
  const seen = new Set<number>();
  for (const [i, item] of page.items.entries()) {
    const id = (item as { id?: unknown } | null)?.id;
    if (typeof id !== 'number') {
      problems.push(`${what}[${i}]: no id: ${short(item)}`);
      continue;
    }
    if (seen.has(id)) problems.push(`${what}: ${id} shown twice`);
    seen.add(id);
    problems.push(...objectProblems(`${what} ${id}`, item, truth.rows.get(id), truth.children?.(id)));
  }
  // a whole list (no paging, or every row fits the page): exactly the rows
  if (min === max && offset === 0 && page.next == null && (truth.limit === undefined || truth.rows.size <= truth.limit)) {
    const missing = [...truth.rows.keys()].filter((id) => !seen.has(id));
    if (missing.length)
      problems.push(`${what}: leaves out ${missing.length} rows the database holds (ids ${missing.slice(0, 10).join(', ')})`);
  }
  return problems;
}

/** Rows keyed by their id. */
export function byId(rows: readonly Row[]): Map<number, Row> {
  return new Map(rows.map((r) => [Number(r.id), r]));
}
