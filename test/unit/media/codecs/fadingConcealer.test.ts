import { describe, it, expect } from '@jest/globals';
import { FadingConcealer } from '../../../../media/codecs/fadingConcealer.js';

/** What conceal() must produce: the last frame repeated from its start, shifted right. */
function expected(last: Int16Array, samples: number, shift: number): Int16Array {
  return Int16Array.from({ length: samples }, (_, i) => last[i % last.length]! >> shift);
}

describe('FadingConcealer', () => {
  const last = Int16Array.from({ length: 7 }, (_, i) => (i + 1) * 1000 * (i % 2 ? -1 : 1));

  it.each([
    [7, 'exactly one period'],
    [3, 'less than one period'],
    [20, 'whole periods and a part'],
    [21, 'whole periods only'],
  ])('repeats the last frame for %i samples (%s), 6 dB quieter each time', (samples) => {
    const concealer = new FadingConcealer(160);
    concealer.decoded(last, last.length);
    const out = new Int16Array(samples + 5).fill(12345);
    for (let repeat = 1; repeat <= 8; repeat++) {
      expect(concealer.conceal(out, samples)).toBe(samples);
      expect(out.subarray(0, samples)).toEqual(expected(last, samples, repeat));
      expect(out.subarray(samples)).toEqual(new Int16Array(5).fill(12345)); // untouched
    }
    expect(concealer.conceal(out, samples)).toBe(samples); // the ninth: silence
    expect(out.subarray(0, samples)).toEqual(new Int16Array(samples));
  });

  it('conceals with silence before anything was decoded, and restarts after a decode', () => {
    const concealer = new FadingConcealer(160);
    const out = new Int16Array(10).fill(1);
    concealer.conceal(out, 10);
    expect(out).toEqual(new Int16Array(10));
    concealer.decoded(last, 7);
    concealer.conceal(out, 10);
    concealer.decoded(last, 4); // a new frame: fading restarts from it
    concealer.conceal(out, 10);
    expect(out).toEqual(expected(last.subarray(0, 4), 10, 1));
  });

  it('keeps at most its capacity of the last frame', () => {
    const concealer = new FadingConcealer(4);
    concealer.decoded(last, 7);
    const out = new Int16Array(9);
    concealer.conceal(out, 9);
    expect(out).toEqual(expected(last.subarray(0, 4), 9, 1));
  });
});
