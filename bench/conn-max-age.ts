/**
 * Benchmark: the reference store's CONN_MAX_AGE. A fresh connection per request (0, the default
 * until the bounded calls of store/db.py) against persistent connections (60 s, today's default:
 * pinged at request start, every call bounded), under wrk on a DB-touching endpoint.
 * Appends to bench/results/conn-max-age.json. Run: npm run bench:conn-max-age
 */
import { execFileSync } from 'node:child_process';
import { loadConfig, readEnv } from '../helpers/config';
import { log } from '../helpers/report/log';
import { recordResult } from './record';
import { EmbeddedStack } from '../helpers/stack/embedded-stack';
import { StoreServer } from '../helpers/stack/store-server';

const DURATION_S = 5;
const CONNECTIONS = 6;

function wrk(url: string): { rps: number; p50Ms: number; p99Ms: number; errors: string } {
  const out = execFileSync('wrk', ['-t', '2', '-c', String(CONNECTIONS), '-d', `${DURATION_S}s`, '--latency', url], { encoding: 'utf8' });
  const num = (re: RegExp) => Number(re.exec(out)?.[1] ?? NaN);
  const ms = (re: RegExp) => {
    const m = re.exec(out);
    if (!m) return NaN;
    const v = Number(m[1]);
    return m[2] === 'us' ? v / 1000 : m[2] === 's' ? v * 1000 : v;
  };
  return {
    rps: num(/Requests\/sec:\s+([\d.]+)/),
    p50Ms: ms(/50%\s+([\d.]+)(us|ms|s)/),
    p99Ms: ms(/99%\s+([\d.]+)(us|ms|s)/),
    errors: /Socket errors:.*|Non-2xx.*/.exec(out)?.[0] ?? 'none',
  };
}

const cfg = loadConfig({ ...readEnv(), STACK_NAME: 'bench-conn', TARGET: 'embedded' });
await using stack = await EmbeddedStack.up(cfg, { pid: process.pid, kind: 'test' });
const results: Record<string, ReturnType<typeof wrk>> = {};
{
  // the stack goes down when this block ends, however it ends
  for (const age of ['0', '60']) {
    await stack.store.stop();
    const server = new StoreServer({ ...stack.store.opts, extraEnv: { STORE_CONN_MAX_AGE: age } });
    await server.start();
    wrk(`${stack.baseUrl}/api/store/products/`); // warm-up
    results[`CONN_MAX_AGE=${age}`] = wrk(`${stack.baseUrl}/api/store/products/`);
    log(`CONN_MAX_AGE=${age}: ${JSON.stringify(results[`CONN_MAX_AGE=${age}`])}`);
    await server.stop();
  }
}
const record = {
  date: new Date().toISOString(),
  endpoint: 'GET /api/store/products/',
  workers: cfg.embedded.workers,
  connections: CONNECTIONS,
  durationS: DURATION_S,
  results,
};
recordResult('conn-max-age', record);
