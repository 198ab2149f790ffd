/**
 * Access tokens kept between the workers of one run: a worker logs in once per user, and with
 * --repeat-each every repetition is a worker of its own; twenty repetitions would otherwise be twenty
 * logins of one user, and the store's login limit (10 a minute) would refuse the eleventh. The file
 * sits next to the stacks (never under the reports), readable by this user only; a token is reused
 * while it has more than a few minutes left, for the same URL, user and password.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Credentials } from '../config';

/** A token is not reused when it expires within this (a test may run for minutes). */
const MIN_LIFE_LEFT_S = 10 * 60;

type Cache = Record<string, string>;

const entryKey = (baseUrl: string, creds: Credentials) =>
  createHash('sha256').update(`${baseUrl}\n${creds.username}\n${creds.password}`).digest('hex');

/** Seconds until a JWT expires (its exp claim); 0 when it has none or cannot be read. */
function lifeLeftS(token: string): number {
  try {
    const claims = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as { exp?: unknown };
    return typeof claims.exp === 'number' ? claims.exp - Date.now() / 1000 : 0;
  } catch {
    return 0;
  }
}

function read(file: string): Cache {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as Cache;
  } catch {
    return {};
  }
}

/** The cached token of a user, or a fresh one from `login` (then cached). */
export async function cachedToken(file: string, baseUrl: string, creds: Credentials, login: () => Promise<string>): Promise<string> {
  const key = entryKey(baseUrl, creds);
  const cache = read(file);
  const hit = cache[key];
  if (hit && lifeLeftS(hit) > MIN_LIFE_LEFT_S) return hit;
  const token = await login();
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const live = Object.fromEntries(Object.entries({ ...read(file), [key]: token }).filter(([, t]) => lifeLeftS(t) > 0));
  fs.writeFileSync(`${file}.tmp`, JSON.stringify(live), { mode: 0o600 });
  fs.renameSync(`${file}.tmp`, file);
  return token;
}
