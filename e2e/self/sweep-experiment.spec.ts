/** The sweep runner (helpers/experiment/sweep-experiment.ts): its order of phases per point, and a sweep of nothing is red. */
import { expect, test } from './support/test';
import type { Fault, FaultAction } from '../../helpers/faults/fault';
import { runSweepExperiment, type SweepExperiment } from '../../helpers/experiment/sweep-experiment';
import { Evidence } from '../../helpers/report/evidence';
import type { ScenarioMetrics } from '../../helpers/report/metrics';

const action = (fault: string, what: 'inject' | 'recover'): FaultAction => ({
  fault,
  action: what,
  startedAt: 0,
  endedAt: 0,
  detail: '',
  commands: [],
  changed: true,
});

/** Evidence whose report row is recorded, not attached: a self test adds no row to the run's summary. */
class RowRecorder extends Evidence {
  readonly rows: ScenarioMetrics[] = [];
  override metrics(m: ScenarioMetrics): Promise<void> {
    this.rows.push(m);
    return Promise.resolve();
  }
}

/** A sweep over `points` that records every call it gets, in order. */
function recordingSweep(points: readonly number[], calls: string[]) {
  const faults = {
    inject: (f: Fault) => (calls.push(`inject ${f.name}`), Promise.resolve(action(f.name, 'inject'))),
    recover: (f: Fault) => (calls.push(`recover ${f.name}`), Promise.resolve(action(f.name, 'recover'))),
  };
  const spec: SweepExperiment<readonly number[], number, string, string> = {
    baseline: () => (calls.push('baseline'), Promise.resolve(points)),
    points: (before) => before,
    label: (p, i, n) => `point ${i + 1} of ${n}: ${p}`,
    fault: (p) => ({
      name: `cut-${p}`,
      description: '',
      inject: () => Promise.reject(new Error('not here')),
      recover: () => Promise.reject(new Error('not here')),
    }),
    during: (p) => (calls.push(`probe ${p}`), Promise.resolve(`answer ${p}`)),
    recover: ({ point, during }) => (calls.push(`retry ${point} after ${during}`), Promise.resolve(`result ${point}`)),
    metrics: (run) => (
      calls.push(`metrics ${run.points.length}`),
      { scenario: 'sweep', fault: 'cut', figures: { points: run.points.length } }
    ),
    verify: (run) => void calls.push(`verify ${run.points.map((p) => p.result).join(',')}`),
  };
  return { faults, spec };
}

test.describe('sweep experiment', { tag: '@self' }, () => {
  test('should inject, probe and recover each point in turn, then write the row before the checks', async () => {
    const calls: string[] = [];
    const { faults, spec } = recordingSweep([3, 7], calls);
    const evidence = new RowRecorder(test.info());
    const run = await runSweepExperiment({ faults, evidence }, spec);
    expect(calls).toEqual([
      'baseline',
      'inject cut-3',
      'probe 3',
      'recover cut-3',
      'retry 3 after answer 3',
      'inject cut-7',
      'probe 7',
      'recover cut-7',
      'retry 7 after answer 7',
      'metrics 2',
      'verify result 3,result 7',
    ]);
    expect(run.points.map((p) => p.result)).toEqual(['result 3', 'result 7']);
    expect(evidence.rows).toEqual([{ scenario: 'sweep', fault: 'cut', figures: { points: 2 } }]);
  });

  test('should fail a sweep whose steady state gave no point, after its row is written', async () => {
    const calls: string[] = [];
    const { faults, spec } = recordingSweep([], calls);
    const evidence = new RowRecorder(test.info());
    await expect(runSweepExperiment({ faults, evidence }, spec)).rejects.toThrow(
      'the steady state gave no fault point: the sweep explored nothing',
    );
    expect(calls, 'no fault, the row written, no check run').toEqual(['baseline', 'metrics 0']);
    expect(evidence.rows.map((r) => r.figures)).toEqual([{ points: 0 }]);
  });
});
