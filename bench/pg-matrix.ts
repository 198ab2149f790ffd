/**
 * The default suite on each PostgreSQL major: for every major of PG_MAJORS (or those given:
 * `npm run bench:pg-matrix -- 13 16`), `npx playwright test` with PG_VERSION=<major> (reports in
 * reports/pg-matrix/pg<major>/), then records in bench/results/pg-matrix.json the server and client
 * it ran, its counts, the skips and why, and the figures per version: the runbook order's error
 * latency and time to recover when PostgreSQL stops and crashes, and the restore's time.
 * A major that is not here is fetched first (npm run pg:get). ~3.5 minutes a major.
 * Run: npm run bench:pg-matrix
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { childEnv, config } from '../helpers/config';
import { PG_MAJORS, clientTooOld, defaultClientBin, serverBinFor, toolMajor } from '../helpers/config/pg-servers';
import { PROJECT_ROOT } from '../helpers/paths';
import { recordResult } from './record';

const majors = process.argv.length > 2 ? process.argv.slice(2).map(Number) : PG_MAJORS.filter((m) => m <= 17);
for (const m of majors) if (!PG_MAJORS.includes(m)) throw new Error(`bench:pg-matrix: ${m} is not one of ${PG_MAJORS.join(', ')}`);

interface Spec {
  title: string;
  tests: Array<{ projectName: string; status: string; annotations?: Array<{ type: string; description?: string }> }>;
}
interface Suite {
  suites?: Suite[];
  specs?: Spec[];
}
const specsOf = (s: Suite): Spec[] => [...(s.specs ?? []), ...(s.suites ?? []).flatMap(specsOf)];
const readJson = <T>(file: string): T | undefined => (fs.existsSync(file) ? (JSON.parse(fs.readFileSync(file, 'utf8')) as T) : undefined);

const FIGURES: Record<string, string[]> = {
  'db-stop: runbook order': ['errorLatencyMs', 'timeToRecoverMs'],
  'db-crash: runbook order': ['errorLatencyMs', 'timeToRecoverMs'],
  'backup/restore, store running': ['dumpMs', 'restoreMs'],
  'backup/restore, +5000 orders': ['dumpMs', 'restoreMs'],
};

const cells = [];
for (const major of majors) {
  if (!serverBinFor(major)) spawnSync('npm', ['run', '-s', 'pg:get', '--', String(major)], { cwd: PROJECT_ROOT, stdio: 'inherit' });
  const server = serverBinFor(major);
  if (!server) throw new Error(`PostgreSQL ${major}: npm run pg:get -- ${major} did not give a server`);
  const client = process.env.PG_CLIENT_BIN ?? defaultClientBin(server) ?? '';
  const reports = path.join(config().reportsDir, 'pg-matrix', `pg${major}`);
  const started = Date.now();
  const run = spawnSync('npx', ['playwright', 'test'], {
    cwd: PROJECT_ROOT,
    env: childEnv({ PG_VERSION: String(major), REPORTS_DIR: reports, STACK_NAME: `pg${major}` }),
    stdio: 'inherit',
  });
  const results = readJson<Suite & { stats: { expected: number; unexpected: number; flaky: number; skipped: number } }>(
    path.join(reports, 'results.json'),
  );
  const summary = readJson<{ scenarios: Array<{ scenario: string; status: string; figures: Record<string, unknown> }> }>(
    path.join(reports, 'resilience-summary.json'),
  );
  const skipped = results
    ? specsOf(results).flatMap((s) =>
        s.tests
          .filter((t) => t.status === 'skipped')
          .map((t) => ({
            test: `[${t.projectName}] ${s.title}`,
            why: [...new Set((t.annotations ?? []).filter((a) => a.type === 'skip').map((a) => a.description ?? ''))].join('; '),
          })),
      )
    : [];
  const figures = Object.fromEntries(
    Object.entries(FIGURES).map(([scenario, keys]) => {
      const s = summary?.scenarios.find((x) => x.scenario === scenario);
      return [scenario, s ? { status: s.status, ...Object.fromEntries(keys.map((k) => [k, s.figures[k] ?? null])) } : null];
    }),
  );
  const cell = {
    major,
    server: `${server} (PostgreSQL ${toolMajor(server, 'postgres') ?? '?'})`,
    client: `${client} (pg_dump ${toolMajor(client, 'pg_dump') ?? '?'})`,
    backupSkips: clientTooOld(client, major) ?? null,
    exitCode: run.status,
    passed: results?.stats.expected ?? null,
    failed: results ? results.stats.unexpected + results.stats.flaky : null,
    skipped: results?.stats.skipped ?? null,
    wallS: Math.round((Date.now() - started) / 1000),
    figures,
    skips: skipped,
  };
  process.stdout.write(`PostgreSQL ${major}: exit ${run.status}, ${cell.passed} passed, ${cell.failed} failed, ${cell.skipped} skipped\n`);
  cells.push(cell);
}
recordResult('pg-matrix', { date: new Date().toISOString(), cells });
