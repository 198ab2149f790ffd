/** Brings the embedded stack up (unless config names an external target); invalid config stops here first. */
import fs from 'node:fs';
import path from 'node:path';
import { config } from '../helpers/config';
import { log } from '../helpers/report/log';
import { EmbeddedStack, sweepLeftovers } from '../helpers/stack/embedded-stack';
import { healStack } from '../helpers/stack/heal';
import { resolveTarget } from '../helpers/target';

export default async function globalSetup(): Promise<void> {
  const cfg = config();
  fs.mkdirSync(cfg.reportsDir, { recursive: true });
  if (cfg.target === 'external') {
    const target = resolveTarget(cfg);
    log(`external target: ${target.label}`);
    // a run killed mid-fault leaves its target faulted: bring it back before anything else
    const healed = await target.heal();
    if (healed.length) log(`healed what an earlier run left: ${healed.join('; ')}`);
    for (const line of await target.preflight()) log(`preflight: ${line}`);
    return;
  }
  // stacks of killed runs (any STACK_NAME) are found and cleaned here
  for (const line of await sweepLeftovers(path.dirname(cfg.embedded.stackDir))) log(`cleaned leftover stack ${line}`);
  const stack = cfg.embedded.reuse ? await reuse(cfg.embedded.stackDir) : await EmbeddedStack.up(cfg, { pid: process.pid, kind: 'test' }, log);
  const s = stack.state.store;
  if (cfg.embedded.reuse && (s.server !== cfg.embedded.server || s.workers !== cfg.embedded.workers || s.flaws.join() !== cfg.embedded.flaws.join())) {
    throw new Error(
      `STACK_REUSE=1: the running stack is ${s.server} x${s.workers} with flaws [${s.flaws.join(', ')}], ` +
        `the configuration asks for ${cfg.embedded.server} x${cfg.embedded.workers} with [${cfg.embedded.flaws.join(', ')}]`,
    );
  }
  fs.writeFileSync(
    path.join(cfg.reportsDir, 'stack.json'),
    JSON.stringify({ baseUrl: stack.baseUrl, server: s.server, workers: s.workers, flaws: s.flaws, postgresPort: stack.state.postgres.port, reused: cfg.embedded.reuse, timings: stack.state.timings }, null, 2),
  );
}

async function reuse(dir: string): Promise<EmbeddedStack> {
  const stack = EmbeddedStack.open(dir);
  if (!stack) throw new Error(`STACK_REUSE=1: no stack in ${dir}; start one with "STACK_NAME=${path.basename(dir)} npm run stack:up"`);
  const healed = await healStack(stack);
  log(`reusing the stack in ${dir}${healed.length ? ` (healed: ${healed.join('; ')})` : ''}`);
  return stack;
}
