import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Absolute path of the repository root. */
export const PROJECT_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
/** The Django store the suite tests by default. */
export const REFERENCE_STORE_DIR = path.join(PROJECT_ROOT, 'reference-store');
