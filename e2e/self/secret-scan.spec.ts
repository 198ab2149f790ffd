/** The scan of the reports for secrets and live tokens (helpers/report/secret-scan.ts), seen finding what it must. */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect, test } from './support/test';
import { scanReports } from '../../helpers/report/secret-scan';

test.describe('report scan', { tag: '@self' }, () => {
  test('should find a secret in a file, in a base64 attachment of JSON results, and a live token; nothing in clean files', () => {
    // outside the run's reports: its planted secrets would fail the run's own scan
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sr-scan-'));
    fs.mkdirSync(path.join(dir, 'html', 'data'), { recursive: true });
    const secret = 'the-db-password-42';
    const token = `eyJhbGciOiJIUzI1NiJ9.eyJ1c2VyX2lkIjoxMjN9.${'s'.repeat(43)}`;
    fs.writeFileSync(path.join(dir, 'html', 'data', 'log.txt'), `connected with ${secret}`);
    fs.writeFileSync(
      path.join(dir, 'results.json'),
      JSON.stringify({
        suites: [{ attachments: [{ name: 'x', contentType: 'text/plain', body: Buffer.from(`pw ${secret}`).toString('base64') }] }],
      }),
    );
    fs.writeFileSync(path.join(dir, 'exchange.json'), JSON.stringify({ Authorization: `Bearer ${token}` }));
    fs.writeFileSync(path.join(dir, 'clean.txt'), 'Bearer *** eyJ*** password=***');
    const { files, findings } = scanReports(dir, [secret]);
    expect(files).toBe(4);
    fs.rmSync(dir, { recursive: true, force: true });
    expect(findings.map((f) => `${f.file}: ${f.what}`).sort()).toEqual([
      'exchange.json: a live JWT',
      'html/data/log.txt: secret #1 of the target',
      'results.json: secret #1 of the target',
    ]);
  });

  test("should search the files a run wrote, and count an earlier run's as older, not searched again", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sr-scan-'));
    try {
      const secret = 'the-db-password-43';
      fs.writeFileSync(path.join(dir, 'earlier.txt'), `an earlier run's ${secret}`);
      const hourAgo = new Date(Date.now() - 3600_000);
      fs.utimesSync(path.join(dir, 'earlier.txt'), hourAgo, hourAgo);
      fs.writeFileSync(path.join(dir, 'this-run.txt'), `pw ${secret}`);
      const scan = scanReports(dir, [secret], { since: Date.now() - 60_000 });
      expect({ files: scan.files, older: scan.older }).toEqual({ files: 1, older: 1 });
      expect(scan.findings.map((f) => f.file)).toEqual(['this-run.txt']);
      // without since, every file: the earlier one too
      expect(
        scanReports(dir, [secret])
          .findings.map((f) => f.file)
          .sort(),
      ).toEqual(['earlier.txt', 'this-run.txt']);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('should find a token inside a single-file report: a zip in base64 (Playwright HTML) and base64 data (Allure)', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sr-scan-'));
    try {
      const token = `eyJhbGciOiJIUzI1NiJ9.eyJ1c2VyX2lkIjoxMjN9.${'s'.repeat(43)}`;
      // a deflated zip made by Python's zipfile, as Playwright embeds its report data
      const zip = execFileSync('/usr/bin/python3', [
        '-c',
        [
          'import io, sys, zipfile',
          'b = io.BytesIO()',
          'z = zipfile.ZipFile(b, "w", zipfile.ZIP_DEFLATED)',
          'z.writestr("report.json", "{}")',
          'z.writestr("b92c.json", "call log: - Authorization: Bearer " + sys.argv[1] + " " + "x" * 500)',
          'z.close()',
          'sys.stdout.buffer.write(b.getvalue())',
        ].join('\n'),
        token,
      ]);
      fs.writeFileSync(
        path.join(dir, 'playwright.html'),
        `<script id="playwrightReportBase64" type="application/zip">data:application/zip;base64,${zip.toString('base64')}</script>`,
      );
      const data = Buffer.from(JSON.stringify({ steps: [{ message: `Bearer ${token}`, padding: 'y'.repeat(300) }] })).toString('base64');
      fs.writeFileSync(path.join(dir, 'allure.html'), `<script>window.data = "${data}";</script>`);
      fs.writeFileSync(
        path.join(dir, 'clean.html'),
        `<script>window.data = "${Buffer.from('z'.repeat(400)).toString('base64')}";</script>`,
      );
      const { findings } = scanReports(dir, []);
      expect(findings.map((f) => `${f.file}: ${f.what}`).sort()).toEqual(['allure.html: a live JWT', 'playwright.html: a live JWT']);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('should search a page embedding megabytes of base64 (the report of a repeated run) and find the token at its end', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sr-scan-'));
    try {
      const token = `eyJhbGciOiJIUzI1NiJ9.eyJ1c2VyX2lkIjoxMjN9.${'t'.repeat(43)}`;
      // one run of 16 MB: a regular expression's backtracking overflowed the stack on the soak's report
      const data = Buffer.from(`${'q'.repeat(12_000_000)} Bearer ${token}`).toString('base64');
      fs.writeFileSync(path.join(dir, 'big.html'), `<script>window.data = "${data}";</script>`);
      const { findings } = scanReports(dir, []);
      expect(findings.map((f) => `${f.file}: ${f.what}`)).toEqual(['big.html: a live JWT']);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
