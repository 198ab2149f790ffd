/**
 * Does a PostgreSQL endpoint answer, refuse, reset or hang? One SSLRequest, no credentials needed:
 * how a fault proves it took effect on the database or on the link to it, independently of the
 * store under test (whose answers are what the scenario judges).
 */
import net from 'node:net';

/** answered: the server replied to SSLRequest ('S' or 'N'); hang: connected, no reply in time */
export type PgPingOutcome = 'answered' | 'refused' | 'reset' | 'closed' | 'hang' | 'unreachable';

export interface PgPing {
  readonly outcome: PgPingOutcome;
  readonly ms: number;
  readonly detail: string;
}

// Int32 length 8, Int32 80877103: the SSLRequest code (PostgreSQL protocol, "Message Formats")
const SSL_REQUEST = Buffer.from([0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f]);

/** Sends an SSLRequest to host:port and classifies what happens within timeoutMs. */
export function pgPing(host: string, port: number, timeoutMs = 1_000): Promise<PgPing> {
  const t0 = performance.now();
  return new Promise((resolve) => {
    let done = false;
    let connected = false;
    const socket = net.connect({ host, port });
    const finish = (outcome: PgPingOutcome, detail: string) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      resolve({ outcome, ms: Math.round((performance.now() - t0) * 10) / 10, detail });
    };
    const timer = setTimeout(
      () =>
        finish(
          connected ? 'hang' : 'unreachable',
          connected ? `connected, no answer to SSLRequest within ${timeoutMs}ms` : `no TCP connection within ${timeoutMs}ms`,
        ),
      timeoutMs,
    );
    socket.once('connect', () => {
      connected = true;
      socket.write(SSL_REQUEST);
    });
    socket.once('data', (d) => finish('answered', `answered ${JSON.stringify(d.subarray(0, 1).toString('latin1'))}`));
    socket.once('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'ECONNREFUSED') finish('refused', 'connection refused');
      else if (e.code === 'ECONNRESET' || e.code === 'EPIPE') finish('reset', `connection reset (${e.code})`);
      else finish('unreachable', `${e.code ?? ''} ${e.message}`.trim());
    });
    socket.once('close', () => finish(connected ? 'closed' : 'unreachable', 'closed without an answer'));
  });
}

/** host and port of a postgres:// URL. */
export function pgAddress(url: string): { host: string; port: number } {
  const u = new URL(url);
  return { host: u.hostname, port: Number(u.port || 5432) };
}
