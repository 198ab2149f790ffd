/**
 * After a run, every file under the reports folder is searched for the target's secrets (passwords,
 * the SECRET_KEY, the JWT signing key) and for live tokens: a find fails the run, loudly. JSON
 * results are decoded first (their attachments are base64). Global setup registers the secrets in
 * this process; the scan reporter, which runs last, reads them.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { FullResult, Reporter } from '@playwright/test/reporter';

const REGISTRY = Symbol.for('store-resilience.secrets');
// a signed JWT: two base64 JSON parts and a signature
const LIVE_JWT = /eyJ[\w-]{10,}\.eyJ[\w-]{10,}\.[\w-]{20,}/;

type Registry = { [REGISTRY]?: string[] };

/** Adds secrets the scan must not find (shorter than 6 characters: they match by chance). */
export function registerSecrets(secrets: readonly string[]): void {
  const g = globalThis as Registry;
  g[REGISTRY] = [...new Set([...(g[REGISTRY] ?? []), ...secrets.filter((s) => s.length >= 6)])];
}

export function registeredSecrets(): string[] {
  return (globalThis as Registry)[REGISTRY] ?? [];
}

/** Texts a file holds: itself, and for Playwright's JSON results the decoded attachment bodies. */
function textsOf(file: string): string[] {
  const raw = fs.readFileSync(file);
  const texts = [raw.toString('latin1')];
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

export interface ScanFinding {
  readonly file: string;
  readonly what: string;
}

/** Every finding of a secret or a live token under dir. */
export function scanReports(dir: string, secrets: readonly string[]): { files: number; findings: ScanFinding[] } {
  const findings: ScanFinding[] = [];
  let files = 0;
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const f = path.join(d, e.name);
      if (e.isDirectory()) walk(f);
      else if (e.isFile()) {
        files++;
        for (const text of textsOf(f)) {
          const hit = secrets.findIndex((s) => text.includes(s));
          const what = hit >= 0 ? `secret #${hit + 1} of the target` : LIVE_JWT.test(text) ? 'a live JWT' : undefined;
          if (what) {
            findings.push({ file: path.relative(dir, f), what });
            break; // one finding per file
          }
        }
      }
    }
  };
  if (fs.existsSync(dir)) walk(dir);
  return { files, findings };
}

/** The reporter that runs the scan at the end of a run (listed last, after every report is written). */
export default class SecretScanReporter implements Reporter {
  constructor(private readonly opts: { outputDir: string }) {}

  printsToStdio(): boolean {
    return true;
  }

  async onEnd(result: FullResult): Promise<{ status: FullResult['status'] } | undefined> {
    const { files, findings } = scanReports(this.opts.outputDir, registeredSecrets());
    const lines = findings.map((f) => `- ${f.file}: ${f.what}`);
    fs.writeFileSync(
      path.join(this.opts.outputDir, 'secret-scan.md'),
      `# Secret scan\n\n${files} files searched for ${registeredSecrets().length} secrets and live tokens: ${findings.length ? `${findings.length} FOUND` : 'none found'}\n\n${lines.join('\n')}\n`,
    );
    if (findings.length === 0) {
      process.stdout.write(`secret scan: ${files} report files, no secret and no live token\n`);
      return undefined;
    }
    process.stderr.write(`\nSECRET SCAN FAILED: ${findings.length} report files hold a secret or a live token:\n${lines.slice(0, 20).join('\n')}\n\n`);
    return { status: result.status === 'passed' ? 'failed' : result.status };
  }
}
