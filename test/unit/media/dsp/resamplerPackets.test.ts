/**
 * The 2x converters as the recorder uses them (media/dsp/resampler.ts): a narrowband tone (300–3400 Hz) through 8 → 16 → 8 kHz
 * comes back with ≥ 40 dB SNR, and a 6 kHz tone at 16 kHz is ≥ 40 dB down after the
 * downsampler (it would alias to 2 kHz). Fed in 20 ms packets, as the recorder does.
 */
import { describe, expect, it } from '@jest/globals';
import { Downsampler2x, Upsampler2x } from '../../../../media/dsp/resampler.js';

function tone(hz: number, rate: number, n: number, amp = 16000): Int16Array {
  const out = new Int16Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.round(amp * Math.sin((2 * Math.PI * hz * i) / rate));
  return out;
}

/** Runs `input` through `process` in packets of `size`; returns the concatenated output. */
function inPackets(
  input: Int16Array,
  size: number,
  process: (chunk: Int16Array, out: Int16Array) => number,
): Int16Array {
  const parts: number[] = [];
  const out = new Int16Array(size * 2);
  for (let at = 0; at < input.length; at += size) {
    const n = process(input.subarray(at, at + size), out);
    for (let i = 0; i < n; i++) parts.push(out[i]!);
  }
  return Int16Array.from(parts);
}

/** SNR (dB) of `got` against `want` over [from, to), the best delay in [0, maxDelay]. */
function snrDb(
  want: Int16Array,
  got: Int16Array,
  from: number,
  to: number,
  maxDelay: number,
): number {
  let best = -Infinity;
  for (let d = 0; d <= maxDelay; d++) {
    let signal = 0;
    let noise = 0;
    for (let i = from; i < to; i++) {
      const e = got[i + d]! - want[i]!;
      signal += want[i]! * want[i]!;
      noise += e * e;
    }
    best = Math.max(best, 10 * Math.log10(signal / Math.max(noise, 1e-9)));
  }
  return best;
}

function rmsOf(x: Int16Array, from: number, to: number): number {
  let s = 0;
  for (let i = from; i < to; i++) s += x[i]! * x[i]!;
  return Math.sqrt(s / (to - from));
}

describe('2x conversion fed in packets', () => {
  for (const hz of [300, 1000, 2000, 3000, 3300, 3400]) {
    it(`${hz} Hz through 8 → 16 → 8 kHz keeps ≥ 40 dB SNR`, () => {
      const input = tone(hz, 8000, 8000);
      const up = new Upsampler2x();
      const down = new Downsampler2x();
      const wide = inPackets(input, 160, (c, o) => up.process(c, c.length, o));
      expect(wide.length).toBe(16000);
      const back = inPackets(wide, 320, (c, o) => down.process(c, c.length, o));
      expect(back.length).toBe(8000);
      const snr = snrDb(input, back, 400, 7000, 60);
      process.stdout.write(`resampler ${hz} Hz: ${snr.toFixed(1)} dB\n`);
      expect(snr).toBeGreaterThanOrEqual(40);
    });
  }

  for (const hz of [4600, 5000, 6000, 7000]) {
    it(`a ${hz} Hz tone at 16 kHz is ≥ 40 dB down after downsampling (no alias)`, () => {
      const input = tone(hz, 16000, 16000);
      const down = new Downsampler2x();
      const out = inPackets(input, 320, (c, o) => down.process(c, c.length, o));
      const atten =
        20 * Math.log10(rmsOf(input, 800, 15000) / Math.max(rmsOf(out, 400, 7500), 1e-9));
      process.stdout.write(`resampler ${hz} Hz rejection: ${atten.toFixed(1)} dB\n`);
      expect(atten).toBeGreaterThanOrEqual(40);
    });
  }

  it('a 1 kHz tone at 16 kHz passes the downsampler at unity gain', () => {
    const down = new Downsampler2x();
    const out = inPackets(tone(1000, 16000, 16000), 320, (c, o) => down.process(c, c.length, o));
    const ratio = rmsOf(out, 400, 7500) / rmsOf(tone(1000, 8000, 8000), 400, 7500);
    expect(Math.abs(20 * Math.log10(ratio))).toBeLessThan(0.1);
  });
});
