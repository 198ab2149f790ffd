/** The stack folder cannot be planted: another owner or a writable-by-others folder is refused. */
import fs from 'node:fs';
import { expect, test } from './support/test';
import { findFreePort } from '../../helpers/stack/ports';
import { ensureSafeStackRoot, readStackState, STATE_VERSION } from '../../helpers/stack/stack-state';
import { portsRecordedUnder } from '../../helpers/stack/stack-sweep';

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

  test("should give a new stack no port another stack recorded, though nothing listens on it (a lane's PostgreSQL in an outage)", async () => {
    const root = test.info().outputPath('stacks');
    ensureSafeStackRoot(root);
    const base = 30_500;
    const record = (name: string, first: number) => {
      fs.mkdirSync(`${root}/${name}`);
      const state = {
        version: STATE_VERSION,
        postgres: { port: first },
        store: { port: first + 1 },
        proxy: { port: first + 2, controlPort: first + 3 },
      };
      fs.writeFileSync(`${root}/${name}/stack.json`, JSON.stringify(state));
    };
    record('lane0', base);
    record('lane1', base + 4);
    record('new', base + 8);
    const taken = portsRecordedUnder(root, `${root}/new`);
    expect(
      taken.sort((a, b) => a - b),
      "every other stack's four ports, not the new one's own",
    ).toEqual([0, 1, 2, 3, 4, 5, 6, 7].map((i) => base + i));
    // eleven ports, eight recorded by others (all free to bind: their servers are down): only the rest are given
    for (let i = 0; i < 20; i++) expect(await findFreePort({ min: base, max: base + 10 }, taken)).toBeGreaterThanOrEqual(base + 8);
  });
});
