import net from 'node:net';
import { expect, test } from './support/test';
import { EPHEMERAL_PORT_START } from '../../helpers/config';
import { findFreePort, isPortFree } from '../../helpers/stack/ports';

test.describe('port choice', { tag: '@self' }, () => {
  test('should pick free ports below the ephemeral range and skip excluded ones', async () => {
    const range = { min: 20000, max: 20010 };
    const seen = new Set<number>();
    for (let i = 0; i < 20; i++) {
      const port = await findFreePort(range, [20000, 20001]);
      expect(port).toBeGreaterThanOrEqual(20002);
      expect(port).toBeLessThanOrEqual(20010);
      seen.add(port);
    }
    expect(seen.size, 'random, not always the same port').toBeGreaterThan(1);
  });

  test('should not hand out a port someone listens on', async () => {
    const server = net.createServer();
    const port = await findFreePort({ min: 21000, max: 31000 });
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    try {
      expect(await isPortFree(port)).toBe(false);
      for (let i = 0; i < 10; i++) expect(await findFreePort({ min: port, max: port + 10 })).not.toBe(port);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
    expect(await isPortFree(port)).toBe(true);
  });

  test('should refuse a range that reaches the ephemeral ports', async () => {
    await expect(findFreePort({ min: 30000, max: EPHEMERAL_PORT_START })).rejects.toThrow(/ephemeral range/);
  });
});
