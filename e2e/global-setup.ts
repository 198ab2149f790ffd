/** Brings the embedded stack up (unless config names an external target); invalid config stops here first. */
import fs from 'node:fs';
import path from 'node:path';
import { config } from '../helpers/config';
import { log } from '../helpers/report/log';
import { EmbeddedStack, sweepLeftovers } from '../helpers/stack/embedded-stack';

export default async function globalSetup(): Promise<void> {
  const cfg = config();
  fs.mkdirSync(cfg.reportsDir, { recursive: true });
  if (cfg.target === 'external') {
    log(`external target ${cfg.external?.baseUrl}: no embedded stack`);
    return;
  }
  // stacks of killed runs (any STACK_NAME) are found and cleaned here
  for (const line of await sweepLeftovers(path.dirname(cfg.embedded.stackDir))) log(`cleaned leftover stack ${line}`);
  const stack = await EmbeddedStack.up(cfg, { pid: process.pid, kind: 'test' }, log);
  fs.writeFileSync(
    path.join(cfg.reportsDir, 'stack.json'),
    JSON.stringify(
      { baseUrl: stack.baseUrl, server: stack.state.store.server, workers: stack.state.store.workers, flaws: stack.state.store.flaws, postgresPort: stack.state.postgres.port, timings: stack.state.timings },
      null,
      2,
    ),
  );
}
