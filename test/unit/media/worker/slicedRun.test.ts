import { describe, expect, it } from '@jest/globals';
import { SlicedRun } from '../../../../media/worker/slicedRun.js';
import type { SliceHost } from '../../../../media/worker/slicedRun.js';

/** A fake clock and a queue of deferred turns, run by hand. */
function fakeHost(): SliceHost & { time: number; turns: (() => void)[]; turn(): void } {
  const host = {
    time: 0,
    turns: [] as (() => void)[],
    now: () => host.time,
    defer: (run: () => void) => {
      host.turns.push(run);
      return run;
    },
    cancel: (handle: unknown) => {
      host.turns = host.turns.filter((t) => t !== handle);
    },
    turn: () => host.turns.shift()!(),
  };
  return host;
}

describe('SlicedRun', () => {
  it('runs every item in one turn when they fit the budget', () => {
    const host = fakeHost();
    const ran: number[] = [];
    const run = new SlicedRun<number>(host, 1, (item) => {
      ran.push(item);
      host.time += 0.1;
    });
    for (let i = 0; i < 5; i++) run.push(i);
    run.start(0);
    expect(ran).toEqual([0, 1, 2, 3, 4]);
    expect(host.turns).toHaveLength(0);
    expect(run.pending).toBe(0);
  });

  it('yields a turn once a slice has spent its budget, and goes on in order', () => {
    const host = fakeHost();
    const ran: [number, number][] = [];
    const run = new SlicedRun<number>(host, 1, (item, nowMs) => {
      ran.push([item, nowMs]);
      host.time += 0.4; // each item costs 0.4 ms: three fit a 1 ms slice (the third ends it)
    });
    for (let i = 0; i < 8; i++) run.push(i);
    run.start(0);
    expect(ran.map(([i]) => i)).toEqual([0, 1, 2]);
    expect(run.pending).toBe(5);
    expect(host.turns).toHaveLength(1);
    host.time += 2; // the packet path ran in between
    host.turn();
    expect(ran.map(([i]) => i)).toEqual([0, 1, 2, 3, 4, 5]);
    host.turn();
    expect(ran.map(([i]) => i)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(host.turns).toHaveLength(0);
    expect(run.slices).toBe(3);
    // Each item is told the time it ran at: the slice's start, then after the one before.
    expect(ran[0]![1]).toBe(0);
    expect(ran[1]![1]).toBeCloseTo(0.4);
    expect(ran[3]![1]).toBeCloseTo(3.2);
  });

  it('finish runs what is still queued at once, before newer work, and drops the turn', () => {
    const host = fakeHost();
    const ran: string[] = [];
    const run = new SlicedRun<string>(host, 1, (item) => {
      ran.push(item);
      host.time += 0.6;
    });
    for (const r of ['a1', 'b1', 'c1', 'd1']) run.push(r);
    run.start(0);
    expect(ran).toEqual(['a1', 'b1']);
    // The next frame arrives before the slices ended: the rest of frame 1 runs first.
    run.finish();
    expect(ran).toEqual(['a1', 'b1', 'c1', 'd1']);
    expect(host.turns).toHaveLength(0);
    for (const r of ['a2', 'b2']) run.push(r);
    run.start(host.time);
    expect(ran).toEqual(['a1', 'b1', 'c1', 'd1', 'a2', 'b2']);
  });

  it('start while a slice is due leaves the order to that slice', () => {
    const host = fakeHost();
    const ran: number[] = [];
    const run = new SlicedRun<number>(host, 1, (item) => {
      ran.push(item);
      host.time += 1;
    });
    run.push(1);
    run.push(2);
    run.start(0);
    expect(ran).toEqual([1]);
    run.push(3);
    run.start(host.time); // no second chain of turns
    expect(ran).toEqual([1]);
    expect(host.turns).toHaveLength(1);
    host.turn();
    host.turn();
    expect(ran).toEqual([1, 2, 3]);
    expect(host.turns).toHaveLength(0);
  });

  it('an infinite budget runs everything in one turn', () => {
    const host = fakeHost();
    let n = 0;
    const run = new SlicedRun<number>(host, Infinity, () => {
      n++;
      host.time += 5;
    });
    for (let i = 0; i < 100; i++) run.push(i);
    run.start(0);
    expect(n).toBe(100);
    expect(host.turns).toHaveLength(0);
  });

  it('close cancels the due turn and drops the queue', () => {
    const host = fakeHost();
    const ran: number[] = [];
    const run = new SlicedRun<number>(host, 1, (item) => {
      ran.push(item);
      host.time += 2;
    });
    run.push(1);
    run.push(2);
    run.start(0);
    run.close();
    expect(host.turns).toHaveLength(0);
    run.push(3);
    run.start(host.time);
    run.finish();
    expect(ran).toEqual([1]);
  });
});
