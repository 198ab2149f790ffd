// Allure 3 configuration of store-resilience (npm run report:allure; CI's merged report).
import { defineConfig } from 'allure';

export default defineConfig({
  name: 'store-resilience',
  output: './reports/allure-report',
  // trends across runs: one line per run, kept next to the reports (git-ignored)
  historyPath: './reports/allure-history.jsonl',
  plugins: {
    awesome: { options: { reportName: 'store-resilience: fault tolerance of the store', reportLanguage: 'en', singleFile: true } },
  },
  // why a test is red, for a reviewer: first match wins
  categories: {
    rules: [
      { name: 'fault not observed (the fault or its driver, not the store)', matchers: { message: /fault not observed/ } },
      { name: 'did not recover (the target did not come back after the revert)', matchers: { message: /did not recover/ } },
      { name: 'store defect (an assertion about the store failed)', matchers: { statuses: ['failed'] } },
      { name: 'suite or setup error (an exception, a timeout, a missing service)', matchers: { statuses: ['broken'] } },
    ],
  },
  // `npx allure quality-gate reports/allure-results`: no failure, and at least as many tests as a full run has
  qualityGate: {
    rules: [{ maxFailures: 0, minTestsCount: Number(process.env.ALLURE_MIN_TESTS ?? 100) }],
  },
});
