/**
 * The embedded target's lifecycle, for global setup and teardown: bring the stack up (or reuse a
 * running one), and stop exactly what this run started (or heal a reused stack and leave it).
 */
import fs from 'node:fs';
import path from 'node:path';
import { laneConfig, laneStackDir, type Config } from '../config';
import { handOffSecrets, registerSecrets } from '../report/secret-scan';
import { log } from '../report/log';
import { EmbeddedStack } from '../stack/embedded-stack';
import { sweepLeftovers } from '../stack/stack-sweep';
import { healStack } from '../stack/heal';
import { removeLaneSlots } from '../stack/lane-slots';
import { embeddedTarget } from './embedded-target';

/** Starts (or reuses) the run's embedded stack and records it in reports/stack.json. */
export async function setUpEmbedded(cfg: Config): Promise<void> {
  // stacks of killed runs (any STACK_NAME) are found and cleaned here
  for (const line of await sweepLeftovers(path.dirname(cfg.embedded.stackDir))) log(`cleaned leftover stack ${line}`);
  removeLaneSlots(path.dirname(cfg.embedded.stackDir));
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

/**
 * The stack of a worker's lane (cfg as laneConfig gives it). Lane 0's is global setup's; another
 * lane's is started by the first worker that runs in it, owned by the run (the runner, this
 * worker's parent) so that later workers of the lane use it and global teardown stops it.
 */
export async function ensureLaneStack(cfg: Config, lane: number): Promise<void> {
  if (cfg.target !== 'embedded' || lane === 0) return;
  const existing = EmbeddedStack.open(cfg.embedded.stackDir);
  if (existing?.state.owner.pid === process.ppid) return;
  await EmbeddedStack.up(cfg, { pid: process.ppid, kind: 'test' }, log);
}

/**
 * Stops the stacks this run started, every lane's (frozen processes woken first), or heals a reused
 * one. A lane's secrets are registered before its stack goes: the scan of the reports looks for them.
 */
export async function tearDownEmbedded(cfg: Config): Promise<void> {
  for (let lane = cfg.embedded.lanes - 1; lane >= 1; lane--) {
    const stack = EmbeddedStack.open(laneStackDir(cfg.embedded.stackDir, lane));
    if (stack?.state.owner.pid !== process.pid) continue;
    registerSecrets(embeddedTarget(stack, laneConfig(cfg, lane)).secrets);
    const done = await stack.down();
    log(`embedded stack of lane ${lane} down: ${done.join('; ') || 'nothing was running'}`);
  }
  if (cfg.embedded.lanes > 1) {
    handOffSecrets(cfg);
    removeLaneSlots(path.dirname(cfg.embedded.stackDir), process.pid);
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

async function reuse(dir: string): Promise<EmbeddedStack> {
  const stack = EmbeddedStack.open(dir);
  if (!stack) throw new Error(`STACK_REUSE=1: no stack in ${dir}; start one with "STACK_NAME=${path.basename(dir)} npm run stack:up"`);
  const healed = await healStack(stack);
  log(`reusing the stack in ${dir}${healed.length ? ` (healed: ${healed.join('; ')})` : ''}`);
  return stack;
}
