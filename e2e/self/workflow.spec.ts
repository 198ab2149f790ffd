/** The CI workflow passes actionlint, and the lint really fails a broken workflow. */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { expect, test } from '@playwright/test';
import { PROJECT_ROOT } from '../../helpers/paths';

const lint = (...files: string[]) =>
  spawnSync(process.execPath, ['--import', 'tsx', path.join(PROJECT_ROOT, 'scripts/lint-workflows.ts'), ...files], {
    cwd: PROJECT_ROOT,
    encoding: 'utf8',
    timeout: 60_000,
  });

test.describe('CI workflow', { tag: '@self' }, () => {
  test('should pass actionlint, and fail it when broken', () => {
    const good = lint();
    expect(good.status, `${good.stdout}${good.stderr}`).toBe(0);
    expect(good.stdout).toMatch(/actionlint: 1 workflow\(s\), 0 finding\(s\)/);
    const broken = test.info().outputPath('broken.yml');
    const text = fs.readFileSync(path.join(PROJECT_ROOT, '.github/workflows/resilience.yml'), 'utf8');
    fs.writeFileSync(broken, text.replace('needs: suite', 'needs: no-such-job').replace('${{ matrix.pg }}', '${{ matrix.postgres }}'));
    const bad = lint(broken);
    expect(bad.status, 'a broken workflow fails the lint').toBe(1);
    expect(bad.stdout).toMatch(/no-such-job/);
    expect(bad.stdout).toMatch(/postgres/);
  });

  test('should take its reporters from the configuration: no --reporter, a blob per cell, one merge of every cell', () => {
    const text = fs.readFileSync(path.join(PROJECT_ROOT, '.github/workflows/resilience.yml'), 'utf8');
    // a --reporter on the command line replaces every reporter of the config (redaction, Allure, the summary, the scan)
    expect(text.match(/^\s*run: .*--reporter.*$/gm) ?? [], 'no run step passes --reporter').toEqual([]);
    expect(text).toMatch(/CI_CELL: pg\$\{\{ matrix\.pg \}\}-\$\{\{ matrix\.server \}\}-\$\{\{ matrix\.shard \}\}/);
    expect(text).toMatch(/name: blob-\$\{\{ env\.CI_CELL \}\}/);
    expect(text).toMatch(/merge-reports --config playwright\.merge\.config\.ts/);
    expect(text).toMatch(/run: npm run report:quality-gate/);
  });
});
