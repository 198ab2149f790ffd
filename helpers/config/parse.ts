/** The parsing every setting goes through: a bad value becomes a problem naming its variable, never a throw midway. */
import { z } from 'zod';

/** Thrown for invalid configuration; the message lists every bad variable. */
export class ConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`Invalid configuration (nothing was started):\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

export type Env = Readonly<Record<string, string | undefined>>;

/** What the parsers share: the raw getter, a validating parser, and the problem list. */
export interface ParseContext {
  readonly get: (name: string) => string | undefined;
  readonly parse: <T>(name: string, schema: z.ZodType<T>, accepts: string, fallback: T) => T;
  readonly problems: string[];
  readonly checkFiles: boolean;
}

const quoted = (v: string | undefined) => (v === undefined ? 'nothing' : JSON.stringify(v));

export function parseContext(env: Env, checkFiles: boolean): ParseContext {
  const problems: string[] = [];
  const get = (name: string) => {
    const v = env[name];
    return v === undefined || v.trim() === '' ? undefined : v.trim();
  };
  function parse<T>(name: string, schema: z.ZodType<T>, accepts: string, fallback: T): T {
    const raw = get(name);
    if (raw === undefined) return fallback;
    const result = schema.safeParse(raw);
    if (result.success) return result.data;
    problems.push(`${name}: expected ${accepts}, got ${quoted(raw)}`);
    return fallback;
  }
  return { get, parse, problems, checkFiles };
}

/** An integer setting from min to max. */
export const int = (min: number, max: number) => z.string().regex(/^\d+$/).transform(Number).pipe(z.number().int().min(min).max(max));

/**
 * The shortest secret the suite accepts (TARGET_SECRETS, the users' and roles' passwords): the report
 * scan looks for every one, and a shorter string would match by chance in a report's base64 data.
 */
export const MIN_SECRET_LENGTH = 6;
