/**
 * One fault experiment whose workload is a probe, not load: one request, or a sequence (the runbook
 * order under the fault, then its retry once recovered). The scenario declares its steady state, its
 * probe while the fault holds, what it does once the fault is reverted, its report row and its
 * checks; the runner owns the five phases, the inject and the recover (the faults fixture reverts
 * the fault even when a phase throws), and writes the row before the checks run.
 */
import type { Fault, FaultAction } from '../faults/fault';
import { phase, type Evidence } from '../report/evidence';
import type { ScenarioMetrics } from '../report/metrics';

/** What the runner needs from the fixtures. */
export interface ProbeContext {
  readonly faults: { inject(fault: Fault): Promise<FaultAction>; recover(fault: Fault): Promise<FaultAction> };
  readonly evidence: Evidence;
}

/** What each phase gave: the steady state (B), the probe under the fault (D), the requests once recovered (R). */
export interface ProbeRun<B, D, R> {
  readonly before: B;
  readonly during: D;
  readonly recovery: R;
  readonly injected: FaultAction;
  readonly recovered: FaultAction;
}

export interface ProbeExperiment<B, D, R> {
  readonly fault: Fault;
  /** Baseline: the steady state, and what Verify compares against */
  readonly baseline: () => Promise<B>;
  /** During fault: the probe, with its checks of what the store answers (no probe: the phase is left out) */
  readonly during?: (before: B) => Promise<D>;
  /** Recover: after the fault was reverted, the requests that prove the recovery (the retry, a burst) */
  readonly recover?: (x: { readonly before: B; readonly during: D; readonly recovered: FaultAction }) => Promise<R>;
  /** Verify: the report row (written first, so that a failed check still leaves its figures) */
  readonly metrics: (run: ProbeRun<B, D, R>) => ScenarioMetrics;
  /** Verify: the scenario's checks */
  readonly verify: (run: ProbeRun<B, D, R>) => Promise<void> | void;
}

/** Runs the five phases of a probe experiment. */
export async function runProbeExperiment<B, D = undefined, R = undefined>(
  ctx: ProbeContext,
  spec: ProbeExperiment<B, D, R>,
): Promise<ProbeRun<B, D, R>> {
  const { evidence, faults } = ctx;
  const before = await phase(evidence, 'Baseline', spec.baseline);
  const injected = await phase(evidence, 'Inject', () => faults.inject(spec.fault));
  const probe = spec.during;
  const during = (probe ? await phase(evidence, 'During fault', () => probe(before)) : undefined) as D;
  const { recovered, recovery } = await phase(evidence, 'Recover', async () => {
    const action = await faults.recover(spec.fault);
    return { recovered: action, recovery: (await spec.recover?.({ before, during, recovered: action })) as R };
  });
  const run: ProbeRun<B, D, R> = { before, during, recovery, injected, recovered };
  await phase(evidence, 'Verify', async () => {
    await evidence.metrics(spec.metrics(run));
    await spec.verify(run);
  });
  return run;
}
