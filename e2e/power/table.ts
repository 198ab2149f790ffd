/** The power table (reports/power/power-table.md): each flaw, the test that must catch it, and whether it did. */
import fs from 'node:fs';
import path from 'node:path';

export interface Row {
  readonly index: number;
  readonly flaw: string;
  readonly test: string;
  readonly caught: boolean;
  readonly detail: string;
  readonly category: string;
}

/** Writes the table from the rows the cases left in rowsDir (atomically: cases run two at a time). */
export function writePowerTable(rowsDir: string, file: string): void {
  if (!fs.existsSync(rowsDir)) return;
  const table = fs
    .readdirSync(rowsDir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => JSON.parse(fs.readFileSync(path.join(rowsDir, f), 'utf8')) as Row);
  const caught = table.filter((r) => r.caught).length;
  const md = [
    `# Power: ${caught} of ${table.length} flaws caught (${Math.round((caught / Math.max(1, table.length)) * 100)}%)`,
    '',
    '| flaw | catching test | caught | detail | Allure category of the failure |',
    '|---|---|---|---|---|',
    ...table.map((r) => `| \`${r.flaw}\` | ${r.test} | ${r.caught ? 'yes' : '**NO**'} | ${r.detail} | ${r.category} |`),
    '',
  ].join('\n');
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, md);
  fs.renameSync(tmp, file);
}
