import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Absolute path of the repository root. */
export const PROJECT_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
/** The Django store the suite tests by default. */
export const REFERENCE_STORE_DIR = path.join(PROJECT_ROOT, 'reference-store');
/** Playwright's command line, run by node itself (npx adds 0.2 s and a process between us and the run). */
export const PLAYWRIGHT_CLI = path.join(PROJECT_ROOT, 'node_modules', '@playwright', 'test', 'cli.js');
