/**
 * The system under test, as specs and fixtures see it: where it answers, who logs in, its
 * read-only database, the secrets it must never leak, its faults (through its drivers), backups,
 * logs, app-server shape and migrate check. The embedded stack (helpers/targets/embedded-target.ts)
 * is one implementation; an external deployment named by config (external-target.ts) is the other.
 * Where the target cannot give something, the capability says which setting would: the test skips
 * and names it, instead of passing on missing data.
 */
import type { BackupDriver } from './backup/backup-driver';
import type { Credentials, LimitName, RateLimit, ServerKind } from './config';
import type { LogSource } from './drivers/logs';
import type { ServerIdentity } from './drivers/types';
import type { FaultName, FaultOptions, FaultOrMissing, StatementLog } from './faults/catalog';
import type { CommandRecord } from './stack/command';

/** Something the target can give, or the setting that would let it. */
export type Capability<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly missing: string };
export const provided = <T>(value: T): Capability<T> => ({ ok: true, value });
export const lacking = <T>(missing: string): Capability<T> => ({ ok: false, missing });

/** The store's users the suite logs in as. */
export interface Users {
  /** the customer whose token the suite uses (or jwtToken instead) */
  readonly customer?: Credentials;
  readonly jwtToken?: string;
  readonly secondCustomer?: Credentials;
  readonly staff?: Credentials;
}

/** `manage.py migrate --check` of the store; exit 1 when the migration record is behind the code. */
export interface MigrateCheck {
  /** databaseUrl: check another database (a scratch restore) instead of the store's */
  run(databaseUrl?: string): Promise<CommandRecord>;
  /** false when the command can only check the store's own database */
  readonly anyDatabase: boolean;
}

/** The app server's shape. */
export interface AppServerShape {
  /** gunicorn sync workers or uvicorn workers (what the scenario's bounds assume) */
  readonly kind: ServerKind;
  /** workers in the steady state, when known (the driver, STORE_WORKERS, or counted before the run) */
  expectedWorkers(): Promise<number | undefined>;
  /** the server instance and worker identities, where the driver can know them */
  readonly identity: Capability<() => Promise<ServerIdentity>>;
}

export interface Target {
  readonly kind: 'embedded' | 'external';
  /** for reports: "embedded stack (gunicorn x3)", "external http://... (db: systemd ..., app: ...)" */
  readonly label: string;
  readonly baseUrl: string;
  readonly users: Users;
  /** read-only probes of the store's database */
  readonly databaseUrl?: string;
  /** strings no answer, log or report may contain */
  readonly secrets: readonly string[];
  readonly server: AppServerShape;
  /** the named fault through this target's drivers, or the setting that would make it possible */
  fault(name: FaultName, opts?: FaultOptions): FaultOrMissing;
  /** the store's rate limits (logins per name and address, per address, refreshes per user), to count them exactly */
  readonly rateLimits: Readonly<Record<LimitName, Capability<RateLimit>>>;
  /** the key the store signs its JWTs with: forging validly signed tokens (expired, of other users) */
  readonly jwtSigningKey: Capability<string>;
  /** the store's statements to PostgreSQL, counted by this suite's fault proxy (crash points) */
  readonly statementLog: Capability<StatementLog>;
  /** pg_dump (and, for a disposable database only, pg_restore and scratch databases) */
  readonly backup: Capability<BackupDriver>;
  /** a writable URL of a database marked disposable: bulk seeding, checker tests that write */
  readonly disposableDatabaseUrl: Capability<string>;
  readonly logs: { readonly store: Capability<LogSource>; readonly postgres: Capability<LogSource> };
  readonly migrateCheck: Capability<MigrateCheck>;
  /** embedded only: restart the store under another server kind */
  switchServer?(kind: ServerKind): Promise<void>;
  /** before any test: the target answers and its drivers reach it; returns what it saw */
  preflight(): Promise<string[]>;
  /** backstop: brings every service back to its steady state; returns what it had to do */
  heal(): Promise<string[]>;
}
