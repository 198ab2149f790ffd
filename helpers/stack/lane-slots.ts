/**
 * Lanes share one machine: a test judged on timing under load (a load experiment: a killed worker's
 * gap within 150 ms, a restart's downtime) runs with the machine to itself, as its bounds were
 * measured. Every test of a run with lanes holds a shared slot; a load experiment trades its shared
 * slot for the exclusive one, which waits for the other lane's test to end and holds that lane's next
 * test until it is done. Measured: two load experiments at once (the soak, two lanes) stretched the
 * killed uvicorn worker's gap to 160 ms in 2 runs of 40.
 *
 * One folder per run (named for the runner's PID), one file per holder (named for its PID): each
 * side announces itself before it looks at the other, so the two never run at once, and a holder
 * that died is ignored.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Config } from '../config';
import { waitUntil } from '../wait';
import { isAlive } from './processes';

const POLL_MS = 20;
/** A slot is waited for at most this long: a load experiment lasts 3-25 s here, a test at most its timeout. */
const LANE_SLOT_WAIT_MS = 120_000;
const EXCLUSIVE = 'exclusive';
const sharedFile = (pid: number) => `shared-${pid}`;
const pidOf = (name: string) => Number(/^shared-(\d+)$/.exec(name)?.[1]);

/** The slots of one run with lanes, as one of its workers (pid) takes them. */
export class LaneSlots {
  private held: 'shared' | 'exclusive' | undefined;

  constructor(
    readonly dir: string,
    private readonly pid = process.pid,
  ) {}

  /** The slots of the run whose runner is `runnerPid`, under the stack root. */
  static ofRun(stackRoot: string, runnerPid: number): LaneSlots {
    return new LaneSlots(path.join(stackRoot, `lane-slots-${runnerPid}`));
  }

  /** A worker's slots in a run with lanes (its runner is its parent), undefined with one lane. */
  static ofWorker(cfg: Pick<Config, 'embedded'>): LaneSlots | undefined {
    return cfg.embedded.lanes > 1 ? LaneSlots.ofRun(path.dirname(cfg.embedded.stackDir), process.ppid) : undefined;
  }

  /** Takes a shared slot: waits while another live worker holds the exclusive one. */
  async shared(timeoutMs: number): Promise<void> {
    fs.mkdirSync(this.dir, { recursive: true });
    const mine = path.join(this.dir, sharedFile(this.pid));
    await waitUntil(
      () => {
        fs.writeFileSync(mine, '');
        if (this.exclusiveHolder() === undefined) return true;
        fs.rmSync(mine, { force: true });
        return false;
      },
      { description: "the other lane's load experiment to end (it runs with the machine to itself)", timeoutMs, intervalMs: POLL_MS },
    );
    this.held = 'shared';
  }

  /** Trades a shared slot (if held) for the exclusive one: waits for the other lanes' tests to end. */
  async exclusive(timeoutMs: number): Promise<void> {
    this.release();
    fs.mkdirSync(this.dir, { recursive: true });
    const lock = path.join(this.dir, EXCLUSIVE);
    await waitUntil(
      () => {
        try {
          fs.mkdirSync(lock);
          fs.writeFileSync(path.join(lock, 'owner'), String(this.pid));
          return true;
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
          // a holder that died: its lock goes, and the next try takes it
          this.exclusiveHolder();
          return false;
        }
      },
      { description: "the other lane's load experiment to end", timeoutMs, intervalMs: POLL_MS },
    );
    this.held = 'exclusive';
    await waitUntil(() => this.otherSharedHolders().length === 0, {
      description: "the other lane's test to end (a load experiment runs with the machine to itself)",
      timeoutMs,
      intervalMs: POLL_MS,
    });
  }

  /** Runs a test holding a shared slot (given back however the test ends). */
  async sharedDuring(test: () => Promise<void>): Promise<void> {
    await this.shared(LANE_SLOT_WAIT_MS);
    try {
      await test();
    } finally {
      this.release();
    }
  }

  /** Runs the part of a test under load with the exclusive slot, then goes back to a shared one. */
  async alone<T>(underLoad: () => Promise<T>): Promise<T> {
    await this.exclusive(LANE_SLOT_WAIT_MS);
    try {
      return await underLoad();
    } finally {
      this.release();
      await this.shared(LANE_SLOT_WAIT_MS);
    }
  }

  /** Gives back what this worker holds. */
  release(): void {
    if (this.held === 'shared') fs.rmSync(path.join(this.dir, sharedFile(this.pid)), { force: true });
    if (this.held === 'exclusive') fs.rmSync(path.join(this.dir, EXCLUSIVE), { recursive: true, force: true });
    this.held = undefined;
  }

  /**
   * The other worker holding the exclusive slot (0 while it is being taken), undefined when none
   * does; the lock of a holder that died is removed.
   */
  private exclusiveHolder(): number | undefined {
    const lock = path.join(this.dir, EXCLUSIVE);
    if (!fs.existsSync(lock)) return undefined;
    let owner: number;
    try {
      owner = Number(fs.readFileSync(path.join(lock, 'owner'), 'utf8'));
    } catch {
      return 0;
    }
    if (owner === this.pid) return undefined;
    if (owner > 0 && !isAlive(owner)) {
      fs.rmSync(lock, { recursive: true, force: true });
      return undefined;
    }
    return owner;
  }

  /** Live workers other than this one holding a shared slot (the files of dead ones are removed). */
  private otherSharedHolders(): number[] {
    return fs
      .readdirSync(this.dir)
      .map(pidOf)
      .filter((pid) => Number.isInteger(pid) && pid !== this.pid)
      .filter((pid) => {
        if (isAlive(pid)) return true;
        fs.rmSync(path.join(this.dir, sharedFile(pid)), { force: true });
        return false;
      });
  }
}

/** Removes the slot folders of runs that are gone (and this run's, with `own`: its teardown). */
export function removeLaneSlots(stackRoot: string, own?: number): void {
  if (!fs.existsSync(stackRoot)) return;
  for (const name of fs.readdirSync(stackRoot)) {
    const pid = Number(/^lane-slots-(\d+)$/.exec(name)?.[1]);
    if (Number.isInteger(pid) && (pid === own || !isAlive(pid))) fs.rmSync(path.join(stackRoot, name), { recursive: true, force: true });
  }
}
