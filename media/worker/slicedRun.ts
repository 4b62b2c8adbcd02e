/**
 * A worker's periodic work over every room (the clock's frame, the sweep's recording
 * drain) run in slices of at most `budgetMs`, each slice a turn of the event loop of its
 * own, so the packet path runs between them (docs/architecture.md §3.5): a relayed packet
 * that arrives while 200 rooms tick waits for one slice, not for all of them.
 *
 * Items run in the order they were queued, each once. `finish` runs whatever is still
 * queued at once: the caller does so before queueing work that must follow it (the next
 * frame of the same rooms). Time and the turn boundary are injected, so the slicing is
 * tested with a fake clock (test/unit/media/worker/slicedRun.test.ts).
 */

export interface SliceHost {
  /** Monotonic milliseconds. */
  now(): number;
  /** Runs `run` in a later turn of the event loop, after pending I/O (setImmediate). */
  defer(run: () => void): unknown;
  cancel(handle: unknown): void;
}

export const setImmediateHost = (now: () => number): SliceHost => ({
  now,
  defer: (run) => setImmediate(run),
  cancel: (handle) => clearImmediate(handle as NodeJS.Immediate),
});

export class SlicedRun<T> {
  private queue: T[] = [];
  private head = 0;
  private handle: unknown = undefined;
  private closed = false;
  /** Slices run (turns taken), for tests and stats. */
  slices = 0;
  private readonly resume = (): void => {
    this.handle = undefined;
    this.slice(this.host.now());
  };

  /**
   * `each(item, nowMs)` does one item's work at monotonic `nowMs` (when its slice ran
   * or, within a slice, when the previous item ended); an exception is its own business
   * (caught by `each`), never the slicer's.
   */
  constructor(
    private readonly host: SliceHost,
    private readonly budgetMs: number,
    private readonly each: (item: T, nowMs: number) => void,
  ) {}

  /** Items queued and not run yet. */
  get pending(): number {
    return this.queue.length - this.head;
  }

  /** Queues `item` behind what is pending (run by the next `start`, `finish` or slice). */
  push(item: T): void {
    if (this.closed) return;
    this.queue.push(item);
  }

  /** Runs a first slice now, at `nowMs`; the rest follows in later turns. */
  start(nowMs: number): void {
    if (this.handle !== undefined) return; // a slice is already due: it goes on from there
    this.slice(nowMs);
  }

  /** Runs everything still queued, now. */
  finish(): void {
    if (this.handle !== undefined) {
      this.host.cancel(this.handle);
      this.handle = undefined;
    }
    let now = this.host.now();
    while (this.head < this.queue.length) {
      const item = this.queue[this.head]!;
      this.queue[this.head++] = undefined as T; // released to the GC as it runs
      this.each(item, now);
      now = this.host.now();
    }
    this.reset();
  }

  /** Drops what is queued and never runs again. */
  close(): void {
    this.closed = true;
    if (this.handle !== undefined) this.host.cancel(this.handle);
    this.handle = undefined;
    this.queue = [];
    this.head = 0;
  }

  private slice(startMs: number): void {
    if (this.closed) return;
    this.slices++;
    let now = startMs;
    const end = startMs + this.budgetMs;
    while (this.head < this.queue.length) {
      const item = this.queue[this.head]!;
      this.queue[this.head++] = undefined as T;
      this.each(item, now);
      now = this.host.now();
      if (now >= end && this.head < this.queue.length) {
        this.handle = this.host.defer(this.resume);
        return;
      }
    }
    this.reset();
  }

  private reset(): void {
    this.queue.length = 0;
    this.head = 0;
  }
}
