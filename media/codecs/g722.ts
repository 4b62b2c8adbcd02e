/**
 * ITU-T G.722 at 64 kbit/s (mode 1): 16 kHz 16-bit PCM in, one byte per two samples out.
 * Written in TypeScript from the algorithm as the Recommendation describes it (block
 * names in the comments are its blocks): a 24-tap quadrature mirror filter splits the
 * signal into a 0-4 kHz and a 4-8 kHz band, each at 8 kHz; the lower band is coded with
 * 6-bit ADPCM, the higher with 2-bit ADPCM, each with a 2-pole 6-zero adaptive predictor.
 * The input is 16-bit rather than the Recommendation's 14-bit, scaled in the QMF as
 * spandsp (the G.722 that Asterisk, FreeSWITCH and baresip use) does, and the result is
 * bit-exact with Debian's libspandsp 0.0.6 and with sippy/libg722 1.2.8
 * (test/unit/media/codecs/g722.test.ts checks both; vectors/README.md says how), with one
 * deliberate difference from spandsp: where the receive QMF's output exceeds 16 bits,
 * spandsp wraps (a full-scale click) and this decoder saturates, as libg722 does.
 *
 * Hot path (it runs per leg per 20 ms frame): each coder's whole state is one flat
 * Int32Array, the band arithmetic is two small monomorphic functions on it, the QMF is
 * unrolled with constant coefficients over a history buffer that is compacted once every
 * 320 sample pairs (not shifted per pair), and the 6-bit quantizer is one division and
 * a table look-up instead of a search. Every intermediate fits in int32 (bounds noted
 * where they are not obvious), and negations are written `0 - x`: `-x` of 0 is -0, a
 * double, which would push V8 off its int32 arithmetic. Encode and decode allocate nothing.
 */

/**
 * QMF coefficients (G.722 table 11), one half of the symmetric 24-tap filter:
 * 3, -11, 12, 32, -210, 951, 3876, -805, 362, -156, 53, -11 (written out in qmf() below).
 */

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
/**
 * QUANTL's interval for a difference magnitude `ml` is the first k in 1..29 with
 * ml < floor(Q6[k] * det / 4096), else 30. With integers, ml >= floor(Q6[k] * det / 4096)
 * exactly when Q6[k] * det < (ml + 1) * 4096, i.e. when Q6[k] < ceil((ml + 1) * 4096 / det);
 * so k = 1 + the number of Q6[1..29] below that ceiling, which this table holds by ceiling.
 */
const Q6_TOP = 2920;
const INTERVAL = new Uint8Array(Q6_TOP + 1);
for (let c = 0; c <= Q6_TOP; c++) {
  let k = 1;
  while (k < 30 && Q6[k]! < c) k++;
  INTERVAL[c] = k;
}
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
/**
 * Higher band: inverse quantizer (INVQAH) and log scale adaptation. Its QUANTH codes
 * (IHN 1, 0 and IHP 3, 2 for the inner and outer interval) are written out in encode().
 */
const QM2 = Int32Array.of(-7408, -1616, 7408, 1616);
const RH2 = Int32Array.of(2, 1, 2, 1);
const WH = Int32Array.of(0, -214, 798);

/** Lower band: WL by the 4-bit magnitude code (LOGSCL's RL42 then WL, in one step). */
const WL_BY_CODE = Int32Array.from(RL42, (r) => WL[r]!);
/** Higher band: WH by the 2-bit code (LOGSCH's RH2 then WH). */
const WH_BY_CODE = Int32Array.from(RH2, (r) => WH[r]!);

/*
 * Layout of one band's state in a coder's Int32Array; the lower band starts at LOW, the
 * higher at HIGH. DQ1..DQ6 hold the quantized differences d(n-1..n-6), B1..B6 the zero
 * coefficients; R1/R2 the reconstructed signal r(n-1), r(n-2); P1/P2 the partial
 * reconstruction p(n-1), p(n-2); A1/A2 the pole coefficients.
 */
const S = 0; // signal estimate (PREDIC)
const SZ = 1; // its zero part (FILTEZ)
const NB = 2; // log scale factor (LOGSCL / LOGSCH)
const DET = 3; // the scale factor it gives (SCALEL / SCALEH)
const R1 = 4;
const R2 = 5;
const P1 = 6;
const P2 = 7;
const A1 = 8;
const A2 = 9;
const DQ1 = 10;
const B1 = 16;
const BAND = 22;
const LOW = 0;
const HIGH = BAND;
/** After both bands (encoder and decoder): where the next QMF pair goes in the history. */
const POS = 2 * BAND;
const STATE = POS + 1;

/** QMF history: 22 past values and room for 320 pairs, compacted when full. */
const HISTORY = 22 + 640;

function newState(): Int32Array {
  const st = new Int32Array(STATE);
  st[LOW + DET] = 32;
  st[HIGH + DET] = 8;
  st[POS] = 22;
  return st;
}

function sat16(x: number): number {
  return x > 32767 ? 32767 : x < -32768 ? -32768 : x;
}

/**
 * LOGSCL/LOGSCH then SCALEL/SCALEH: adapts the band at `o` by `w`. The lower band's log
 * scale factor is bounded by 18432 and scaled by 2^-8, the higher one's by 22528 and 2^-10;
 * either way det ≤ 4008 · 2 · 4 = 32064.
 */
function adaptScale(st: Int32Array, o: number, w: number, maxNb: number, scaleShift: number): void {
  let nb = ((st[o + NB]! * 127) >> 7) + w;
  if (nb < 0) nb = 0;
  else if (nb > maxNb) nb = maxNb;
  st[o + NB] = nb;
  const shift = scaleShift - (nb >> 11);
  const antilog = ILB[(nb >> 6) & 31]!;
  st[o + DET] = (shift < 0 ? antilog << -shift : antilog >> shift) << 2;
}

/**
 * Block 4 for the band at `o`: reconstruction, predictor adaptation and the next signal
 * estimate, from the quantized difference `d` (|d| ≤ 32064 · 20456 / 2^15 < 2^15).
 */
function update(st: Int32Array, o: number, d: number): void {
  const r0 = sat16(st[o + S]! + d);
  const p0 = sat16(st[o + SZ]! + d);
  const sg0 = p0 >> 15;
  const sg1 = st[o + P1]! >> 15;
  const sg2 = st[o + P2]! >> 15;
  const a1 = st[o + A1]!;
  const a2 = st[o + A2]!;

  // UPPOL2: the second pole.
  const a1x4 = sat16(a1 * 4);
  let t = sg0 === sg1 ? 0 - a1x4 : a1x4;
  if (t > 32767) t = 32767;
  let ap2 = (t >> 7) + (sg0 === sg2 ? 128 : -128) + ((a2 * 32512) >> 15);
  if (ap2 > 12288) ap2 = 12288;
  else if (ap2 < -12288) ap2 = -12288;

  // UPPOL1: the first pole, bounded by the second.
  let ap1 = sat16((sg0 === sg1 ? 192 : -192) + ((a1 * 32640) >> 15));
  const bound = sat16(15360 - ap2);
  if (ap1 > bound) ap1 = bound;
  else if (ap1 < 0 - bound) ap1 = 0 - bound;

  // UPZERO (b · 32640 < 2^30), then DELAYA on the difference line.
  const step = d === 0 ? 0 : 128;
  const back = 0 - step;
  const sgd = d >> 15;
  const dq1 = st[o + DQ1]!;
  const dq2 = st[o + DQ1 + 1]!;
  const dq3 = st[o + DQ1 + 2]!;
  const dq4 = st[o + DQ1 + 3]!;
  const dq5 = st[o + DQ1 + 4]!;
  const dq6 = st[o + DQ1 + 5]!;
  const b1 = sat16((dq1 >> 15 === sgd ? step : back) + ((st[o + B1]! * 32640) >> 15));
  const b2 = sat16((dq2 >> 15 === sgd ? step : back) + ((st[o + B1 + 1]! * 32640) >> 15));
  const b3 = sat16((dq3 >> 15 === sgd ? step : back) + ((st[o + B1 + 2]! * 32640) >> 15));
  const b4 = sat16((dq4 >> 15 === sgd ? step : back) + ((st[o + B1 + 3]! * 32640) >> 15));
  const b5 = sat16((dq5 >> 15 === sgd ? step : back) + ((st[o + B1 + 4]! * 32640) >> 15));
  const b6 = sat16((dq6 >> 15 === sgd ? step : back) + ((st[o + B1 + 5]! * 32640) >> 15));
  st[o + B1] = b1;
  st[o + B1 + 1] = b2;
  st[o + B1 + 2] = b3;
  st[o + B1 + 3] = b4;
  st[o + B1 + 4] = b5;
  st[o + B1 + 5] = b6;
  st[o + DQ1] = d;
  st[o + DQ1 + 1] = dq1;
  st[o + DQ1 + 2] = dq2;
  st[o + DQ1 + 3] = dq3;
  st[o + DQ1 + 4] = dq4;
  st[o + DQ1 + 5] = dq5;

  // DELAYA on the poles.
  const r2 = st[o + R1]!;
  st[o + R2] = r2;
  st[o + R1] = r0;
  st[o + P2] = st[o + P1]!;
  st[o + P1] = p0;
  st[o + A2] = ap2;
  st[o + A1] = ap1;

  // FILTEP, FILTEZ (each product < 2^30), PREDIC.
  const sp = sat16(((ap1 * sat16(r0 + r0)) >> 15) + ((ap2 * sat16(r2 + r2)) >> 15));
  const sz = sat16(
    ((b1 * sat16(d + d)) >> 15) +
      ((b2 * sat16(dq1 + dq1)) >> 15) +
      ((b3 * sat16(dq2 + dq2)) >> 15) +
      ((b4 * sat16(dq3 + dq3)) >> 15) +
      ((b5 * sat16(dq4 + dq4)) >> 15) +
      ((b6 * sat16(dq5 + dq5)) >> 15),
  );
  st[o + SZ] = sz;
  st[o + S] = sat16(sp + sz);
}

/**
 * The QMF's 24-tap filter (G.722 §3.2 / §4.4.2, coefficients ×2^13 folded into integer
 * weights) over h[w..w+23], oldest first, split in its two phases: qmfOddTaps sums
 * h[w], h[w+2], … h[w+22] and qmfEvenTaps h[w+1], h[w+3], … h[w+23] (named, as in the
 * encoder, after the input samples they weigh). Transmit and receive QMF share them.
 * Small and monomorphic, so V8 inlines them into the hot loops.
 */
function qmfOddTaps(h: Int32Array, w: number): number {
  return (
    3 * h[w]! -
    11 * h[w + 2]! +
    12 * h[w + 4]! +
    32 * h[w + 6]! -
    210 * h[w + 8]! +
    951 * h[w + 10]! +
    3876 * h[w + 12]! -
    805 * h[w + 14]! +
    362 * h[w + 16]! -
    156 * h[w + 18]! +
    53 * h[w + 20]! -
    11 * h[w + 22]!
  );
}

function qmfEvenTaps(h: Int32Array, w: number): number {
  return (
    -11 * h[w + 1]! +
    53 * h[w + 3]! -
    156 * h[w + 5]! +
    362 * h[w + 7]! -
    805 * h[w + 9]! +
    3876 * h[w + 11]! +
    951 * h[w + 13]! -
    210 * h[w + 15]! +
    32 * h[w + 17]! +
    12 * h[w + 19]! -
    11 * h[w + 21]! +
    3 * h[w + 23]!
  );
}

/**
 * Makes room for the next pair in the QMF history: when it is full, its last 22 values
 * move to the front (once every 320 pairs). Returns where the pair goes.
 */
function nextPair(st: Int32Array, h: Int32Array): number {
  let pos = st[POS]!;
  if (pos === HISTORY) {
    for (let i = 0; i < 22; i++) h[i] = h[HISTORY - 22 + i]!;
    pos = 22;
  }
  st[POS] = pos + 2;
  return pos;
}

export class G722Encoder {
  private readonly st = newState();
  private readonly h = new Int32Array(HISTORY);

  /**
   * Encodes `samples` samples (an even count; an odd last one is dropped) of 16 kHz PCM
   * into `out` from 0; returns the bytes written (samples / 2).
   */
  encode(pcm: Int16Array, samples: number, out: Uint8Array): number {
    const st = this.st;
    const h = this.h;
    let bytes = 0;
    for (let j = 0; j + 1 < samples; j += 2) {
      // Transmit QMF: two samples in, one lower and one higher band sample out. The 24
      // inputs are h[w..w+23], oldest first; each sum is < 2^15 · 6482 < 2^28.
      const pos = nextPair(st, h);
      h[pos] = pcm[j]!;
      h[pos + 1] = pcm[j + 1]!;
      const w = pos - 22;
      const odd = qmfOddTaps(h, w);
      const even = qmfEvenTaps(h, w);
      const xl = (even + odd) >> 14;
      const xh = (even - odd) >> 14;

      // Lower band: SUBTRA, QUANTL (see INTERVAL), INVQAL, LOGSCL, SCALEL, block 4.
      const detl = st[LOW + DET]!;
      const el = sat16(xl - st[LOW + S]!);
      const ml = el >= 0 ? el : -1 - el;
      // The ceiling by integer division (all positive, < 2^28; `| 0` keeps V8 in int32).
      let c = (((ml + 1) * 4096 + detl - 1) / detl) | 0;
      if (c > Q6_TOP) c = Q6_TOP;
      const k = INTERVAL[c]!;
      const il = el < 0 ? ILN[k]! : ILP[k]!;
      update4(st, il >> 2, detl);

      // Higher band: SUBTRA, QUANTH, INVQAH, LOGSCH, SCALEH, block 4.
      const deth = st[HIGH + DET]!;
      const eh = sat16(xh - st[HIGH + S]!);
      const mh = eh >= 0 ? eh : -1 - eh;
      const ih = mh >= (564 * deth) >> 12 ? (eh < 0 ? 0 : 2) : eh < 0 ? 1 : 3;
      update2(st, ih, deth);

      out[bytes++] = (ih << 6) | il;
    }
    return bytes;
  }
}

/** The lower band's predictor path from its 4-bit code (INVQAL, LOGSCL, SCALEL, block 4). */
function update4(st: Int32Array, code: number, det: number): void {
  adaptScale(st, LOW, WL_BY_CODE[code]!, 18432, 8);
  update(st, LOW, (det * QM4[code]!) >> 15);
}

/** The higher band from its 2-bit code (INVQAH, LOGSCH, SCALEH, block 4); returns dh. */
function update2(st: Int32Array, code: number, det: number): number {
  const dh = (det * QM2[code]!) >> 15;
  adaptScale(st, HIGH, WH_BY_CODE[code]!, 22528, 10);
  update(st, HIGH, dh);
  return dh;
}

export class G722Decoder {
  private readonly st = newState();
  private readonly h = new Int32Array(HISTORY);

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
    const st = this.st;
    const h = this.h;
    const wrap = this.wrapOverflow;
    let n = 0;
    const end = offset + Math.min(length, out.length >> 1, data.length - offset);
    for (let j = offset; j < end; j++) {
      const code = data[j]!;
      const il = code & 0x3f;
      const ih = code >> 6;

      // Lower band: INVQBL, RECONS, LIMIT; the predictor path as in the encoder.
      const detl = st[LOW + DET]!;
      let rl = st[LOW + S]! + ((detl * QM6[il]!) >> 15);
      if (rl > 16383) rl = 16383;
      else if (rl < -16384) rl = -16384;
      update4(st, il >> 2, detl);

      // Higher band: INVQAH, RECONS, LIMIT, LOGSCH, SCALEH, block 4.
      const sh = st[HIGH + S]!;
      let rh = update2(st, ih, st[HIGH + DET]!) + sh;
      if (rh > 16383) rh = 16383;
      else if (rh < -16384) rh = -16384;

      // Receive QMF: one sample of each band in, two 16 kHz samples out; |rl ± rh| < 2^15.
      const pos = nextPair(st, h);
      h[pos] = rl + rh;
      h[pos + 1] = rl - rh;
      const w = pos - 22;
      const second = qmfOddTaps(h, w);
      const first = qmfEvenTaps(h, w);
      const a = first >> 11;
      const b = second >> 11;
      out[n++] = wrap ? (a << 16) >> 16 : sat16(a);
      out[n++] = wrap ? (b << 16) >> 16 : sat16(b);
    }
    return n;
  }
}
