/**
 * What K repetitions of a test prove. A defect that shows in a fraction p of runs (a race that loses
 * a request in one restart of eight) escapes K clean runs with probability (1 - p)^K; K clean runs
 * rule out, at 95% confidence, any defect showing in more than 1 - 0.05^(1/K) of runs. The report
 * states both for every repeated test, with its figures pooled over the repeats.
 */

/** The defect rate the statement is made for: one run in eight (a rare race at a restart). */
export const REFERENCE_RATE = 1 / 8;
const CONFIDENCE = 0.95;

/** Probability that K runs show a defect that shows in a fraction `rate` of runs. */
export const detectionProbability = (runs: number, rate = REFERENCE_RATE) => 1 - (1 - rate) ** runs;

/** The highest per-run rate of a defect that K clean runs do not rule out at 95% confidence. */
export const ruledOutAbove = (runs: number) => 1 - (1 - CONFIDENCE) ** (1 / runs);

const pct = (x: number) => `${(x * 100).toFixed(x > 0.995 || x < 0.01 ? 1 : 0)}%`;
const oneIn = (rate: number) => `1 run in ${Math.round(1 / rate)}`;

/** Counts of a repeated test: runs, failed runs, and figures summed over the runs. */
export interface RepeatedTest {
  readonly test: string;
  readonly project: string;
  readonly runs: number;
  readonly failed: number;
  readonly pooled: Readonly<Record<string, number>>;
}

/** The sentence a report states for a repeated test. */
export function powerStatement(r: Pick<RepeatedTest, 'runs' | 'failed' | 'pooled'>): string {
  const pooled = Object.entries(r.pooled)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
  const over = pooled ? ` (over all runs: ${pooled})` : '';
  if (r.failed > 0) {
    return `${r.failed} of ${r.runs} runs failed${over}: the defect shows in about ${oneIn(r.failed / r.runs)}.`;
  }
  return (
    `0 failures in ${r.runs} runs${over}: a defect that shows in ${oneIn(REFERENCE_RATE)} would have shown with probability ` +
    `${pct(detectionProbability(r.runs))}; at ${pct(CONFIDENCE)} confidence these runs rule out a defect that shows in more than ` +
    `${pct(ruledOutAbove(r.runs))} of runs.`
  );
}

/** Figures worth summing over repeats: what was tried, and counts of what went wrong (a restart's refused requests are expected, not pooled). */
export const POOLED_FIGURES = ['requests', 'attempts', 'falseAnswers', 'lost', 'duplicated', 'partial', 'unexpected'] as const;
