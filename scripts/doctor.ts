/**
 * npm run doctor: what a configuration lets the suite do, before a run, without injecting any fault.
 * It validates the configuration (every problem named), runs the target's read-only checks (health,
 * PostgreSQL, each driver's status and the server's identity), prints every family and test that
 * would run or skip (naming the setting behind each skip) and what each driver needs to be allowed
 * to do. TARGET=embedded brings up a stack of its own (STACK_NAME doctor) and stops it.
 */
import { ConfigError, loadConfig, readEnv, type Config } from '../helpers/config';
import { DRIVER_PRIVILEGES, doctorTable, familyTable } from '../helpers/doctor';
import { log } from '../helpers/report/log';
import { EmbeddedStack } from '../helpers/stack/embedded-stack';
import { resolveTarget } from '../helpers/targets/resolve';

const out = (line = '') => process.stdout.write(`${line}\n`);

async function main(): Promise<number> {
  let cfg: Config;
  try {
    cfg = loadConfig({ STACK_NAME: 'doctor', ...readEnv() });
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    out('# Configuration: invalid\n');
    for (const p of error.problems) out(`- ${p}`);
    return 1;
  }
  out(`# Configuration: valid (TARGET=${cfg.target})\n`);
  const stack = cfg.target === 'embedded' ? await EmbeddedStack.up(cfg, { pid: process.pid, kind: 'helper-test' }, log) : undefined;
  try {
    const target = resolveTarget(cfg);
    out(`## The target\n\n${target.label}\n`);
    let reachable = true;
    try {
      for (const line of await target.preflight()) out(`- ok: ${line}`);
    } catch (error) {
      reachable = false;
      out(`- FAILED: ${(error as Error).message}`);
    }
    const drivers =
      cfg.target === 'external' && cfg.external
        ? [
            ['database', cfg.external.db.kind],
            ['app server', cfg.external.app.kind],
          ]
        : [['database and app server', 'local']];
    out('\n## What each driver needs to be allowed to do\n');
    for (const [what, kind] of drivers) out(`- ${what}: ${kind}${kind === 'none' ? ' (no faults)' : ` — ${DRIVER_PRIVILEGES[kind!]}`}`);
    out('\n## Families and tests\n');
    out(doctorTable(await familyTable(target)));
    return reachable ? 0 : 1;
  } finally {
    await stack?.down();
  }
}

main().then(
  (code) => (process.exitCode = code),
  (error: unknown) => {
    process.stderr.write(`doctor: ${(error as Error).stack ?? String(error)}\n`);
    process.exitCode = 1;
  },
);
