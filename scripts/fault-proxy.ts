/**
 * The fault proxy as a process (started by the embedded stack, detached, with a pidfile):
 *   tsx scripts/fault-proxy.ts --name postgres --listen 21000 --upstream 127.0.0.1:22000 --control 23000 --pidfile <file>
 *     [--token-file <file>]   the statement log then needs the token in X-Fault-Proxy-Token
 */
import fs from 'node:fs';
import { FaultProxy, FaultProxyServer } from '../helpers/faults/proxy';

function arg(name: string): string {
  const i = process.argv.indexOf(`--${name}`);
  const v = i > 0 ? process.argv[i + 1] : undefined;
  if (!v) {
    process.stderr.write(`fault-proxy: --${name} is required\n`);
    process.exit(2);
  }
  return v;
}

/** --token-file: the statement log's token (the file, 0600, is written by whoever starts the proxy). */
function token(): string | undefined {
  const i = process.argv.indexOf('--token-file');
  const file = i > 0 ? process.argv[i + 1] : undefined;
  return file ? fs.readFileSync(file, 'utf8').trim() : undefined;
}

const [upHost, upPort] = arg('upstream').split(':');
const server = new FaultProxyServer(Number(arg('control')), '127.0.0.1', token());
await server.add(new FaultProxy(arg('name'), Number(arg('listen')), upHost ?? '127.0.0.1', Number(upPort)));
await server.start();
const pidfile = arg('pidfile');
fs.writeFileSync(pidfile, `${process.pid}\n`);
process.stdout.write(
  `fault-proxy ${process.pid}: ${arg('name')} 127.0.0.1:${arg('listen')} -> ${arg('upstream')}, control 127.0.0.1:${arg('control')}\n`,
);
const stop = () => {
  void server.stop().finally(() => {
    fs.rmSync(pidfile, { force: true });
    process.exit(0);
  });
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
