/**
 * The run's backstop. A stack this run started is stopped by PID and data directory, and its
 * folder removed (frozen processes are woken first). A reused stack is healed and left running:
 * whatever a test or an interruption (Ctrl+C) left faulted is brought back.
 */
import fs from 'node:fs';
import path from 'node:path';
import { config } from '../helpers/config';
import { resolveTarget } from '../helpers/target';
import { log } from '../helpers/report/log';
import { EmbeddedStack } from '../helpers/stack/embedded-stack';
import { healStack } from '../helpers/stack/heal';

export default async function globalTeardown(): Promise<void> {
  const cfg = config();
  if (cfg.target === 'external') {
    // the backstop: whatever a test or an interruption left faulted is brought back
    const healed = await resolveTarget(cfg).heal();
    log(`external target${healed.length ? ` healed: ${healed.join('; ')}` : ': healthy, nothing to heal'}`);
    for (const f of ['external-replicas.json', 'external-baseline.json']) fs.rmSync(path.join(cfg.reportsDir, f), { force: true });
    return;
  }
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
