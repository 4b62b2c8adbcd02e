/**
 * A prompt as a frame source (media/tones/promptSource.ts): once or looped, zero-padded at
 * its end, converted to the room's rate with the mixer's resampler, carried over a rate
 * change at the same point of the file.
 */
import { describe, expect, it } from '@jest/globals';
import { PromptSource } from '../../../../media/tones/promptSource.js';
import { levelDbfs, relativeTonePower, synthTone } from '../../../helpers/goertzel.js';

/** Pulls every frame until the source is done (at most `max`), concatenated. */
function drain(source: PromptSource, max = 10_000): Int16Array {
  const frames: Int16Array[] = [];
  for (let i = 0; i < max; i++) {
    const f = source.next();
    if (f === null) break;
    frames.push(Int16Array.from(f));
  }
  const out = new Int16Array(frames.reduce((n, f) => n + f.length, 0));
  let at = 0;
  for (const f of frames) {
    out.set(f, at);
    at += f.length;
  }
  return out;
}

const ramp = (n: number) => Int16Array.from({ length: n }, (_, i) => i + 1);

describe('PromptSource', () => {
  it('plays once: whole frames, the last zero-padded, then null for good', () => {
    const source = new PromptSource({ sampleRate: 8000, samples: ramp(400) }, false, 8000, 160);
    const out = drain(source);
    expect(out.length).toBe(480); // 400 samples → 3 frames of 160
    expect([...out.subarray(0, 400)]).toEqual([...ramp(400)]);
    expect(out.subarray(400).every((v) => v === 0)).toBe(true);
    expect(source.done).toBe(true);
    expect(source.next()).toBeNull();
  });

  it('a prompt of exactly whole frames ends with its last frame', () => {
    const source = new PromptSource({ sampleRate: 8000, samples: ramp(320) }, false);
    expect(source.next()).not.toBeNull();
    expect(source.done).toBe(false);
    expect(source.next()).not.toBeNull();
    expect(source.done).toBe(true);
    expect(source.next()).toBeNull();
  });

  it('loops from the start without a gap, and never ends by itself', () => {
    const source = new PromptSource({ sampleRate: 8000, samples: ramp(100) }, true, 8000, 160);
    const out = drain(source, 5);
    expect(out.length).toBe(800);
    for (let i = 0; i < out.length; i++) expect(out[i]).toBe((i % 100) + 1);
    expect(source.done).toBe(false);
  });

  it('an 8 kHz prompt in a 16 kHz room: the same second at twice the rate, the same tone', () => {
    const tone = synthTone(8000, 1, [{ freq: 1000, amplitude: 0.3 }]);
    const out = drain(new PromptSource({ sampleRate: 8000, samples: tone }, false, 16000, 320));
    expect(out.length).toBe(16000);
    expect(relativeTonePower(out, 16000, 1000, 1600, 3200)).toBeGreaterThan(0.95);
    // No image of the tone at 8000 − 1000 Hz (what upsampling without a filter leaves).
    expect(relativeTonePower(out, 16000, 7000, 1600, 3200)).toBeLessThan(0.001);
    expect(Math.abs(levelDbfs(out, 1600, 3200) - levelDbfs(tone, 800, 1600))).toBeLessThan(0.2);
  });

  it('a 16 kHz prompt in an 8 kHz room: low-passed before decimation (6 kHz does not alias)', () => {
    const tone = synthTone(16000, 1, [
      { freq: 1000, amplitude: 0.3 },
      { freq: 6000, amplitude: 0.3 },
    ]);
    const out = drain(new PromptSource({ sampleRate: 16000, samples: tone }, false, 8000, 160));
    expect(out.length).toBe(8000);
    expect(relativeTonePower(out, 8000, 1000, 800, 1600)).toBeGreaterThan(0.99);
    // 6 kHz would alias to 2 kHz at 8 kHz.
    expect(relativeTonePower(out, 8000, 2000, 800, 1600)).toBeLessThan(0.0001);
  });

  it('atRate carries a playing prompt over to the new rate from the same point', () => {
    const source = new PromptSource({ sampleRate: 8000, samples: ramp(1600) }, false, 8000, 160);
    source.next();
    source.next();
    expect(source.positionSec).toBeCloseTo(0.04);
    const wide = source.atRate(16000, 320);
    expect(wide.positionSec).toBeCloseTo(0.04);
    expect(drain(wide).length).toBe(((1600 - 320) / 160) * 320);
  });

  it('refuses an empty prompt or a rate the converters cannot reach', () => {
    expect(() => new PromptSource({ sampleRate: 8000, samples: new Int16Array(0) }, false)).toThrow(
      RangeError,
    );
    expect(
      () => new PromptSource({ sampleRate: 8000, samples: ramp(10) }, false, 48000, 960),
    ).toThrow(/cannot play a 8000 Hz prompt at 48000 Hz/);
  });
});
