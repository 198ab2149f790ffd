/** Is PostgreSQL accepting connections on a given path (direct, or through the fault proxy)? */
import pg from 'pg';
import { waitUntil } from '../wait';

/** True when a connection opens and SELECT 1 answers within timeoutMs. */
export async function pgAccepts(url: string, timeoutMs = 1_000): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: timeoutMs, query_timeout: timeoutMs });
  client.on('error', () => {});
  try {
    await client.connect();
    await client.query('SELECT 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Resolves when PostgreSQL accepts connections on url; throws after timeoutMs. */
export async function waitForPg(url: string, timeoutMs: number, description = 'PostgreSQL to accept connections'): Promise<void> {
  await waitUntil(() => pgAccepts(url, Math.min(1_000, timeoutMs)), { description, timeoutMs, intervalMs: 10 });
}
