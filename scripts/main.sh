#!/usr/bin/env bash
# The main job: set-up if needed, the whole fault suite against the embedded stack, the meta-test
# (each flaw must turn its test red), and every report under reports/.
set -uo pipefail
cd "$(dirname "$0")/.."

./scripts/setup.sh || exit 1
rm -rf reports/allure-results reports/allure-report reports/html reports/power reports/results.json reports/reports-check
npm test
status=$?
npm run -s test:power
power=$?
echo "[main] building the Allure report (reports/allure-report/index.html, one file; trends in reports/allure-history.jsonl)"
npm run -s report:allure >/dev/null 2>&1 \
  || echo "[main] allure generate failed (the HTML report is still in reports/html)" >&2
npm run -s report:quality-gate || echo "[main] the Allure quality gate failed (see above)" >&2
echo "[main] checking the reports in Chromium (npm run test:reports; screenshots in reports/screenshots)"
npm run -s test:reports
browser=$?
echo "[main] reports: reports/resilience-summary.html, reports/html/index.html, reports/allure-report/index.html, reports/resilience-summary.md, reports/power/html/index.html, reports/junit.xml"
npx tsx scripts/summary.ts
[ "$status" -eq 0 ] && [ "$power" -eq 0 ] && [ "$browser" -eq 0 ]
