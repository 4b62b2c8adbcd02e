/**
 * Stateful 2x sample-rate conversion between 8 and 16 kHz for the recorder (a narrowband
 * packet in a 16 kHz file, a wideband one in an 8 kHz file): a half-band low-pass FIR
 * (windowed sinc, Blackman window, 47 taps: about 70 dB of stopband, passband to about
 * 3.4 kHz at 8 kHz) used as an interpolator (zero-stuffing, gain 2) or before
 * decimation. Half-band: every other tap is zero, so the polyphase branches are cheap.
 * State (the last input samples) carries across calls, so a stream cut into packets
 * converts as if it were one. media/dsp/resampler.ts, once on main, replaces this.
 */

const TAPS = 47;
const CENTER = (TAPS - 1) / 2;

/** h[k] for k = 0..TAPS-1, unity DC gain. */
const H: Float64Array = (() => {
  const h = new Float64Array(TAPS);
  let sum = 0;
  for (let k = 0; k < TAPS; k++) {
    const n = k - CENTER;
    const sinc = n === 0 ? 0.5 : Math.sin((Math.PI * n) / 2) / (Math.PI * n);
    const w =
      0.42 -
      0.5 * Math.cos((2 * Math.PI * k) / (TAPS - 1)) +
      0.08 * Math.cos((4 * Math.PI * k) / (TAPS - 1));
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

  /** Writes ⌊(count + phase) / 2⌋ samples of `input` downsampled into `out` from 0. */
  process(input: Int16Array, count: number, out: Int16Array): number {
    const hist = this.hist;
    let o = 0;
    for (let i = 0; i < count; i++) {
      hist.copyWithin(0, 1);
      hist[TAPS - 1] = input[i]!;
      this.phase ^= 1;
      if (this.phase === 1) continue;
      let acc = 0;
      for (let k = 0; k < TAPS; k++) acc += H[k]! * hist[TAPS - 1 - k]!;
      out[o++] = clamp(acc);
    }
    return o;
  }
}
