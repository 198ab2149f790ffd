/**
 * A controlled error is an envelope that never varies with its cause: the same 503 body whether
 * PostgreSQL stopped, froze or reset the connection, so that it tells a client "retry later" and
 * nothing about the database (a driver's message varies with the cause, and names the server where
 * the driver says it). Each fault's bodies are also checked for what they leak.
 */
import { RUNBOOK_ORDER, newIdempotencyKey } from '../helpers/api/payloads';
import type { Exchange } from '../helpers/api/store-api';
import type { DbFaultName } from '../helpers/faults/catalog';
import { phase } from '../helpers/report/evidence';
import { findLeaks } from '../helpers/report/leaks';
import { shown } from '../helpers/report/redact';
import { expect, test } from './fixtures';

/** Causes that reach the store differently: refused at once, no answer, connections reset. */
const CAUSES: readonly DbFaultName[] = ['db-stop', 'db-freeze', 'db-partition-reset-peer'];

/** A body as a comparable value: JSON by content, anything else as text. */
function canonical(raw: string | undefined): string {
  try {
    const sort = (v: unknown): unknown =>
      Array.isArray(v)
        ? v.map(sort)
        : v && typeof v === 'object'
          ? Object.fromEntries(
              Object.entries(v)
                .sort(([a], [b]) => a.localeCompare(b))
                .map(([k, x]) => [k, sort(x)]),
            )
          : v;
    return JSON.stringify(sort(JSON.parse(raw ?? '')));
  } catch {
    return raw ?? '';
  }
}

test.describe('database outage: one error envelope', { tag: '@db' }, () => {
  test('should answer every database fault with the same error body, whatever its cause', async ({ api, faults, evidence, target }) => {
    const seen: Array<{ cause: DbFaultName; request: string; status?: number; body: string }> = [];
    for (const cause of CAUSES) {
      const fault = faults.create(cause);
      await test.step(cause, async () => {
        await phase(evidence, 'Inject', async () => {
          await faults.inject(fault);
        });
        await phase(evidence, 'During fault', async () => {
          // at once: a frozen database holds each for the store's connect timeout (2 s), one after the other 4 s
          const answers: Exchange[] = await Promise.all([
            api.createOrder(RUNBOOK_ORDER, { idempotencyKey: newIdempotencyKey('envelope') }),
            api.orders(),
          ]);
          for (const a of answers) {
            expect(a.status, `${a.method} ${a.path} during ${cause}: a controlled 503: ${shown(a.rawBody, 200)}`).toBe(503);
            expect(findLeaks(a.rawBody ?? '', target.secrets), `${a.method} ${a.path} during ${cause}: the body leaks nothing`).toEqual([]);
            seen.push({ cause, request: `${a.method} ${a.path}`, status: a.status, body: canonical(a.rawBody) });
          }
        });
        await phase(evidence, 'Recover', async () => {
          await faults.recover(fault);
        });
      });
    }
    await phase(evidence, 'Verify', async () => {
      await evidence.json('503 bodies by cause', seen);
      const bodies = [...new Set(seen.map((s) => s.body))];
      expect(
        bodies.length === 1 ? [] : seen.map((s) => `${s.cause}, ${s.request}: ${s.body}`),
        `one 503 body for ${CAUSES.join(', ')} (${bodies.length} different)`,
      ).toEqual([]);
    });
  });
});
