import { describe, it, expect } from '@jest/globals';
import { mixFrame, planMix } from '../../../../media/mixer/mixFrame.js';
import { routeMatrix, toIndices } from '../../../../src/monitoring/routeMatrix.js';
import type { Participant } from '../../../../src/monitoring/routeMatrix.js';

const frame = (...samples: number[]): Int16Array => Int16Array.from(samples);

/** The reference: sum in plain numbers, clamp. */
function naive(frames: (Int16Array | null)[], sources: number[], n: number): number[] {
  return Array.from({ length: n }, (_, i) => {
    const sum = sources.reduce((acc, s) => acc + (frames[s]?.[i] ?? 0), 0);
    return Math.max(-32768, Math.min(32767, sum));
  });
}

/** A frame whose sample reads are counted (a Proxy reads like an Int16Array). */
function counted(samples: Int16Array, reads: { count: number }): Int16Array {
  return new Proxy(samples, {
    get(target, key) {
      if (typeof key === 'string' && /^\d+$/.test(key)) reads.count++;
      const value = Reflect.get(target, key, target) as unknown;
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

describe('planMix', () => {
  it('flags silent, relay and mixed listeners, and shares identical sets', () => {
    const plan = planMix([[], [2], [0, 1], [1, 0, 1], [0, 2]], 3, 4);
    expect([...plan.relaySource]).toEqual([-1, 2, -1, -1, -1]);
    expect([...plan.mixSet]).toEqual([-1, -1, 0, 0, 1]);
    expect(plan.outputs).toHaveLength(2);
  });

  it('goes direct for small subsets and through the total for mix-minus', () => {
    // 3-party barge: sets of 2 out of 3 → Σk = 6 vs 3 + 3·1 = 6: a tie goes direct.
    const barge = planMix(
      [
        [1, 2],
        [0, 2],
        [0, 1],
      ],
      3,
      4,
    );
    expect(barge.usesTotal).toBe(false);
    // 5 people, each hears the other 4: Σk = 20 vs 5 + 5·1 = 10.
    const everyone = [0, 1, 2, 3, 4];
    const minus = planMix(
      everyone.map((me) => everyone.filter((s) => s !== me)),
      5,
      4,
    );
    expect(minus.usesTotal).toBe(true);
    expect(minus.fromTotal).toEqual([true, true, true, true, true]);
    expect(minus.terms.map((t) => [...t])).toEqual([[0], [1], [2], [3], [4]]);
  });

  it('a plan with nothing to mix holds no frame buffers, and mixes nothing', () => {
    const plan = planMix([[1], [0], []], 2);
    expect([...plan.relaySource]).toEqual([1, 0, -1]);
    expect(plan.outputs).toEqual([]);
    expect([plan.total.length, plan.accumulator.length, plan.weighted.length]).toEqual([0, 0, 0]);
    expect(mixFrame(plan, [new Int16Array(160), null])).toBe(0);
    expect(planMix([], 0).accumulator.length).toBe(0);
  });

  it('rejects sources outside the room', () => {
    expect(() => planMix([[0, 3]], 3)).toThrow(RangeError);
    expect(() => planMix([[-1, 0]], 3)).toThrow(RangeError);
  });
});

describe('mixFrame', () => {
  it('sums small synthetic frames exactly', () => {
    const frames = [frame(1, 2, 3, -4), frame(10, -20, 30, 40), frame(100, 200, -300, 400)];
    const hears = [
      [1, 2],
      [0, 2],
      [0, 1],
      [0, 1, 2],
    ];
    const plan = planMix(hears, 3, 4);
    expect(mixFrame(plan, frames)).toBe(4);
    hears.forEach((sources, l) => {
      expect([...plan.outputs[plan.mixSet[l]!]!]).toEqual(naive(frames, sources, 4));
    });
    expect([...plan.outputs[plan.mixSet[0]!]!]).toEqual([110, 180, -270, 440]);
  });

  it('clamps to int16 instead of wrapping', () => {
    const frames = [frame(30000, -30000, 32767, -32768), frame(30000, -30000, 1, -1)];
    const plan = planMix([[0, 1]], 2, 4);
    mixFrame(plan, frames);
    expect([...plan.outputs[0]!]).toEqual([32767, -32768, 32767, -32768]);
  });

  it('mix-minus: total minus own frame equals the direct sum, clamped after subtracting', () => {
    const frames = [
      frame(30000, 1, -5, 32767),
      frame(30000, 2, -5, 32767),
      frame(-30000, 3, -5, 32767),
      frame(-30000, 4, -5, 32767),
      frame(1000, 5, -5, -32768),
    ];
    const everyone = [0, 1, 2, 3, 4];
    const hears = everyone.map((me) => everyone.filter((s) => s !== me));
    const plan = planMix(hears, 5, 4);
    expect(plan.usesTotal).toBe(true);
    mixFrame(plan, frames);
    hears.forEach((sources, l) => {
      expect([...plan.outputs[plan.mixSet[l]!]!]).toEqual(naive(frames, sources, 4));
    });
    // Listener 0: 30000 − 60000 + 1000 = −29000, although the total is only 1000.
    expect(plan.outputs[0]![0]).toBe(-29000);
  });

  it('treats absent sources as silence and counts the audible ones', () => {
    const everyone = [0, 1, 2, 3];
    const hears = [...everyone.map((me) => everyone.filter((s) => s !== me)), [0, 1]];
    const plan = planMix(hears, 4, 2);
    const frames = [frame(1, 1), null, frame(100, 100), null];
    mixFrame(plan, frames);
    hears.forEach((sources, l) => {
      const set = plan.mixSet[l]!;
      expect([...plan.outputs[set]!]).toEqual(naive(frames, sources, 2));
      expect(plan.audible[set]).toBe(sources.filter((s) => frames[s]).length);
    });
  });

  it('direct sets with gaps: nothing, one, a pair, or first + middle + last present', () => {
    const hears = [
      [0, 1, 2, 3],
      [1, 3],
      [0, 1],
      [0, 1, 2],
    ];
    const plan = planMix(hears, 6, 2); // 6 sources: going through the total would cost more
    expect(plan.usesTotal).toBe(false);
    plan.outputs.forEach((o) => o.fill(123)); // stale values must be overwritten
    const frames = [frame(1, -1), null, frame(300, 20000), frame(5000, 20000), null, null];
    mixFrame(plan, frames);
    hears.forEach((sources, l) => {
      expect([...plan.outputs[plan.mixSet[l]!]!]).toEqual(naive(frames, sources, 2));
    });
    expect([...plan.audible]).toEqual([3, 1, 1, 2]);
    expect([...plan.outputs[1]!]).toEqual([5000, 20000]);
    expect([...plan.outputs[0]!]).toEqual([5301, 32767]);
    mixFrame(plan, [null, null, null, null, null, null]);
    expect(plan.outputs.every((o) => o.every((v) => v === 0))).toBe(true);
  });

  it('computes a shared set once, reading each source once per distinct set', () => {
    // Whisper with two listening supervisors: the two supervisors hear the same set.
    const participants: Participant[] = [
      { id: 'C', role: 'customer' },
      { id: 'A', role: 'agent' },
      { id: 'W', role: 'supervisor', mode: 'whisper' },
      { id: 'L1', role: 'supervisor', mode: 'listen' },
      { id: 'L2', role: 'supervisor', mode: 'listen' },
    ];
    const order = participants.map((p) => p.id);
    const m = routeMatrix(participants);
    const hears = [
      ...order.map((id) => toIndices(m.hears.get(id)!, order)),
      toIndices(m.recording.customer, order),
      toIndices(m.recording.agent, order),
    ];
    const plan = planMix(hears, order.length, 160);
    // C: relay A; A: {C,W}; W: {C,A}; L1, L2: {C,A,W}; recording tracks: relay C, relay A.
    expect([...plan.relaySource]).toEqual([1, -1, -1, -1, -1, 0, 1]);
    expect([...plan.mixSet]).toEqual([-1, 0, 1, 2, 2, -1, -1]);
    const reads = order.map(() => ({ count: 0 }));
    const frames = order.map((_, s) =>
      counted(
        Int16Array.from({ length: 160 }, (_, i) => (s + 1) * 10 + i),
        reads[s]!,
      ),
    );
    expect(mixFrame(plan, frames)).toBe(3);
    expect(plan.outputs[plan.mixSet[3]!]).toBe(plan.outputs[plan.mixSet[4]!]);
    // Sets {C,W}, {C,A}, {C,A,W}: C is read by 3 sets, A by 2, W by 2, nobody reads L1, L2.
    expect(reads.map((r) => r.count / 160)).toEqual([3, 2, 2, 0, 0]);
    expect([...plan.outputs[plan.mixSet[3]!]!]).toEqual(naive(frames, [0, 1, 2], 160));
  });

  it('an unmonitored call mixes nothing', () => {
    const plan = planMix([[1], [0]], 2);
    expect(plan.outputs).toHaveLength(0);
    expect(mixFrame(plan, [new Int16Array(160), new Int16Array(160)])).toBe(0);
  });

  it('rejects a frame shorter than the plan', () => {
    const plan = planMix([[0, 1]], 2, 160);
    expect(() => mixFrame(plan, [new Int16Array(80), null])).toThrow(RangeError);
  });
});

describe('gains', () => {
  it('a single source at gain 1 is a relay; at any other gain it is a mixed set', () => {
    const plan = planMix([[1], [0], [0], [0, 1]], 2, 4, [[1], [0.5], [2], [1, 0.25]]);
    expect([...plan.relaySource]).toEqual([1, -1, -1, -1]);
    expect([...plan.mixSet]).toEqual([-1, 0, 1, 2]);
    expect(plan.gains.map((g) => (g === null ? null : [...g]))).toEqual([[0.5], [2], [1, 0.25]]);
  });

  it('unity gains plan exactly as without gains (no weighted sets, same sharing)', () => {
    const hears = [
      [1, 2],
      [0, 2],
      [0, 1],
      [0, 1],
    ];
    const unity = planMix(hears, 3, 4, [[1, 1], [1, 1], [1, 1], undefined]);
    const plain = planMix(hears, 3, 4);
    expect(unity.gains).toEqual([null, null, null]);
    expect([...unity.mixSet]).toEqual([...plain.mixSet]);
    expect(unity.fromTotal).toEqual(plain.fromTotal);
  });

  it('sets that differ only by a gain are distinct; equal gains share one set', () => {
    const plan = planMix(
      [
        [0, 1],
        [0, 1],
        [1, 0],
        [0, 1],
      ],
      2,
      4,
      [
        [1, 1],
        [1, 0.5],
        [1, 0.5],
        [1, 0.5],
      ],
    );
    // Listener 2 hears 1 at 1 and 0 at 0.5: not listener 1's set (0 at 1, 1 at 0.5).
    expect([...plan.mixSet]).toEqual([0, 1, 2, 1]);
    // The same gains listed in another order are the same set.
    const same = planMix(
      [
        [0, 1],
        [1, 0],
      ],
      2,
      4,
      [
        [1, 0.5],
        [0.5, 1],
      ],
    );
    expect([...same.mixSet]).toEqual([0, 0]);
  });

  it('mixes Σ gain × sample, rounded to nearest (halves up) and clamped to int16', () => {
    const plan = planMix([[0, 1], [0], [0, 1], [0, 1]], 2, 4, [
      [0.5, 1],
      [0.5],
      [4, 4],
      [0.25, 0.25],
    ]);
    const a = frame(3, -3, 1000, 32767);
    const b = frame(1, -1, -2000, 32767);
    expect(mixFrame(plan, [a, b])).toBe(4);
    const out = (l: number): number[] => [...plan.outputs[plan.mixSet[l]!]!];
    // 1.5 + 1 = 2.5 → 3; -1.5 - 1 = -2.5 → -2 (Math.round); 500 - 2000; 16383.5 + 32767 clamps.
    expect(out(0)).toEqual([3, -2, -1500, 32767]);
    // One source at 0.5: 1.5 → 2, -1.5 → -1, 500, 16383.5 → 16384.
    expect(out(1)).toEqual([2, -1, 500, 16384]);
    // ×4: 16, -16, -4000, and 262136 saturates.
    expect(out(2)).toEqual([16, -16, -4000, 32767]);
    // ×0.25: 1, -1, -250, 16383.5 → 16384.
    expect(out(3)).toEqual([1, -1, -250, 16384]);
    expect([...plan.audible]).toEqual([2, 1, 2, 2]);
    // Clamps at the negative end too, and an absent source adds nothing.
    const low = planMix([[0, 1]], 2, 2, [[2, 1]]);
    mixFrame(low, [frame(-20000, 7), null]);
    expect([...low.outputs[0]!]).toEqual([-32768, 14]);
    expect([...low.audible]).toEqual([1]);
    mixFrame(low, [null, null]);
    expect([...low.outputs[0]!]).toEqual([0, 0]);
    expect([...low.audible]).toEqual([0]);
  });

  it('weighted sets are direct even where the plan uses the total', () => {
    // Mix-minus of four, plus one weighted listener hearing three of them.
    const hears = [
      [1, 2, 3],
      [0, 2, 3],
      [0, 1, 3],
      [0, 1, 2],
      [0, 1, 2],
    ];
    const plan = planMix(hears, 4, 4, [undefined, undefined, undefined, undefined, [1, 1, 0.5]]);
    expect(plan.usesTotal).toBe(true);
    expect(plan.fromTotal).toEqual([true, true, true, true, false]);
    const frames = [
      frame(1, 2, 3, 4),
      frame(10, 20, 30, 40),
      frame(100, 200, 300, 400),
      frame(7, 7, 7, 7),
    ];
    mixFrame(plan, frames);
    expect([...plan.outputs[plan.mixSet[4]!]!]).toEqual([61, 122, 183, 244]);
    expect([...plan.outputs[plan.mixSet[3]!]!]).toEqual(naive(frames, [0, 1, 2], 4));
  });

  it('rejects a gain that is not a finite number above 0', () => {
    for (const gain of [0, -1, NaN, Infinity]) {
      expect(() => planMix([[0, 1]], 2, 4, [[1, gain]])).toThrow(RangeError);
    }
  });
});
