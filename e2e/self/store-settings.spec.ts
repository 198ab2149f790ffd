/**
 * The reference store refuses to start with a cache folder others can plant files in: the file cache
 * unpickles what it finds there, so a pickle planted in a shared /tmp would run as the store.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { expect, test } from './support/test';
import { config } from '../../helpers/config';
import { REFERENCE_STORE_DIR } from '../../helpers/paths';

/** What importing the store's settings says with this cache folder (empty when it starts). */
function settingsWith(cacheDir: string): string {
  const r = spawnSync(config().embedded.python, ['-c', 'import storeproject.settings'], {
    cwd: REFERENCE_STORE_DIR,
    env: { PATH: '/usr/bin:/bin', STORE_SECRET_KEY: 'k'.repeat(40), STORE_CACHE_DIR: cacheDir },
    encoding: 'utf8',
  });
  return r.status === 0 ? '' : (r.stderr.trim().split('\n').at(-1) ?? `exit ${r.status}`);
}

test.describe('the store refuses a cache folder others could plant in', { tag: '@self' }, () => {
  test('should start with a private folder, and refuse one open to others or a symbolic link', () => {
    const root = test.info().outputPath('cache');
    fs.mkdirSync(root, { recursive: true });
    expect(settingsWith(`${root}/private`), 'a folder it creates 0700').toBe('');
    expect(fs.statSync(`${root}/private`).mode & 0o777).toBe(0o700);
    fs.mkdirSync(`${root}/open`, { mode: 0o777 });
    fs.chmodSync(`${root}/open`, 0o777);
    expect(settingsWith(`${root}/open`)).toMatch(/STORE_CACHE_DIR .*open is open to others \(mode 777\): it must be 0700/);
    fs.symlinkSync(`${root}/private`, `${root}/linked`);
    expect(settingsWith(`${root}/linked`)).toMatch(/STORE_CACHE_DIR .*linked is not a folder \(a symbolic link is refused\)/);
  });
});
