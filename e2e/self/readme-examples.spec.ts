/**
 * The "Test your own deployment" examples (README.md and docs/external.md) are configurations the code accepts: each
 * driver's block of settings passes validation and selects that driver, and the example files it
 * points to name the units, services and workloads the settings use.
 */
import fs from 'node:fs';
import path from 'node:path';
import { expect, test } from './support/test';
import { loadConfig } from '../../helpers/config';
import { PROJECT_ROOT } from '../../helpers/paths';

const readme = fs.readFileSync(path.join(PROJECT_ROOT, 'README.md'), 'utf8');
const external = fs.readFileSync(path.join(PROJECT_ROOT, 'docs', 'external.md'), 'utf8');
const section = external.slice(0, external.indexOf('## How the suite tests this itself'));

/** KEY=value settings of the first bash block after a heading line. */
function settingsAfter(marker: string): Record<string, string> {
  const at = section.indexOf(marker);
  expect(at, `README has ${marker}`).toBeGreaterThan(-1);
  const block = /```bash\n([\s\S]*?)```/.exec(section.slice(at))?.[1] ?? '';
  const out: Record<string, string> = {};
  for (const line of block.split('\n')) {
    const code = line.replace(/(^|\s)#.*$/, '');
    for (const m of code.matchAll(/\b([A-Z][A-Z0-9_]+)=('([^']*)'|"([^"]*)"|(\S+))/g)) out[m[1]!] = m[3] ?? m[4] ?? m[5] ?? '';
  }
  return out;
}

const base = { TARGET: 'external', BASE_URL: 'https://staging.shop.example', JWT_TOKEN: 'a.b.c' };

test.describe('README examples', { tag: '@self' }, () => {
  for (const driver of ['command', 'systemd', 'compose', 'kubectl'] as const) {
    test(`should accept the ${driver} example as it is written`, () => {
      const settings = settingsAfter(`**\`${driver}\`**`);
      expect(Object.keys(settings).length, `the ${driver} block has settings`).toBeGreaterThan(1);
      const cfg = loadConfig({ ...base, ...settings }, { checkFiles: false });
      expect(cfg.external?.db.kind === driver || cfg.external?.app.kind === driver, `the block selects the ${driver} driver`).toBe(true);
    });
  }

  test('should accept the README example and name files that exist', () => {
    const block = /## Test your own deployment[\s\S]*?```bash\n([\s\S]*?)```/.exec(readme)?.[1] ?? '';
    const first: Record<string, string> = {};
    for (const m of block.matchAll(/\b([A-Z][A-Z0-9_]+)=('([^']*)'|"([^"]*)"|(\S+))/g)) first[m[1]!] = m[3] ?? m[4] ?? m[5] ?? '';
    const cfg = loadConfig(first, { checkFiles: false });
    expect(cfg.external).toMatchObject({
      db: { kind: 'systemd', systemdUnit: 'postgresql@15-main' },
      app: { kind: 'systemd', systemdUnit: 'shop-web.service' },
    });
    const examples = path.join(PROJECT_ROOT, 'e2e/external/examples');
    const compose = fs.readFileSync(path.join(examples, 'compose.yaml'), 'utf8');
    expect(compose).toMatch(/^name: shop$/m);
    expect(compose).toMatch(/^ {2}db:$/m);
    expect(compose).toMatch(/^ {2}web:$/m);
    const k8s = fs.readFileSync(path.join(examples, 'k8s.yaml'), 'utf8');
    expect(k8s).toMatch(/kind: StatefulSet\nmetadata: \{name: db, namespace: shop\}/);
    expect(k8s).toMatch(/kind: Deployment\nmetadata: \{name: web, namespace: shop\}/);
    expect(k8s).toContain('matchLabels: {app: web}');
    expect(fs.readFileSync(path.join(examples, 'shop-web.service'), 'utf8')).toContain(
      'ExecStart=/usr/bin/python3 serve.py -c gunicorn.conf.py',
    );
  });
});
