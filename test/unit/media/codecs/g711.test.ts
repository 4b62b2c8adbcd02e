import { describe, it, expect } from '@jest/globals';
import {
  ALAW_DECODE,
  alawDecode,
  alawEncode,
  alawToUlaw,
  decodeAlawInto,
  decodeUlawInto,
  encodeAlawInto,
  encodeUlawInto,
  transcodeInPlace,
  ULAW_DECODE,
  ULAW_TO_ALAW,
  ulawDecode,
  ulawEncode,
  ulawToAlaw,
} from '../../../../media/codecs/g711.js';

describe('G.711 µ-law (PCMU)', () => {
  it('decodes the known code points', () => {
    expect(ulawDecode(0xff)).toBe(0);
    expect(ulawDecode(0x7f)).toBe(0); // "negative zero"
    expect(ulawDecode(0x80)).toBe(32124);
    expect(ulawDecode(0x00)).toBe(-32124);
    expect(ulawDecode(0xfe)).toBe(8);
    expect(ulawDecode(0x7e)).toBe(-8);
    expect(ulawDecode(0xef)).toBe(132); // segment 1, mantissa 0: (16·8 + 132)·2 − 132
  });

  it('encodes silence and saturates at the extremes', () => {
    expect(ulawEncode(0)).toBe(0xff);
    expect(ulawEncode(-1)).toBe(0x7f);
    expect(ulawEncode(32767)).toBe(0x80);
    expect(ulawEncode(-32768)).toBe(0x00);
    expect(ulawEncode(32124)).toBe(0x80);
  });

  it('round-trips every 16-bit sample within half a quantization step', () => {
    const outOfBound: number[] = [];
    for (let x = -32768; x < 32768; x++) {
      const error = Math.abs(ulawDecode(ulawEncode(x)) - x);
      const m = Math.min(Math.abs(x), 32635);
      // Segment e holds biased magnitudes [128·2^e, 256·2^e), so half a step is 4·2^e;
      // above the 32635 clip the error is the distance to the top level 32124.
      const segment = Math.max(0, Math.floor(Math.log2((m + 132) / 128)));
      const bound = Math.abs(x) > 32635 ? Math.abs(x) - 32124 : 4 << segment;
      if (error > bound) outOfBound.push(x);
    }
    expect(outOfBound).toEqual([]);
  });

  it('is monotonic, and every code decodes to a fixed point of encode', () => {
    let backwards = 0;
    let previous = -Infinity;
    for (let x = -32768; x < 32768; x++) {
      const y = ulawDecode(ulawEncode(x));
      if (y < previous) backwards++;
      previous = y;
    }
    expect(backwards).toBe(0);
    for (let c = 0; c < 256; c++) {
      if (c === 0x7f) continue; // −0 encodes as +0
      expect(ulawEncode(ulawDecode(c))).toBe(c);
    }
  });
});

describe('G.711 A-law (PCMA)', () => {
  it('decodes the known code points', () => {
    expect(alawDecode(0xd5)).toBe(8);
    expect(alawDecode(0x55)).toBe(-8);
    expect(alawDecode(0xaa)).toBe(32256);
    expect(alawDecode(0x2a)).toBe(-32256);
  });

  it('encodes silence and saturates at the extremes', () => {
    expect(alawEncode(0)).toBe(0xd5);
    expect(alawEncode(-1)).toBe(0x55);
    expect(alawEncode(32767)).toBe(0xaa);
    expect(alawEncode(-32768)).toBe(0x2a);
  });

  it('round-trips every 16-bit sample within half a quantization step', () => {
    const outOfBound: number[] = [];
    for (let x = -32768; x < 32768; x++) {
      const error = Math.abs(alawDecode(alawEncode(x)) - x);
      // Magnitudes are ones' complement for negatives (−1 ↔ 0). Segments 0 and 1 step
      // by 16; segment e ≥ 1 holds [256·2^(e−1), 256·2^e) with steps of 8·2^e.
      const m = x < 0 ? -x - 1 : x;
      const segment = m < 512 ? 1 : Math.floor(Math.log2(m / 256)) + 1;
      if (error > (4 << segment) + 1) outOfBound.push(x);
    }
    expect(outOfBound).toEqual([]);
  });

  it('is monotonic, and every code decodes to a fixed point of encode', () => {
    let backwards = 0;
    let previous = -Infinity;
    for (let x = -32768; x < 32768; x++) {
      const y = alawDecode(alawEncode(x));
      if (y < previous) backwards++;
      previous = y;
    }
    expect(backwards).toBe(0);
    for (let c = 0; c < 256; c++) expect(alawEncode(alawDecode(c))).toBe(c);
  });
});

describe('G.711 transcoding tables', () => {
  it('agree with decode → encode for every code', () => {
    for (let c = 0; c < 256; c++) {
      expect(ulawToAlaw(c)).toBe(alawEncode(ulawDecode(c)));
      expect(alawToUlaw(c)).toBe(ulawEncode(alawDecode(c)));
    }
  });

  it('keep silence silent and the sign of every code', () => {
    expect(ulawToAlaw(0xff)).toBe(0xd5);
    expect(alawToUlaw(0xd5)).toBe(0xfe); // +8 is a µ-law level
    for (let c = 0; c < 256; c++) {
      expect(Math.sign(ALAW_DECODE[ULAW_TO_ALAW[c]!]!)).toBe(Math.sign(ULAW_DECODE[c]!) || 1);
    }
  });

  it('move a sample by at most half a step of the target law', () => {
    for (let c = 0; c < 256; c++) {
      const viaAlaw = ALAW_DECODE[ULAW_TO_ALAW[c]!]!;
      expect(viaAlaw).toBe(alawDecode(alawEncode(ULAW_DECODE[c]!)));
      expect(Math.abs(viaAlaw - ULAW_DECODE[c]!)).toBeLessThanOrEqual(513);
    }
  });
});

describe('G.711 frame functions', () => {
  const frame = Int16Array.from({ length: 160 }, (_, i) => Math.round(12000 * Math.sin(i / 5)));

  it('encode and decode whole frames into preallocated buffers at an offset', () => {
    for (const [encode, decode, law] of [
      [encodeUlawInto, decodeUlawInto, ulawEncode],
      [encodeAlawInto, decodeAlawInto, alawEncode],
    ] as const) {
      const packet = new Uint8Array(12 + 160);
      expect(encode(frame, packet, 12)).toBe(160);
      for (let i = 0; i < 160; i++) expect(packet[12 + i]).toBe(law(frame[i]!));
      const pcm = new Int16Array(160);
      expect(decode(packet, pcm, 12)).toBe(160);
      for (let i = 0; i < 160; i++) expect(Math.abs(pcm[i]! - frame[i]!)).toBeLessThan(400);
    }
  });

  it('transcode a payload in place without touching the header', () => {
    const packet = new Uint8Array(12 + 160).fill(0x80, 0, 12);
    encodeUlawInto(frame, packet, 12);
    const ulaw = packet.slice(12);
    transcodeInPlace(packet, ULAW_TO_ALAW, 12, packet.length);
    expect(packet.subarray(0, 12).every((b) => b === 0x80)).toBe(true);
    for (let i = 0; i < 160; i++) expect(packet[12 + i]).toBe(ulawToAlaw(ulaw[i]!));
  });
});
