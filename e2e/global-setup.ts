/** Brings the target up (embedded) or checks and heals it (external); invalid config stops here first. */
import fs from 'node:fs';
import type { FullConfig } from '@playwright/test';
import { config } from '../helpers/config';
import { log } from '../helpers/report/log';
import { handOffSecrets, registerSecrets } from '../helpers/report/secret-scan';
import { resolveTarget } from '../helpers/targets/resolve';
import { setUpEmbedded } from '../helpers/targets/embedded-lifecycle';

export default async function globalSetup(full: FullConfig): Promise<void> {
  const cfg = config();
  // a worker is a lane: more workers than lanes would run faults at once on one deployment, or on
  // stacks no teardown knows, with no lane slot to keep a load experiment alone
  if (full.workers !== cfg.embedded.lanes) {
    throw new Error(
      `--workers=${full.workers}: the workers are the lanes (${cfg.embedded.lanes}, STACK_LANES${cfg.target === 'external' ? '; an external target is one' : ''}); ` +
        'set STACK_LANES instead of --workers (nothing was started)',
    );
  }
  fs.mkdirSync(cfg.reportsDir, { recursive: true });
  if (cfg.target === 'embedded') await setUpEmbedded(cfg);
  const target = resolveTarget(cfg);
  // the scan of this run's reports and the browser check after it look for these
  registerSecrets(target.secrets);
  handOffSecrets(cfg);
  if (cfg.target === 'embedded') return;
  log(`external target: ${target.label}`);
  // a run killed mid-fault leaves its target faulted: bring it back before anything else
  const healed = await target.heal();
  if (healed.length) log(`healed what an earlier run left: ${healed.join('; ')}`);
  for (const line of await target.preflight()) log(`preflight: ${line}`);
}
