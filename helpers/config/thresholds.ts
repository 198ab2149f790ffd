/** The named thresholds and the shape of the load: every bound the suite asserts or waits for. */
/**
 * Named thresholds: every timing bound the suite asserts or waits for, set from measurements on
 * the reference machine (2 cores), overridable by the environment, and reported with each run.
 */
export const THRESHOLD_SPECS = {
  requestTimeoutMs: { env: 'REQUEST_TIMEOUT_MS', default: 10_000, doc: 'API client timeout (a hang shows up as this)' },
  storeReadyTimeoutMs: { env: 'STORE_READY_TIMEOUT_MS', default: 30_000, doc: 'store start until /api/health/ answers 200' },
  recoverTimeoutMs: { env: 'RECOVER_TIMEOUT_MS', default: 30_000, doc: "a fault's recovery until the service is reachable again" },
  dbRefusedErrorMs: {
    env: 'DB_REFUSED_ERROR_MS',
    default: 1_000,
    doc: 'DB stopped/crashed/link down or reset: the order answers 503 within this (measured 0.03 s)',
  },
  dbHangErrorMs: {
    env: 'DB_HANG_ERROR_MS',
    default: 2_500,
    doc: 'DB frozen or black-holed: the order answers 503 within this (connect_timeout 2 s)',
  },
  dbLockErrorMs: {
    env: 'DB_LOCK_ERROR_MS',
    default: 6_000,
    doc: "the orders table locked by another session: the order answers 503 within this (the reference store's statement_timeout 5 s, the embedded stack's 2 s; measured 5.0 and 2.0 s)",
  },
  loginThrottleAttempts: {
    env: 'LOGIN_THROTTLE_ATTEMPTS',
    default: 30,
    doc: 'bad logins for one username within which the store must answer 429 (the reference store allows 10 a minute)',
  },
  recoverToSuccessMs: {
    env: 'RECOVER_TO_SUCCESS_MS',
    default: 1_000,
    doc: 'time to recover: DB accepting connections until the same request answers 201',
  },
  recoverPollMs: { env: 'RECOVER_POLL_MS', default: 20, doc: 'resolution of the time-to-recover measurement' },
  streamRequestTimeoutMs: {
    env: 'STREAM_REQUEST_TIMEOUT_MS',
    default: 3_000,
    doc: 'client timeout of the concurrent order stream (a timeout is recorded as indeterminate)',
  },
  faultHoldMs: {
    env: 'FAULT_HOLD_MS',
    default: 1_500,
    doc: 'a fault under the order stream lasts at least this long (and until 4 orders failed): a frozen database fails each in 1 s, so 1.5 s sees every client fail at least once',
  },
  appFaultHoldMs: {
    env: 'APP_FAULT_HOLD_MS',
    default: 1_000,
    doc: 'an app-server fault under load lasts at least this long (and 10 requests): a reload completes in 0.2-0.5 s, a killed worker is replaced in 0.3 s',
  },
  appWorkerKillGapMs: {
    env: 'APP_WORKER_KILL_GAP_MS',
    default: 150,
    doc: 'one worker killed: the longest stretch without a successful answer (measured 30-40 ms with 3 workers; a replacement worker boots in 250-300 ms)',
  },
  appReloadCompleteMs: {
    env: 'APP_RELOAD_COMPLETE_MS',
    default: 5_000,
    doc: "graceful reload: every old worker has exited (the store's graceful_timeout is 5 s)",
  },
  faultHangProbeMs: {
    env: 'FAULT_HANG_PROBE_MS',
    default: 500,
    doc: 'a database or link "hangs" when a connection gets no answer to its first message within this (a healthy PostgreSQL answers in 2.6 ms, p99 10.5 ms, under the db-outage load)',
  },
  faultObserveTimeoutMs: {
    env: 'FAULT_OBSERVE_TIMEOUT_MS',
    default: 10_000,
    doc: 'a fault must show its effect within this (database refusing or hanging, workers replaced, server down), else "fault not observed"',
  },
  driverCommandTimeoutMs: {
    env: 'DRIVER_COMMAND_TIMEOUT_MS',
    default: 60_000,
    doc: 'each command a fault driver runs (systemctl, docker compose, kubectl, your own) is killed after this',
  },
  appRestartDowntimeMs: {
    env: 'APP_RESTART_DOWNTIME_MS',
    default: 2_000,
    doc: 'full restart (TERM, exit, start): the longest stretch without a successful answer (measured 0.5-0.7 s sync, 0.8-1.1 s uvicorn)',
  },
} as const;
export type Thresholds = { readonly [K in keyof typeof THRESHOLD_SPECS]: number };

/** Shape of the load the app-server scenarios run through their faults. */
export interface LoadSettings {
  /** concurrent virtual users */
  readonly vus: number;
  /** pause between a user's requests */
  readonly thinkTimeMs: number;
  /** concurrent order writers of the db-outage ledger */
  readonly ledgerClients: number;
  /** concurrent requests with one Idempotency-Key, per round */
  readonly idempotencyClients: number;
  /** rounds of them per test: a race needs more than one chance */
  readonly idempotencyRounds: number;
}

/** Where a threshold's value came from: its default, or the environment. */
export type ThresholdSources = { readonly [K in keyof typeof THRESHOLD_SPECS]: 'default' | 'set' };

/**
 * A bound as a failure message names it: the value, the variable that sets it and whether it was set
 * ("2000ms (APP_RESTART_DOWNTIME_MS, the default: set it to change the bound)").
 */
export function boundText(thresholds: Thresholds, sources: ThresholdSources, key: keyof typeof THRESHOLD_SPECS): string {
  const { env } = THRESHOLD_SPECS[key];
  return sources[key] === 'set'
    ? `${thresholds[key]}ms (${env}=${thresholds[key]}, set)`
    : `${thresholds[key]}ms (${env}, the default: set it to change the bound)`;
}
