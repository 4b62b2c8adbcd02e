import { describe, it, expect } from '@jest/globals';
import {
  ToneGenerator,
  toneAmplitude,
  type ToneSpec,
} from '../../../../media/tones/toneGenerator.js';
import { levelDbfs, relativeTonePower } from '../../../helpers/goertzel.js';

const RATE = 8000;
const N = 160;
/** Ramp length at 8 kHz: 2 ms. */
const RAMP = 16;

/** Pulls frames until null (at most `max`), returning them concatenated and counted. */
function play(gen: ToneGenerator, max = 10_000): { samples: Int16Array; frames: number } {
  const chunks: number[] = [];
  let frames = 0;
  for (let f = 0; f < max; f++) {
    const frame = gen.next();
    if (!frame) break;
    frames++;
    chunks.push(...frame);
  }
  return { samples: Int16Array.from(chunks), frames };
}

const tone = (spec: ToneSpec): Int16Array => play(new ToneGenerator(spec)).samples;

/** Largest |x[n] − x[n−1]| over [start, end). */
function maxStep(s: Int16Array, start = 1, end = s.length): number {
  let max = 0;
  for (let i = Math.max(1, start); i < end; i++) max = Math.max(max, Math.abs(s[i]! - s[i - 1]!));
  return max;
}

function isSilent(s: Int16Array, start: number, end: number): boolean {
  return s.subarray(start, end).every((v) => v === 0);
}

describe('ToneGenerator', () => {
  it('lasts onMs in whole frames, then returns null', () => {
    const gen = new ToneGenerator({ frequencies: [440], onMs: 200 });
    const { frames } = play(gen);
    expect(frames).toBe(10);
    expect(gen.done).toBe(true);
    expect(gen.next()).toBeNull();
  });

  it('pads the last frame when the cadence does not fill it', () => {
    const gen = new ToneGenerator({ frequencies: [440], onMs: 30 });
    const { samples, frames } = play(gen);
    expect(frames).toBe(2);
    expect(samples.length).toBe(320);
    expect(isSilent(samples, 200, 240)).toBe(false);
    expect(isSilent(samples, 240, 320)).toBe(true);
  });

  it('plays the frequency it is asked for (Goertzel)', () => {
    const s = tone({ frequencies: [440], onMs: 500 });
    const block = { start: 800, length: 800 }; // 100 ms in the steady part
    expect(relativeTonePower(s, RATE, 440, block.start, block.length)).toBeGreaterThan(0.95);
    expect(relativeTonePower(s, RATE, 340, block.start, block.length)).toBeLessThan(0.01);
    expect(relativeTonePower(s, RATE, 540, block.start, block.length)).toBeLessThan(0.01);
  });

  it('sums two frequencies at equal level (North American dial tone 350 + 440 Hz)', () => {
    const s = tone({ frequencies: [350, 440], onMs: 500 });
    for (const f of [350, 440]) {
      const p = relativeTonePower(s, RATE, f, 800, 1600);
      expect(p).toBeGreaterThan(0.45);
      expect(p).toBeLessThan(0.55);
    }
    expect(relativeTonePower(s, RATE, 1000, 800, 1600)).toBeLessThan(0.01);
  });

  it.each([-30, -13, -3, 0, 3])('plays one tone at %d dBm0 within 0.5 dB', (level) => {
    // a 0 dBm0 sine peaks 3.17 dB below full scale: its RMS is 3.17 + 3.01 dB below
    const single = tone({ frequencies: [1000], levelDbm0: level, onMs: 200 });
    expect(Math.abs(levelDbfs(single, 400, 800) - (level - 6.18))).toBeLessThan(0.5);
  });

  it.each([-30, -13, -3])('plays two tones at %d dBm0 each within 0.5 dB (+3 dB)', (level) => {
    const pair = tone({ frequencies: [480, 620], levelDbm0: level, onMs: 200 });
    expect(Math.abs(levelDbfs(pair, 400, 800) - (level - 6.18 + 3.01))).toBeLessThan(0.5);
  });

  it('defaults to −13 dBm0 (peak ≈ 5093)', () => {
    const s = tone({ frequencies: [1000], onMs: 100 });
    expect(Math.round(toneAmplitude(-13))).toBe(5093);
    expect(Math.max(...s)).toBeGreaterThanOrEqual(5090);
    expect(Math.max(...s)).toBeLessThanOrEqual(5093);
  });

  it('plays the cadence: repeat × (on, off), the last silence included', () => {
    // UK busy: 400 Hz, 375 ms on, 375 ms off → 3000 + 3000 samples per cycle
    const gen = new ToneGenerator({ frequencies: [400], onMs: 375, offMs: 375, repeat: 2 });
    const { samples, frames } = play(gen);
    expect(frames).toBe(Math.ceil((2 * 6000) / N));
    for (const start of [0, 6000]) {
      expect(relativeTonePower(samples, RATE, 400, start + 100, 2800)).toBeGreaterThan(0.95);
      expect(isSilent(samples, start + 3000, start + 6000)).toBe(true);
      expect(Math.abs(samples[start + 2999]!)).toBeLessThan(0.01 * toneAmplitude(-13));
      expect(Math.abs(samples[start + 2999 - RAMP]!)).toBeGreaterThan(0);
    }
    expect(gen.done).toBe(true);
  });

  it('joins repeats into one burst when offMs is 0 (no dip between them)', () => {
    const joined = tone({ frequencies: [440], onMs: 100, repeat: 3 });
    const single = tone({ frequencies: [440], onMs: 300 });
    expect(joined).toEqual(single);
  });

  it('is phase-continuous across frames', () => {
    const s = tone({ frequencies: [697, 1209], levelDbm0: -10, onMs: 200 });
    const a = toneAmplitude(-10);
    for (let n = RAMP; n < s.length - RAMP; n++) {
      const expected =
        a * Math.sin((2 * Math.PI * 697 * n) / RATE) +
        a * Math.sin((2 * Math.PI * 1209 * n) / RATE);
      expect(Math.abs(s[n]! - expected)).toBeLessThanOrEqual(1);
    }
  });

  it('ramps every edge: no click when a burst starts or stops', () => {
    const s = tone({ frequencies: [1000], levelDbm0: 0, onMs: 105, offMs: 95, repeat: 3 });
    const a = toneAmplitude(0);
    const steady = 2 * a * Math.sin((Math.PI * 1000) / RATE); // a sine's largest step
    const on = 840;
    const cycle = 840 + 760;
    for (let c = 0; c < 3; c++) {
      const start = c * cycle;
      const end = start + on;
      // first and last samples of the burst are near zero: no step to or from silence
      expect(Math.abs(s[start]!)).toBeLessThan(0.01 * a);
      expect(Math.abs(s[end - 1]!)).toBeLessThan(0.01 * a);
      // the gain ramps smoothly: no step larger than the sine's own
      expect(maxStep(s, start - 2, start + 2 * RAMP)).toBeLessThanOrEqual(steady * 1.05);
      expect(maxStep(s, end - 2 * RAMP, end + 2)).toBeLessThanOrEqual(steady * 1.05);
      // the ramp takes about 2 ms: full level shortly after it
      expect(Math.max(...s.subarray(start + RAMP, start + RAMP + 8).map(Math.abs))).toBeGreaterThan(
        0.9 * a,
      );
    }
    // an unramped start at a non-zero phase (what the ramp prevents) would step by up to a
    expect(steady).toBeLessThan(0.8 * a);
  });

  it('clamps a sum above full scale instead of wrapping', () => {
    const s = tone({ frequencies: [400, 600], levelDbm0: 3, onMs: 100 });
    expect(Math.max(...s)).toBe(32767);
    expect(Math.min(...s)).toBe(-32768);
    expect(maxStep(s)).toBeLessThan(32768); // a wrap would jump across the range
  });

  it('reuses one frame buffer and replays identically after reset', () => {
    const gen = new ToneGenerator({ frequencies: [440], onMs: 60, offMs: 40, repeat: 2 });
    const first = gen.next();
    expect(gen.next()).toBe(first);
    gen.reset();
    const a = play(gen).samples;
    expect(gen.done).toBe(true);
    gen.reset();
    expect(gen.done).toBe(false);
    expect(play(gen).samples).toEqual(a);
    expect(a.length).toBe(10 * N);
  });

  it('repeats until stopped with repeat Infinity or 0', () => {
    for (const repeat of [Infinity, 0]) {
      const gen = new ToneGenerator({ frequencies: [425], onMs: 1000, offMs: 4000, repeat });
      const { frames } = play(gen, 2000); // 40 s
      expect(frames).toBe(2000);
      expect(gen.done).toBe(false);
    }
    const continuous = new ToneGenerator({ frequencies: [425], onMs: 20, repeat: 0 });
    const { samples } = play(continuous, 500);
    expect(relativeTonePower(samples, RATE, 425, 70_000, 800)).toBeGreaterThan(0.95);
  });

  it('honours the sample rate and frame size', () => {
    const gen = new ToneGenerator({ frequencies: [1000], onMs: 100 }, 16000, 320);
    const { samples, frames } = play(gen);
    expect(frames).toBe(5);
    expect(relativeTonePower(samples, 16000, 1000, 320, 960)).toBeGreaterThan(0.95);
  });

  it('carries a playing tone over to another rate at the same point of its cadence', () => {
    const spec: ToneSpec = { frequencies: [1000], onMs: 60, offMs: 40, repeat: 2 };
    const narrow = new ToneGenerator(spec);
    narrow.next(); // 20 ms in
    const wide = narrow.atRate(16000);
    expect(wide.sampleRate).toBe(16000);
    expect(wide.frameSamples).toBe(320);
    // 20 ms more of tone at 16 kHz equals the reference generator's frame 1 at 16 kHz.
    const reference = new ToneGenerator(spec, 16000, 320);
    reference.next();
    const expected = Array.from(reference.next()!);
    const got = Array.from(wide.next()!);
    for (let i = 0; i < got.length; i++)
      expect(Math.abs(got[i]! - expected[i]!)).toBeLessThanOrEqual(1);
    // and the rest of the cadence (10 frames in all: 2 × (3 of tone + 2 of pause)).
    expect(play(wide).frames).toBe(10 - 2);
    expect(() => new ToneGenerator({ frequencies: [6000], onMs: 20 }, 16000).atRate(8000)).toThrow(
      RangeError,
    );
  });

  it.each<[string, ToneSpec]>([
    ['no frequency', { frequencies: [], onMs: 100 }],
    ['three frequencies', { frequencies: [1, 2, 3], onMs: 100 }],
    ['a frequency at Nyquist', { frequencies: [4000], onMs: 100 }],
    ['a negative frequency', { frequencies: [-440], onMs: 100 }],
    ['no duration', { frequencies: [440], onMs: 0 }],
    ['a negative pause', { frequencies: [440], onMs: 100, offMs: -1 }],
    ['a fractional repeat', { frequencies: [440], onMs: 100, repeat: 1.5 }],
    ['a NaN level', { frequencies: [440], onMs: 100, levelDbm0: NaN }],
  ])('refuses %s', (_name, spec) => {
    expect(() => new ToneGenerator(spec)).toThrow(RangeError);
  });
});
