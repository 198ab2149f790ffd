/** The verdict on a restored database: equal to the backup-time snapshot, migrations current. */
import type { DbProbe } from '../integrity/db-probe';
import { compareSnapshots, describeDiff, takeSnapshot, type DbSnapshot, type SnapshotDiff } from '../integrity/snapshot';
import { CommandError, type CommandRecord } from '../stack/command';

export interface RestoreVerdict {
  /** one line per problem, naming the table and the rows; empty when the restore is exact */
  readonly problems: readonly string[];
  readonly diff: SnapshotDiff;
  readonly snapshot: DbSnapshot;
  readonly migrateCheck?: { readonly exitCode: number | undefined; readonly output: string };
  readonly durationMs: number;
}

/**
 * Compares the database behind probe with the backup-time snapshot and, when given, runs
 * `manage.py migrate --check` (exit 1 when the migration record is behind the code).
 */
export async function verifyRestored(
  probe: DbProbe,
  expected: DbSnapshot,
  migrateCheck?: () => Promise<CommandRecord>,
): Promise<RestoreVerdict> {
  const t0 = Date.now();
  const snapshot = await takeSnapshot(probe, Object.keys(expected.tables));
  const diff = compareSnapshots(expected, snapshot);
  const problems = [...describeDiff(diff), ...(await sequencesBehind(probe, snapshot))];
  let check: RestoreVerdict['migrateCheck'];
  if (migrateCheck) {
    try {
      const r = await migrateCheck();
      check = { exitCode: r.exitCode, output: `${r.stdout}\n${r.stderr}`.trim() };
    } catch (error) {
      if (!(error instanceof CommandError)) throw error;
      const out = `${error.record.stdout}\n${error.record.stderr}`.trim();
      check = { exitCode: error.record.exitCode, output: out };
      // `migrate --plan` lists the unapplied migrations as "app.name" lines
      const unapplied = out
        .split('\n')
        .map((l) => l.trim())
        .filter((l) => /^\w+\.\d{4}_\w+$|\[ \]|error/i.test(l));
      problems.push(
        `django_migrations: migrate --check exited ${error.record.exitCode}: ${unapplied.length ? `unapplied ${unapplied.join(', ')}` : out.slice(0, 400) || '(no output)'}`,
      );
    }
  }
  return { problems, diff, snapshot, migrateCheck: check, durationMs: Date.now() - t0 };
}

/**
 * Sequences that would hand out an id already taken: a restore that reset a sequence (setval) over
 * rows it did not remove makes the next insert fail with a duplicate key.
 */
export async function sequencesBehind(probe: DbProbe, snapshot: DbSnapshot): Promise<string[]> {
  const out: string[] = [];
  for (const t of Object.values(snapshot.tables)) {
    if (!t.exists || t.rows === 0) continue;
    const [row] = await probe.query<{ seq: string | null }>('SELECT pg_get_serial_sequence($1, $2) AS seq', [t.table, t.primaryKey]);
    const seq = row?.seq?.replace(/^public\./, '').replace(/"/g, '');
    if (!seq) continue;
    const maxId = Math.max(...Object.keys(t.rowHashes).map(Number).filter(Number.isFinite));
    const last = snapshot.sequences[seq]?.lastValue ?? 0;
    if (last < maxId) out.push(`${t.table}: sequence ${seq} is at ${last} but the table holds id ${maxId}: the next insert collides`);
  }
  return out;
}
