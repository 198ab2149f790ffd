/**
 * journalctl test double: `journalctl -u UNIT --since=@EPOCH --no-pager -o short-iso`, read from the
 * service's log file (see README.md).
 */
import { ToolError, Unsupported, hostName, isoSeconds, linePid, out, parseFlags, runTool, service } from './lib';

const FLAGS = {
  '-u': { key: 'unit', value: true },
  '--unit': { key: 'unit', value: true },
  '--since': { key: 'since', value: true },
  '-S': { key: 'since', value: true },
  '-o': { key: 'output', value: true },
  '--output': { key: 'output', value: true },
  '--no-pager': { key: 'noPager' },
  '-q': { key: 'quiet' },
  '--quiet': { key: 'quiet' },
} as const;

const baseName = (u: string) => u.replace(/\.service$/, '');

await runTool('journalctl', async ({ argv, cfg }) => {
  const { flags, args } = parseFlags(argv, FLAGS);
  if (args.length) throw new Unsupported(`positional arguments ${args.join(' ')}`);
  const unit = flags.unit;
  if (!unit) throw new Unsupported('-u UNIT is required');
  if (flags.output !== 'short-iso') throw new Unsupported('only -o short-iso is supported');
  let sinceMs: number | undefined;
  if (flags.since !== undefined) {
    const m = /^@(\d+(?:\.\d+)?)$/.exec(flags.since);
    if (!m) throw new Unsupported('only --since=@EPOCHSECONDS is supported');
    sinceMs = Number(m[1]) * 1000;
  }
  const units = cfg.systemd?.units ?? {};
  const key = Object.keys(units).find((k) => baseName(k) === baseName(unit));
  // the real journalctl prints "-- No entries --" for a unit it never heard of; loud here: a driver bug
  if (key === undefined) throw new ToolError(1, `journalctl double: unit ${unit} is not in systemd.units of the config`);
  const svc = service(cfg, units[key] as string);
  const lines = svc.logLines(sinceMs);
  const host = hostName();
  const mainPid = svc.main()?.pid ?? svc.state().lastMain?.pid ?? 0;
  const text = lines.map((l) => {
    const ts = isoSeconds(l.ms).replace(/Z$/, '+0000');
    return `${ts} ${host} ${svc.logIdentifier}[${linePid(l.text) ?? mainPid}]: ${l.text}`;
  });
  if (text.length) out(text.join('\n'));
  else if (!flags.quiet) out('-- No entries --');
  return 0;
});
