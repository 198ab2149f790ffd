/** Resilience figures a test reports (time to recover, error latency, ledger verdict ...). */
export const METRICS_ATTACHMENT = 'resilience-metrics';

export interface ScenarioMetrics {
  readonly scenario: string;
  readonly fault?: string;
  /** figures by name, in ms unless the name says otherwise */
  readonly figures: Readonly<Record<string, number | string | boolean | null>>;
  /** the bounds those figures were held to */
  readonly bounds?: Readonly<Record<string, number>>;
}
