/** The stack folder cannot be planted: another owner or a writable-by-others folder is refused. */
import fs from 'node:fs';
import { expect, test } from '@playwright/test';
import { ensureSafeStackRoot, readStackState } from '../../helpers/stack/stack-state';

test.describe('stack folder safety', { tag: '@self' }, () => {
  test('should create the stack root 0711 and refuse one writable by others or owned by another user', () => {
    const root = test.info().outputPath('stacks');
    ensureSafeStackRoot(root);
    expect(fs.statSync(root).mode & 0o777).toBe(0o711);
    fs.chmodSync(root, 0o777);
    expect(() => ensureSafeStackRoot(root)).toThrow(/STACK_ROOT .* is not safe to use: .* writable by nobody else .*mode 777/);
    // a planted state file is not read from such a folder
    fs.mkdirSync(`${root}/test`);
    fs.writeFileSync(`${root}/test/stack.json`, JSON.stringify({ version: 2, pgBin: '/tmp/evil' }));
    expect(() => readStackState(`${root}/test`)).toThrow(/not safe to use/);
    fs.chmodSync(root, 0o711);
    if (process.getuid?.() === 0) {
      fs.chownSync(root, 65534, 65534);
      expect(() => ensureSafeStackRoot(root), 'owned by nobody').toThrow(/owned by uid 65534/);
      fs.chownSync(root, 0, 0);
    }
  });
});
