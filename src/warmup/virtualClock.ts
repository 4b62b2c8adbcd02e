/**
 * A clock that never touches the event loop: timers are kept in a list and fire only
 * when `advance()` moves the virtual time past them. The SIP warm-up
 * (docs/architecture.md §8.5) hands it to its throwaway stack, so nothing it arms can
 * outlive it.
 */
import type { Clock, TimerHandle } from '../../sip/clock.js';

interface VirtualTimer {
  at: number;
  fire: () => void;
  cancelled: boolean;
}

export class VirtualClock implements Clock {
  private time = 0;
  private timers: VirtualTimer[] = [];

  now(): number {
    return this.time;
  }

  setTimer(delayMs: number, fire: () => void): TimerHandle {
    const timer: VirtualTimer = { at: this.time + Math.max(0, delayMs), fire, cancelled: false };
    this.timers.push(timer);
    return {
      cancel: () => {
        timer.cancelled = true;
      },
    };
  }

  /** Timers armed and neither fired nor cancelled. */
  get pending(): number {
    return this.timers.filter((t) => !t.cancelled).length;
  }

  /** Moves time on by `ms` and fires every timer due by then, in time order. */
  advance(ms: number): void {
    const until = this.time + ms;
    this.timers = this.timers.filter((t) => !t.cancelled);
    for (;;) {
      // The earliest due timer, rescanned after each one fires (it may arm more).
      let next: VirtualTimer | undefined;
      for (const t of this.timers) {
        if (!t.cancelled && t.at <= until && (next === undefined || t.at < next.at)) next = t;
      }
      if (next === undefined) break;
      this.time = next.at;
      next.cancelled = true;
      next.fire();
    }
    this.timers = this.timers.filter((t) => !t.cancelled);
    this.time = until;
  }

  /** Forgets every timer (they can no longer fire). */
  clear(): void {
    for (const t of this.timers) t.cancelled = true;
    this.timers = [];
  }
}
