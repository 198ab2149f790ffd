/** The settings of an external target, as parsed (helpers/config/external.ts). */
import type { Credentials, ServerKind } from './embedded';

/** How faults reach a service of an external target. `none`: they do not (fault tests skip, naming the key). */
export const DRIVER_KINDS = ['none', 'command', 'systemd', 'compose', 'kubectl'] as const;
export type DriverKind = (typeof DRIVER_KINDS)[number];

/** What a database driver can do; each action may also be given as a user command (DB_<ACTION>_COMMAND). */
export const DB_ACTIONS = ['stop', 'start', 'crash', 'freeze', 'unfreeze'] as const;
export type DbAction = (typeof DB_ACTIONS)[number];
/** What an app-server driver can do (APP_<ACTION>_COMMAND). */
export const APP_ACTIONS = ['reload', 'stop', 'start', 'kill-worker', 'scale-down', 'scale-up', 'reexec'] as const;
export type AppAction = (typeof APP_ACTIONS)[number];

/** The environment variable of a service action's command, e.g. DB_STOP_COMMAND, APP_KILL_WORKER_COMMAND. */
export const commandKey = (service: 'DB' | 'APP', action: string): string =>
  `${service}_${action.toUpperCase().replace(/-/g, '_')}_COMMAND`;
/** ... and of its check: a command that exits 0 once the action took effect (DB_STOP_CHECK). */
export const checkKey = (service: 'DB' | 'APP', action: string): string => `${service}_${action.toUpperCase().replace(/-/g, '_')}_CHECK`;

/** A user's shell command for one action, and the key it came from (for messages). */
export interface UserCommand {
  readonly key: string;
  readonly command: string;
}

export interface DbDriverSettings {
  readonly kind: DriverKind;
  /** user commands, per action; they replace the driver's own way for that action */
  readonly commands: Readonly<Partial<Record<DbAction, UserCommand>>>;
  readonly checks: Readonly<Partial<Record<DbAction, UserCommand>>>;
  /** systemd: the cluster unit, e.g. postgresql@15-main */
  readonly systemdUnit?: string;
  readonly composeService?: string;
  readonly kubeStatefulSet?: string;
  readonly kubeSelector?: string;
}

export interface AppDriverSettings {
  readonly kind: DriverKind;
  readonly commands: Readonly<Partial<Record<AppAction, UserCommand>>>;
  readonly checks: Readonly<Partial<Record<AppAction, UserCommand>>>;
  /** command driver: prints the worker identities, one per line (APP_WORKERS_COMMAND) */
  readonly workersCommand?: UserCommand;
  /** command driver: prints the server instance's identity, e.g. the master PID (APP_INSTANCE_COMMAND) */
  readonly instanceCommand?: UserCommand;
  readonly systemdUnit?: string;
  /** systemd reload: `systemctl reload` (the unit has ExecReload) or `systemctl kill --kill-whom=main -s HUP` */
  readonly systemdReload: 'reload' | 'hup';
  readonly composeService?: string;
  readonly kubeDeployment?: string;
  readonly kubeSelector?: string;
}

/** host:port/database: what the disposable opt-in names, so that `store` on another host never matches. */
export interface DatabaseIdentity {
  readonly host: string;
  readonly port: number;
  readonly database: string;
}

export interface ExternalTarget {
  readonly baseUrl: string;
  /** customer whose token the suite uses; or jwtToken instead */
  readonly customer?: Credentials;
  readonly jwtToken?: string;
  readonly secondCustomer?: Credentials;
  readonly staff?: Credentials;
  /** read-only integrity probes (every session default_transaction_read_only) */
  readonly databaseUrl?: string;
  /** pg_dump's role (SELECT on every table and sequence, or pg_read_all_data); defaults to databaseUrl */
  readonly backupDatabaseUrl?: string;
  /** only with the disposable opt-in: the role that may restore, seed and create scratch databases */
  readonly restoreDatabaseUrl?: string;
  /** set when ALLOW_DESTRUCTIVE_RESTORE_OF names exactly DATABASE_URL's host:port/database */
  readonly disposable?: DatabaseIdentity;
  /** the deployment's app server: gunicorn sync workers or uvicorn workers (STORE_SERVER) */
  readonly server: ServerKind;
  /** workers the deployment runs (STORE_WORKERS), when the driver cannot count them */
  readonly workers?: number;
  readonly db: DbDriverSettings;
  readonly app: AppDriverSettings;
  readonly compose?: { readonly project: string; readonly files: readonly string[] };
  readonly kube?: { readonly context?: string; readonly namespace: string };
  /** a Toxiproxy (or this suite's fault proxy) between the store and PostgreSQL: network faults */
  /** tokenFile: the statement log's token of this suite's fault proxy (TOXIPROXY_TOKEN_FILE) */
  readonly toxiproxy?: { readonly url: string; readonly proxy: string; readonly tokenFile?: string };
  readonly logs: { readonly storeFile?: string; readonly postgresFile?: string };
  /** runs `manage.py migrate --check` of the deployment; CHECK_DATABASE_URL names the database */
  readonly migrateCheckCommand?: UserCommand;
  /** strings that must never appear in an answer or a report (TARGET_SECRETS, passwords) */
  readonly secrets: readonly string[];
  /** the store's JWT signing key (JWT_SIGNING_KEY): the security family forges validly signed tokens */
  readonly jwtSigningKey?: string;
}
