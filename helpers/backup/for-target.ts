/** The backup driver for the run's target. */
import type { Config } from '../config';
import type { Target } from '../target';
import { PgBackupDriver, type BackupDriver } from './backup-driver';

/**
 * The embedded database is always disposable; an external one only when ALLOW_DESTRUCTIVE_RESTORE_OF
 * names it. Undefined when the target gives no DATABASE_URL to dump.
 */
export function backupDriverFor(target: Target, cfg: Config): BackupDriver | undefined {
  if (target.stack) {
    const s = target.stack.state;
    return new PgBackupDriver(
      cfg.embedded.pgBin,
      { label: `the embedded database ${s.postgres.database} on 127.0.0.1:${s.postgres.port}`, url: target.stack.databaseUrl, disposable: true },
      target.stack.cluster.url('postgres', s.postgres.superPassword, 'postgres'),
    );
  }
  if (!target.databaseUrl) return undefined;
  const u = new URL(target.databaseUrl);
  return new PgBackupDriver(cfg.embedded.pgBin, {
    label: `the external database ${u.pathname.slice(1)} on ${u.host}`,
    url: target.databaseUrl,
    disposable: target.destructiveRestoreAllowed === true,
  });
}
