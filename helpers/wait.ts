/** Polls with a deadline: the only way this project waits. */
export interface WaitOptions {
  /** what is awaited, for the error message */
  readonly description: string;
  readonly timeoutMs: number;
  readonly intervalMs?: number;
}

/** Thrown when a wait runs out of time; names what was awaited, for how long, and the last observation. */
export class WaitTimeoutError extends Error {
  constructor(description: string, elapsedMs: number, last: string) {
    super(`${description}: not reached after ${elapsedMs}ms (last: ${last})`);
    this.name = 'WaitTimeoutError';
  }
}

const describe = (v: unknown) => (v instanceof Error ? v.message : (JSON.stringify(v) ?? String(v)));

/**
 * Calls probe until it returns a value other than undefined/false/null, then returns it.
 * A probe that throws counts as "not yet"; its error is reported if the deadline passes.
 */
export async function waitUntil<T>(
  probe: () => Promise<T | undefined | false | null> | T | undefined | false | null,
  opts: WaitOptions,
): Promise<T> {
  const started = Date.now();
  const interval = opts.intervalMs ?? 50;
  let last: unknown = 'no attempt';
  for (let attempt = 0; ; attempt++) {
    try {
      const value = await probe();
      if (value !== undefined && value !== false && value !== null) return value;
      last = value;
    } catch (error) {
      last = error;
    }
    const elapsed = Date.now() - started;
    if (elapsed >= opts.timeoutMs) throw new WaitTimeoutError(opts.description, elapsed, describe(last));
    await delay(Math.min(interval, opts.timeoutMs - elapsed));
  }
}

/** A pause between polls (only waitUntil and load pacing use it). */
export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
