/**
 * The reports a person reviews, opened in a real browser after a full run (npm run test:reports):
 * the Playwright HTML report, the Allure report and the resilience summary. Each shows the run's
 * counts, a fault test's five phases and its timeline picture, and no secret of the target.
 * Screenshots go to reports/screenshots (and to docs/screenshots for the README with
 * UPDATE_README_SCREENSHOTS=1).
 */
import fs from 'node:fs';
import path from 'node:path';
import { expect, test, type Page } from '@playwright/test';
import { config } from '../../helpers/config';
import { PROJECT_ROOT } from '../../helpers/paths';
import { readJsonReport, specsOf, totalTests as total, type JsonReport, type JsonSpec } from '../../helpers/report/results-json';
import { handedOffSecrets, secretIn } from '../../helpers/report/secret-scan';
import { CHROMIUM, hasChromium } from './chromium';
import { serveFolder, type StaticServer } from './static-server';

const cfg = config();
const REPORTS = cfg.reportsDir;
const PHASES = ['Baseline', 'Inject', 'During fault', 'Recover', 'Verify'] as const;
const TIMELINE = 'timeline.svg';
const SCREENSHOTS = path.join(REPORTS, 'screenshots');
const README_SHOTS = path.join(PROJECT_ROOT, 'docs', 'screenshots');
const readJson = <T>(file: string): T => JSON.parse(fs.readFileSync(file, 'utf8')) as T;

test.describe('reports in a browser', { tag: '@reports' }, () => {
  test.skip(!hasChromium(), `no Chromium at ${CHROMIUM}: ./scripts/setup.sh installs Debian's chromium (or set CHROMIUM_PATH)`);

  let server: StaticServer;
  let run: JsonReport;
  let secrets: string[];
  /** a fault test of the run: the five phases and a timeline picture */
  let faultTest: JsonSpec;

  test.beforeAll(async () => {
    const results = path.join(REPORTS, 'results.json');
    expect(fs.existsSync(results), `${results} exists: run npm test (or ./scripts/main.sh) before the report check`).toBe(true);
    run = readJsonReport(results);
    const found = specsOf(run).find((s) =>
      s.tests.some((t) => t.results.some((r) => r.attachments.some((a) => a.name === TIMELINE) && PHASES.every((p) => r.steps?.some((st) => st.title === p)))),
    );
    expect(found, 'the run has a fault test with its five phases and a timeline (db-outage or app-restart ran)').toBeDefined();
    faultTest = found!;
    const handedOff = handedOffSecrets(cfg);
    expect(handedOff, 'the run left its secrets for this check (global setup writes them next to the stacks)').toBeDefined();
    secrets = handedOff!;
    fs.mkdirSync(SCREENSHOTS, { recursive: true });
    server = await serveFolder(REPORTS);
  });

  test.afterAll(async () => {
    await server?.close();
  });

  /** Page text and markup hold no secret of the target and no live token. */
  async function expectNoSecret(page: Page, where: string): Promise<void> {
    const text = `${await page.locator('body').innerText()}\n${await page.content()}`;
    expect(secretIn(text, secrets), `${where}: no secret of the target and no live JWT on the page`).toBeUndefined();
  }

  async function shoot(page: Page, name: string): Promise<void> {
    const file = path.join(SCREENSHOTS, `${name}.png`);
    await page.screenshot({ path: file });
    await test.info().attach(name, { path: file, contentType: 'image/png' });
    if (process.env.UPDATE_README_SCREENSHOTS === '1') {
      fs.mkdirSync(README_SHOTS, { recursive: true });
      fs.copyFileSync(file, path.join(README_SHOTS, `${name}.png`));
    }
  }

  /** Every <img> matched has loaded and has a width: the picture rendered. */
  async function expectRendered(page: Page, selector: string, what: string): Promise<void> {
    const images = page.locator(selector);
    await expect(images.first(), `${what} is on the page`).toBeVisible();
    await expect
      .poll(async () => images.evaluateAll((els) => els.map((e) => { const img = e as unknown as { complete: boolean; naturalWidth: number }; return img.complete && img.naturalWidth > 0; })), {
        message: `${what} rendered (loaded, with a width)`,
      })
      .not.toContain(false);
  }

  test('should show the run in the Playwright HTML report: counts, a fault test with five phases and its timeline', async ({ page }) => {
    await page.goto(`${server.url}/html/index.html`);
    const counter = (label: string) => page.locator('.subnav-item', { has: page.locator('.subnav-item-label', { hasText: new RegExp(`^${label}$`) }) }).locator('.counter');
    const expected = { All: total(run), Passed: run.stats.expected, Failed: run.stats.unexpected, Flaky: run.stats.flaky, Skipped: run.stats.skipped };
    for (const [label, n] of Object.entries(expected)) await expect(counter(label), `${label} equals the run's`).toHaveText(String(n));
    await expectNoSecret(page, 'Playwright report, test list');
    await shoot(page, 'playwright-report');

    await page.goto(`${server.url}/html/index.html#?testId=${faultTest.id}`);
    await expect(page.getByText(faultTest.title).first()).toBeVisible();
    for (const p of PHASES) await expect(page.locator(`.step-title-text[title="${p}"]`).first(), `phase ${p} is a step`).toBeVisible();
    await expectRendered(page, 'img[src$=".svg"]', 'the timeline picture');
    await expectNoSecret(page, `Playwright report, ${faultTest.title}`);
    await shoot(page, 'playwright-report-fault-test');
  });

  test('should show the run in the Allure report: name, counts, a fault test with five phases and its timeline', async ({ page }) => {
    const index = path.join(REPORTS, 'allure-report', 'index.html');
    expect(fs.existsSync(index), `${index} exists: npm run report:allure builds it (main.sh and .ci/run do)`).toBe(true);
    const power = path.join(REPORTS, 'power', 'results.json');
    // the Allure results hold the suite's run and, when it ran, the meta-test's
    const runs = [run, ...(fs.existsSync(power) ? [readJsonReport(power)] : [])];
    const expectedTotal = runs.reduce((n, r) => n + total(r), 0);
    const expectedPassed = runs.reduce((n, r) => n + r.stats.expected, 0);
    await page.goto(`${server.url}/allure-report/index.html`);
    await expect(page.getByTestId('report-title')).toHaveText('store-resilience');
    await expect(
      page.getByTestId('metadata-item-total').getByTestId('metadata-value'),
      `the total equals the runs' (${expectedTotal}); more means results of an earlier run were left in allure-results`,
    ).toHaveText(String(expectedTotal));
    await expect(page.getByTestId('metadata-item-passed').getByTestId('metadata-value')).toHaveText(String(expectedPassed));
    await expectNoSecret(page, 'Allure report, overview');
    await shoot(page, 'allure-report');

    await page.getByTestId('search-input').locator('input').or(page.getByTestId('search-input')).first().fill(faultTest.title.replace(/ @.*$/, ''));
    // open every closed section of the tree (bounded: suites are at most a few levels deep)
    // the leaf of the fault test itself (with a failure in the run, the tree may list others first)
    const leaf = page.getByTestId('tree-leaf').filter({ hasText: faultTest.title.replace(/ @.*$/, '') });
    for (let i = 0; i < 10 && (await leaf.count()) === 0; i++) {
      await page.locator('[data-testid=tree-arrow]:not(:has(svg[class*="opened"]))').first().click();
    }
    await leaf.first().click();
    await expect(page.getByTestId('test-result-info-title')).toContainText(faultTest.title);
    for (const p of PHASES) await expect(page.getByTestId('test-result-step-title').filter({ hasText: new RegExp(`^${p}$`) }), `phase ${p} is a step`).toHaveCount(1);
    // the timeline is attached in Verify: open the step, then the attachment
    await page.getByTestId('test-result-step-title').filter({ hasText: /^Verify$/ }).click();
    await page.getByTestId('test-result-attachment-header').filter({ hasText: TIMELINE }).first().click();
    await expectRendered(page, 'img[alt$=".svg"]', 'the timeline picture');
    await expectNoSecret(page, `Allure report, ${faultTest.title}`);
    await shoot(page, 'allure-report-fault-test');
  });

  test('should show one row per scenario in the resilience summary, with thumbnails and links into the HTML report', async ({ page }) => {
    const summary = readJson<{ scenarios: Array<{ scenario: string; test: string; status: string; timeline: boolean }> }>(path.join(REPORTS, 'resilience-summary.json'));
    await page.goto(`${server.url}/resilience-summary.html`);
    const rows = page.locator('tbody tr');
    await expect(rows).toHaveCount(summary.scenarios.length);
    const passed = summary.scenarios.filter((s) => s.status === 'passed').length;
    await expect(page.locator('#totals')).toContainText(`${passed} of ${summary.scenarios.length} scenarios passed`);
    const withTimeline = summary.scenarios.filter((s) => s.timeline).length;
    expect(withTimeline, 'the load scenarios drew timelines').toBeGreaterThan(0);
    await expect(page.locator('img.timeline')).toHaveCount(withTimeline);
    await expectRendered(page, 'img.timeline', 'every timeline thumbnail');
    await expectNoSecret(page, 'resilience summary');
    await shoot(page, 'resilience-summary');
    // a scenario's link opens its test in the HTML report
    const first = rows.first().locator('td a').first();
    const scenario = summary.scenarios[0]!;
    await first.click();
    await expect(page).toHaveURL(/html\/index\.html#\?testId=/);
    await expect(page.getByText(scenario.test).first(), `the link of ${scenario.scenario} opens its test`).toBeVisible();
  });

  test('should find in the README and docs/reports.md each screenshot they show', () => {
    const readme = fs.readFileSync(path.join(PROJECT_ROOT, 'README.md'), 'utf8');
    const docs = fs.readFileSync(path.join(PROJECT_ROOT, 'docs', 'reports.md'), 'utf8');
    expect(readme, 'the README shows the summary').toContain('docs/screenshots/resilience-summary.png');
    for (const name of ['playwright-report', 'allure-report', 'resilience-summary']) {
      const rel = `screenshots/${name}.png`;
      expect(docs, `docs/reports.md shows ${rel}`).toContain(rel);
      expect(fs.existsSync(path.join(PROJECT_ROOT, 'docs', rel)), `docs/${rel} exists (UPDATE_README_SCREENSHOTS=1 npm run test:reports writes it)`).toBe(
        true,
      );
    }
  });
});
