/** Stops exactly the stack this run started (by PID and data directory) and removes its folder. */
import { config } from '../helpers/config';
import { log } from '../helpers/report/log';
import { EmbeddedStack } from '../helpers/stack/embedded-stack';

export default async function globalTeardown(): Promise<void> {
  const cfg = config();
  if (cfg.target === 'external') return;
  const stack = EmbeddedStack.open(cfg.embedded.stackDir);
  if (!stack || stack.state.owner.pid !== process.pid) return;
  const done = await stack.down();
  log(`embedded stack down: ${done.join('; ') || 'nothing was running'}`);
}
