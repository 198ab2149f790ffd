/** test:external's global setup: the doubles built, the outside store up, its folder and secrets handed on. */
import { log } from '../../helpers/report/log';
import { registerSecrets } from '../../helpers/report/secret-scan';
import { buildDoubles } from './doubles/build';
import { OutsideStore } from './outside-store';

export default async function globalSetup(): Promise<void> {
  // the doubles of systemctl, journalctl, docker and kubectl, bundled from their TypeScript
  await buildDoubles();
  const store = await OutsideStore.up(log);
  // the workers open the same store; the teardown takes it down
  process.env.OUTSIDE_STORE_DIR = store.s.dir;
  const s = store.s;
  registerSecrets([s.ownerPassword, s.readerPassword, s.secretKey, ...Object.values(s.users).map((u) => u.password)]);
  log(`outside store ${store.baseUrl}, PostgreSQL ${s.pgVersion}/${s.cluster} :${s.pgPort}`);
}
