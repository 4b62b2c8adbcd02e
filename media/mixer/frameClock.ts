/**
 * The mixer's clock (docs/architecture.md §6.3): frame n is due at start + n·frameMs, always computed from
 * the start, never from the previous tick, so timer lateness never accumulates into
 * drift. Each tick runs every frame that is due by now, oldest first (a stalled event loop
 * catches up instead of slipping), unless it fell more than `maxCatchUpFrames` behind: then
 * the oldest frames are skipped and counted, because audio that late is useless to a
 * listener and replaying it would only delay everything after it.
 *
 * The clock only keeps time; what a frame does is the caller's `onFrame`. Timers and the
 * time source are injected (docs/architecture.md §15.5), so the catch-up
 * and skip rules are tested with a fake clock.
 */

export interface FrameClockTimers {
  /** Monotonic milliseconds. */
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export interface FrameClockOptions {
  /** Frame period (default 20 ms). */
  frameMs?: number;
  /** Frames run late in one tick before older ones are skipped (default 5). */
  maxCatchUpFrames?: number;
  /**
   * Told of every run of skipped frames, before the frames after them run: whatever keeps
   * a timeline of its own (a recording) fills the gap so it never runs short of real time.
   */
  onSkip?: (count: number) => void;
}

/**
 * Called for frame `index`, due at `dueMs`, run at `nowMs` (lateness = nowMs − dueMs).
 * An exception is the caller's bug: the clock keeps ticking.
 */
export type FrameHandler = (index: number, dueMs: number, nowMs: number) => void;

export class FrameClock {
  readonly frameMs: number;
  readonly maxCatchUpFrames: number;
  /** Frames run, frames skipped because the clock fell too far behind. */
  frames = 0;
  skipped = 0;

  private startMs = 0;
  private nextIndex = 0;
  private handle: unknown = undefined;
  private running = false;
  /** Bumped by every start(): a tick whose handler restarted the clock must not go on. */
  private timeline = 0;
  private readonly onSkip: ((count: number) => void) | undefined;

  constructor(
    private readonly timers: FrameClockTimers,
    private readonly onFrame: FrameHandler,
    private readonly onError: (error: unknown) => void,
    options: FrameClockOptions = {},
  ) {
    this.frameMs = options.frameMs ?? 20;
    this.maxCatchUpFrames = options.maxCatchUpFrames ?? 5;
    this.onSkip = options.onSkip;
  }

  get started(): boolean {
    return this.running;
  }

  /**
   * Starts a new timeline at now (frame 0); the first frame run is frame 1, due one period
   * from now. No-op when running.
   */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.timeline++;
    this.startMs = this.timers.now();
    this.nextIndex = 1;
    this.schedule();
  }

  /** Stops; start() later begins a new timeline. Idempotent. */
  stop(): void {
    if (!this.running) return;
    this.running = false;
    this.timers.clearTimeout(this.handle);
    this.handle = undefined;
  }

  /** The index of the next frame to run (frame indices only grow within a timeline). */
  get next(): number {
    return this.nextIndex;
  }

  private dueOf(index: number): number {
    return this.startMs + index * this.frameMs;
  }

  private schedule(): void {
    const delay = this.dueOf(this.nextIndex) - this.timers.now();
    // Whole milliseconds, rounded up: timers are millisecond-grained, and one that fires a
    // fraction early would only have to be scheduled again.
    this.handle = this.timers.setTimeout(() => this.tick(), delay > 0 ? Math.ceil(delay) : 0);
  }

  private tick(): void {
    this.handle = undefined;
    if (!this.running) return;
    const now = this.timers.now();
    const behind = Math.floor((now - this.dueOf(this.nextIndex)) / this.frameMs);
    if (behind > this.maxCatchUpFrames) {
      const skip = behind - this.maxCatchUpFrames;
      this.skipped += skip;
      this.nextIndex += skip;
      try {
        this.onSkip?.(skip);
      } catch (error) {
        this.onError(error);
      }
    }
    const timeline = this.timeline;
    while (this.dueOf(this.nextIndex) <= now) {
      const index = this.nextIndex++;
      this.frames++;
      try {
        this.onFrame(index, this.dueOf(index), now);
      } catch (error) {
        this.onError(error);
      }
      // The handler stopped the clock, or stopped and restarted it (that start() scheduled
      // the new timeline's timer: scheduling here too would run two timer chains).
      if (!this.running || this.timeline !== timeline) return;
    }
    this.schedule();
  }
}
