// The Allure report with the quality gate's verdict inside it (its "Quality Gates" tab): what
// `allure generate` does (Allure 3's own API), with the gate of allurerc.mjs evaluated over the same
// results before the report is written, as `allure run` does. `allure generate` alone evaluates no
// gate, and the report said "Quality Gates 0" whatever the run. The verdict is also printed; the
// exit code stays the report's (npm run report:quality-gate is what fails a job).
// Run by scripts/allure.ts: node --require ./scripts/node20-iterator-helpers.cjs scripts/allure-generate.mjs <results dir>...
import { AllureReport, filterFailedQualityGateResults, readConfig, stringifyQualityGateResults } from '@allurereport/core';

const dirs = process.argv.slice(2);
const config = await readConfig(process.cwd(), 'allurerc.mjs');
const report = new AllureReport(config);
await report.start();
for (const dir of dirs) await report.readDirectory(dir);
const trs = await report.store.allTestResults({ includeRetries: false });
const { results } = await report.validate({ trs });
report.realtimeDispatcher.sendQualityGateResults(results);
await report.done();
const failed = filterFailedQualityGateResults(results);
process.stdout.write(
  failed.length === 0
    ? `allure: the quality gate passed (${results.length} rules over ${trs.length} results), shown in the report\n`
    : `allure: the quality gate FAILED, shown in the report:\n${stringifyQualityGateResults(results)}\n`,
);
