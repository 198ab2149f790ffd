/**
 * Listed first among the reporters: masks secrets in every error before any other reporter sees it.
 *
 * Why: an APIRequestContext call that fails (a timeout, a reset) throws with Playwright's call log,
 * which lists the request headers, the bearer token included. StoreApi catches that error, but the
 * call's own step keeps it, and the HTML report and Allure both show failed steps. Reporters get the
 * same result objects in turn, so masking them here, before the HTML, JSON, JUnit and Allure
 * reporters, keeps the token out of all of them (the secret scan, listed last, checks that it did).
 */
import type { Reporter, TestCase, TestError, TestResult, TestStep } from '@playwright/test/reporter';
import { redactText } from './redact';
import { registeredSecrets } from './secret-scan';

function maskSecrets(text: string): string {
  let out = redactText(text);
  for (const s of registeredSecrets()) out = out.split(s).join('***');
  return out;
}

function maskError(e: TestError | undefined): void {
  if (!e) return;
  const m = e as { message?: string; stack?: string; value?: string; snippet?: string };
  if (m.message) m.message = maskSecrets(m.message);
  if (m.stack) m.stack = maskSecrets(m.stack);
  if (m.value) m.value = maskSecrets(m.value);
  if (m.snippet) m.snippet = maskSecrets(m.snippet);
  maskError((e as { cause?: TestError }).cause);
}

function maskStep(step: TestStep): void {
  maskError(step.error);
  step.steps.forEach(maskStep);
}

export default class RedactingReporter implements Reporter {
  printsToStdio(): boolean {
    return false;
  }

  onStepEnd(_test: TestCase, _result: TestResult, step: TestStep): void {
    maskStep(step);
  }

  onTestEnd(_test: TestCase, result: TestResult): void {
    result.errors.forEach(maskError);
    maskError(result.error);
    result.steps.forEach(maskStep);
  }
}
