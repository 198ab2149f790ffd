/** What the suite tests: the embedded stack (default) or an external deployment named by config. */
import type { Config, ExternalTarget } from './config';
import { EmbeddedStack } from './stack/embedded-stack';

/** The store under test: URL, users, read-only database URL, and the embedded stack when that is it. */
export interface Target extends ExternalTarget {
  readonly kind: 'embedded' | 'external';
  /** the embedded stack, when that is the target */
  readonly stack?: EmbeddedStack;
}

/** Resolves the run's target; for embedded, from the stack global setup started. */
export function resolveTarget(cfg: Config): Target {
  if (cfg.target === 'external') {
    const ext = cfg.external;
    if (!ext) throw new Error('TARGET=external without external settings (config bug)');
    return { kind: 'external', ...ext };
  }
  const stack = EmbeddedStack.open(cfg.embedded.stackDir);
  if (!stack) {
    throw new Error(
      `no embedded stack in ${cfg.embedded.stackDir}: run the tests with "npx playwright test" (global setup starts it)`,
    );
  }
  return {
    kind: 'embedded',
    baseUrl: stack.baseUrl,
    customer: stack.state.users.customer,
    secondCustomer: stack.state.users.secondCustomer,
    staff: stack.state.users.staff,
    databaseUrl: stack.databaseUrl,
    stack,
  };
}
