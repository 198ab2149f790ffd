/**
 * After a run, every file under the reports folder is searched for the target's secrets (passwords,
 * the SECRET_KEY, the JWT signing key) and for live tokens: a find fails the run, loudly. JSON
 * results are decoded first (their attachments are base64). Global setup registers the secrets in
 * this process; the scan reporter, which runs last, reads them.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { gunzipSync, inflateRawSync } from 'node:zlib';
import type { FullResult, Reporter } from '@playwright/test/reporter';
import { MIN_SECRET_LENGTH, type Config } from '../config';

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
export class UnreadableArchive extends Error {}

/** The files of a zip archive (stored or deflated), read from its central directory; throws UnreadableArchive. */
export function unzipTexts(zip: Buffer): string[] {
  try {
    return unzipOrThrow(zip);
  } catch (error) {
    throw new UnreadableArchive(`a zip the scan cannot read (${(error as Error).message})`);
  }
}

function unzipOrThrow(zip: Buffer): string[] {
  const eocd = zip.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  if (eocd < 0) throw new Error('no end of central directory');
  const count = zip.readUInt16LE(eocd + 10);
  let at = zip.readUInt32LE(eocd + 16);
  const out: string[] = [];
  for (let i = 0; i < count && zip.readUInt32LE(at) === 0x02014b50; i++) {
    const method = zip.readUInt16LE(at + 10);
    const size = zip.readUInt32LE(at + 20);
    const local = zip.readUInt32LE(at + 42);
    const start = local + 30 + zip.readUInt16LE(local + 26) + zip.readUInt16LE(local + 28);
    const data = zip.subarray(start, start + size);
    if (method === 0) out.push(data.toString('utf8'));
    else if (method === 8) out.push(inflateRawSync(data).toString('utf8'));
    else throw new Error(`compression method ${method}`);
    at += 46 + zip.readUInt16LE(at + 28) + zip.readUInt16LE(at + 30) + zip.readUInt16LE(at + 32);
  }
  return out;
}

// a long base64 run in a page: single-file reports embed their data this way (Playwright's HTML
// report a zip, Allure's single file its results and attachments)
const BASE64_MIN_RUN = 200;

function isBase64Char(c: number): boolean {
  return (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || (c >= 48 && c <= 57) || c === 43 || c === 47;
}

/**
 * The runs of base64 characters of BASE64_MIN_RUN or more (with their padding), found in one linear
 * pass: a regular expression's backtracking overflows V8's stack on a run of megabytes (a report of
 * a repeated run embeds one).
 */
export function base64Runs(page: string): string[] {
  const runs: string[] = [];
  let start = -1;
  for (let i = 0; i <= page.length; i++) {
    if (i < page.length && isBase64Char(page.charCodeAt(i))) {
      if (start < 0) start = i;
      continue;
    }
    if (start >= 0 && i - start >= BASE64_MIN_RUN) {
      let end = i;
      while (end < page.length && end - i < 2 && page[end] === '=') end++;
      runs.push(page.slice(start, end));
    }
    start = -1;
  }
  return runs;
}

/** The texts a page embeds as base64, decoded (a zip unpacked); one level deep. */
function embeddedTexts(page: string): string[] {
  const texts: string[] = [];
  for (const run of base64Runs(page)) {
    const bytes = Buffer.from(run, 'base64');
    if (bytes.subarray(0, 4).equals(Buffer.from([0x50, 0x4b, 0x03, 0x04]))) texts.push(...unzipTexts(bytes));
    else texts.push(bytes.toString('utf8'));
  }
  return texts;
}

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
    process.stderr.write(
      `\nSECRET SCAN FAILED: ${findings.length} report files hold a secret or a live token:\n${lines.slice(0, 20).join('\n')}\n\n`,
    );
    return { status: result.status === 'passed' ? 'failed' : result.status };
  }
}
