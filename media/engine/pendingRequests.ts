/**
 * The commands a media worker has not answered yet, each with its deadline
 * (docs/architecture.md §5.5: a command the worker never answers fails with ERR_TIMEOUT).
 *
 * Every command gets the same timeout, so the deadlines come in the order the commands were
 * sent: the oldest pending command is the first to expire. One timer per worker therefore
 * does for all of them, armed for the oldest deadline; an answer only takes its entry out
 * of the map. A call set-up sends about nine commands, and a timer each (set, then cleared
 * by the answer) was a timer object, its list bookkeeping and a closure per command on the
 * main thread. When the timer fires it fails what expired and re-arms for the next oldest,
 * so while commands flow it fires about once per timeout, not once per command.
 *
 * The timer is unref'd: a pending command's worker keeps the process alive by itself.
 */

/** What settles one pending command. */
export interface Settle {
  resolve(result: unknown): void;
  reject(error: Error): void;
}

/** The clock and the one-shot timer the table uses (injected in tests). */
export interface DeadlineTimer {
  now(): number;
  /** Calls `run` once, `ms` from now; the handle goes to cancel. */
  schedule(run: () => void, ms: number): unknown;
  cancel(handle: unknown): void;
}

const realTimer: DeadlineTimer = {
  now: () => performance.now(),
  schedule: (run, ms) => setTimeout(run, ms).unref(),
  cancel: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

interface Entry extends Settle {
  deadline: number;
  /** What the timeout error says (the command's type). */
  what: string;
}

export class PendingRequests {
  /** By request id; a Map iterates in insertion order, i.e. by deadline. */
  private readonly entries = new Map<number, Entry>();
  private timer: unknown;

  constructor(
    private readonly timeoutMs: number,
    /** The error a command that timed out fails with. */
    private readonly timeoutError: (what: string) => Error,
    private readonly clock: DeadlineTimer = realTimer,
  ) {}

  get size(): number {
    return this.entries.size;
  }

  /** Records command `id` (ids must grow), due `timeoutMs` from now. */
  add(id: number, what: string, settle: Settle): void {
    const deadline = this.clock.now() + this.timeoutMs;
    this.entries.set(id, { resolve: settle.resolve, reject: settle.reject, deadline, what });
    if (this.timer === undefined) this.arm(this.timeoutMs);
  }

  /** Takes command `id` out (its answer came); undefined when it timed out or was failed. */
  take(id: number): Settle | undefined {
    const entry = this.entries.get(id);
    if (entry !== undefined) this.entries.delete(id);
    return entry;
  }

  /** Fails every pending command with `error` and stops the timer. */
  rejectAll(error: Error): void {
    if (this.timer !== undefined) {
      this.clock.cancel(this.timer);
      this.timer = undefined;
    }
    const entries = [...this.entries.values()];
    this.entries.clear();
    for (const entry of entries) entry.reject(error);
  }

  private arm(ms: number): void {
    this.timer = this.clock.schedule(() => this.expire(), Math.max(0, ms));
  }

  private expire(): void {
    this.timer = undefined;
    const now = this.clock.now();
    for (const [id, entry] of this.entries) {
      if (entry.deadline > now) {
        this.arm(entry.deadline - now);
        return;
      }
      this.entries.delete(id);
      entry.reject(this.timeoutError(entry.what));
    }
  }
}
