/**
 * The docs cannot go stale: every table of figures is generated from its source (`npm run docs`
 * rewrites them), and every path they name exists.
 */
import fs from 'node:fs';
import path from 'node:path';
import { expect, test } from './support/test';
import { docFiles, missingPaths, regenerate } from '../../helpers/report/docs';
import { PROJECT_ROOT } from '../../helpers/paths';

test.describe('docs', { tag: '@self' }, () => {
  for (const file of docFiles()) {
    const rel = path.relative(PROJECT_ROOT, file);
    test(`should hold in ${rel} only tables its sources give now, and paths that exist`, () => {
      const text = fs.readFileSync(file, 'utf8');
      expect(regenerate(text) === text, `${rel}: a generated table differs from its source (npm run docs rewrites it)`).toBe(true);
      expect(missingPaths(file), `${rel} names paths that do not exist`).toEqual([]);
    });
  }

  test('should keep the README a five-minute read (12 KB at most)', () => {
    expect(fs.statSync(path.join(PROJECT_ROOT, 'README.md')).size).toBeLessThanOrEqual(12 * 1024);
  });

  test('should see a stale table and a missing path', () => {
    const stale = '<!-- generated: bench-stack -->\n| made up |\n<!-- /generated -->';
    expect(regenerate(stale)).not.toBe(stale);
    const dir = test.info().outputPath('doc');
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, 'x.md'), 'see `helpers/nowhere.ts` and `helpers/config.ts`');
    expect(missingPaths(path.join(dir, 'x.md'))).toEqual(['helpers/nowhere.ts']);
  });
});
