/**
 * A deterministic Clock for tests: timers live in a binary heap ordered by due time
 * (then by creation order); advance(ms) fires them in order, moving `now()` to each
 * timer's due time, including timers armed while advancing.
 */
import type { Clock, TimerHandle } from '../../../../sip/clock.js';

interface Entry {
  due: number;
  seq: number;
  fire: () => void;
  cancelled: boolean;
}

export class FakeClock implements Clock {
  private time = 0;
  private seq = 0;
  private live = 0;
  private readonly heap: Entry[] = [];

  now(): number {
    return this.time;
  }

  setTimer(delayMs: number, fire: () => void): TimerHandle {
    const entry: Entry = {
      due: this.time + Math.max(0, delayMs),
      seq: this.seq++,
      fire,
      cancelled: false,
    };
    this.push(entry);
    this.live++;
    return {
      cancel: () => {
        if (entry.cancelled) return;
        entry.cancelled = true;
        this.live--;
      },
    };
  }

  /** Timers armed and neither fired nor cancelled. */
  get pending(): number {
    return this.live;
  }

  /** Moves time forward by `ms`, firing every timer due on the way. */
  advance(ms: number): void {
    const target = this.time + ms;
    for (;;) {
      const top = this.heap[0];
      if (top === undefined || top.due > target) break;
      this.pop();
      if (top.cancelled) continue;
      top.cancelled = true;
      this.live--;
      this.time = top.due;
      top.fire();
    }
    this.time = target;
  }

  /** Advances to an absolute time. */
  advanceTo(at: number): void {
    this.advance(at - this.time);
  }

  private before(a: Entry, b: Entry): boolean {
    return a.due < b.due || (a.due === b.due && a.seq < b.seq);
  }

  private push(entry: Entry): void {
    const h = this.heap;
    h.push(entry);
    let i = h.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const p = h[parent] as Entry;
      if (!this.before(entry, p)) break;
      h[i] = p;
      i = parent;
    }
    h[i] = entry;
  }

  private pop(): void {
    const h = this.heap;
    const last = h.pop();
    if (last === undefined || h.length === 0) return;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let best = last;
      let at = -1;
      const left = h[l];
      const right = h[r];
      if (left !== undefined && this.before(left, best)) {
        best = left;
        at = l;
      }
      if (right !== undefined && this.before(right, best)) {
        best = right;
        at = r;
      }
      if (at < 0) break;
      h[i] = best;
      i = at;
    }
    h[i] = last;
  }
}
