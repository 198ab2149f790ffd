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
export async function verifyRestored(probe: DbProbe, expected: DbSnapshot, migrateCheck?: () => Promise<CommandRecord>): Promise<RestoreVerdict> {
  const t0 = Date.now();
  const snapshot = await takeSnapshot(probe, Object.keys(expected.tables));
  const diff = compareSnapshots(expected, snapshot);
  const problems = describeDiff(diff);
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
      const unapplied = out.split('\n').map((l) => l.trim()).filter((l) => /^\w+\.\d{4}_\w+$|\[ \]|error/i.test(l));
      problems.push(`django_migrations: migrate --check exited ${error.record.exitCode}: ${unapplied.length ? `unapplied ${unapplied.join(', ')}` : out.slice(0, 400) || '(no output)'}`);
    }
  }
  return { problems, diff, snapshot, migrateCheck: check, durationMs: Date.now() - t0 };
}
