/**
 * Tags are Playwright's `tag` option, never words of a title: a tag written into a title is shown
 * twice in the HTML report (in the title and as a badge) and again by Allure.
 */
import fs from 'node:fs';
import path from 'node:path';
import { expect, test } from './support/test';
import { PROJECT_ROOT } from '../../helpers/paths';

const TITLE_WITH_TAG = /test(?:\.describe)?(?:\.serial)?\(\s*(['`])((?:(?!\1)[^\\]|\\.)*?\s@[\w-]+\b(?:(?!\1)[^\\]|\\.)*?)\1/gs;

function specFiles(dir: string): string[] {
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .flatMap((e) => (e.isDirectory() ? specFiles(path.join(dir, e.name)) : e.name.endsWith('.ts') ? [path.join(dir, e.name)] : []));
}

/** The titles in a source that carry a tag (" @db"). */
function titlesWithTags(source: string): string[] {
  return [...source.matchAll(TITLE_WITH_TAG)].map((m) => m[2]!);
}

test.describe('tags', { tag: '@self' }, () => {
  test('should be declared with the tag option, not written into titles', () => {
    expect(titlesWithTags("test('should answer 201 @db', async () => {})"), 'the check sees a tag in a title').toEqual([
      'should answer 201 @db',
    ]);
    expect(titlesWithTags("test('should answer 201', { tag: '@db' }, async () => {})")).toEqual([]);
    const found = specFiles(path.join(PROJECT_ROOT, 'e2e'))
      .filter((f) => !f.endsWith('tags.spec.ts'))
      .flatMap((f) => titlesWithTags(fs.readFileSync(f, 'utf8')).map((t) => `${path.relative(PROJECT_ROOT, f)}: ${t}`));
    expect(found, 'titles with a tag in them').toEqual([]);
  });
});
