/**
 * The mass-assignment probe of the security family, generated from what each writable endpoint
 * shows (its answer, its table's columns, the choices it publishes on OPTIONS) rather than from a
 * hand-kept list: helpers/integrity/server-fields.ts decides the fields and values and judges rows.
 */
import { CLIENT_ORDER_FIELDS, newIdempotencyKey, orderBody } from '../../helpers/api/payloads';
import type { Exchange, StoreApi } from '../../helpers/api/store-api';
import type { DbProbe } from '../../helpers/integrity/db-probe';
import { adversarialValues, naturalColumns, serverFields, storedProblems, type Probe } from '../../helpers/integrity/server-fields';
import { sameValue, type Row } from '../../helpers/integrity/truth';
import { shown } from '../../helpers/report/redact';

/** A writable endpoint as the suite knows it: a valid body, the fields its client owns, and how a request's row is found. */
export interface WritableEndpoint {
  readonly name: string;
  readonly path: string;
  readonly table: string;
  /** a valid body whose `marker` field is unique to the request (found again by it in the table) */
  body(marker: string): Record<string, unknown>;
  readonly marker: { readonly field: string; readonly column: string };
  readonly clientFields: readonly string[];
  /** nested rows of an object (an order's lines): API field, table, foreign key column */
  readonly children?: { readonly field: string; readonly table: string; readonly fk: string };
  /** an Idempotency-Key per request */
  readonly keyed?: boolean;
}

export const ORDERS: WritableEndpoint = {
  name: 'orders',
  path: '/api/store/order-requests/',
  table: 'store_orderrequest',
  body: (marker) => {
    const b = orderBody({ email: marker }) as unknown as Record<string, unknown>;
    return Object.fromEntries(CLIENT_ORDER_FIELDS.map((f) => [f, b[f]]));
  },
  marker: { field: 'email', column: 'email' },
  clientFields: CLIENT_ORDER_FIELDS,
  children: { field: 'lines', table: 'store_orderline', fk: 'order_id' },
  keyed: true,
};

export const PRODUCTS: WritableEndpoint = {
  name: 'products',
  path: '/api/store/products/',
  table: 'store_product',
  body: (marker) => ({ brand: 1, name: marker, price: '5.00', stock: 3 }),
  marker: { field: 'name', column: 'name' },
  clientFields: ['brand', 'name', 'price', 'stock'],
};

export interface ProbeResult {
  readonly endpoint: string;
  readonly fields: readonly string[];
  readonly probes: ReadonlyArray<Probe & { status?: number; verdict: string }>;
  readonly problems: readonly string[];
}

/** The choices the store publishes for each field of a POST (DRF's OPTIONS metadata), when it does. */
async function publishedChoices(api: StoreApi, path: string): Promise<Map<string, unknown[]>> {
  const ex = await api.send('OPTIONS', path);
  const fields =
    (ex.body as { actions?: { POST?: Record<string, { choices?: Array<{ value: unknown }> }> } } | undefined)?.actions?.POST ?? {};
  return new Map(Object.entries(fields).map(([f, meta]) => [f, (meta.choices ?? []).map((c) => c.value)]));
}

/** Sends a plain request twice and one request per (server field, adversarial value); judges each stored row. */
export async function probeServerFields(
  api: StoreApi,
  db: DbProbe,
  ep: WritableEndpoint,
  otherIds: readonly number[],
): Promise<ProbeResult> {
  const rowOf = async (marker: string): Promise<Row[]> => db.rows(ep.table, { column: ep.marker.column, in: [marker] });
  // an object's nested rows without their own id and the parent's: what the rows say
  const childrenOf = async (row: Row): Promise<Row[]> => {
    const c = ep.children;
    if (!c) return [];
    return (await db.rows(c.table, { column: c.fk, in: [row.id] })).map((r) =>
      Object.fromEntries(Object.entries(r).filter(([k]) => k !== 'id' && k !== c.fk)),
    );
  };
  const send = async (extra: Record<string, unknown>) => {
    const marker = `${newIdempotencyKey(`fields-${ep.name}`)}@fields.test`;
    const body = { ...ep.body(marker), ...extra };
    const ex = await api.send('POST', ep.path, body, ep.keyed ? { headers: { 'Idempotency-Key': newIdempotencyKey('fields') } } : {});
    return { ex, marker };
  };
  const plain = async () => {
    const { ex, marker } = await send({});
    if (ex.status !== 201) throw new Error(`a plain POST ${ep.path} was not created: ${ex.status} ${shown(ex.rawBody, 200)}`);
    const [row] = await rowOf(marker);
    if (!row) throw new Error(`a plain POST ${ep.path} answered 201, and no row of ${ep.table} has ${ep.marker.column} = ${marker}`);
    return { ex, row, children: await childrenOf(row) };
  };
  const a = await plain();
  const b = await plain();
  const natural = naturalColumns(a.row, b.row);
  const clientColumns = new Set(ep.clientFields.flatMap((f) => [f, `${f}_id`]));
  const answer = (a.ex.body ?? {}) as Record<string, unknown>;
  const fields = serverFields(answer, Object.keys(a.row), ep.clientFields);
  const choices = await publishedChoices(api, ep.path);
  const probes: Array<Probe & { status?: number; verdict: string }> = [];
  const problems: string[] = [];
  for (const field of fields) {
    const control = field in answer ? answer[field] : (a.row[field] ?? a.row[`${field}_id`]);
    const isNatural = natural.has(field) || natural.has(`${field}_id`);
    for (const value of adversarialValues(field, control, {
      choices: choices.get(field),
      natural: isNatural,
      otherIds: field.startsWith('user') ? otherIds : [],
    })) {
      const probe = { field, value };
      const { ex, marker } = await send({ [field]: value });
      const rows = await rowOf(marker);
      const what = `POST ${ep.path} with ${field}=${JSON.stringify(value)}`;
      const verdict = await judge(ex, rows, what, probe);
      probes.push({ ...probe, status: ex.status, verdict: verdict.length ? 'ACCEPTED' : ex.status === 201 ? 'ignored' : 'refused' });
      problems.push(...verdict);
    }
  }
  return { endpoint: ep.path, fields, probes, problems };

  async function judge(ex: Exchange, rows: Row[], what: string, probe: Probe): Promise<string[]> {
    if (ex.status !== undefined && ex.status >= 400 && ex.status < 500)
      return rows.length ? [`${what}: refused (${ex.status}) but written`] : [];
    if (ex.status !== 201) return [`${what}: ${ex.status ?? ex.error?.kind} ${shown(ex.rawBody, 160)}`];
    if (rows.length !== 1) return [`${what}: 201, and ${rows.length} rows stored for it`];
    const row = rows[0]!;
    const out = storedProblems(what, probe, row, a.row, natural, clientColumns);
    if (ep.children && !sameValue(await childrenOf(row), a.children))
      out.push(`${what}: its ${ep.children.field} are not those a plain request stores`);
    // the answer too: it must not claim the value was taken
    const shownValue = (ex.body as Record<string, unknown> | undefined)?.[probe.field];
    if (shownValue !== undefined && sameValue(shownValue, probe.value) && !sameValue(answer[probe.field], probe.value))
      out.push(`${what}: the answer shows ${probe.field} as sent`);
    return out;
  }
}
