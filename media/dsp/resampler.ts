/**
 * Stateful 2x sample-rate conversion between the narrowband (8 kHz) and wideband (16 kHz)
 * mix: `Upsampler2x` (8 → 16 kHz) and `Downsampler2x` (16 → 8 kHz), both with one
 * linear-phase half-band FIR low-pass at 16 kHz, run in polyphase form.
 *
 * The filter. A half-band filter has its −6 dB point at a quarter of the rate (4 kHz),
 * every second tap zero except the centre (0.5), and a response symmetric about 4 kHz, so
 * only half of its taps cost a multiply and the symmetric pairs share one (pre-add). This
 * one is a Kaiser-windowed sinc of HALF_BAND_TAPS taps (β 7.2): flat to within ±0.003 dB
 * to 3.4 kHz, and at least 70 dB down from 4.6 kHz up (measured in
 * test/unit/media/dsp/resampler.test.ts). A half-band filter cannot be 50 dB down at
 * exactly 4 kHz (it is −6 dB there by construction); what lies between 4 and 4.6 kHz
 * aliases into 3.4–4 kHz, above the telephony pass band, and anything from 4.6 kHz up
 * (a 6 kHz tone) into the band is ≥ 70 dB down.
 *
 * Polyphase. Upsampling inserts a zero after every input sample and filters with gain 2:
 * the odd phase meets only the centre tap (a pure delay), the even phase the other taps.
 * Downsampling computes only the output samples kept. Delay: CENTER samples at 16 kHz
 * through either direction, so 8 → 16 → 8 delays by exactly CENTER samples at 8 kHz.
 *
 * Users: the wideband mix (media/worker) and the packet recorder (media/recording), one
 * filter for both. A 95-tap Kaiser (β 8) half-band was measured against this one: 84.5
 * against 72.5 dB stop-band from 4.6 kHz and 0.0006 against 0.002 dB ripple to 3.4 kHz,
 * but 8 → 16 → 8 round trips of tones came out alike (72–83 dB SNR near the band edge,
 * set by int16 rounding) at 1.5–3× the cost, so the 63 taps serve both.
 *
 * State. Each converter keeps the input history its filter reaches into, so frames in
 * sequence give exactly what one call on the whole signal would; `reset()` forgets it
 * (silence before the next frame). Hot path: `process` allocates nothing (the history
 * buffer is sized for `maxInput` samples at construction) and never throws on a frame
 * within that size.
 */

/**
 * Taps of the half-band filter (2·CENTER + 1, CENTER odd so the end taps are non-zero).
 * The converters' kernels are unrolled for exactly this length (16 tap pairs).
 */
export const HALF_BAND_TAPS = 63;
const CENTER = (HALF_BAND_TAPS - 1) / 2;
/** Delay of either converter, in samples at 16 kHz (8 → 16 → 8: CENTER samples at 8 kHz). */
export const RESAMPLER_DELAY_16K = CENTER;
const KAISER_BETA = 7.2;
/** Symmetric pairs of non-zero even-index taps: h[2t] = h[2·CENTER − 2t], t < PAIRS. */
const PAIRS = (CENTER + 1) / 2;

/** Zeroth-order modified Bessel function of the first kind (Kaiser window). */
function besselI0(x: number): number {
  let sum = 1;
  let term = 1;
  for (let k = 1; k < 50; k++) {
    term *= (x / (2 * k)) ** 2;
    sum += term;
    if (term < sum * 1e-17) break;
  }
  return sum;
}

/** The half-band filter's taps (sum 1; centre 0.5; odd distances from the centre 0). */
export function halfBandTaps(): Float64Array {
  const h = new Float64Array(HALF_BAND_TAPS);
  const i0Beta = besselI0(KAISER_BETA);
  for (let k = 0; k < HALF_BAND_TAPS; k++) {
    const m = k - CENTER;
    if (m === 0) {
      h[k] = 0.5;
      continue;
    }
    if (m % 2 === 0) continue; // the half-band zeros
    const x = m / 2;
    const sinc = Math.sin(Math.PI * x) / (Math.PI * x);
    const r = m / CENTER;
    const window = besselI0(KAISER_BETA * Math.sqrt(1 - r * r)) / i0Beta;
    h[k] = 0.5 * sinc * window;
  }
  // The non-centre taps sum to exactly 0.5, so DC passes both ways at unity gain.
  let side = 0;
  for (let k = 0; k < HALF_BAND_TAPS; k++) if (k !== CENTER) side += h[k]!;
  for (let k = 0; k < HALF_BAND_TAPS; k++) if (k !== CENTER) h[k] = (h[k]! * 0.5) / side;
  return h;
}

const TAPS = halfBandTaps();
/** The non-zero taps of one side, pair t: h[2t] (= h[2·CENTER − 2t]). */
const PAIR_TAPS = Float64Array.from({ length: PAIRS }, (_, t) => TAPS[2 * t]!);

/** The 16 pair taps as a tuple (destructured into locals by the kernels). */
type TapPairs = [
  number,
  number,
  number,
  number,
  number,
  number,
  number,
  number,
  number,
  number,
  number,
  number,
  number,
  number,
  number,
  number,
];

function clamp16(v: number): number {
  const r = Math.round(v);
  return r > 32767 ? 32767 : r < -32768 ? -32768 : r;
}

/** 8 kHz → 16 kHz: each input sample becomes two output samples. */
export class Upsampler2x {
  readonly maxInput: number;
  /** CENTER samples of history, then the current input. */
  private readonly buf: Float64Array;

  constructor(maxInput = 960) {
    this.maxInput = maxInput;
    this.buf = new Float64Array(CENTER + maxInput);
  }

  /**
   * Writes 2·`count` samples into `out` from `input[0, count)` (count ≤ maxInput; `out`
   * must hold 2·count). Returns the samples written.
   */
  process(input: Int16Array, count: number, out: Int16Array): number {
    if (count > this.maxInput) count = this.maxInput;
    const b = this.buf;
    // The 16 tap pairs unrolled into locals (twice as fast as a loop over them in V8).
    const [h0, h1, h2, h3, h4, h5, h6, h7, h8, h9, h10, h11, h12, h13, h14, h15] =
      PAIR_TAPS as unknown as TapPairs;
    for (let i = 0; i < count; i++) b[CENTER + i] = input[i]!;
    for (let i = 0; i < count; i++) {
      const p = i + CENTER; // input sample i in b
      const acc =
        h0 * (b[p]! + b[p - 31]!) +
        h1 * (b[p - 1]! + b[p - 30]!) +
        h2 * (b[p - 2]! + b[p - 29]!) +
        h3 * (b[p - 3]! + b[p - 28]!) +
        h4 * (b[p - 4]! + b[p - 27]!) +
        h5 * (b[p - 5]! + b[p - 26]!) +
        h6 * (b[p - 6]! + b[p - 25]!) +
        h7 * (b[p - 7]! + b[p - 24]!) +
        h8 * (b[p - 8]! + b[p - 23]!) +
        h9 * (b[p - 9]! + b[p - 22]!) +
        h10 * (b[p - 10]! + b[p - 21]!) +
        h11 * (b[p - 11]! + b[p - 20]!) +
        h12 * (b[p - 12]! + b[p - 19]!) +
        h13 * (b[p - 13]! + b[p - 18]!) +
        h14 * (b[p - 14]! + b[p - 17]!) +
        h15 * (b[p - 15]! + b[p - 16]!);
      out[2 * i] = clamp16(2 * acc);
      out[2 * i + 1] = b[p - 15]!;
    }
    b.copyWithin(0, count, count + CENTER);
    return 2 * count;
  }

  /** Forgets the history (the next frame starts from silence). */
  reset(): void {
    this.buf.fill(0);
  }
}

/** 16 kHz → 8 kHz: low-pass, then every second sample. */
export class Downsampler2x {
  readonly maxInput: number;
  /** 2·CENTER samples of history, then the current input. */
  private readonly buf: Float64Array;
  /** An odd input count leaves one sample for the next call (0 or 1). */
  private pending = 0;

  constructor(maxInput = 1920) {
    this.maxInput = maxInput;
    this.buf = new Float64Array(2 * CENTER + maxInput + 1);
  }

  /**
   * Writes floor((pending + count) / 2) samples into `out` from `input[0, count)` (count ≤
   * maxInput). Returns the samples written.
   */
  process(input: Int16Array, count: number, out: Int16Array): number {
    if (count > this.maxInput) count = this.maxInput;
    const b = this.buf;
    const [h0, h1, h2, h3, h4, h5, h6, h7, h8, h9, h10, h11, h12, h13, h14, h15] =
      PAIR_TAPS as unknown as TapPairs;
    const base = 2 * CENTER;
    const start = base + this.pending;
    for (let i = 0; i < count; i++) b[start + i] = input[i]!;
    const total = this.pending + count;
    const n = total >> 1;
    for (let j = 0; j < n; j++) {
      const p = base + 2 * j; // input sample 2j in b
      const acc =
        0.5 * b[p - 31]! +
        h0 * (b[p]! + b[p - 62]!) +
        h1 * (b[p - 2]! + b[p - 60]!) +
        h2 * (b[p - 4]! + b[p - 58]!) +
        h3 * (b[p - 6]! + b[p - 56]!) +
        h4 * (b[p - 8]! + b[p - 54]!) +
        h5 * (b[p - 10]! + b[p - 52]!) +
        h6 * (b[p - 12]! + b[p - 50]!) +
        h7 * (b[p - 14]! + b[p - 48]!) +
        h8 * (b[p - 16]! + b[p - 46]!) +
        h9 * (b[p - 18]! + b[p - 44]!) +
        h10 * (b[p - 20]! + b[p - 42]!) +
        h11 * (b[p - 22]! + b[p - 40]!) +
        h12 * (b[p - 24]! + b[p - 38]!) +
        h13 * (b[p - 26]! + b[p - 36]!) +
        h14 * (b[p - 28]! + b[p - 34]!) +
        h15 * (b[p - 30]! + b[p - 32]!);
      out[j] = clamp16(acc);
    }
    // Keep the last 2·CENTER consumed samples, and an unpaired one after them.
    const used = 2 * n;
    b.copyWithin(0, used, used + base + (total - used));
    this.pending = total - used;
    return n;
  }

  reset(): void {
    this.buf.fill(0);
    this.pending = 0;
  }
}
