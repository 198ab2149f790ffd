/** Lane slots (helpers/stack/lane-slots.ts): a load experiment runs alone, and a dead holder blocks nobody. */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { LaneSlots } from '../../helpers/stack/lane-slots';
import { waitUntil } from '../../helpers/wait';
import { expect, test } from './support/test';

/** Two workers of one run: this process and its parent (both alive), each with its own view of the slots. */
function twoWorkers() {
  const dir = test.info().outputPath('slots');
  return { dir, a: new LaneSlots(dir, process.pid), b: new LaneSlots(dir, process.ppid) };
}

test.describe('lane slots', { tag: '@self' }, () => {
  test("should let the exclusive slot wait for the other lane's test to end", async () => {
    const { dir, a, b } = twoWorkers();
    const order: string[] = [];
    await a.shared(5_000);
    const taken = b.exclusive(5_000).then(() => order.push('b runs alone'));
    await waitUntil(() => fs.existsSync(path.join(dir, 'exclusive')), { description: 'b announced', timeoutMs: 5_000 });
    // for 200 ms (ten of b's polls) b must not get the slot while a runs its test
    const early = await waitUntil(() => order.length > 0, { description: 'b to run', timeoutMs: 200, intervalMs: 10 }).then(
      () => true,
      () => false,
    );
    expect(early, 'b waits while a runs a test').toBe(false);
    order.push('a ends its test');
    a.release();
    await taken;
    expect(order).toEqual(['a ends its test', 'b runs alone']);
    b.release();
  });

  test("should hold the other lane's next test until the exclusive slot is given back", async () => {
    const { a, b } = twoWorkers();
    const order: string[] = [];
    await b.exclusive(5_000);
    const next = a.shared(5_000).then(() => order.push('a starts its test'));
    // a's first try ran when it was called; a turn of the event loop lets it resolve, were it taken
    await new Promise((resolve) => setImmediate(resolve));
    order.push('b is done');
    b.release();
    await next;
    expect(order).toEqual(['b is done', 'a starts its test']);
    a.release();
  });

  test('should not wait for a holder that died', async () => {
    const { dir, a } = twoWorkers();
    const dead = spawnSync('true').pid;
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, `shared-${dead}`), '');
    await a.exclusive(2_000);
    expect(fs.existsSync(path.join(dir, `shared-${dead}`)), "the dead holder's file is gone").toBe(false);
    a.release();
    // an exclusive lock left by a dead worker
    fs.mkdirSync(path.join(dir, 'exclusive'));
    fs.writeFileSync(path.join(dir, 'exclusive', 'owner'), String(dead));
    await a.shared(2_000);
    a.release();
  });
});
