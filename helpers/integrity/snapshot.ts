/**
 * Database snapshots for backup/restore proofs: per critical table the row count, an md5 of the
 * rows in primary-key order and one md5 per row (so that a difference names its rows), plus the
 * position of every sequence. Read-only; works on any DbProbe (embedded or an external DATABASE_URL).
 */
import type { DbProbe } from './db-probe';
import { STORE_TABLES } from './db-probe';

/** The tables whose equality a restore must prove (Django's migration record included). */
export const CRITICAL_TABLES: readonly string[] = [...Object.values(STORE_TABLES), 'django_migrations'];

export interface TableSnapshot {
  readonly table: string;
  /** false when the table does not exist */
  readonly exists: boolean;
  readonly primaryKey: string;
  readonly rows: number;
  readonly md5: string;
  /** primary key -> md5 of the row's text */
  readonly rowHashes: Readonly<Record<string, string>>;
}

export interface SequenceSnapshot {
  readonly lastValue: number | null;
  readonly isCalled: boolean;
}

export interface DbSnapshot {
  readonly takenAt: string;
  readonly tables: Readonly<Record<string, TableSnapshot>>;
  readonly sequences: Readonly<Record<string, SequenceSnapshot>>;
}

const ident = (s: string) => `"${s.replace(/"/g, '""')}"`;

/** Takes a snapshot of tables (default: the critical ones) and of every sequence in the public schema. */
export async function takeSnapshot(probe: DbProbe, tables: readonly string[] = CRITICAL_TABLES): Promise<DbSnapshot> {
  const out: Record<string, TableSnapshot> = {};
  for (const table of tables) {
    const [reg] = await probe.query<{ oid: string | null }>('SELECT to_regclass($1)::oid::text AS oid', [`public.${table}`]);
    if (!reg?.oid) {
      out[table] = { table, exists: false, primaryKey: '', rows: 0, md5: '', rowHashes: {} };
      continue;
    }
    const [pk] = await probe.query<{ column: string }>(
      `SELECT a.attname AS column FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)
        WHERE i.indrelid = $1::oid AND i.indisprimary LIMIT 1`,
      [reg.oid],
    );
    const key = pk?.column ?? 'id';
    const rows = await probe.query<{ k: string; h: string }>(
      `SELECT t.${ident(key)}::text AS k, md5(t::text) AS h FROM ${ident(table)} t ORDER BY t.${ident(key)}`,
    );
    const rowHashes: Record<string, string> = {};
    for (const r of rows) rowHashes[r.k] = r.h;
    const [all] = await probe.query<{ md5: string }>(
      `SELECT md5(coalesce(string_agg(t::text, E'\\n' ORDER BY t.${ident(key)}), '')) AS md5 FROM ${ident(table)} t`,
    );
    out[table] = { table, exists: true, primaryKey: key, rows: rows.length, md5: all?.md5 ?? '', rowHashes };
  }
  const seqRows = await probe.query<{ name: string; last_value: string | null; is_called: boolean }>(
    `SELECT sequencename AS name, last_value::text, (last_value IS NOT NULL) AS is_called FROM pg_sequences WHERE schemaname = 'public' ORDER BY sequencename`,
  );
  const sequences: Record<string, SequenceSnapshot> = {};
  for (const s of seqRows) sequences[s.name] = { lastValue: s.last_value === null ? null : Number(s.last_value), isCalled: s.is_called };
  return { takenAt: new Date().toISOString(), tables: out, sequences };
}

export interface TableDiff {
  readonly table: string;
  readonly equal: boolean;
  /** the table exists on one side only */
  readonly missing?: 'before' | 'after';
  readonly added: readonly string[];
  readonly removed: readonly string[];
  readonly changed: readonly string[];
}

export interface SnapshotDiff {
  readonly equal: boolean;
  readonly tables: readonly TableDiff[];
  readonly sequences: ReadonlyArray<{
    readonly sequence: string;
    readonly before: number | null | undefined;
    readonly after: number | null | undefined;
  }>;
}

/** Compares two snapshots table by table (rows by primary key) and sequence by sequence. */
export function compareSnapshots(before: DbSnapshot, after: DbSnapshot): SnapshotDiff {
  const tables: TableDiff[] = [];
  for (const name of new Set([...Object.keys(before.tables), ...Object.keys(after.tables)])) {
    const a = before.tables[name];
    const b = after.tables[name];
    if (!a?.exists || !b?.exists) {
      const missing = !b?.exists && a?.exists ? 'after' : a?.exists === b?.exists ? undefined : 'before';
      tables.push({
        table: name,
        equal: missing === undefined,
        missing,
        added: missing === 'before' ? Object.keys(b?.rowHashes ?? {}) : [],
        removed: missing === 'after' ? Object.keys(a?.rowHashes ?? {}) : [],
        changed: [],
      });
      continue;
    }
    const added = Object.keys(b.rowHashes).filter((k) => !(k in a.rowHashes));
    const removed = Object.keys(a.rowHashes).filter((k) => !(k in b.rowHashes));
    const changed = Object.keys(a.rowHashes).filter((k) => k in b.rowHashes && a.rowHashes[k] !== b.rowHashes[k]);
    tables.push({ table: name, equal: a.md5 === b.md5 && added.length + removed.length + changed.length === 0, added, removed, changed });
  }
  const sequences = [...new Set([...Object.keys(before.sequences), ...Object.keys(after.sequences)])]
    .map((s) => ({ sequence: s, before: before.sequences[s]?.lastValue, after: after.sequences[s]?.lastValue }))
    .filter((s) => s.before !== s.after);
  return { equal: tables.every((t) => t.equal) && sequences.length === 0, tables, sequences };
}

const list = (ids: readonly string[], max = 12) =>
  ids.length > max ? `${ids.slice(0, max).join(', ')} ... (${ids.length})` : ids.join(', ');

/** One line per difference, naming the table and the rows: "store_orderrequest: 2 rows added (ids 51, 52)". */
export function describeDiff(diff: SnapshotDiff): string[] {
  const lines: string[] = [];
  for (const t of diff.tables) {
    if (t.equal) continue;
    if (t.missing === 'after')
      lines.push(`${t.table}: missing after the restore (${t.removed.length} rows at backup time: ids ${list(t.removed)})`);
    else if (t.missing === 'before') lines.push(`${t.table}: exists after the restore but not at backup time`);
    else {
      const parts = [
        t.added.length ? `${t.added.length} rows added (ids ${list(t.added)})` : '',
        t.removed.length ? `${t.removed.length} rows removed (ids ${list(t.removed)})` : '',
        t.changed.length ? `${t.changed.length} rows changed (ids ${list(t.changed)})` : '',
      ].filter(Boolean);
      lines.push(`${t.table}: ${parts.join('; ') || 'content differs'}`);
    }
  }
  for (const s of diff.sequences) lines.push(`sequence ${s.sequence}: ${s.before ?? 'unset'} at backup time, ${s.after ?? 'unset'} now`);
  return lines;
}

/** Snapshot as a compact report: per table rows and md5, and the sequences. */
export function snapshotSummary(s: DbSnapshot) {
  return {
    takenAt: s.takenAt,
    tables: Object.fromEntries(Object.values(s.tables).map((t) => [t.table, t.exists ? { rows: t.rows, md5: t.md5 } : 'missing'])),
    sequences: Object.fromEntries(Object.entries(s.sequences).map(([k, v]) => [k, v.lastValue])),
  };
}
