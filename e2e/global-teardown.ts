/**
 * The run's backstop. A stack this run started is stopped by PID and data directory, and its
 * folder removed (frozen processes are woken first). A reused stack is healed and left running:
 * whatever a test or an interruption (Ctrl+C) left faulted is brought back.
 */
import { config } from '../helpers/config';
import { log } from '../helpers/report/log';
import { EmbeddedStack } from '../helpers/stack/embedded-stack';
import { healStack } from '../helpers/stack/heal';

export default async function globalTeardown(): Promise<void> {
  const cfg = config();
  if (cfg.target === 'external') return;
  const stack = EmbeddedStack.open(cfg.embedded.stackDir);
  if (!stack) return;
  if (stack.state.owner.pid === process.pid) {
    const done = await stack.down();
    log(`embedded stack down: ${done.join('; ') || 'nothing was running'}`);
  } else if (cfg.embedded.reuse) {
    const healed = await healStack(stack, cfg.thresholds.recoverTimeoutMs);
    log(`reused stack left running${healed.length ? `, healed: ${healed.join('; ')}` : ', healthy'}`);
  }
}
