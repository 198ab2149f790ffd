/** Appends one benchmark record to bench/results/<name>.json (a history, oldest first) and prints it. */
import fs from 'node:fs';
import path from 'node:path';
import { PROJECT_ROOT } from '../helpers/paths';

export function recordResult(name: string, record: object): void {
  const file = path.join(PROJECT_ROOT, 'bench', 'results', `${name}.json`);
  const history = fs.existsSync(file) ? (JSON.parse(fs.readFileSync(file, 'utf8')) as unknown[]) : [];
  history.push(record);
  fs.writeFileSync(file, `${JSON.stringify(history, null, 2)}\n`);
  process.stdout.write(`${JSON.stringify(record, null, 2)}\n`);
}
