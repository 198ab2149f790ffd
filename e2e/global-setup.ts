/** Brings the target up (embedded) or checks and heals it (external); invalid config stops here first. */
import fs from 'node:fs';
import { config } from '../helpers/config';
import { log } from '../helpers/report/log';
import path from 'node:path';
import { handOffSecrets, registerSecrets, secretsHandOffFile } from '../helpers/report/secret-scan';
import { resolveTarget } from '../helpers/target';
import { setUpEmbedded } from '../helpers/targets/embedded-lifecycle';

export default async function globalSetup(): Promise<void> {
  const cfg = config();
  fs.mkdirSync(cfg.reportsDir, { recursive: true });
  if (cfg.target === 'embedded') {
    await setUpEmbedded(cfg);
    registerSecrets(resolveTarget(cfg).secrets);
    handOffSecrets(secretsHandOffFile(path.dirname(cfg.embedded.stackDir), cfg.reportsDir), cfg.reportsDir);
    return;
  }
  const target = resolveTarget(cfg);
  registerSecrets(target.secrets);
  handOffSecrets(secretsHandOffFile(path.dirname(cfg.embedded.stackDir), cfg.reportsDir), cfg.reportsDir);
  log(`external target: ${target.label}`);
  // a run killed mid-fault leaves its target faulted: bring it back before anything else
  const healed = await target.heal();
  if (healed.length) log(`healed what an earlier run left: ${healed.join('; ')}`);
  for (const line of await target.preflight()) log(`preflight: ${line}`);
}
