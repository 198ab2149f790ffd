/**
 * Benchmark: how long a graceful reload (SIGHUP) takes to retire the old uvicorn workers under
 * keep-alive load, with uvicorn's stock worker and with the store's StoreUvicornWorker.
 * Appends to bench/results/uvicorn-reload.json. Run: npm run bench:uvicorn-reload [-- --runs 8]
 */
import { fetchAccessToken } from '../helpers/api/token';
import { loadConfig, readEnv } from '../helpers/config';
import { LoadRunner } from '../helpers/load/load-runner';
import { storeMix } from '../helpers/load/mix';
import { log } from '../helpers/report/log';
import { recordResult } from './record';
import { EmbeddedStack } from '../helpers/stack/embedded-stack';
import { isAlive } from '../helpers/stack/processes';
import { StoreServer } from '../helpers/stack/store-server';
import { waitUntil } from '../helpers/wait';

const runsArg = process.argv.indexOf('--runs');
const runs = runsArg > 0 ? Number(process.argv[runsArg + 1]) : 8;
const WORKERS = {
  stock: 'uvicorn.workers.UvicornWorker',
  store: 'storeproject.workers.StoreUvicornWorker',
};

const cfg = loadConfig({ ...readEnv(), STACK_NAME: 'bench-reload', STORE_SERVER: 'uvicorn', TARGET: 'embedded' });
await using stack = await EmbeddedStack.up(cfg, { pid: process.pid, kind: 'test' });
interface ReloadResult {
  completeMs: number[];
  over5s: number;
  failed: number;
  failedKinds: Record<string, number>;
  staleSocketRetries: number;
}
const results: Record<string, ReloadResult> = {};
{
  // the stack goes down when this block ends, however it ends
  const token = await fetchAccessToken(stack.baseUrl, stack.state.users.customer);
  for (const [name, workerClass] of Object.entries(WORKERS)) {
    await stack.store.stop();
    const server = new StoreServer({ ...stack.store.opts, extraEnv: { STORE_UVICORN_WORKER: workerClass } });
    await server.start();
    const r: ReloadResult = (results[name] = {
      completeMs: [],
      over5s: 0,
      failed: 0,
      failedKinds: {},
      staleSocketRetries: 0,
    });
    for (let i = 0; i < runs; i++) {
      // read-only mix: keep-alive clients sending every few ms
      const load = new LoadRunner({
        baseUrl: stack.baseUrl,
        token,
        concurrency: 6,
        thinkTimeMs: 20,
        timeoutMs: 10_000,
        maxDurationMs: 60_000,
        maxRequests: 100_000,
        ops: storeMix(new Map(), { orders: 0, ownOrders: 0 }),
      }).start();
      await waitUntil(() => load.records.length >= 100, { description: 'load running', timeoutMs: 10_000 });
      const old = server.workerPids();
      const t0 = Date.now();
      process.kill(server.masterPid()!, 'SIGHUP');
      await waitUntil(() => old.every((p) => !isAlive(p)), { description: 'old workers gone', timeoutMs: 45_000, intervalMs: 20 });
      const ms = Date.now() - t0;
      await load.stop();
      r.completeMs.push(ms);
      if (ms > 5_000) r.over5s++;
      for (const x of load.records.filter((y) => !y.status || y.status >= 300)) {
        r.failed++;
        const kind = x.status ? `http ${x.status}` : (x.errorKind ?? 'other');
        r.failedKinds[kind] = (r.failedKinds[kind] ?? 0) + 1;
      }
      r.staleSocketRetries += load.records.filter((x) => x.retriedStaleSocket).length;
      log(`${name} run ${i + 1}/${runs}: reload complete after ${ms}ms`);
    }
    await server.stop();
  }
}
const record = { date: new Date().toISOString(), runs, load: '6 keep-alive clients, GET products/brands, 20 ms think time', results };
recordResult('uvicorn-reload', record);
