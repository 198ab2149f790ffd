/**
 * The store's and PostgreSQL's log of a fault window, from wherever the target keeps it: a file
 * (read from the offset it had when the window opened), the journal, `docker compose logs`,
 * `kubectl logs` (each asked for what came since the window opened).
 */
import fs from 'node:fs';
import { runCommand } from '../stack/command';

/** An open window on a log: read() returns what was written since it opened. */
export interface LogWindow {
  read(): Promise<string>;
}

/** A log of the target; open() starts a window. */
export interface LogSource {
  /** where it comes from, for the attachment: "file /var/log/...", "journalctl -u store" */
  readonly label: string;
  open(): LogWindow;
}

const MAX_BYTES = 200_000;
const tail = (s: string) => (s.length > MAX_BYTES ? s.slice(-MAX_BYTES) : s);

function fileSize(file: string): number {
  try {
    return fs.statSync(file).size;
  } catch {
    return 0;
  }
}

/** A log file read from the offset it had when the window opened (at most the last 200 kB). */
export function fileLog(file: string): LogSource {
  return {
    label: `file ${file}`,
    open() {
      const offset = fileSize(file);
      return {
        read: async () => {
          const end = fileSize(file);
          if (end <= offset) return '';
          const start = Math.max(offset, end - MAX_BYTES);
          const fd = fs.openSync(file, 'r');
          try {
            const buf = Buffer.alloc(end - start);
            fs.readSync(fd, buf, 0, buf.length, start);
            return buf.toString('utf8');
          } finally {
            fs.closeSync(fd);
          }
        },
      };
    },
  };
}

/** A log a command prints for "since <moment>"; argv builds the command from the window's start (epoch ms). */
export function commandLog(label: string, file: string, argv: (sinceMs: number) => string[], timeoutMs: number): LogSource {
  return {
    label,
    open() {
      // the clock may be a second coarse in the tool (journalctl --since=@seconds): start a second early
      const since = Date.now() - 1_000;
      return {
        read: async () => {
          const r = await runCommand(file, argv(since), { timeoutMs });
          return tail(r.stdout);
        },
      };
    },
  };
}

/** The last lines of a log text (the evidence a failure message carries). */
export function lastLines(text: string, n = 25): string {
  return text.trimEnd().split('\n').slice(-n).join('\n');
}
