/** Runs a command with a deadline and keeps what it did as evidence. */
import { execa } from 'execa';

export interface CommandRecord {
  readonly command: string;
  readonly exitCode: number | undefined;
  readonly stdout: string;
  readonly stderr: string;
  readonly startedAt: string;
  readonly durationMs: number;
  readonly timedOut: boolean;
}

export interface RunOptions {
  readonly timeoutMs?: number;
  readonly cwd?: string;
  readonly env?: Readonly<Record<string, string>>;
  /** env is the whole environment (not added to this process's): a libpq client sees no PG* variable of ours */
  readonly replaceEnv?: boolean;
  /** run as the postgres user (the server refuses root) */
  readonly asPostgres?: boolean;
  /** words to replace with *** in the recorded command line (passwords) */
  readonly secrets?: readonly string[];
  /** input written to stdin */
  readonly input?: string;
}

/** Thrown by runCommand; its message follows "<cmd> failed (exit N) after Tms: <output>". */
export class CommandError extends Error {
  constructor(readonly record: CommandRecord) {
    const output = `${record.stderr}\n${record.stdout}`.trim().slice(-2000);
    const how = record.timedOut ? 'timed out' : `failed (exit ${record.exitCode})`;
    super(`${record.command} ${how} after ${record.durationMs}ms: ${output || '(no output)'}`);
    this.name = 'CommandError';
  }
}

const isRoot = () => typeof process.getuid === 'function' && process.getuid() === 0;

/** The argv that runs file as the postgres user when we are root, unchanged otherwise. */
export function postgresArgv(file: string, args: readonly string[]): [string, string[]] {
  return isRoot() ? ['runuser', ['-u', 'postgres', '--', file, ...args]] : [file, [...args]];
}

/** Runs file with args; resolves with the record, rejects with CommandError on non-zero exit or timeout. */
export async function runCommand(file: string, args: readonly string[], opts: RunOptions = {}): Promise<CommandRecord> {
  const [bin, argv] = opts.asPostgres ? postgresArgv(file, args) : [file, [...args]];
  const started = Date.now();
  const result = await execa(bin, argv, {
    reject: false,
    timeout: opts.timeoutMs ?? 60_000,
    cwd: opts.cwd,
    env: opts.env,
    extendEnv: !opts.replaceEnv,
    input: opts.input,
    stdin: opts.input === undefined ? 'ignore' : undefined,
    all: false,
    stripFinalNewline: true,
  });
  let command = [file, ...args].join(' ');
  for (const s of opts.secrets ?? []) if (s) command = command.split(s).join('***');
  const record: CommandRecord = {
    command,
    exitCode: result.exitCode,
    stdout: String(result.stdout ?? ''),
    stderr: String(result.stderr ?? ''),
    startedAt: new Date(started).toISOString(),
    durationMs: Date.now() - started,
    timedOut: Boolean(result.timedOut),
  };
  if (record.timedOut || record.exitCode !== 0) throw new CommandError(record);
  return record;
}
