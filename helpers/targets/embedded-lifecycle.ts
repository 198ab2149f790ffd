/**
 * The embedded target's lifecycle, for global setup and teardown: bring the stack up (or reuse a
 * running one), and stop exactly what this run started (or heal a reused stack and leave it).
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Config } from '../config';
import { log } from '../report/log';
import { EmbeddedStack } from '../stack/embedded-stack';
import { sweepLeftovers } from '../stack/stack-sweep';
import { healStack } from '../stack/heal';

/** Starts (or reuses) the run's embedded stack and records it in reports/stack.json. */
export async function setUpEmbedded(cfg: Config): Promise<void> {
  // stacks of killed runs (any STACK_NAME) are found and cleaned here
  for (const line of await sweepLeftovers(path.dirname(cfg.embedded.stackDir))) log(`cleaned leftover stack ${line}`);
  const stack = cfg.embedded.reuse
    ? await reuse(cfg.embedded.stackDir)
    : await EmbeddedStack.up(cfg, { pid: process.pid, kind: 'test' }, log);
  const s = stack.state.store;
  if (
    cfg.embedded.reuse &&
    (s.server !== cfg.embedded.server || s.workers !== cfg.embedded.workers || s.flaws.join() !== cfg.embedded.flaws.join())
  ) {
    throw new Error(
      `STACK_REUSE=1: the running stack is ${s.server} x${s.workers} with flaws [${s.flaws.join(', ')}], ` +
        `the configuration asks for ${cfg.embedded.server} x${cfg.embedded.workers} with [${cfg.embedded.flaws.join(', ')}]`,
    );
  }
  fs.writeFileSync(
    path.join(cfg.reportsDir, 'stack.json'),
    JSON.stringify(
      {
        baseUrl: stack.baseUrl,
        server: s.server,
        workers: s.workers,
        flaws: s.flaws,
        postgresPort: stack.state.postgres.port,
        reused: cfg.embedded.reuse,
        timings: stack.state.timings,
      },
      null,
      2,
    ),
  );
}

/** Stops the stack this run started (frozen processes woken first), or heals a reused one. */
export async function tearDownEmbedded(cfg: Config): Promise<void> {
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

async function reuse(dir: string): Promise<EmbeddedStack> {
  const stack = EmbeddedStack.open(dir);
  if (!stack) throw new Error(`STACK_REUSE=1: no stack in ${dir}; start one with "STACK_NAME=${path.basename(dir)} npm run stack:up"`);
  const healed = await healStack(stack);
  log(`reusing the stack in ${dir}${healed.length ? ` (healed: ${healed.join('; ')})` : ''}`);
  return stack;
}
