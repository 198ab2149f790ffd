/** The processes a recorded stack is made of (its cluster, fault proxy and store), built from its state file alone. */
import path from 'node:path';
import { RATE_LIMITS, config, type LimitName } from '../config';
import { PostgresCluster } from './postgres-cluster';
import { ProxyProcess } from './proxy-process';
import type { StackState } from './stack-state';
import { StoreServer } from './store-server';

/** the embedded store's statement_timeout (DB_LOCK_ERROR_MS, 6 s by default, bounds the lock test's answer) */
const EMBEDDED_STATEMENT_TIMEOUT_MS = 2_000;

export interface StackParts {
  cluster: PostgresCluster;
  proxy: ProxyProcess;
  store: StoreServer;
}

/** The binaries come from this run's validated configuration, never from a state file. */
export function stackParts(state: StackState): StackParts {
  const { pgBin, python } = config().embedded;
  return {
    cluster: new PostgresCluster({ dir: path.join(state.dir, 'pg'), pgBin, port: state.postgres.port }),
    proxy: new ProxyProcess({
      dir: path.join(state.dir, 'proxy'),
      name: state.proxy.name,
      listenPort: state.proxy.port,
      upstreamPort: state.postgres.port,
      controlPort: state.proxy.controlPort,
    }),
    store: new StoreServer({
      dir: path.join(state.dir, 'store'),
      python,
      port: state.store.port,
      server: state.store.server,
      workers: state.store.workers,
      flaws: state.store.flaws,
      flawPauseMs: state.store.flawPauseMs,
      rateEnv: Object.fromEntries(
        Object.entries(state.store.rateLimits ?? {}).map(([name, text]) => [RATE_LIMITS[name as LimitName].store, text]),
      ),
      databaseUrl: state.store.databaseUrl,
      // a statement behind a lock is cancelled after 2 s (the store's default is 5): the lock test waits it out
      extraEnv: { STORE_DB_STATEMENT_TIMEOUT_MS: String(EMBEDDED_STATEMENT_TIMEOUT_MS) },
      seedPassword: state.users.customer.password,
      secretKey: state.store.secretKey,
    }),
  };
}
