/**
 * The steady state of a fault experiment (chaostoolkit's "steady-state hypothesis"): probes declared
 * once, checked in Baseline (the store is ready, or the experiment does not start) and again in
 * Verify (the store came back to it; a probe marked sameAfter must also answer as before).
 */
import { expect } from '@playwright/test';
import type { Exchange } from '../api/store-api';
import type { DbProbe } from '../integrity/db-probe';
import { judgeRead, readCatalog, readOrdersOf } from '../integrity/store-truth';
import { shown } from '../report/redact';

export interface SteadyStateProbe {
  readonly name: string;
  /** one reading: the exchange that was made and the value to compare */
  read(): Promise<{ readonly exchange: Exchange; readonly value: unknown }>;
  /** the status the probe must answer */
  readonly status: number;
  /** the value in Verify must equal the value in Baseline (the same answers after the fault) */
  readonly sameAfter?: boolean;
  /** what the answer gets wrong against the database at this moment (empty: it tells the truth) */
  judge?(value: unknown): Promise<string[]>;
}

export type SteadyStateReadings = ReadonlyMap<string, unknown>;

/** The reads the probes make: the store's API client, or one that opens a connection per read (api/fresh.ts). */
export interface Reader {
  health(): Promise<Exchange>;
  products(): Promise<Exchange>;
  brands(): Promise<Exchange>;
  orders(o?: { limit?: number }): Promise<Exchange>;
}

/** GET /api/health/ answers 200. */
export function healthProbe(api: Reader): SteadyStateProbe {
  return {
    name: 'health answers 200',
    status: 200,
    read: async () => {
      const exchange = await api.health();
      return { exchange, value: exchange.status };
    },
  };
}

/**
 * GET products and brands answer 200 with what the database holds (every row, each as stored), and
 * the same after the fault as before it.
 */
export function catalogProbe(api: Reader, db: DbProbe): SteadyStateProbe {
  return {
    name: 'products and brands answer 200 with what the database holds, the same after the fault',
    status: 200,
    sameAfter: true,
    read: async () => {
      const products = await api.products();
      const brands = await api.brands();
      // the worse of the two answers carries the status
      const exchange = products.status === 200 ? brands : products;
      return { exchange, value: { [products.path]: products.body, [brands.path]: brands.body } };
    },
    judge: async (value) => {
      const truth = await readCatalog(db);
      return Object.entries(value as Record<string, unknown>).flatMap(
        ([path, body]) => judgeRead(path, body, truth) ?? [`${path}: unknown`],
      );
    },
  };
}

/** GET one's own orders answers 200 with exactly the user's orders in the database, each as stored. */
export function ownOrdersProbe(api: Reader, db: DbProbe, userId: number): SteadyStateProbe {
  // a page large enough for every order of the user this run makes (the store caps it at 500)
  const limit = 500;
  return {
    name: "one's own orders answer 200 with what the database holds",
    status: 200,
    read: async () => {
      const exchange = await api.orders({ limit });
      return { exchange, value: { path: exchange.path, body: exchange.body } };
    },
    judge: async (value) => {
      const { path, body } = value as { path: string; body: unknown };
      return judgeRead(path, body, { orders: await readOrdersOf(db, userId) }) ?? [`${path}: unknown`];
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
    if (probe.judge) {
      const problems = await probe.judge(value);
      expect(problems, `${probe.name} ${when}: the answer tells what the database holds`).toEqual([]);
    }
    if (baseline && probe.sameAfter)
      expect(value, `${probe.name}: the answer after the fault equals the one before`).toEqual(baseline.get(probe.name));
    readings.set(probe.name, value);
  }
  return readings;
}
