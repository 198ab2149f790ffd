/**
 * Benchmark: the suite's load runner against wrk, same endpoint, same concurrency, one run, on
 * the embedded store (gunicorn sync workers answer `Connection: close`). Goal: the runner reaches
 * at least 0.8 x wrk's req/s. Appends to bench/results/load.json. Run: npm run bench:load
 */
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import { loadConfig, readEnv } from '../helpers/config';
import { LoadRunner } from '../helpers/load/load-runner';
import { loadStats } from '../helpers/load/stats';
import { log } from '../helpers/report/log';
import { recordResult } from './record';
import { EmbeddedStack } from '../helpers/stack/embedded-stack';

const GOAL_RATIO = 0.8;
const DURATION_S = 6;
const CONNECTIONS = 8;
const ENDPOINTS = [
  { name: 'GET /api/store/products/ (database, kept connections)', path: '/api/store/products/' },
  { name: 'GET /api/health/ (database, one SELECT 1)', path: '/api/health/' },
  { name: 'GET /api/live/ (Django only, no database)', path: '/api/live/' },
];

/** wrk's req/s, errors, and the CPU seconds it used (bash's time: user + system). */
function wrk(url: string): { rps: number; errors: string; cpuS: number } {
  const out = execFileSync('bash', ['-c', `TIMEFORMAT='cpu %U %S'; { time wrk -t 2 -c ${CONNECTIONS} -d ${DURATION_S}s ${url}; } 2>&1`], {
    encoding: 'utf8',
  });
  const cpu = /cpu ([\d.]+) ([\d.]+)/.exec(out);
  return {
    rps: Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? NaN),
    errors: /Socket errors:.*/.exec(out)?.[0] ?? 'none',
    cpuS: cpu ? Number(cpu[1]) + Number(cpu[2]) : NaN,
  };
}

async function runner(baseUrl: string, p: string): Promise<{ rps: number; errors: Record<string, number>; p99Ms: number; cpuS: number }> {
  const cpu0 = process.cpuUsage();
  const r = new LoadRunner({
    baseUrl,
    concurrency: CONNECTIONS,
    timeoutMs: 10_000,
    maxDurationMs: DURATION_S * 1000,
    maxRequests: 1_000_000,
    ops: [{ name: 'GET', weight: 1, build: () => ({ method: 'GET', path: p }) }],
  }).start();
  const records = await r.finished();
  const s = loadStats(records, { startedAt: r.startedAt, endedAt: r.endedAt });
  // 404 is this endpoint's right answer: count it as served
  const errors = Object.fromEntries(Object.entries(s.overall.errorsByKind).filter(([k]) => k !== 'http 404'));
  const cpu = process.cpuUsage(cpu0);
  return {
    rps: (records.length * 1000) / (r.endedAt - r.startedAt),
    errors,
    p99Ms: s.overall.latencyMs.p99,
    cpuS: (cpu.user + cpu.system) / 1e6,
  };
}

const cfg = loadConfig({ ...readEnv(), STACK_NAME: 'bench-load', TARGET: 'embedded' });
await using stack = await EmbeddedStack.up(cfg, { pid: process.pid, kind: 'test' });
const results: Array<Record<string, unknown>> = [];
{
  // the stack goes down when this block ends, however it ends
  for (const e of ENDPOINTS) {
    const url = `${stack.baseUrl}${e.path}`;
    wrk(url); // warm-up
    const w = wrk(url);
    const l = await runner(stack.baseUrl, e.path);
    const ratio = l.rps / w.rps;
    results.push({
      endpoint: e.name,
      wrkRps: Math.round(w.rps),
      wrkErrors: w.errors,
      wrkCpuS: w.cpuS,
      runnerRps: Math.round(l.rps),
      runnerErrors: l.errors,
      runnerP99Ms: Math.round(l.p99Ms),
      runnerCpuS: Number(l.cpuS.toFixed(2)),
      // CPU per request: what each client takes from the server on this 2-core machine
      wrkCpuUsPerRequest: Math.round((w.cpuS * 1e6) / (w.rps * DURATION_S)),
      runnerCpuUsPerRequest: Math.round((l.cpuS * 1e6) / (l.rps * DURATION_S)),
      ratio: Number(ratio.toFixed(3)),
      meetsGoal: ratio >= GOAL_RATIO,
    });
    log(
      `${e.name}: wrk ${w.rps.toFixed(0)} req/s (cpu ${w.cpuS}s), runner ${l.rps.toFixed(0)} req/s (cpu ${l.cpuS.toFixed(2)}s), ratio ${ratio.toFixed(2)}`,
    );
  }
}
const record = {
  date: new Date().toISOString(),
  machine: { cpus: os.cpus().length, node: process.version },
  store: `${cfg.embedded.server} x${cfg.embedded.workers}`,
  connections: CONNECTIONS,
  durationS: DURATION_S,
  goalRatio: GOAL_RATIO,
  results,
};
recordResult('load', record);
