/**
 * The mixer's clock on a fake time source: a virtual "now" and a timer queue we fire by
 * hand, on time or late, so the drift, catch-up and skip rules are exact.
 */
import { describe, it, expect } from '@jest/globals';
import { FrameClock } from '../../../../media/mixer/frameClock.js';
import type { FrameClockTimers } from '../../../../media/mixer/frameClock.js';

interface Pending {
  id: number;
  at: number;
  fn: () => void;
}

/** Virtual time: setTimeout queues, `fireNext(late)` advances to the earliest + late. */
class FakeTimers implements FrameClockTimers {
  time = 1000.25; // not a whole number: rounding must not matter
  pending: Pending[] = [];
  /** Delays that were not whole, non-negative milliseconds. */
  badDelays: number[] = [];
  private nextId = 1;

  now(): number {
    return this.time;
  }

  setTimeout(fn: () => void, ms: number): unknown {
    if (!(ms >= 0) || !Number.isInteger(ms)) this.badDelays.push(ms);
    const id = this.nextId++;
    this.pending.push({ id, at: this.time + ms, fn });
    return id;
  }

  clearTimeout(handle: unknown): void {
    this.pending = this.pending.filter((p) => p.id !== handle);
  }

  /** Fires the earliest timer `late` ms after it was due; false when none is pending. */
  fireNext(late = 0): boolean {
    if (this.pending.length === 0) return false;
    this.pending.sort((a, b) => a.at - b.at);
    const p = this.pending.shift()!;
    this.time = Math.max(this.time, p.at + late);
    p.fn();
    return true;
  }
}

interface Frame {
  index: number;
  due: number;
  now: number;
}

function rig(options: { frameMs?: number; maxCatchUpFrames?: number } = {}) {
  const timers = new FakeTimers();
  const frames: Frame[] = [];
  const errors: unknown[] = [];
  /** Each skip report, with how many frames had run when it came. */
  const skips: Array<{ count: number; framesRunBefore: number }> = [];
  let onFrame: (f: Frame) => void = () => {};
  const clock = new FrameClock(
    timers,
    (index, due, now) => {
      frames.push({ index, due, now });
      onFrame({ index, due, now });
    },
    (error) => errors.push(error),
    { ...options, onSkip: (count) => skips.push({ count, framesRunBefore: frames.length }) },
  );
  return {
    timers,
    frames,
    errors,
    skips,
    clock,
    setOnFrame: (fn: (f: Frame) => void) => (onFrame = fn),
  };
}

/** A deterministic PRNG (tests must not flake). */
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 0x100000000;
  };
}

describe('FrameClock', () => {
  it('runs frame n at start + n·20 ms, the first one period after start', () => {
    const { timers, frames, clock } = rig();
    const start = timers.time;
    clock.start();
    expect(clock.started).toBe(true);
    expect(timers.pending).toHaveLength(1);
    for (let i = 0; i < 5; i++) timers.fireNext();
    expect(frames.map((f) => f.index)).toEqual([1, 2, 3, 4, 5]);
    for (const f of frames) {
      expect(f.due).toBe(start + f.index * 20);
      expect(f.now).toBeGreaterThanOrEqual(f.due);
      expect(f.now - f.due).toBeLessThan(1); // timers are whole ms, rounded up
    }
    expect(clock.frames).toBe(5);
    expect(clock.skipped).toBe(0);
  });

  it('does not drift over 10 000 frames with random timer lateness', () => {
    const { timers, frames, clock } = rig();
    const start = timers.time;
    const random = lcg(42);
    clock.start();
    while (frames.length < 10_000) {
      // Up to 15 ms late, sometimes a stall of up to 90 ms (caught up, not skipped).
      const late = random() < 0.01 ? random() * 90 : random() * 15;
      if (!timers.fireNext(late) || timers.pending.length !== 1) break;
    }
    expect(frames.length).toBeGreaterThanOrEqual(10_000);
    clock.stop();
    expect(timers.badDelays).toEqual([]);
    const indices = frames.map((f) => f.index);
    expect(indices).toEqual(Array.from({ length: frames.length }, (_, i) => i + 1));
    expect(frames.filter((f) => f.due !== start + f.index * 20)).toEqual([]);
    expect(frames.filter((f) => f.now < f.due || f.now - f.due >= 20 * 6)).toEqual([]);
    // The last frame is due exactly 200 s after the start: lateness never accumulated.
    expect(frames[9999]!.due - start).toBe(200_000);
    expect(clock.skipped).toBe(0);
    expect(clock.frames).toBe(frames.length);
  });

  it('catches up on late frames, oldest first, in one tick', () => {
    const { timers, frames, clock } = rig();
    const start = timers.time;
    clock.start();
    timers.fireNext(); // frame 1 on time
    timers.fireNext(70); // frame 2 due at +40, fired at +110: frames 2..5 are due
    expect(frames.map((f) => f.index)).toEqual([1, 2, 3, 4, 5]);
    const tickNow = start + 40 + 70;
    expect(frames.slice(1).map((f) => f.now)).toEqual([tickNow, tickNow, tickNow, tickNow]);
    expect(frames.slice(1).map((f) => f.due)).toEqual([40, 60, 80, 100].map((d) => start + d));
    // The next timer aims at frame 6 (start + 120), not 20 ms after the late tick.
    expect(timers.pending).toHaveLength(1);
    expect(timers.pending[0]!.at).toBeGreaterThanOrEqual(start + 120);
    expect(timers.pending[0]!.at).toBeLessThan(start + 121);
    timers.fireNext();
    expect(frames.at(-1)).toEqual({ index: 6, due: start + 120, now: timers.time });
    expect(clock.skipped).toBe(0);
  });

  it('skips (and counts) frames beyond maxCatchUpFrames, keeping the newest', () => {
    const { timers, frames, skips, clock } = rig({ maxCatchUpFrames: 5 });
    const start = timers.time;
    clock.start();
    timers.fireNext(); // frame 1
    // Frame 2 is due at +40; fire at +40 + 300: frames 2..17 are due (16 of them).
    timers.fireNext(300);
    const run = frames.slice(1).map((f) => f.index);
    // 15 frames behind, 5 caught up: 10 skipped, frames 12..17 run.
    expect(clock.skipped).toBe(10);
    // The skip is reported once, before the frames after the gap run (a recording fills
    // the gap first, so its timeline stays in order and as long as real time).
    expect(skips).toEqual([{ count: 10, framesRunBefore: 1 }]);
    expect(run).toEqual([12, 13, 14, 15, 16, 17]);
    expect(frames.at(-1)!.due).toBe(start + 17 * 20);
    expect(clock.frames).toBe(frames.length);
    expect(clock.next).toBe(18);
    timers.fireNext();
    expect(frames.at(-1)!.index).toBe(18);
    expect(frames.at(-1)!.due).toBe(start + 18 * 20);
  });

  it('stops (no timer left) and starts a new timeline', () => {
    const { timers, frames, clock } = rig();
    clock.start();
    clock.start(); // no-op while running
    expect(timers.pending).toHaveLength(1);
    timers.fireNext();
    timers.fireNext();
    clock.stop();
    clock.stop(); // idempotent
    expect(clock.started).toBe(false);
    expect(timers.pending).toHaveLength(0);
    timers.time += 1000;
    expect(frames).toHaveLength(2);

    const restart = timers.time;
    clock.start();
    timers.fireNext();
    expect(frames).toHaveLength(3);
    expect(frames[2]).toMatchObject({ index: 1, due: restart + 20 });
  });

  it('a handler that stops the clock ends the tick, and never leaves a timer behind', () => {
    const { timers, frames, clock, setOnFrame } = rig();
    clock.start();
    timers.fireNext();
    setOnFrame((f) => {
      if (f.index === 3) clock.stop();
    });
    timers.fireNext(100); // frames 2..7 due; stops at 3
    expect(frames.map((f) => f.index)).toEqual([1, 2, 3]);
    expect(timers.pending).toHaveLength(0);
  });

  it('a handler that restarts the clock leaves exactly one timer chain', () => {
    const { timers, frames, clock, setOnFrame } = rig();
    clock.start();
    setOnFrame((f) => {
      if (f.index === 2 && frames.length === 2) {
        clock.stop();
        clock.start();
      }
    });
    timers.fireNext();
    timers.fireNext();
    expect(timers.pending).toHaveLength(1);
    for (let i = 0; i < 10; i++) timers.fireNext();
    // One chain: each firing runs exactly one frame of the new timeline.
    expect(frames.slice(2).map((f) => f.index)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(timers.pending).toHaveLength(1);
  });

  it('keeps ticking when the handler throws, and reports each error', () => {
    const { timers, frames, errors, clock, setOnFrame } = rig();
    setOnFrame((f) => {
      if (f.index % 2 === 0) throw new Error(`frame ${f.index}`);
    });
    clock.start();
    timers.fireNext();
    timers.fireNext(45); // frames 2, 3, 4 in one tick: 2 and 4 throw
    for (let i = 0; i < 3; i++) timers.fireNext();
    expect(frames.map((f) => f.index)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(errors.map((e) => (e as Error).message)).toEqual(['frame 2', 'frame 4', 'frame 6']);
    expect(clock.started).toBe(true);
    expect(timers.pending).toHaveLength(1);
  });
});
