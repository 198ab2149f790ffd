/** Plain-fetch calls of the store for scripts, drivers and benchmarks (tests use StoreApi). */

/** An access token from /api/token/ (tests use StoreApi.login). */
import type { Credentials } from '../config';

export async function fetchAccessToken(baseUrl: string, creds: Credentials, timeoutMs = 10_000): Promise<string> {
  const res = await fetch(`${baseUrl}/api/token/`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(creds),
    signal: AbortSignal.timeout(timeoutMs),
  });
  const body = (await res.json().catch(() => ({}))) as { access?: string };
  if (res.status !== 200 || !body.access) throw new Error(`token request for ${creds.username} answered ${res.status}`);
  return body.access;
}

/** HTTP status of the store's /api/health/ with plain fetch, or undefined when nothing answers in time. */
export async function healthStatus(baseUrl: string, timeoutMs = 3_000): Promise<number | undefined> {
  try {
    const res = await fetch(`${baseUrl}/api/health/`, { signal: AbortSignal.timeout(timeoutMs) });
    await res.arrayBuffer();
    return res.status;
  } catch {
    return undefined;
  }
}
