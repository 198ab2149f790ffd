/** The run's target: the deployment named by config, or the embedded stack global setup started. */
import type { Config } from '../config';
import { EmbeddedStack } from '../stack/embedded-stack';
import type { Target } from '../target';
import { embeddedTarget } from './embedded-target';
import { externalTarget } from './external-target';

/** Resolves the run's target; for embedded, from the stack global setup started. */
export function resolveTarget(cfg: Config): Target {
  if (cfg.target === 'external') {
    if (!cfg.external) throw new Error('TARGET=external without external settings (config bug)');
    return externalTarget(cfg.external, cfg);
  }
  const stack = EmbeddedStack.open(cfg.embedded.stackDir);
  if (!stack) {
    throw new Error(`no embedded stack in ${cfg.embedded.stackDir}: run the tests with "npx playwright test" (global setup starts it)`);
  }
  return embeddedTarget(stack, cfg);
}
