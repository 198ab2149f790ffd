/** The power run's global teardown: the table once more from every case's row (cases ran two at a time). */
import path from 'node:path';
import { config } from '../../helpers/config';
import { writePowerTable } from './table';

export default function globalTeardown(): void {
  const dir = path.join(config().reportsDir, 'power');
  writePowerTable(path.join(dir, 'test-output', 'power-rows'), path.join(dir, 'power-table.md'));
}
