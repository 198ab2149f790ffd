/** The reporters every run writes into a reports folder (the main suite and the meta-test share them). */
import path from 'node:path';
import type { ReporterDescription } from '@playwright/test';

/**
 * list, HTML, JUnit, JSON into dir; Allure results into allureDir; in a CI matrix cell also a blob
 * report named for the cell (merged with every other cell's by `playwright merge-reports`). Reporters
 * come from here only: a --reporter on the command line would replace them all (redaction, Allure,
 * the summary, the secret scan).
 */
export function standardReporters(
  dir: string,
  allureDir: string,
  environmentInfo: Record<string, string> = {},
  ciCell?: string,
): ReporterDescription[] {
  return [
    // first: masks secrets in errors before any other reporter sees them
    ['./helpers/report/redacting-reporter.ts'],
    ['list'],
    ['html', { outputFolder: path.join(dir, 'html'), open: 'never' }],
    ['junit', { outputFile: path.join(dir, 'junit.xml') }],
    ['json', { outputFile: path.join(dir, 'results.json') }],
    // an empty results folder first: the report shows this run, its history is allure-history.jsonl
    ['./helpers/report/allure-fresh.ts', { resultsDir: allureDir }],
    ['allure-playwright', { resultsDir: allureDir, suiteTitle: true, environmentInfo }],
    ...(ciCell ? [['blob', { outputDir: path.join(dir, 'blob'), fileName: `report-${ciCell}.zip` }] as ReporterDescription] : []),
  ];
}

/** The tag of a CI matrix cell's tests (@cell:pg16-uvicorn-2): a merged report keeps the cells apart by it. */
export const CELL_TAG = '@cell:';
/** The CI matrix cell a test ran in, from its tags; undefined outside a matrix. */
export const cellOf = (tags: readonly string[]): string | undefined => tags.find((t) => t.startsWith(CELL_TAG))?.slice(CELL_TAG.length);

/** `playwright test --list` only lists: no report is written and no scan runs. */
export const listing = (argv: readonly string[]) => argv.includes('--list');
