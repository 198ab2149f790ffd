/** Playwright's JSON results (the `json` reporter), as far as the suite reads them. */
import fs from 'node:fs';

export interface JsonResult {
  readonly status: string;
  readonly errors: ReadonlyArray<{ readonly message?: string }>;
  readonly attachments: ReadonlyArray<{ readonly name: string }>;
  readonly steps?: ReadonlyArray<{ readonly title: string }>;
}
export interface JsonSpec {
  readonly id: string;
  readonly title: string;
  readonly tests: ReadonlyArray<{ readonly status: string; readonly projectName: string; readonly results: readonly JsonResult[] }>;
}
export interface JsonSuite {
  readonly suites?: readonly JsonSuite[];
  readonly specs?: readonly JsonSpec[];
}
export interface JsonReport extends JsonSuite {
  readonly stats: { readonly expected: number; readonly unexpected: number; readonly flaky: number; readonly skipped: number };
  readonly errors?: ReadonlyArray<{ readonly message?: string }>;
}

export const readJsonReport = (file: string): JsonReport => JSON.parse(fs.readFileSync(file, 'utf8')) as JsonReport;

/** Every spec of a report, however deep its describe blocks. */
export function specsOf(suite: JsonSuite): JsonSpec[] {
  return [...(suite.specs ?? []), ...(suite.suites ?? []).flatMap(specsOf)];
}

/** Tests of a run, whatever their outcome. */
export const totalTests = (r: JsonReport) => r.stats.expected + r.stats.unexpected + r.stats.flaky + r.stats.skipped;
