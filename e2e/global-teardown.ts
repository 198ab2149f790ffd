/**
 * The run's backstop. Embedded: a stack this run started is stopped by PID and data directory, and
 * its folder removed (frozen processes are woken first); a reused stack is healed and left running.
 * External: the target is healed through its drivers. Whatever a test or an interruption (Ctrl+C)
 * left faulted is brought back.
 */
import fs from 'node:fs';
import path from 'node:path';
import { config } from '../helpers/config';
import { log } from '../helpers/report/log';
import { resolveTarget } from '../helpers/targets/resolve';
import { tearDownEmbedded } from '../helpers/targets/embedded-lifecycle';

export default async function globalTeardown(): Promise<void> {
  const cfg = config();
  if (cfg.target === 'embedded') {
    await tearDownEmbedded(cfg);
    return;
  }
  const healed = await resolveTarget(cfg).heal();
  log(`external target${healed.length ? ` healed: ${healed.join('; ')}` : ': healthy, nothing to heal'}`);
  for (const f of ['external-replicas.json', 'external-baseline.json']) fs.rmSync(path.join(cfg.reportsDir, f), { force: true });
}
