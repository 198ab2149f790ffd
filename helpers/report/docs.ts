/**
 * Numbers in the docs that cannot go stale: each table of figures sits between
 * `<!-- generated: NAME -->` and `<!-- /generated -->` and is written from its source (bench/results,
 * the soak record) by `npm run docs`; a self test fails when a table differs from what its source
 * gives now, and when a path the docs name (`helpers/...`, `e2e/...`) does not exist.
 */
import fs from 'node:fs';
import path from 'node:path';
import { PROJECT_ROOT } from '../paths';

type Json = Record<string, unknown>;
const results = (name: string): Json[] => {
  const file = path.join(PROJECT_ROOT, 'bench', 'results', `${name}.json`);
  return fs.existsSync(file) ? (JSON.parse(fs.readFileSync(file, 'utf8')) as Json[]) : [];
};
const last = (name: string): Json | undefined => results(name).at(-1);
const day = (r: Json | undefined) => {
  const d = r?.date ?? r?.at;
  return typeof d === 'string' ? d.slice(0, 10) : '?';
};
const table = (head: string[], rows: Array<Array<string | number>>) =>
  [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');

/** The generated tables, by name: each reads its source and renders Markdown. */
export const GENERATED: Readonly<Record<string, () => string>> = {
  'bench-stack': () => {
    const r = last('stack-start');
    const smoke = (r?.smokeSuite ?? {}) as { wallMs?: number };
    const ms = (x: number | undefined) => (x === undefined ? 'not measured' : `${x} ms`);
    // records before the template cluster measured every start cold (initdb and migrate each time)
    if (!r?.startMedianMs) {
      const c = (r?.coldStartMedianMs ?? {}) as Record<string, number>;
      return table(
        ['measured', 'total', 'initdb', 'migrate', 'seed', 'store start', 'smoke suite (stack up and down)'],
        [[day(r), ms(c.totalMs), ms(c.initdbMs), ms(c.migrateMs), ms(c.seedMs), ms(c.storeStartMs), ms(smoke.wallMs)]],
      );
    }
    const first = r.firstStartMs as Record<string, number>;
    const later = r.startMedianMs as Record<string, number>;
    return table(
      [
        'measured',
        'start',
        'total',
        'template built',
        'template copied',
        'seed (while the store boots)',
        'store start',
        'smoke suite (stack up and down)',
      ],
      [
        [
          day(r),
          'first on the machine',
          ms(first.totalMs),
          ms(first.templateBuildMs),
          ms(first.templateCopyMs),
          ms(first.seedMs),
          ms(first.storeStartMs),
          ms(smoke.wallMs),
        ],
        [
          day(r),
          `later (median of ${Number(r.runs) - 1})`,
          ms(later.totalMs),
          '-',
          ms(later.templateCopyMs),
          ms(later.seedMs),
          ms(later.storeStartMs),
          '',
        ],
      ],
    );
  },
  'bench-load': () => {
    const r = last('load');
    const rows = ((r?.results ?? []) as Json[]).map((x) => [
      String(x.endpoint),
      String(x.wrkRps),
      String(x.runnerRps),
      String(x.ratio),
      `${String(x.runnerCpuUsPerRequest)} / ${String(x.wrkCpuUsPerRequest)}`,
    ]);
    return `measured ${day(r)}, goal: the load runner at ${String(r?.goalRatio)} x wrk or better\n\n${table(['endpoint', 'wrk req/s', 'runner req/s', 'ratio', 'CPU us per request (runner / wrk)'], rows)}`;
  },
  'bench-conn-max-age': () => {
    const r = last('conn-max-age');
    const res = (r?.results ?? {}) as Record<string, { rps: number; p50Ms: number; p99Ms: number }>;
    return `measured ${day(r)}, ${String(r?.endpoint)}, ${String(r?.workers)} workers, ${String(r?.connections)} connections\n\n${table(
      ['setting', 'req/s', 'p50', 'p99'],
      Object.entries(res).map(([k, v]) => [k, v.rps, `${v.p50Ms} ms`, `${v.p99Ms} ms`]),
    )}`;
  },
  'bench-backup': () => {
    const r = last('backup');
    return `measured ${day(r)}\n\n${table(
      ['orders', 'dump', 'scratch restore', 'verify', 'restore --clean', 'verify', 'dump size'],
      ((r?.rows ?? []) as Array<Record<string, number>>).map((x) => [
        x.orders!,
        `${x.dumpMs} ms`,
        `${x.scratchRestoreMs} ms`,
        `${x.scratchVerifyMs} ms`,
        `${x.restoreMs} ms`,
        `${x.verifyMs} ms`,
        `${Math.round(x.dumpBytes! / 1024)} KB`,
      ]),
    )}`;
  },
  'bench-uvicorn-reload': () => {
    const r = last('uvicorn-reload');
    const res = (r?.results ?? {}) as Record<string, { completeMs: number[]; over5s: number }>;
    return `measured ${day(r)}, ${String(r?.runs)} reloads each\n\n${table(
      ['worker', 'reloads over 5 s', 'slowest'],
      Object.entries(res).map(([k, v]) => [k, v.over5s, `${Math.max(...v.completeMs)} ms`]),
    )}`;
  },
  'suite-time': () => {
    const r = last('suite-time');
    const by = Object.entries((r?.secondsByProject ?? {}) as Record<string, number>).sort((a, b) => b[1] - a[1]);
    const wall = (r?.wallSecondsByProject ?? {}) as Record<string, number>;
    return `measured ${day(r)}: ${String(r?.tests)} tests, ${String(r?.wallS)} s wall, ${r?.lanes === undefined ? 'one lane' : `${Number(r.lanes)} lanes`}\n\n${table(
      ['project', 'seconds of tests', 'seconds of the wall (first start to last end)'],
      by.map(([k, v]) => [k, v, wall[k] ?? 'n/a']),
    )}`;
  },
  'pg-matrix': () => {
    const r = last('pg-matrix');
    type Fig = Record<string, number | string | null> | null;
    const ms = (f: Fig, k: string) => (f && typeof f[k] === 'number' ? `${f[k]} ms` : 'n/a');
    const rows = ((r?.cells ?? []) as Array<Record<string, unknown>>).map((c) => {
      const f = (c.figures ?? {}) as Record<string, Fig>;
      const stop = f['db-stop: runbook order'] ?? null;
      const crash = f['db-crash: runbook order'] ?? null;
      const restore = f['backup/restore, store running'] ?? null;
      return [
        String(c.major),
        `${String(c.passed)} / ${String(c.failed)} / ${String(c.skipped)}`,
        `${ms(stop, 'errorLatencyMs')}, ${ms(stop, 'timeToRecoverMs')}`,
        `${ms(crash, 'errorLatencyMs')}, ${ms(crash, 'timeToRecoverMs')}`,
        c.backupSkips
          ? `skipped: ${/\(pg_dump \d+\)/.exec(String(c.client))?.[0].slice(1, -1) ?? String(c.client)} is older`
          : ms(restore, 'restoreMs'),
        `${String(c.wallS)} s`,
      ];
    });
    return `measured ${day(r)}, the default suite (npx playwright test) with PG_VERSION per row\n\n${table(
      [
        'PostgreSQL',
        'passed / failed / skipped',
        'PostgreSQL stops: error, recover',
        'crashes: error, recover',
        'restore (--clean)',
        'wall',
      ],
      rows,
    )}`;
  },
  'external-stability': () => {
    const r = last('external-stability');
    type Bounded = Record<string, Record<string, Record<string, [number, number]>>>;
    const fig = (b: Bounded, driver: string, scenario: RegExp, key: string) => {
      const s = Object.entries(b[driver] ?? {}).find(([name]) => scenario.test(name));
      const v = s?.[1][key];
      return v ? `${v[0]} / ${v[1]} ms` : 'n/a';
    };
    const rows = ((r?.records ?? []) as Array<Record<string, unknown>>).map((x) => {
      const b = (x.bounded ?? {}) as Bounded;
      return [
        String(x.run),
        `${String(x.passed)} / ${String(x.failed)}`,
        `${String(x.wallS)} s`,
        fig(b, 'kubectl', /^app-kill-worker/, 'downtimeMs'),
        fig(b, 'kubectl', /^app-restart/, 'downtimeMs'),
        fig(b, 'compose', /^app-restart/, 'downtimeMs'),
        ((x.failures ?? []) as Array<{ driver: string; test: string }>).map((f) => `${f.driver}: ${f.test}`).join('; ') || 'none',
      ];
    });
    return `measured ${day(r)}: ${String(r?.green)} of ${String(r?.runs)} runs green\n\n${table(
      [
        'run',
        'passed / failed',
        'wall',
        'kubectl: killed worker, gap / bound',
        'kubectl: restart downtime / bound',
        'compose: restart downtime / bound',
        'failures',
      ],
      rows,
    )}`;
  },
  soak: () => {
    const r = last('soak');
    const rows = ((r?.repeated ?? []) as Array<{ test: string; project: string; runs: number; failed: number; statement: string }>).map(
      (x) => [x.test.replace(/ @\w+/g, ''), x.project, x.runs, x.failed, x.statement],
    );
    return `measured ${day(r)} (REPEAT=${String(r?.repeat)})\n\n${table(['test', 'project', 'runs', 'failed', 'what the runs prove'], rows)}`;
  },
};

const REGION = /<!-- generated: ([\w-]+) -->\n[\s\S]*?<!-- \/generated -->/g;

/** The text with every generated region rewritten from its source; unknown names are an error. */
export function regenerate(text: string): string {
  return text.replace(REGION, (_m, name: string) => {
    const gen = GENERATED[name];
    if (!gen) throw new Error(`unknown generated table "${name}" (known: ${Object.keys(GENERATED).join(', ')})`);
    return `<!-- generated: ${name} -->\n${gen()}\n<!-- /generated -->`;
  });
}

/** The docs a person reads: the README, docs/*.md, the store's README. */
export function docFiles(): string[] {
  const docs = path.join(PROJECT_ROOT, 'docs');
  return [
    path.join(PROJECT_ROOT, 'README.md'),
    ...fs
      .readdirSync(docs)
      .filter((f) => f.endsWith('.md'))
      .map((f) => path.join(docs, f)),
    path.join(PROJECT_ROOT, 'reference-store', 'README.md'),
  ];
}

// a Markdown link or image target: ](target) or ](target "title")
const MD_LINK = /\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g;
const REPO_PATH = /`((?:e2e|helpers|scripts|bench|docs|reference-store|\.ci|\.github)\/[^`\s<>*]*)`/g;

/**
 * Paths a doc names that do not exist: in backticks (relative to the repository, or to
 * reference-store/), and as a Markdown link or image (relative to the doc's own folder, as GitHub
 * resolves it).
 */
export function missingPaths(file: string): string[] {
  const text = fs.readFileSync(file, 'utf8');
  const out: string[] = [];
  for (const m of text.matchAll(REPO_PATH)) {
    const p = m[1]!.replace(/[.,:;)]+$/, '').replace(/#.*$/, '');
    if (!fs.existsSync(path.join(PROJECT_ROOT, p)) && !fs.existsSync(path.join(PROJECT_ROOT, 'reference-store', p))) out.push(p);
  }
  for (const m of text.matchAll(MD_LINK)) {
    const target = m[1]!.replace(/#.*$/, '');
    if (!target || /^[a-z]+:/i.test(target)) continue;
    if (!fs.existsSync(path.resolve(path.dirname(file), target))) out.push(`${target} (a link in ${path.basename(file)})`);
  }
  return [...new Set(out)];
}
