/** Free-port choice on 127.0.0.1, always below the kernel's ephemeral range. */
import net from 'node:net';
import { EPHEMERAL_PORT_START } from '../config';

/** True when nothing listens on 127.0.0.1:port and we may bind it. */
export function isPortFree(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen({ port, host, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/** A random free port in [min, max] (max below 32768), skipping those in exclude. */
export async function findFreePort(range: { min: number; max: number }, exclude: readonly number[] = []): Promise<number> {
  if (range.max >= EPHEMERAL_PORT_START) {
    throw new Error(`port range ${range.min}-${range.max} reaches the ephemeral range (>= ${EPHEMERAL_PORT_START})`);
  }
  const span = range.max - range.min + 1;
  const maxTries = Math.min(span, 200);
  for (let i = 0; i < maxTries; i++) {
    const port = range.min + Math.floor(Math.random() * span);
    if (exclude.includes(port)) continue;
    if (await isPortFree(port)) return port;
  }
  throw new Error(`no free port in ${range.min}-${range.max} after ${maxTries} tries`);
}
