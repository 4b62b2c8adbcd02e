import { describe, it, expect } from '@jest/globals';
import { StatsSpread } from '../../../../media/worker/statsSpread.js';

/** Every slice `spread` hands out in `sweeps` + 1 sweeps. */
function drain<T>(spread: StatsSpread<T>, sweeps: number): T[][] {
  const slices: T[][] = [];
  for (let i = 0; i <= sweeps; i++) slices.push(spread.take());
  return slices;
}

/** `n` calls of two legs each: [[0, 1], [2, 3], …]. */
function pairs(n: number): number[][] {
  return Array.from({ length: n }, (_, i) => [2 * i, 2 * i + 1]);
}

describe('StatsSpread', () => {
  it('hands each item out once over the interval, in even slices', () => {
    const spread = new StatsSpread<number>(20); // 2000 ms stats, 100 ms sweeps
    const groups = pairs(300);
    spread.start(groups);
    const slices = drain(spread, 20);
    expect(slices.slice(0, 20).map((s) => s.length)).toEqual(Array(20).fill(30));
    expect(slices[20]).toEqual([]);
    expect(slices.flat()).toEqual(groups.flat());
  });

  it('never splits a group, and still ends within the interval', () => {
    const spread = new StatsSpread<number>(4);
    const groups = [[1, 2, 3], [4], [5, 6], [7, 8, 9], [10]];
    spread.start(groups); // 10 items: 3 a sweep
    const slices = drain(spread, 4);
    expect(slices).toEqual([[1, 2, 3], [4, 5, 6], [7, 8, 9], [10], []]);
    for (const g of groups) {
      expect(slices.filter((s) => s.some((x) => g.includes(x)))).toHaveLength(1);
    }
  });

  it('starts over with the new groups when an interval begins before the last ran dry', () => {
    const spread = new StatsSpread<string>(2);
    spread.start([['a'], ['b'], ['c'], ['d']]);
    expect(spread.take()).toEqual(['a', 'b']);
    spread.start([['x'], ['y']]);
    expect(drain(spread, 2)).toEqual([['x'], ['y'], []]);
  });

  it('reports everything in one sweep when the interval is not longer than a sweep', () => {
    for (const sweeps of [1, 0.5, 0]) {
      const spread = new StatsSpread<number>(sweeps);
      spread.start(pairs(3));
      expect(spread.take()).toEqual([0, 1, 2, 3, 4, 5]);
      expect(spread.take()).toEqual([]);
    }
  });

  it('hands out nothing before the first interval or for no groups', () => {
    const spread = new StatsSpread<number>(10);
    expect(spread.take()).toEqual([]);
    spread.start([]);
    expect(spread.take()).toEqual([]);
  });
});
