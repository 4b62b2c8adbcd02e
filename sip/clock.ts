/**
 * Time as a parameter (docs/architecture.md §15.4). The stack reads `now()` and
 * arms timers only through a Clock, so tests drive it with a fake clock.
 */
export interface TimerHandle {
  /** Cancels the timer; harmless after it fired or was cancelled. */
  cancel(): void;
}

export interface Clock {
  /** Milliseconds on a monotonic scale. */
  now(): number;
  setTimer(delayMs: number, fire: () => void): TimerHandle;
}

/** The real clock: performance.now() and setTimeout, timers unref'd. */
export const systemClock: Clock = {
  now: () => performance.now(),
  setTimer(delayMs, fire) {
    const t = setTimeout(fire, delayMs);
    t.unref();
    return { cancel: () => clearTimeout(t) };
  },
};
