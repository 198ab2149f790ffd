/**
 * The backstop after a crash: `npm run recover` brings every service of every live stack under
 * STACK_ROOT back (unfreezes PostgreSQL, starts what is stopped, resets the fault proxy, restarts
 * the store) and removes the stacks of killed test runs. With TARGET=external it heals that target
 * through its drivers instead (thaw, start, scale back, reset the proxy).
 */
import path from 'node:path';
import { ConfigError, loadConfig, readEnv } from '../helpers/config';
import { log } from '../helpers/report/log';
import { EmbeddedStack } from '../helpers/stack/embedded-stack';
import { readStackState } from '../helpers/stack/stack-state';
import { isLeftover, stackFolders, sweepLeftovers } from '../helpers/stack/stack-sweep';
import { healStack } from '../helpers/stack/heal';
import { resolveTarget } from '../helpers/targets/resolve';

async function main(): Promise<number> {
  const asConfigured = loadConfig(readEnv());
  if (asConfigured.target === 'external') {
    const done = await resolveTarget(asConfigured).heal();
    log(`external target: ${done.join('; ') || 'healthy, nothing to do'}`);
    return 0;
  }
  const cfg = loadConfig({ ...readEnv(), TARGET: 'embedded' });
  const root = path.dirname(cfg.embedded.stackDir);
  for (const line of await sweepLeftovers(root)) log(`removed leftover stack ${line}`);
  let failures = 0;
  for (const dir of stackFolders(root)) {
    const state = readStackState(dir);
    if (!state || isLeftover(state)) continue;
    try {
      const done = await healStack(new EmbeddedStack(state), cfg.thresholds.recoverTimeoutMs);
      log(`${path.basename(dir)}: ${done.join('; ') || 'healthy, nothing to do'}`);
    } catch (error) {
      failures++;
      log(`${path.basename(dir)}: could not heal: ${(error as Error).message}`);
    }
  }
  return failures === 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`${error instanceof ConfigError ? error.message : (error as Error).stack}\n`);
    process.exit(1);
  },
);
