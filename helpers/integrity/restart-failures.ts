/**
 * The failures of a full restart by kind. Refused: the listener was closed, the client retries
 * safely. Turned away: sent once the stop had begun and reset unread (gunicorn closes its listener
 * on TERM and the kernel resets what was queued behind it), and not in the database. Everything else
 * was accepted and lost (in flight at the stop, a 5xx, no answer, or written without an answer):
 * dropped, which a store that drains its in-flight requests never does.
 */
import type { LoadRecord } from '../load/load-runner';

export interface RestartFailures {
  readonly refused: readonly LoadRecord[];
  readonly turnedAway: readonly LoadRecord[];
  readonly dropped: readonly LoadRecord[];
}

/** Sorts the failed requests of a restart that began at stopAt; storedKeys: the Idempotency-Keys the database holds. */
export function classifyRestartFailures(failed: readonly LoadRecord[], stopAt: number, storedKeys: ReadonlySet<string>): RestartFailures {
  const refused = failed.filter((r) => r.status === undefined && r.errorKind === 'refused');
  const turnedAway = failed.filter(
    (r) => r.status === undefined && r.errorKind === 'reset' && r.start >= stopAt && !(r.key !== undefined && storedKeys.has(r.key)),
  );
  const dropped = failed.filter((r) => !refused.includes(r) && !turnedAway.includes(r));
  return { refused, turnedAway, dropped };
}
