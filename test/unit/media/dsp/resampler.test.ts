import { describe, it, expect } from '@jest/globals';
import {
  Downsampler2x,
  HALF_BAND_TAPS,
  RESAMPLER_DELAY_16K,
  Upsampler2x,
  halfBandTaps,
} from '../../../../media/dsp/resampler.js';

const sine = (hz: number, rate: number, n: number, amplitude = 12000): Int16Array =>
  Int16Array.from({ length: n }, (_, i) =>
    Math.round(amplitude * Math.sin((2 * Math.PI * hz * i) / rate)),
  );

const rms = (x: ArrayLike<number>, from = 0, to = x.length): number => {
  let s = 0;
  for (let i = from; i < to; i++) s += x[i]! * x[i]!;
  return Math.sqrt(s / (to - from));
};

/** |H(f)| of the filter at `hz` (16 kHz rate). */
const response = (hz: number): number => {
  const h = halfBandTaps();
  let re = 0;
  let im = 0;
  for (let k = 0; k < h.length; k++) {
    re += h[k]! * Math.cos((2 * Math.PI * hz * k) / 16000);
    im -= h[k]! * Math.sin((2 * Math.PI * hz * k) / 16000);
  }
  return Math.hypot(re, im);
};

const dB = (x: number): number => 20 * Math.log10(x);

/** 8 → 16 → 8 in frames of `frame` samples (8 kHz). */
function roundTrip(x: Int16Array, frame: number): Int16Array {
  const up = new Upsampler2x();
  const down = new Downsampler2x();
  const wide = new Int16Array(2 * frame);
  const out = new Int16Array(x.length);
  const chunk = new Int16Array(frame);
  let written = 0;
  for (let i = 0; i < x.length; i += frame) {
    const n = Math.min(frame, x.length - i);
    chunk.set(x.subarray(i, i + n));
    const w = up.process(chunk, n, wide);
    written += down.process(wide, w, out.subarray(written));
  }
  return out;
}

describe('half-band filter', () => {
  it('is a half-band filter: centre 0.5, zeros at even distances, unity DC gain', () => {
    const h = halfBandTaps();
    expect(h.length).toBe(HALF_BAND_TAPS);
    const c = (HALF_BAND_TAPS - 1) / 2;
    expect(h[c]).toBe(0.5);
    for (let m = 2; m <= c; m += 2) {
      expect(h[c + m]).toBe(0);
      expect(h[c - m]).toBe(0);
    }
    expect(h.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
  });

  it('passes 0–3.4 kHz within ±0.01 dB and stops ≥ 70 dB from 4.6 kHz', () => {
    for (let f = 0; f <= 3400; f += 50) expect(Math.abs(dB(response(f)))).toBeLessThan(0.01);
    expect(dB(response(4000))).toBeCloseTo(-6.02, 1);
    for (let f = 4600; f <= 8000; f += 25) expect(dB(response(f))).toBeLessThan(-70);
  });
});

describe('Upsampler2x / Downsampler2x', () => {
  it.each([300, 440, 1000, 1800, 2500, 3400])(
    'a %i Hz tone keeps ≥ 40 dB SNR through 8 → 16 → 8 kHz (after the delay)',
    (hz) => {
      const n = 8000;
      const x = sine(hz, 8000, n);
      const y = roundTrip(x, 160);
      const d = RESAMPLER_DELAY_16K; // samples at 8 kHz through both converters
      let signal = 0;
      let noise = 0;
      for (let i = d + 200; i < n; i++) {
        signal += x[i - d]! ** 2;
        noise += (y[i]! - x[i - d]!) ** 2;
      }
      const snr = 10 * Math.log10(signal / noise);
      expect(snr).toBeGreaterThanOrEqual(40);
    },
  );

  it('upsampling puts a tone at 16 kHz at its level and frequency, with no image above 4 kHz', () => {
    const x = sine(1000, 8000, 1600);
    const up = new Upsampler2x(1600);
    const y = new Int16Array(3200);
    up.process(x, 1600, y);
    const skip = 200;
    expect(rms(y, skip) / rms(x, skip / 2)).toBeCloseTo(1, 2);
    // The image of 1 kHz at 7 kHz: correlate against it.
    let re = 0;
    let im = 0;
    for (let i = skip; i < 3200; i++) {
      re += y[i]! * Math.cos((2 * Math.PI * 7000 * i) / 16000);
      im += y[i]! * Math.sin((2 * Math.PI * 7000 * i) / 16000);
    }
    const imageAmplitude = (2 * Math.hypot(re, im)) / (3200 - skip);
    expect(dB(imageAmplitude / 12000)).toBeLessThan(-50);
  });

  it('a 6 kHz tone at 16 kHz is ≥ 40 dB down at 8 kHz (no alias at 2 kHz)', () => {
    const x = sine(6000, 16000, 3200);
    const down = new Downsampler2x();
    const y = new Int16Array(1600);
    let written = 0;
    for (let i = 0; i < 3200; i += 320)
      written += down.process(x.subarray(i, i + 320), 320, y.subarray(written));
    expect(written).toBe(1600);
    const skip = 100;
    expect(dB(rms(y, skip) / rms(x))).toBeLessThan(-40);
    // and a 1 kHz tone next to it passes at its level
    const mixed = Int16Array.from(
      x,
      (v, i) => v + Math.round(8000 * Math.sin((2 * Math.PI * 1000 * i) / 16000)),
    );
    const z = new Int16Array(1600);
    new Downsampler2x(3200).process(mixed, 3200, z);
    expect(rms(z, skip) / (8000 / Math.SQRT2)).toBeCloseTo(1, 1);
  });

  it.each([[[160]], [[1, 2, 3, 80, 7, 160, 33]], [[320, 11, 5]]])(
    'frames in sequence give exactly the one-shot result (frame sizes %j)',
    (sizes) => {
      let seed = 12345;
      const rand = (): number => {
        seed = (seed * 1103515245 + 12345) & 0x7fffffff;
        return (seed % 40000) - 20000;
      };
      const x = Int16Array.from({ length: 1200 }, rand);
      const oneUp = new Int16Array(2400);
      new Upsampler2x(1200).process(x, 1200, oneUp);
      const oneDown = new Int16Array(600);
      new Downsampler2x(1200).process(x, 1200, oneDown);

      const up = new Upsampler2x(1200);
      const down = new Downsampler2x(1200);
      const upOut = new Int16Array(2400);
      const downOut = new Int16Array(600);
      let i = 0;
      let u = 0;
      let d = 0;
      for (let k = 0; i < x.length; k++) {
        const n = Math.min(sizes[k % sizes.length]!, x.length - i);
        const frame = x.slice(i, i + n);
        u += up.process(frame, n, upOut.subarray(u));
        d += down.process(frame, n, downOut.subarray(d));
        i += n;
      }
      expect(u).toBe(2400);
      expect(d).toBe(600);
      expect(Array.from(upOut)).toEqual(Array.from(oneUp));
      expect(Array.from(downOut)).toEqual(Array.from(oneDown));
    },
  );

  it('reset() forgets the history: the next frame is as if from silence', () => {
    const x = sine(1000, 8000, 160);
    const fresh = new Int16Array(320);
    new Upsampler2x().process(x, 160, fresh);
    const up = new Upsampler2x();
    const scratch = new Int16Array(320);
    up.process(sine(700, 8000, 160), 160, scratch);
    up.reset();
    const again = new Int16Array(320);
    up.process(x, 160, again);
    expect(Array.from(again)).toEqual(Array.from(fresh));

    const down = new Downsampler2x();
    down.process(sine(700, 16000, 321), 321, new Int16Array(200));
    down.reset();
    const a = new Int16Array(160);
    const b = new Int16Array(160);
    down.process(fresh, 320, a);
    new Downsampler2x().process(fresh, 320, b);
    expect(Array.from(a)).toEqual(Array.from(b));
  });

  it('clamps instead of wrapping at full scale', () => {
    const square = Int16Array.from({ length: 320 }, (_, i) => ((i >> 3) & 1 ? 32767 : -32768));
    const y = new Int16Array(640);
    new Upsampler2x().process(square, 320, y);
    // The Gibbs overshoot of a full-scale square wave saturates; a wrap would jump ~65536.
    for (let i = 1; i < 640; i++) expect(Math.abs(y[i]! - y[i - 1]!)).toBeLessThan(40000);
    expect(Math.max(...y)).toBe(32767);
    expect(Math.min(...y)).toBe(-32768);
  });
});
