/**
 * ITU-T G.722 at 64 kbit/s (mode 1): 16 kHz 16-bit PCM in, one byte per two samples out.
 * Written in TypeScript from the algorithm as the Recommendation describes it (block
 * names in the comments are its blocks): a 24-tap quadrature mirror filter splits the
 * signal into a 0-4 kHz and a 4-8 kHz band, each at 8 kHz; the lower band is coded with
 * 6-bit ADPCM, the higher with 2-bit ADPCM, each with a 2-pole 6-zero adaptive predictor.
 * The input is 16-bit rather than the Recommendation's 14-bit, scaled in the QMF as
 * spandsp (the G.722 that Asterisk, FreeSWITCH and baresip use) does, and the result is
 * bit-exact with Debian's libspandsp 0.0.6 (test/unit/media/codecs/g722.test.ts checks
 * committed vectors that library produced; vectors/g722-spandsp-gen.c says how), with one
 * deliberate difference: where the receive QMF's output exceeds 16 bits, spandsp wraps
 * (a full-scale click) and this decoder saturates.
 *
 * Hot path: all state is in numbers and two small Int32Arrays per band, preallocated;
 * encode and decode allocate nothing.
 */

/** QMF coefficients (G.722 table 11), one half of the symmetric 24-tap filter. */
const QMF = Int32Array.of(3, -11, 12, 32, -210, 951, 3876, -805, 362, -156, 53, -11);

/** Lower band quantizer decision levels (QUANTL, table 6), in units of det / 4096. */
const Q6 = Int32Array.of(
  0,
  35,
  72,
  110,
  150,
  190,
  233,
  276,
  323,
  370,
  422,
  473,
  530,
  587,
  650,
  714,
  786,
  858,
  940,
  1023,
  1121,
  1219,
  1339,
  1458,
  1612,
  1765,
  1980,
  2195,
  2557,
  2919,
);
/** QUANTL codes for negative (ILN) and positive (ILP) differences, by interval. */
const ILN = Int32Array.of(
  0,
  63,
  62,
  31,
  30,
  29,
  28,
  27,
  26,
  25,
  24,
  23,
  22,
  21,
  20,
  19,
  18,
  17,
  16,
  15,
  14,
  13,
  12,
  11,
  10,
  9,
  8,
  7,
  6,
  5,
  4,
);
const ILP = Int32Array.of(
  0,
  61,
  60,
  59,
  58,
  57,
  56,
  55,
  54,
  53,
  52,
  51,
  50,
  49,
  48,
  47,
  46,
  45,
  44,
  43,
  42,
  41,
  40,
  39,
  38,
  37,
  36,
  35,
  34,
  33,
  32,
);
/** 4-bit inverse quantizer of the lower band's predictor path (INVQAL). */
const QM4 = Int32Array.of(
  0,
  -20456,
  -12896,
  -8968,
  -6288,
  -4240,
  -2584,
  -1200,
  20456,
  12896,
  8968,
  6288,
  4240,
  2584,
  1200,
  0,
);
/** 6-bit inverse quantizer of the lower band's output (INVQBL, mode 1). */
const QM6 = Int32Array.of(
  -136,
  -136,
  -136,
  -136,
  -24808,
  -21904,
  -19008,
  -16704,
  -14984,
  -13512,
  -12280,
  -11192,
  -10232,
  -9360,
  -8576,
  -7856,
  -7192,
  -6576,
  -6000,
  -5456,
  -4944,
  -4464,
  -4008,
  -3576,
  -3168,
  -2776,
  -2400,
  -2032,
  -1688,
  -1360,
  -1040,
  -728,
  24808,
  21904,
  19008,
  16704,
  14984,
  13512,
  12280,
  11192,
  10232,
  9360,
  8576,
  7856,
  7192,
  6576,
  6000,
  5456,
  4944,
  4464,
  4008,
  3576,
  3168,
  2776,
  2400,
  2032,
  1688,
  1360,
  1040,
  728,
  432,
  136,
  -432,
  -136,
);
/** Lower band log scale factor adaptation (LOGSCL): magnitude code → WL. */
const RL42 = Int32Array.of(0, 7, 6, 5, 4, 3, 2, 1, 7, 6, 5, 4, 3, 2, 1, 0);
const WL = Int32Array.of(-60, -30, 58, 172, 334, 538, 1198, 3042);
/** Antilog table of the scale factor (SCALEL / SCALEH). */
const ILB = Int32Array.of(
  2048,
  2093,
  2139,
  2186,
  2233,
  2282,
  2332,
  2383,
  2435,
  2489,
  2543,
  2599,
  2656,
  2714,
  2774,
  2834,
  2896,
  2960,
  3025,
  3091,
  3158,
  3228,
  3298,
  3371,
  3444,
  3520,
  3597,
  3676,
  3756,
  3838,
  3922,
  4008,
);
/** Higher band: inverse quantizer (INVQAH), QUANTH codes, log scale adaptation. */
const QM2 = Int32Array.of(-7408, -1616, 7408, 1616);
const IHN = Int32Array.of(0, 1, 0);
const IHP = Int32Array.of(0, 3, 2);
const RH2 = Int32Array.of(2, 1, 2, 1);
const WH = Int32Array.of(0, -214, 798);

function sat16(x: number): number {
  return x > 32767 ? 32767 : x < -32768 ? -32768 : x;
}

/** One sub-band's ADPCM state: scale factor and the adaptive predictor. */
class Band {
  /** Signal estimate (PREDIC), its pole part (FILTEP) and zero part (FILTEZ). */
  s = 0;
  sp = 0;
  sz = 0;
  /** Log scale factor (LOGSCL/LOGSCH) and the scale factor it gives (SCALEL/SCALEH). */
  nb = 0;
  det: number;
  /** Reconstructed signal r(n-1), r(n-2); partial reconstruction p(n-1), p(n-2). */
  r1 = 0;
  r2 = 0;
  p1 = 0;
  p2 = 0;
  /** Pole coefficients a1, a2. */
  a1 = 0;
  a2 = 0;
  /** Quantized differences d(n-1..n-6) at [1..6] and zero coefficients b1..b6. */
  readonly dq = new Int32Array(7);
  readonly b = new Int32Array(7);

  constructor(
    det: number,
    private readonly maxNb: number,
    private readonly scaleShift: number,
  ) {
    this.det = det;
  }

  /** LOGSCL/LOGSCH then SCALEL/SCALEH: adapts the scale factor by `w`. */
  adaptScale(w: number): void {
    let nb = ((this.nb * 127) >> 7) + w;
    if (nb < 0) nb = 0;
    else if (nb > this.maxNb) nb = this.maxNb;
    this.nb = nb;
    const shift = this.scaleShift - (nb >> 11);
    const antilog = ILB[(nb >> 6) & 31]!;
    this.det = (shift < 0 ? antilog << -shift : antilog >> shift) << 2;
  }

  /** Block 4: reconstruction, predictor adaptation and the next signal estimate. */
  update(d: number): void {
    const r0 = sat16(this.s + d);
    const p0 = sat16(this.sz + d);
    const sg0 = p0 >> 15;
    const sg1 = this.p1 >> 15;
    const sg2 = this.p2 >> 15;
    const a1 = this.a1;
    const a2 = this.a2;

    // UPPOL2: the second pole.
    const a1x4 = sat16(a1 * 4);
    let t = sg0 === sg1 ? -a1x4 : a1x4;
    if (t > 32767) t = 32767;
    let ap2 = (t >> 7) + (sg0 === sg2 ? 128 : -128) + ((a2 * 32512) >> 15);
    if (ap2 > 12288) ap2 = 12288;
    else if (ap2 < -12288) ap2 = -12288;

    // UPPOL1: the first pole, bounded by the second.
    let ap1 = sat16((sg0 === sg1 ? 192 : -192) + ((a1 * 32640) >> 15));
    const bound = sat16(15360 - ap2);
    if (ap1 > bound) ap1 = bound;
    else if (ap1 < -bound) ap1 = -bound;

    // UPZERO, then DELAYA on the difference line.
    const dq = this.dq;
    const b = this.b;
    const step = d === 0 ? 0 : 128;
    const sgd = d >> 15;
    for (let i = 6; i > 0; i--) {
      b[i] = sat16((dq[i]! >> 15 === sgd ? step : -step) + ((b[i]! * 32640) >> 15));
    }
    for (let i = 6; i > 1; i--) dq[i] = dq[i - 1]!;
    dq[1] = d;

    // DELAYA on the poles.
    this.r2 = this.r1;
    this.r1 = r0;
    this.p2 = this.p1;
    this.p1 = p0;
    this.a2 = ap2;
    this.a1 = ap1;

    // FILTEP, FILTEZ, PREDIC.
    const sp = sat16(((ap1 * sat16(r0 + r0)) >> 15) + ((ap2 * sat16(this.r2 + this.r2)) >> 15));
    let sz = 0;
    for (let i = 6; i > 0; i--) sz += (b[i]! * sat16(dq[i]! + dq[i]!)) >> 15;
    sz = sat16(sz);
    this.sp = sp;
    this.sz = sz;
    this.s = sat16(sp + sz);
  }
}

/** Drops the two oldest of the 24 QMF inputs (a plain loop: copyWithin costs a call). */
function shiftTwo(x: Int32Array): void {
  for (let i = 0; i < 22; i++) x[i] = x[i + 2]!;
}

export class G722Encoder {
  private readonly low = new Band(32, 18432, 8);
  private readonly high = new Band(8, 22528, 10);
  private readonly x = new Int32Array(24);

  /**
   * Encodes `samples` samples (an even count; an odd last one is dropped) of 16 kHz PCM
   * into `out` from 0; returns the bytes written (samples / 2).
   */
  encode(pcm: Int16Array, samples: number, out: Uint8Array): number {
    const x = this.x;
    const low = this.low;
    const high = this.high;
    let bytes = 0;
    for (let j = 0; j + 1 < samples; j += 2) {
      // Transmit QMF: two samples in, one lower and one higher band sample out.
      shiftTwo(x);
      x[22] = pcm[j]!;
      x[23] = pcm[j + 1]!;
      let odd = 0;
      let even = 0;
      for (let i = 0; i < 12; i++) {
        odd += x[2 * i]! * QMF[i]!;
        even += x[2 * i + 1]! * QMF[11 - i]!;
      }
      const xl = (even + odd) >> 14;
      const xh = (even - odd) >> 14;

      // Lower band: SUBTRA, QUANTL, INVQAL, LOGSCL, SCALEL, block 4.
      const el = sat16(xl - low.s);
      const ml = el >= 0 ? el : -(el + 1);
      let k = 1;
      while (k < 30 && ml >= (Q6[k]! * low.det) >> 12) k++;
      const il = el < 0 ? ILN[k]! : ILP[k]!;
      const dl = (low.det * QM4[il >> 2]!) >> 15;
      low.adaptScale(WL[RL42[il >> 2]!]!);
      low.update(dl);

      // Higher band: SUBTRA, QUANTH, INVQAH, LOGSCH, SCALEH, block 4.
      const eh = sat16(xh - high.s);
      const mh = eh >= 0 ? eh : -(eh + 1);
      const level = mh >= (564 * high.det) >> 12 ? 2 : 1;
      const ih = eh < 0 ? IHN[level]! : IHP[level]!;
      const dh = (high.det * QM2[ih]!) >> 15;
      high.adaptScale(WH[RH2[ih]!]!);
      high.update(dh);

      out[bytes++] = (ih << 6) | il;
    }
    return bytes;
  }
}

export class G722Decoder {
  private readonly low = new Band(32, 18432, 8);
  private readonly high = new Band(8, 22528, 10);
  private readonly x = new Int32Array(24);

  /**
   * `wrapOverflow` reproduces spandsp's wrap of an overflowing output sample (for the
   * reference test only); by default the output saturates.
   */
  constructor(private readonly wrapOverflow = false) {}

  /**
   * Decodes `length` bytes of `data` from `offset` into `out` from 0, two 16 kHz samples
   * per byte, at most `out.length` samples; returns the samples written.
   */
  decode(data: Uint8Array, offset: number, length: number, out: Int16Array): number {
    const x = this.x;
    const low = this.low;
    const high = this.high;
    let n = 0;
    const end = offset + Math.min(length, out.length >> 1, data.length - offset);
    for (let j = offset; j < end; j++) {
      const code = data[j]!;
      const il = code & 0x3f;
      const ih = code >> 6;

      // Lower band: INVQBL, RECONS, LIMIT; the predictor path as in the encoder.
      let rl = low.s + ((low.det * QM6[il]!) >> 15);
      if (rl > 16383) rl = 16383;
      else if (rl < -16384) rl = -16384;
      const dl = (low.det * QM4[il >> 2]!) >> 15;
      low.adaptScale(WL[RL42[il >> 2]!]!);
      low.update(dl);

      // Higher band: INVQAH, RECONS, LIMIT, LOGSCH, SCALEH, block 4.
      const dh = (high.det * QM2[ih]!) >> 15;
      let rh = dh + high.s;
      if (rh > 16383) rh = 16383;
      else if (rh < -16384) rh = -16384;
      high.adaptScale(WH[RH2[ih]!]!);
      high.update(dh);

      // Receive QMF: one sample of each band in, two 16 kHz samples out.
      shiftTwo(x);
      x[22] = rl + rh;
      x[23] = rl - rh;
      let first = 0;
      let second = 0;
      for (let i = 0; i < 12; i++) {
        second += x[2 * i]! * QMF[i]!;
        first += x[2 * i + 1]! * QMF[11 - i]!;
      }
      const a = first >> 11;
      const b = second >> 11;
      out[n++] = this.wrapOverflow ? (a << 16) >> 16 : sat16(a);
      out[n++] = this.wrapOverflow ? (b << 16) >> 16 : sat16(b);
    }
    return n;
  }
}
