/**
 * A playground stack for people: `npm run -s stack:up` starts the embedded stack in the
 * background and prints shell lines (eval them, then the runbook's curl commands work);
 * `npm run stack:down` stops it; `npm run health` runs scripts/health-check.sh against it.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { childEnv, ConfigError, loadConfig, readEnv, type Config } from '../helpers/config';
import { PROJECT_ROOT } from '../helpers/paths';
import { fetchAccessToken } from '../helpers/api/token';
import { log } from '../helpers/report/log';
import { EmbeddedStack } from '../helpers/stack/embedded-stack';

const USAGE = 'usage: tsx scripts/stack.ts up | down | status | health';

function playgroundConfig(name = 'playground'): Config {
  const env = readEnv();
  return loadConfig({ ...env, TARGET: 'embedded', STACK_NAME: env.STACK_NAME ?? name });
}

const token = (stack: EmbeddedStack) => fetchAccessToken(stack.baseUrl, stack.state.users.customer);

/** The running playground stack, or a new one. */
async function upOrReuse(cfg: Config): Promise<EmbeddedStack> {
  const existing = EmbeddedStack.open(cfg.embedded.stackDir);
  if (existing && existing.cluster.isRunning() && (await existing.store.healthStatus()) === 200) {
    log(`reusing the running stack in ${cfg.embedded.stackDir}`);
    return existing;
  }
  return EmbeddedStack.up(cfg, { kind: 'playground' }, log);
}

const shellQuote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

async function main(command: string | undefined): Promise<number> {
  switch (command) {
    case 'up': {
      const stack = await upOrReuse(playgroundConfig());
      const jwt = await token(stack);
      const lines = {
        BASE_URL: stack.baseUrl,
        JWT_TOKEN: jwt,
        JWT: jwt, // the runbook's curl reads $JWT
        DATABASE_URL: stack.databaseUrl,
        STORE_USERNAME: stack.state.users.customer.username,
        STORE_PASSWORD: stack.state.users.customer.password,
      };
      // stdout is meant for eval "$(npm run -s stack:up)": it holds a token and passwords
      if (process.stdout.isTTY)
        log('the lines below hold a token and passwords, meant for eval "$(npm run -s stack:up)": do not paste them into a ticket');
      for (const [k, v] of Object.entries(lines)) process.stdout.write(`export ${k}=${shellQuote(v)}\n`);
      log(`stack up: ${stack.baseUrl} (stop it with: npm run stack:down); its stdout carries secrets for eval, nothing else`);
      return 0;
    }
    case 'down': {
      const stack = EmbeddedStack.open(playgroundConfig().embedded.stackDir);
      if (!stack) {
        log('no playground stack is running');
        return 0;
      }
      log(`stack down: ${(await stack.down()).join('; ') || 'nothing was running'}`);
      return 0;
    }
    case 'status': {
      const stack = EmbeddedStack.open(playgroundConfig().embedded.stackDir);
      if (!stack) {
        log('no playground stack');
        return 1;
      }
      const health = await stack.store.healthStatus();
      log(
        `store ${stack.baseUrl}: health ${health ?? 'no answer'}; postgres 127.0.0.1:${stack.state.postgres.port}: ${stack.cluster.isRunning() ? 'running' : 'stopped'}`,
      );
      return health === 200 ? 0 : 1;
    }
    case 'health': {
      // against the playground when it runs, else against a stack of its own for the check
      const playground = EmbeddedStack.open(playgroundConfig().embedded.stackDir);
      const own = playground ? undefined : await EmbeddedStack.up(playgroundConfig('health'), { pid: process.pid, kind: 'test' }, log);
      const stack = (playground ?? own) as EmbeddedStack;
      try {
        const result = spawnSync('bash', [path.join(PROJECT_ROOT, 'scripts', 'health-check.sh')], {
          stdio: 'inherit',
          env: childEnv({ BASE_URL: stack.baseUrl, JWT_TOKEN: await token(stack) }),
          timeout: 60_000,
        });
        return result.status ?? 1;
      } finally {
        if (own) await own.down();
      }
    }
    default:
      process.stderr.write(`${USAGE}\n`);
      return 2;
  }
}

main(process.argv[2]).then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(
      `${error instanceof ConfigError ? error.message : `stack ${process.argv[2]} failed: ${(error as Error).stack ?? String(error)}`}\n`,
    );
    process.exit(1);
  },
);
