/**
 * Ctrl+C leaves a test's body running while its teardown recovers the same fault: a recover must wait
 * for an inject still acting, and two recovers at once must revert once (helpers/faults/observe.ts).
 */
import { expect, test } from './support/test';
import type { FaultContext } from '../../helpers/faults/catalog';
import { buildFault } from '../../helpers/faults/observe';
import { delay } from '../../helpers/wait';

/** A service that is up or down, whose stop takes a while: the order of what happened, by time. */
function service() {
  let up = true;
  const events: string[] = [];
  return {
    events,
    fault: buildFault(
      {
        name: 'app-restart',
        description: 'a stop that takes 300 ms',
        driver: 'in memory',
        inject: async () => {
          events.push('stop begins');
          await delay(300);
          up = false;
          events.push('stop ends');
          return { detail: 'stopped', commands: [] };
        },
        effect: () => ({ expected: 'down', probe: () => Promise.resolve({ ok: !up, detail: up ? 'up' : 'down' }) }),
        revert: async () => {
          events.push('start');
          await delay(50);
          up = true;
          return { detail: 'started', commands: [] };
        },
        reverted: () => ({ expected: 'up', probe: () => Promise.resolve({ ok: up, detail: up ? 'up' : 'down' }) }),
      },
      { observeTimeoutMs: 2_000, recoverTimeoutMs: 2_000, hangProbeMs: 500 } as unknown as FaultContext,
    ),
  };
}

test.describe('a fault recovered while its inject still acts', { tag: '@self' }, () => {
  test('should start only once the stop in flight has ended, and end up', async () => {
    const s = service();
    const injected = s.fault.inject(); // the body's inject, still acting when the teardown recovers
    await delay(50);
    await s.fault.recover();
    await injected;
    expect(s.events).toEqual(['stop begins', 'stop ends', 'start']);
  });

  test('should revert once when the body and the teardown recover at the same time', async () => {
    const s = service();
    await s.fault.inject();
    const [a, b] = await Promise.all([s.fault.recover(), s.fault.recover()]);
    expect(
      s.events.filter((e) => e === 'start'),
      'one start, shared by both',
    ).toHaveLength(1);
    expect(a.detail).toBe(b.detail);
  });
});
