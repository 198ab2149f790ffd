/** An access token from /api/token/ with plain fetch (scripts and benchmarks; tests use StoreApi.login). */
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
