/** The restart's failure classes (helpers/integrity/restart-failures.ts): what is safe to retry, and what was dropped. */
import { expect, test } from './support/test';
import { classifyRestartFailures } from '../../helpers/integrity/restart-failures';
import type { LoadRecord } from '../../helpers/load/load-runner';

const STOP_AT = 1_000;
let seq = 0;
const rec = (over: Partial<Pick<LoadRecord, 'errorKind' | 'status' | 'key' | 'start'>>): LoadRecord => ({
  vu: 1,
  seq: seq++,
  op: 'POST order',
  phase: 'fault',
  path: '/api/store/order-requests/',
  start: STOP_AT,
  end: STOP_AT + 5,
  ...over,
});
const kinds = (failed: LoadRecord[], stored: string[] = []) => {
  const c = classifyRestartFailures(failed, STOP_AT, new Set(stored));
  return { refused: c.refused.length, turnedAway: c.turnedAway.length, dropped: c.dropped.length };
};

test.describe('restart failures', { tag: '@self' }, () => {
  test('should count a refused connection and a reset sent after the stop began, its order not written, as safe to retry', () => {
    expect(kinds([rec({ errorKind: 'refused' }), rec({ errorKind: 'reset', start: STOP_AT + 1, key: 'k1' })])).toEqual({
      refused: 1,
      turnedAway: 1,
      dropped: 0,
    });
  });

  test('should count as dropped what was accepted and lost: in flight at the stop, written without an answer, a 5xx, a timeout', () => {
    expect(kinds([rec({ errorKind: 'reset', start: STOP_AT - 1 })]), 'reset while in flight at the stop').toEqual({
      refused: 0,
      turnedAway: 0,
      dropped: 1,
    });
    expect(kinds([rec({ errorKind: 'reset', key: 'k2' })], ['k2']), 'reset, yet its order is in the database').toEqual({
      refused: 0,
      turnedAway: 0,
      dropped: 1,
    });
    expect(kinds([rec({ status: 502 }), rec({ errorKind: 'timeout' })]), 'a 5xx and a timeout').toEqual({
      refused: 0,
      turnedAway: 0,
      dropped: 2,
    });
  });
});
