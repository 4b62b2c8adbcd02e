/**
 * Stateful 2x sample-rate conversion between 8 and 16 kHz for the recorder (a narrowband
 * packet in a 16 kHz file, a wideband one in an 8 kHz file): a half-band low-pass FIR
 * (windowed sinc, Kaiser window β 8, 95 taps: 8 → 16 → 8 kHz keeps over 70 dB SNR up
 * to 3.4 kHz, and a tone from 4.6 kHz up is far more than 40 dB down after decimation) used as an interpolator (zero-stuffing, gain 2) or before
 * decimation. Half-band: every other tap is zero, so the polyphase branches are cheap.
 * State (the last input samples) carries across calls, so a stream cut into packets
 * converts as if it were one. media/dsp/resampler.ts, once on main, replaces this.
 */

const TAPS = 95;
const BETA = 8;

/** Zeroth-order modified Bessel function of the first kind (the Kaiser window's). */
function besselI0(x: number): number {
  let sum = 1;
  let term = 1;
  for (let k = 1; k < 40; k++) {
    term *= (x / (2 * k)) ** 2;
    sum += term;
  }
  return sum;
}
const CENTER = (TAPS - 1) / 2;

/** h[k] for k = 0..TAPS-1, unity DC gain. */
const H: Float64Array = (() => {
  const h = new Float64Array(TAPS);
  let sum = 0;
  for (let k = 0; k < TAPS; k++) {
    const n = k - CENTER;
    const sinc = n === 0 ? 0.5 : Math.sin((Math.PI * n) / 2) / (Math.PI * n);
    const r = n / CENTER;
    const w = besselI0(BETA * Math.sqrt(1 - r * r)) / besselI0(BETA);
    h[k] = sinc * w;
    sum += h[k]!;
  }
  for (let k = 0; k < TAPS; k++) h[k] = h[k]! / sum;
  return h;
})();

const clamp = (v: number): number => (v > 32767 ? 32767 : v < -32768 ? -32768 : Math.round(v));

/** 8 kHz → 16 kHz. */
export class Upsampler2x {
  /** The last CENTER + 1 input samples, newest last. */
  private readonly hist = new Float64Array(TAPS);
  private fill = 0;

  /** Writes 2 × `count` samples of `input` upsampled into `out` from 0; returns them. */
  process(input: Int16Array, count: number, out: Int16Array): number {
    const hist = this.hist;
    let o = 0;
    for (let i = 0; i < count; i++) {
      hist.copyWithin(0, 1);
      hist[TAPS - 1] = input[i]!;
      if (this.fill < TAPS) this.fill++;
      // Zero-stuffed stream x[2m] = in[m]: output y[n] = 2 Σ h[k] x[n − k].
      // Phase A (n even, aligned with the centre tap's parity): taps of even k.
      let a = 0;
      let b = 0;
      for (let j = 0; j < TAPS; j++) {
        // hist[TAPS-1-j] is the input m − j: in the zero-stuffed stream, index 2(m − j).
        const x = hist[TAPS - 1 - j]!;
        const kA = 2 * j; // output at n = 2m: k = 2j
        if (kA < TAPS) a += H[kA]! * x;
        const kB = 2 * j + 1; // output at n = 2m + 1: k = 2j + 1
        if (kB < TAPS) b += H[kB]! * x;
      }
      out[o++] = clamp(2 * a);
      out[o++] = clamp(2 * b);
    }
    return o;
  }
}

/** 16 kHz → 8 kHz. */
export class Downsampler2x {
  private readonly hist = new Float64Array(TAPS);
  private phase = 0;

  /**
   * Writes every other sample of the filtered `input` into `out` from 0: those at even
   * positions of the whole stream (0, 2, 4, …), so 8 → 16 → 8 kHz is a whole-sample delay
   * (the odd ones would leave the round trip half a sample off).
   */
  process(input: Int16Array, count: number, out: Int16Array): number {
    const hist = this.hist;
    let o = 0;
    for (let i = 0; i < count; i++) {
      hist.copyWithin(0, 1);
      hist[TAPS - 1] = input[i]!;
      const odd = this.phase;
      this.phase ^= 1;
      if (odd === 1) continue;
      let acc = 0;
      for (let k = 0; k < TAPS; k++) acc += H[k]! * hist[TAPS - 1 - k]!;
      out[o++] = clamp(acc);
    }
    return o;
  }
}
