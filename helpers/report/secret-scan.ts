/**
 * After a run, every file the run wrote under the reports folder is searched for the target's secrets (passwords,
 * the SECRET_KEY, the JWT signing key) and for live tokens: a find fails the run, loudly. JSON
 * results are decoded first (their attachments are base64). Global setup registers the secrets in
 * this process; the scan reporter, which runs last, reads them.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import type { FullResult, Reporter } from '@playwright/test/reporter';
import { MIN_SECRET_LENGTH, type Config } from '../config';
import { embeddedTexts, UnreadableArchive, unzipTexts } from './archive-texts';

const REGISTRY = Symbol.for('store-resilience.secrets');
// a signed JWT: two base64 JSON parts and a signature
const LIVE_JWT = /eyJ[\w-]{10,}\.eyJ[\w-]{10,}\.[\w-]{20,}/;

type Registry = { [REGISTRY]?: string[] };

/**
 * Adds secrets the scan must not find: every one the configuration accepts (MIN_SECRET_LENGTH and
 * more: a shorter one matches by chance in a report's base64, and the configuration refuses it).
 */
export function registerSecrets(secrets: readonly string[]): void {
  const g = globalThis as Registry;
  g[REGISTRY] = [...new Set([...(g[REGISTRY] ?? []), ...secrets.filter((s) => s.length >= MIN_SECRET_LENGTH)])];
}

export function registeredSecrets(): string[] {
  return (globalThis as Registry)[REGISTRY] ?? [];
}

/**
 * Where a run leaves its secrets for the check of its reports in a browser (npm run test:reports),
 * which runs after the stack that made them is gone: next to the stacks, never under the reports
 * (which CI uploads), readable by this user only.
 */
function secretsHandOffFile(cfg: HandOff): string {
  const stackRoot = path.dirname(cfg.embedded.stackDir);
  return path.join(stackRoot, `report-secrets-${createHash('sha1').update(path.resolve(cfg.reportsDir)).digest('hex').slice(0, 8)}.json`);
}

/** Where the stacks live (STACK_ROOT, for an external target too) and which reports the secrets are for. */
type HandOff = Pick<Config, 'embedded' | 'reportsDir'>;

export function handOffSecrets(cfg: HandOff): void {
  const file = secretsHandOffFile(cfg);
  const dir = path.dirname(file);
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  // the hand-offs of reports folders that are gone (child runs in temporary folders) go too
  for (const f of fs.readdirSync(dir).filter((n) => /^report-secrets-\w+\.json$/.test(n))) {
    const old = path.join(dir, f);
    try {
      if (!fs.existsSync((JSON.parse(fs.readFileSync(old, 'utf8')) as { reportsDir: string }).reportsDir)) fs.rmSync(old, { force: true });
    } catch {
      fs.rmSync(old, { force: true });
    }
  }
  // added to, not replaced: a partial run with a CLI --reporter writes no reports but hands off its
  // secrets, and the reports on disk may still be an earlier run's (the last 10 runs' are kept)
  const kept = (handedOffSecrets(cfg) ?? []).filter((x) => !registeredSecrets().includes(x));
  const secrets = [...kept, ...registeredSecrets()].slice(-10 * Math.max(1, registeredSecrets().length));
  fs.writeFileSync(file, JSON.stringify({ reportsDir: path.resolve(cfg.reportsDir), secrets }), { mode: 0o600 });
  fs.chmodSync(file, 0o600);
}

/** The secrets of the run that wrote the reports; undefined when no run left them. */
export function handedOffSecrets(cfg: HandOff): string[] | undefined {
  const file = secretsHandOffFile(cfg);
  return fs.existsSync(file) ? (JSON.parse(fs.readFileSync(file, 'utf8')) as { secrets: string[] }).secrets : undefined;
}

/** An archive the scan cannot open: it could hold anything, so it is a finding, never "clean". */
/** Texts a file holds: itself; for JSON results the decoded attachment bodies; for a page what it embeds as base64. */
function textsOf(file: string): string[] {
  const raw = fs.readFileSync(file);
  const texts = [raw.toString('latin1')];
  // archives: their files (a blob report is a zip, an uploaded log may be gzipped)
  if (file.endsWith('.zip')) texts.push(...unzipTexts(raw));
  if (file.endsWith('.gz') || file.endsWith('.tgz')) {
    try {
      texts.push(gunzipSync(raw).toString('latin1'));
    } catch (error) {
      throw new UnreadableArchive(`a gzip file the scan cannot read (${(error as Error).message})`);
    }
  }
  if (file.endsWith('.html') && raw.length < 500_000_000) texts.push(...embeddedTexts(raw.toString('latin1')));
  if (file.endsWith('.json') && raw.length < 200_000_000) {
    try {
      const walk = (v: unknown): void => {
        if (Array.isArray(v)) v.forEach(walk);
        else if (v && typeof v === 'object') {
          const o = v as Record<string, unknown>;
          if (typeof o.body === 'string' && typeof o.contentType === 'string') texts.push(Buffer.from(o.body, 'base64').toString('utf8'));
          Object.values(o).forEach(walk);
        }
      };
      walk(JSON.parse(raw.toString('utf8')));
    } catch {
      // not JSON after all: the raw text was searched
    }
  }
  return texts;
}

/** What of the secrets, or which live token, a text holds; undefined when none. */
export function secretIn(text: string, secrets: readonly string[]): string | undefined {
  const hit = secrets.findIndex((s) => text.includes(s));
  return hit >= 0 ? `secret #${hit + 1} of the target` : LIVE_JWT.test(text) ? 'a live JWT' : undefined;
}

export interface ScanFinding {
  readonly file: string;
  readonly what: string;
}

/**
 * Every finding of a secret or a live token under dir; with `since` (epoch ms), only in the files
 * written since then (older ones, another run's, were scanned by that run for its own secrets).
 */
export function scanReports(
  dir: string,
  secrets: readonly string[],
  opts: { since?: number } = {},
): { files: number; older: number; findings: ScanFinding[] } {
  const findings: ScanFinding[] = [];
  let files = 0;
  let older = 0;
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const f = path.join(d, e.name);
      if (e.isDirectory()) walk(f);
      else if (e.isFile()) {
        if (opts.since !== undefined && fs.statSync(f).mtimeMs < opts.since) {
          older++;
          continue;
        }
        files++;
        let texts: string[];
        try {
          texts = textsOf(f);
        } catch (error) {
          if (!(error instanceof UnreadableArchive)) throw error;
          findings.push({ file: path.relative(dir, f), what: error.message });
          continue;
        }
        for (const text of texts) {
          const what = secretIn(text, secrets);
          if (what) {
            findings.push({ file: path.relative(dir, f), what });
            break; // one finding per file
          }
        }
      }
    }
  };
  if (fs.existsSync(dir)) walk(dir);
  return { files, older, findings };
}

/** The reporter that runs the scan at the end of a run (listed last, after every report is written). */
export default class SecretScanReporter implements Reporter {
  /**
   * The run's files are those written since the reporter was made (before global setup); a second
   * of margin for coarse file times. Earlier runs' files (soak, the meta-test, an old Allure report)
   * were scanned by their own runs, for their own secrets, which this run does not know anyway.
   */
  private readonly since = Date.now() - 1_000;

  constructor(private readonly opts: { outputDir: string }) {}

  printsToStdio(): boolean {
    return true;
  }

  async onEnd(result: FullResult): Promise<{ status: FullResult['status'] } | undefined> {
    const { files, older, findings } = scanReports(this.opts.outputDir, registeredSecrets(), { since: this.since });
    const lines = findings.map((f) => `- ${f.file}: ${f.what}`);
    fs.writeFileSync(
      path.join(this.opts.outputDir, 'secret-scan.md'),
      `# Secret scan\n\n${files} files of this run searched for ${registeredSecrets().length} secrets and live tokens ` +
        `(${older} older files, earlier runs', not searched again): ${findings.length ? `${findings.length} FOUND` : 'none found'}\n\n${lines.join('\n')}\n`,
    );
    if (findings.length === 0) {
      process.stdout.write(`secret scan: ${files} report files of this run, no secret and no live token\n`);
      return undefined;
    }
    process.stderr.write(
      `\nSECRET SCAN FAILED: ${findings.length} report files hold a secret or a live token:\n${lines.slice(0, 20).join('\n')}\n\n`,
    );
    return { status: result.status === 'passed' ? 'failed' : result.status };
  }
}
