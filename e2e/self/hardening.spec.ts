/**
 * The suite's own bypasses, closed: a process is ours only when an argument names our path (not a
 * path that starts with it), a stack root that is a symbolic link is refused, pg_ctl never signals
 * a PID that postmaster.pid names unless it is this cluster's postmaster, the redaction masks every
 * credential form found in a review, and the report scan opens archives (one it cannot read is a
 * finding, never clean).
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { expect, test } from './support/test';
import { config } from '../../helpers/config';
import { guardRequest } from '../../helpers/faults/proxy/control-api';
import { redact, redactText } from '../../helpers/report/redact';
import { scanReports } from '../../helpers/report/secret-scan';
import { PostgresCluster } from '../../helpers/stack/postgres-cluster';
import { argvHasMarker } from '../../helpers/stack/processes';
import { ensureSafeStackRoot } from '../../helpers/stack/stack-state';

test.describe('suite hardening', { tag: '@self' }, () => {
  test('should take a process for a stack only when an argument names the stack folder or a path inside it', () => {
    const stack = '/tmp/sr/abc';
    expect(argvHasMarker(['postgres', '-D', '/tmp/sr/abc/pg/data'], stack)).toBe(true);
    expect(argvHasMarker(['gunicorn', '--pid=/tmp/sr/abc/store/gunicorn.pid'], stack)).toBe(true);
    expect(argvHasMarker(['postgres', '-D', '/tmp/sr/abc-2/pg/data'], stack), 'stack abc-2 is not abc').toBe(false);
    expect(argvHasMarker(['sh', '-c', 'echo /tmp/sr/abc'], stack), 'a word inside an argument is not one').toBe(false);
    expect(argvHasMarker(['postgres', '-D', '/tmp/sr/abc/pg/data2'], '/tmp/sr/abc/pg/data'), 'data2 is not data').toBe(false);
  });

  test('should refuse a stack root that is a symbolic link, wherever it points', () => {
    const real = test.info().outputPath('real-root');
    const link = test.info().outputPath('linked-root');
    fs.mkdirSync(real, { mode: 0o711 });
    fs.chmodSync(real, 0o711);
    fs.symlinkSync(real, link);
    expect(() => ensureSafeStackRoot(real)).not.toThrow();
    expect(() => ensureSafeStackRoot(link)).toThrow(/not safe to use: .*it is a symbolic link/);
  });

  test("should refuse pg_ctl stop when postmaster.pid names a live process that is not this cluster's postmaster", async () => {
    const dir = test.info().outputPath('pg');
    fs.mkdirSync(path.join(dir, 'data'), { recursive: true });
    // a stale pid file naming a live stranger (this test's own process)
    fs.writeFileSync(path.join(dir, 'data', 'postmaster.pid'), `${process.pid}\n${dir}/data\n`);
    const cluster = new PostgresCluster({ dir, pgBin: config().embedded.pgBin, port: 20999 });
    expect(cluster.isRunning()).toBe(false);
    await expect(cluster.stop('immediate', 1_000)).rejects.toThrow(
      /pg_ctl stop refused: .* names PID \d+, which is not this cluster's postmaster/,
    );
  });

  test('should refuse a request to the fault proxy from a web page, to another host name, and a read of the statement log without the token', () => {
    const port = 23456;
    const req = (headers: Record<string, string>, method = 'GET', url = '/proxies') => ({
      method,
      url,
      headers: { host: `127.0.0.1:${port}`, ...headers },
    });
    const refusal = (r: ReturnType<typeof req>) => {
      try {
        guardRequest(r, port, 'run-token');
        return 'allowed';
      } catch (error) {
        return (error as Error).message;
      }
    };
    expect(refusal(req({}))).toBe('allowed');
    expect(refusal(req({ host: `localhost:${port}` }))).toBe('allowed');
    expect(refusal(req({ origin: 'https://evil.example' }, 'POST', '/proxies/postgres/toxics'))).toMatch(/web page \(Origin\)/);
    expect(refusal(req({ host: `rebind.evil.example:${port}` }))).toMatch(/Host "rebind\.evil\.example:23456" is not this control API/);
    expect(refusal(req({ origin: 'null', 'content-type': 'text/plain' }, 'POST', '/proxies/postgres/toxics')), 'a sandboxed page').toMatch(
      /web page/,
    );
    expect(refusal(req({}, 'GET', '/proxies/postgres/connections'))).toMatch(/statement log needs the run's token/);
    expect(refusal(req({ 'x-fault-proxy-token': 'wrong' }, 'GET', '/proxies/postgres/connections'))).toMatch(/needs the run's token/);
    expect(refusal(req({ 'x-fault-proxy-token': 'run-token' }, 'GET', '/proxies/postgres/connections'))).toBe('allowed');
  });

  const leaks: Array<[string, string, string]> = [
    ['Authorization: Basic in free text', 'Authorization: Basic dXNlcjpwYXNzd29yZA==', 'dXNlcjpwYXNzd29yZA=='],
    ['Authorization: Token in free text', 'authorization=Token 9f1c2e3d4b5a6978', '9f1c2e3d4b5a6978'],
    ['a token in a query string', 'GET /export?token=q-secret-77&page=2', 'q-secret-77'],
    ['passphrase=', 'passphrase=open-sesame-4', 'open-sesame-4'],
    ['a password in a URL without a user', 'postgresql://:only-pw-9@db:5432/shop', 'only-pw-9'],
    ['a quoted password with spaces', '{"password": "correct horse battery staple"}', 'battery staple'],
  ];
  for (const [what, text, secret] of leaks) {
    test(`should redact ${what}`, () => {
      const out = redactText(text);
      expect(out, out).not.toContain(secret);
    });
  }

  test('should mask JSON values under "pass" and "key", and keep the Idempotency-Keys the suite made', () => {
    expect(redact({ pass: 'p4ss', key: 'sk_live_51Habc', nested: { key: 'ledger-0a1b2c3d-1111-2222-3333-444455556666' } })).toEqual({
      pass: '***',
      key: '***',
      nested: { key: 'ledger-0a1b2c3d-1111-2222-3333-444455556666' },
    });
  });

  test('should open zip and gzip files, and report one it cannot read', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sr-scan-'));
    try {
      const secret = 'pw-4242';
      const zip = execFileSync('/usr/bin/python3', [
        '-c',
        'import io,sys,zipfile;b=io.BytesIO();z=zipfile.ZipFile(b,"w",zipfile.ZIP_DEFLATED);z.writestr("r.jsonl","x "+sys.argv[1]);z.close();sys.stdout.buffer.write(b.getvalue())',
        `the password is ${secret}`,
      ]);
      fs.writeFileSync(path.join(dir, 'report-cell-1.zip'), zip);
      fs.writeFileSync(path.join(dir, 'store.log.gz'), gzipSync(`login with ${secret}`));
      fs.writeFileSync(path.join(dir, 'broken.zip'), Buffer.from('PK\u0003\u0004 not really a zip'));
      fs.writeFileSync(path.join(dir, 'broken.log.gz'), Buffer.from([0x1f, 0x8b, 0x08, 0x00, 0x01]));
      fs.writeFileSync(path.join(dir, 'clean.log.gz'), gzipSync('nothing here'));
      const { findings } = scanReports(dir, [secret]);
      expect(findings.map((f) => `${f.file}: ${f.what.replace(/ \(.*/, '')}`).sort()).toEqual([
        'broken.log.gz: a gzip file the scan cannot read',
        'broken.zip: a zip the scan cannot read',
        'report-cell-1.zip: secret #1 of the target',
        'store.log.gz: secret #1 of the target',
      ]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
