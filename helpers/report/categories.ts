/**
 * Sorts Allure results into the report's categories (allurerc.mjs) with Allure's own matcher,
 * so that a test can prove where a reviewer will find a failure.
 */
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { extractErrorMatchingData, matchCategory, normalizeCategoriesConfig } from '@allurereport/core-api';
import { PROJECT_ROOT } from '../paths';

export interface Categorized {
  readonly name: string;
  readonly status: string;
  readonly failedPhase?: string;
  /** undefined for a result no category takes (a passed test) */
  readonly category?: string;
}

interface AllureResultFile {
  name: string;
  status: string;
  labels?: Array<{ name: string; value?: string }>;
  statusDetails?: { message?: string; trace?: string };
}

/** Every result in an allure-results folder, with the category allurerc.mjs gives it. */
export async function categorize(resultsDir: string): Promise<Categorized[]> {
  const rc = (await import(pathToFileURL(path.join(PROJECT_ROOT, 'allurerc.mjs')).href)) as { default: { categories: unknown } };
  const categories = normalizeCategoriesConfig(rc.default.categories as Parameters<typeof normalizeCategoriesConfig>[0]);
  return fs
    .readdirSync(resultsDir)
    .filter((f) => f.endsWith('-result.json'))
    .map((f) => JSON.parse(fs.readFileSync(path.join(resultsDir, f), 'utf8')) as AllureResultFile)
    .map((r) => {
      const labels = r.labels ?? [];
      const data = extractErrorMatchingData({ status: r.status, labels, error: r.statusDetails } as Parameters<
        typeof extractErrorMatchingData
      >[0]);
      return {
        name: r.name,
        status: r.status,
        failedPhase: labels.find((l) => l.name === 'failedPhase')?.value,
        category: matchCategory(categories, data)?.name,
      };
    });
}
