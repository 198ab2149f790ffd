/** Evidence of a test: recorded HTTP exchanges and attachments, always redacted. */
import { test, type TestInfo } from '@playwright/test';
import { label } from 'allure-js-commons';
import type { Exchange } from '../api/store-api';
import { METRICS_ATTACHMENT, type ScenarioMetrics } from './metrics';
import { redact, redactText } from './redact';

export type PhaseName = 'Baseline' | 'Inject' | 'During fault' | 'Recover' | 'Verify' | (string & {});

/** Collects a test's exchanges and attaches evidence to the current step. */
export class Evidence {
  readonly exchanges: Exchange[] = [];

  constructor(private readonly testInfo: TestInfo) {}

  /** Recorder for StoreApi. */
  readonly record = (e: Exchange): void => {
    this.exchanges.push(e);
  };

  /** Attaches data as redacted, pretty JSON. */
  async json(name: string, data: unknown): Promise<void> {
    await this.testInfo.attach(name, { body: JSON.stringify(redact(data), null, 2), contentType: 'application/json' });
  }

  /** Attaches redacted plain text. */
  async text(name: string, text: string): Promise<void> {
    await this.testInfo.attach(name, { body: redactText(text), contentType: 'text/plain' });
  }

  /** Attaches a file body; text (an SVG we draw, a log) is redacted too, binary as it is. */
  async file(name: string, body: Buffer | string, contentType: string): Promise<void> {
    await this.testInfo.attach(name, { body: typeof body === 'string' ? redactText(body) : body, contentType });
  }

  /** Attaches the scenario's figures; the resilience reporter gathers them for the run summary. */
  async metrics(m: ScenarioMetrics): Promise<void> {
    await this.testInfo.attach(METRICS_ATTACHMENT, { body: JSON.stringify(m, null, 2), contentType: 'application/json' });
  }

  /** Attaches the exchanges recorded since index `from` (redacted), when there are any. */
  async exchangesSince(from: number, name = 'http exchanges'): Promise<void> {
    const slice = this.exchanges.slice(from);
    if (slice.length === 0) return;
    await this.json(`${name} (${slice.length})`, slice.map(summarizeExchange));
  }
}

/** An exchange as evidence: the request, the status, headers that matter, and the body. */
export function summarizeExchange(e: Exchange) {
  return {
    at: new Date(e.startedAt).toISOString(),
    request: `${e.method} ${e.path}`,
    requestHeaders: e.requestHeaders,
    requestBody: clip(e.requestBody),
    durationMs: Math.round(e.durationMs * 10) / 10,
    status: e.status,
    error: e.error,
    responseHeaders: e.responseHeaders && pick(e.responseHeaders, ['content-type', 'retry-after', 'idempotent-replayed', 'connection']),
    body: e.body,
  };
}

/** A body as evidence: whole up to 8 kB, else its size and head (an oversized-body test sends megabytes). */
function clip(body: unknown): unknown {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  if (text === undefined || text.length <= 8192) return body;
  return { clipped: `${text.length} characters`, head: text.slice(0, 512) };
}

function pick(h: Readonly<Record<string, string>>, keys: string[]) {
  return Object.fromEntries(keys.filter((k) => h[k] !== undefined).map((k) => [k, h[k]]));
}

/** The Allure label naming the phase a test failed in: allurerc.mjs sorts failures by it. */
export const FAILED_PHASE_LABEL = 'failedPhase';

/**
 * One phase of an experiment as a Playwright/Allure step; the exchanges made during it are
 * attached inside the step, even when it fails. A failure labels the test with its phase (the
 * innermost one: phases may nest), so the report can tell a store defect (During fault, Verify)
 * from a store that was not ready (Baseline) or a fault that would not go (Recover).
 */
export async function phase<T>(evidence: Evidence, name: PhaseName, body: () => Promise<T>): Promise<T> {
  return test.step(name, async () => {
    const from = evidence.exchanges.length;
    try {
      return await body();
    } catch (e) {
      if (e instanceof Object && !failedPhases.has(e)) {
        failedPhases.add(e);
        await label(FAILED_PHASE_LABEL, String(name));
      }
      throw e;
    } finally {
      await evidence.exchangesSince(from);
    }
  });
}
/** Errors already labelled by an inner phase. */
const failedPhases = new WeakSet<object>();
