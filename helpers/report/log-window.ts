/** The lines a log file gained since a moment: the server's log of a fault window. */
import fs from 'node:fs';

export class LogWindow {
  private readonly offset: number;

  constructor(readonly file: string) {
    this.offset = LogWindow.size(file);
  }

  private static size(file: string): number {
    try {
      return fs.statSync(file).size;
    } catch {
      return 0;
    }
  }

  /** Text appended since the window opened (at most maxBytes, the tail). */
  read(maxBytes = 200_000): string {
    const end = LogWindow.size(this.file);
    if (end <= this.offset) return '';
    const start = Math.max(this.offset, end - maxBytes);
    const fd = fs.openSync(this.file, 'r');
    try {
      const buf = Buffer.alloc(end - start);
      fs.readSync(fd, buf, 0, buf.length, start);
      return buf.toString('utf8');
    } finally {
      fs.closeSync(fd);
    }
  }
}
