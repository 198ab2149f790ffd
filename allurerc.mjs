// Allure 3 configuration of store-resilience (npm run report:allure; CI's merged report).
// A plain object, not allure's defineConfig: importing the package 'allure' runs its CLI (and sets
// process.exitCode), and the suite imports this file for the category names.

export const FAULT_NOT_OBSERVED = 'fault not observed (the fault or its driver, not the store)';
export const DID_NOT_RECOVER = "did not recover (the fault's own probes saw no revert: the database or app server stayed down)";
export const STORE_DEFECT = 'store defect (an assertion about the store under the fault, its recovery or its data failed)';
export const SUITE_ERROR = 'suite or setup error (an exception, a timeout, a store not ready before the fault)';
/** The phase a test failed in, from its failedPhase label; undefined for a test without phases. */
const failedPhase = (d) => d.labels.find((l) => l.name === 'failedPhase')?.value;

/** @type {import('allure').AllureConfig} */
export default {
  name: 'store-resilience',
  output: './reports/allure-report',
  // trends across runs: one line per run, kept next to the reports (git-ignored)
  historyPath: './reports/allure-history.jsonl',
  plugins: {
    awesome: { options: { reportName: 'store-resilience: fault tolerance of the store', reportLanguage: 'en', singleFile: true } },
  },
  // why a test is red, for a reviewer: first match wins. A failed phase is labelled failedPhase
  // (helpers/report/evidence.ts); a test without phases (smoke, security) fails as a whole.
  categories: {
    rules: [
      // a fault that took the deployment down (a zero-downtime restart that stopped the store) is the
      // deployment's defect, whatever phase it struck in
      { name: STORE_DEFECT, matchers: { message: /the deployment broke/ } },
      { name: FAULT_NOT_OBSERVED, matchers: { message: /fault not observed/ } },
      { name: DID_NOT_RECOVER, matchers: { message: /did not recover/ } },
      // the store under the fault, on its way back (a store that stays down once the fault is gone)
      // or after it; Baseline and Inject failures are not the store's answer to a fault
      {
        name: STORE_DEFECT,
        matchers: (d) => d.status === 'failed' && [undefined, 'During fault', 'Recover', 'Verify'].includes(failedPhase(d)),
      },
      { name: SUITE_ERROR, matchers: { statuses: ['failed', 'broken'] } },
    ],
  },
  // the cells of a CI matrix (scripts/allure.ts sets ALLURE_CELLS, {cell: its environment file}, when
  // it combines them): each is an environment of the report, by the cell label every result of the
  // cell carries (e2e/fixtures/api.ts), with its own variables (versions, server, flaws)
  ...(process.env.ALLURE_CELLS
    ? {
        environments: Object.fromEntries(
          Object.entries(JSON.parse(process.env.ALLURE_CELLS)).map(([cell, variables]) => [
            cell,
            { variables, matcher: ({ labels }) => labels.some((l) => l.name === 'cell' && l.value === cell) },
          ]),
        ),
      }
    : {}),
  // `npx allure quality-gate reports/allure-results`: no failure, and at least as many tests as a full run has
  qualityGate: {
    rules: [{ maxFailures: 0, minTestsCount: Number(process.env.ALLURE_MIN_TESTS ?? 100) }],
  },
};
