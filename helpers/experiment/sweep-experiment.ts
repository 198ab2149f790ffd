/**
 * A fault experiment over many fault points (the crash points of a write: every statement, cut
 * before and after). The scenario declares its steady state, the points it finds there, the fault of
 * a point, the probe while it holds, what it does once reverted (the retry, the judgement of the
 * point), its report row and its checks. The runner owns the phases: Baseline once; for each point a
 * step of its own with Inject, During fault and Recover (the faults fixture reverts a point's fault
 * even when a phase throws); Verify once, the row written before the checks run.
 */
import { test } from '@playwright/test';
import type { Fault, FaultAction } from '../faults/fault';
import { phase } from '../report/evidence';
import type { ScenarioMetrics } from '../report/metrics';
import type { ProbeContext } from './probe-experiment';

/** What the runner gives Verify: the steady state, and every point with what its probe and recovery gave. */
export interface SweepRun<B, P, R> {
  readonly before: B;
  readonly points: readonly { readonly point: P; readonly result: R }[];
}

export interface SweepExperiment<B, P, D, R> {
  /** Baseline: the steady state the points are found in */
  readonly baseline: () => Promise<B>;
  /** the fault points, from the steady state (none is a failure of the scenario: it explored nothing) */
  readonly points: (before: B) => readonly P[];
  /** the step's title of a point, in the report */
  readonly label: (point: P, index: number, of: number) => string;
  /** the fault of one point, injected and reverted on its own */
  readonly fault: (point: P) => Fault;
  /** During fault: the probe while the point's fault holds */
  readonly during: (point: P, before: B) => Promise<D>;
  /** Recover: after the point's fault was reverted, the retry and what the point showed */
  readonly recover: (x: { readonly point: P; readonly before: B; readonly during: D; readonly recovered: FaultAction }) => Promise<R>;
  /** Verify: the report row (written first, so that a failed check still leaves its figures) */
  readonly metrics: (run: SweepRun<B, P, R>) => ScenarioMetrics;
  /** Verify: the scenario's checks */
  readonly verify: (run: SweepRun<B, P, R>) => Promise<void> | void;
}

/** Runs Baseline, then Inject, During fault and Recover for every point, then Verify. */
export async function runSweepExperiment<B, P, D, R>(ctx: ProbeContext, spec: SweepExperiment<B, P, D, R>): Promise<SweepRun<B, P, R>> {
  const { evidence, faults } = ctx;
  const before = await phase(evidence, 'Baseline', spec.baseline);
  const points = spec.points(before);
  const done: { point: P; result: R }[] = [];
  for (const [i, point] of points.entries()) {
    await test.step(spec.label(point, i, points.length), async () => {
      const fault = spec.fault(point);
      await phase(evidence, 'Inject', () => faults.inject(fault));
      const during = await phase(evidence, 'During fault', () => spec.during(point, before));
      const result = await phase(evidence, 'Recover', async () => {
        const recovered = await faults.recover(fault);
        return spec.recover({ point, before, during, recovered });
      });
      done.push({ point, result });
    });
  }
  const run: SweepRun<B, P, R> = { before, points: done };
  await phase(evidence, 'Verify', async () => {
    await evidence.metrics(spec.metrics(run));
    if (points.length === 0) throw new Error('the steady state gave no fault point: the sweep explored nothing');
    await spec.verify(run);
  });
  return run;
}
