/**
 * G.711 (ITU-T): µ-law (PCMU, RTP payload type 0) and A-law (PCMA, payload type 8),
 * 8-bit companded samples ↔ 16-bit linear PCM, by lookup table. The tables are computed
 * once at load with the segment algorithms of the reference implementation (Sun's
 * public-domain g711.c, which sox, ffmpeg and Asterisk agree with), then every sample
 * is one indexed load.
 *
 * µ-law: the byte is ~(sign | segment << 4 | mantissa); linear = ((mantissa << 3) + 0x84)
 * << segment − 0x84, range ±32124. Encoding adds the 0x84 bias to the magnitude (clipped
 * at 32635) and takes the segment from its highest set bit.
 * A-law: the byte is (sign | segment << 4 | mantissa) ^ 0x55 (even bits inverted), range
 * ±32256; encoding works on the 13 most significant bits.
 *
 * The transcoding tables are decode → encode (tested to agree with it): each code maps to
 * the code of the other law whose decision interval contains its decoded value. (The
 * CCITT tables copied into g711.c differ in 46 of 256 µ→A entries, by one level at most;
 * decode → encode is the one a mixer that decodes, sums and re-encodes agrees with.)
 *
 * Hot path: every function below allocates nothing; the table arrays are shared and
 * read-only by contract.
 */

function ulawToLinear(code: number): number {
  const u = ~code & 0xff;
  const t = (((u & 0x0f) << 3) + 0x84) << ((u & 0x70) >> 4);
  return (u & 0x80) !== 0 ? 0x84 - t : t - 0x84;
}

function linearToUlaw(sample: number): number {
  let magnitude = sample;
  let mask = 0xff;
  if (magnitude < 0) {
    magnitude = -magnitude;
    mask = 0x7f;
  }
  if (magnitude > 32635) magnitude = 32635;
  magnitude += 0x84;
  let segment = 0;
  for (let v = magnitude >> 8; v > 0; v >>= 1) segment++;
  const mantissa = (magnitude >> (segment + 3)) & 0x0f;
  return ((segment << 4) | mantissa) ^ mask;
}

function alawToLinear(code: number): number {
  const a = code ^ 0x55;
  let t = (a & 0x0f) << 4;
  const segment = (a & 0x70) >> 4;
  if (segment === 0) t += 8;
  else if (segment === 1) t += 0x108;
  else t = (t + 0x108) << (segment - 1);
  return (a & 0x80) !== 0 ? t : -t;
}

function linearToAlaw(sample: number): number {
  let v = sample >> 3;
  let mask = 0xd5;
  if (v < 0) {
    v = -v - 1;
    mask = 0x55;
  }
  let segment = 0;
  while (segment < 7 && v >= 0x20 << segment) segment++;
  const mantissa = (segment < 2 ? v >> 1 : v >> segment) & 0x0f;
  return ((segment << 4) | mantissa) ^ mask;
}

/** Code → linear sample. */
export const ULAW_DECODE = new Int16Array(256);
export const ALAW_DECODE = new Int16Array(256);
/** Linear sample (as `sample & 0xffff`) → code. */
export const ULAW_ENCODE = new Uint8Array(65536);
export const ALAW_ENCODE = new Uint8Array(65536);
/** Code of one law → code of the other. */
export const ULAW_TO_ALAW = new Uint8Array(256);
export const ALAW_TO_ULAW = new Uint8Array(256);

for (let c = 0; c < 256; c++) {
  ULAW_DECODE[c] = ulawToLinear(c);
  ALAW_DECODE[c] = alawToLinear(c);
}
for (let s = -32768; s < 32768; s++) {
  ULAW_ENCODE[s & 0xffff] = linearToUlaw(s);
  ALAW_ENCODE[s & 0xffff] = linearToAlaw(s);
}
for (let c = 0; c < 256; c++) {
  ULAW_TO_ALAW[c] = ALAW_ENCODE[ULAW_DECODE[c]! & 0xffff]!;
  ALAW_TO_ULAW[c] = ULAW_ENCODE[ALAW_DECODE[c]! & 0xffff]!;
}

export function ulawDecode(code: number): number {
  return ULAW_DECODE[code & 0xff]!;
}

export function alawDecode(code: number): number {
  return ALAW_DECODE[code & 0xff]!;
}

/** `sample` is a 16-bit signed integer. */
export function ulawEncode(sample: number): number {
  return ULAW_ENCODE[sample & 0xffff]!;
}

/** `sample` is a 16-bit signed integer. */
export function alawEncode(sample: number): number {
  return ALAW_ENCODE[sample & 0xffff]!;
}

export function ulawToAlaw(code: number): number {
  return ULAW_TO_ALAW[code & 0xff]!;
}

export function alawToUlaw(code: number): number {
  return ALAW_TO_ULAW[code & 0xff]!;
}

/**
 * Decodes `count` codes from `src` (from `srcOffset`, e.g. the RTP payload offset, so no
 * subarray is needed) into `dst` from index 0. Returns the number of samples written.
 */
function decodeInto(
  table: Int16Array,
  src: Uint8Array,
  dst: Int16Array,
  srcOffset: number,
  count: number,
): number {
  for (let i = 0; i < count; i++) dst[i] = table[src[srcOffset + i]!]!;
  return count;
}

/** Encodes `count` samples of `src` into `dst` from `dstOffset`. Returns `count`. */
function encodeInto(
  table: Uint8Array,
  src: Int16Array,
  dst: Uint8Array,
  dstOffset: number,
  count: number,
): number {
  for (let i = 0; i < count; i++) dst[dstOffset + i] = table[src[i]! & 0xffff]!;
  return count;
}

export function decodeUlawInto(
  src: Uint8Array,
  dst: Int16Array,
  srcOffset = 0,
  count = Math.min(src.length - srcOffset, dst.length),
): number {
  return decodeInto(ULAW_DECODE, src, dst, srcOffset, count);
}

export function decodeAlawInto(
  src: Uint8Array,
  dst: Int16Array,
  srcOffset = 0,
  count = Math.min(src.length - srcOffset, dst.length),
): number {
  return decodeInto(ALAW_DECODE, src, dst, srcOffset, count);
}

export function encodeUlawInto(
  src: Int16Array,
  dst: Uint8Array,
  dstOffset = 0,
  count = Math.min(src.length, dst.length - dstOffset),
): number {
  return encodeInto(ULAW_ENCODE, src, dst, dstOffset, count);
}

export function encodeAlawInto(
  src: Int16Array,
  dst: Uint8Array,
  dstOffset = 0,
  count = Math.min(src.length, dst.length - dstOffset),
): number {
  return encodeInto(ALAW_ENCODE, src, dst, dstOffset, count);
}

/**
 * Transcodes bytes [start, end) of `buf` in place with ULAW_TO_ALAW or ALAW_TO_ULAW: a
 * relayed PCMU packet becomes PCMA (same size) without leaving its receive buffer.
 */
export function transcodeInPlace(
  buf: Uint8Array,
  table: Uint8Array,
  start = 0,
  end = buf.length,
): void {
  for (let i = start; i < end; i++) buf[i] = table[buf[i]!]!;
}
