/**
 * The steady state of a fault experiment (chaostoolkit's "steady-state hypothesis"): probes declared
 * once, checked in Baseline (the store is ready, or the experiment does not start) and again in
 * Verify (the store came back to it; a probe marked sameAfter must also answer as before).
 */
import { expect } from '@playwright/test';
import type { Exchange, StoreApi } from '../api/store-api';
import { shown } from '../report/redact';

export interface SteadyStateProbe {
  readonly name: string;
  /** one reading: the exchange that was made and the value to compare */
  read(): Promise<{ readonly exchange: Exchange; readonly value: unknown }>;
  /** the status the probe must answer */
  readonly status: number;
  /** the value in Verify must equal the value in Baseline (the same answers after the fault) */
  readonly sameAfter?: boolean;
}

export type SteadyStateReadings = ReadonlyMap<string, unknown>;

/** GET /api/health/ answers 200. */
export function healthProbe(api: StoreApi): SteadyStateProbe {
  return {
    name: 'health answers 200',
    status: 200,
    read: async () => {
      const exchange = await api.health();
      return { exchange, value: exchange.status };
    },
  };
}

/** GET products answers 200, and the same products after the fault as before it. */
export function productsProbe(api: StoreApi): SteadyStateProbe {
  return {
    name: 'products answer 200, the same after the fault',
    status: 200,
    sameAfter: true,
    read: async () => {
      const exchange = await api.products();
      return { exchange, value: exchange.body };
    },
  };
}

/** Reads every probe and asserts its status; in Verify also that sameAfter probes answer as in Baseline. */
export async function checkSteadyState(
  probes: readonly SteadyStateProbe[],
  when: 'before the fault' | 'after the fault',
  baseline?: SteadyStateReadings,
): Promise<SteadyStateReadings> {
  const readings = new Map<string, unknown>();
  for (const probe of probes) {
    const { exchange, value } = await probe.read();
    expect(exchange.status, `${probe.name} ${when}: ${exchange.status ?? exchange.error?.kind} ${shown(exchange.rawBody)}`).toBe(
      probe.status,
    );
    if (baseline && probe.sameAfter)
      expect(value, `${probe.name}: the answer after the fault equals the one before`).toEqual(baseline.get(probe.name));
    readings.set(probe.name, value);
  }
  return readings;
}
