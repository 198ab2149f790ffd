/** Brings the target up (embedded) or checks and heals it (external); invalid config stops here first. */
import fs from 'node:fs';
import { config } from '../helpers/config';
import { log } from '../helpers/report/log';
import { handOffSecrets, registerSecrets } from '../helpers/report/secret-scan';
import { resolveTarget } from '../helpers/targets/resolve';
import { setUpEmbedded } from '../helpers/targets/embedded-lifecycle';

export default async function globalSetup(): Promise<void> {
  const cfg = config();
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
