/** test:external's global teardown: the outside store down, however the run ended, its logs kept with the reports. */
import path from 'node:path';
import { config } from '../../helpers/config';
import { log } from '../../helpers/report/log';
import { OutsideStore } from './outside-store';

export default async function globalTeardown(): Promise<void> {
  const dir = process.env.OUTSIDE_STORE_DIR;
  if (!dir) return;
  await OutsideStore.open(dir).down(log, path.join(config().reportsDir, 'external'));
}
