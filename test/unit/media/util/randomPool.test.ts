import { describe, it, expect } from '@jest/globals';
import { RandomPool, randomPool } from '../../../../media/util/randomPool.js';
import { randomStreamInit } from '../../../../media/rtp/outboundStream.js';

/** A fill that writes a running byte counter, so every byte handed out is identifiable. */
function countingFill(): { fill: (buf: Buffer) => void; refills: () => number } {
  let next = 0;
  let refills = 0;
  return {
    fill: (buf) => {
      refills++;
      for (let i = 0; i < buf.length; i++) buf[i] = next++ & 0xff;
    },
    refills: () => refills,
  };
}

/** Pearson's χ² of `counts` against a uniform distribution. */
function chiSquare(counts: number[]): number {
  const total = counts.reduce((a, b) => a + b, 0);
  const expected = total / counts.length;
  return counts.reduce((s, c) => s + (c - expected) ** 2 / expected, 0);
}

// χ² with 15 degrees of freedom exceeds 60 with probability below 1e-6: a real bias of
// the kind a wrong draw makes (reused bytes, a masked-off bit) gives thousands.
const CHI2_15 = 60;

describe('RandomPool', () => {
  it('takes its bytes from the CSPRNG 4 KB at a time, not once per value', () => {
    const src = countingFill();
    const pool = new RandomPool(4096, src.fill);
    expect(src.refills()).toBe(0); // nothing drawn before the first value
    for (let i = 0; i < 1024; i++) pool.uint32();
    expect(src.refills()).toBe(1);
    pool.uint32();
    expect(src.refills()).toBe(2);
  });

  it('hands every byte out once, in order, and never again', () => {
    const src = countingFill();
    const pool = new RandomPool(16, src.fill);
    // Bytes 0..3 little-endian, then 4..7, 8..11, 12..15; the 5th value needs a refill.
    expect(pool.uint32()).toBe(0x03020100);
    expect(pool.uint32()).toBe(0x07060504);
    const out = new Uint8Array(6);
    pool.fillBytes(out, 1, 5); // 8..12 (the pool has 8 left)
    expect([...out]).toEqual([0, 8, 9, 10, 11, 12]);
    // 3 bytes left (13..15): too few for a value, so they are dropped, not reused.
    expect(pool.uint32()).toBe(0x13121110);
    expect(src.refills()).toBe(2);
    expect(pool.base64(3)).toBe(Buffer.from([0x14, 0x15, 0x16]).toString('base64'));
  });

  it('refuses a draw larger than the pool', () => {
    const pool = new RandomPool(16, countingFill().fill);
    expect(() => pool.base64(17)).toThrow(RangeError);
    expect(() => pool.fillBytes(new Uint8Array(32), 0, 17)).toThrow(RangeError);
    expect(() => new RandomPool(8)).toThrow(RangeError);
  });

  it('draws uniformly distributed 32-bit values (every bit, the top and the low 16 bits)', () => {
    const n = 40000;
    const bits = new Array<number>(32).fill(0);
    const top = new Array<number>(16).fill(0);
    const low = new Array<number>(16).fill(0);
    const pool = new RandomPool();
    let outOfRange = 0;
    for (let i = 0; i < n; i++) {
      const v = pool.uint32();
      if (!Number.isInteger(v) || v < 0 || v >= 2 ** 32) outOfRange++;
      for (let b = 0; b < 32; b++) bits[b]! += (v >>> b) & 1;
      top[v >>> 28]!++;
      low[v & 0xf]!++;
    }
    expect(outOfRange).toBe(0);
    // Each bit is set half the time: 6 standard deviations (√n / 2 = 100) allowed.
    for (const c of bits) expect(Math.abs(c - n / 2)).toBeLessThan(600);
    expect(chiSquare(top)).toBeLessThan(CHI2_15);
    expect(chiSquare(low)).toBeLessThan(CHI2_15);
  });

  it('gives streams a uniformly random SSRC, first sequence number and timestamp (RFC 3550 §5.1)', () => {
    const n = 20000;
    const ssrc = new Array<number>(16).fill(0);
    const seq = new Array<number>(16).fill(0);
    const seqLow = new Array<number>(16).fill(0);
    const ts = new Array<number>(16).fill(0);
    let outOfRange = 0;
    for (let i = 0; i < n; i++) {
      const init = randomStreamInit();
      if (init.sequence < 0 || init.sequence > 65535 || init.ssrc >= 2 ** 32) outOfRange++;
      ssrc[init.ssrc >>> 28]!++;
      seq[init.sequence >>> 12]!++;
      seqLow[init.sequence & 0xf]!++;
      ts[init.timestamp >>> 28]!++;
    }
    expect(outOfRange).toBe(0);
    for (const counts of [ssrc, seq, seqLow, ts]) expect(chiSquare(counts)).toBeLessThan(CHI2_15);
  });

  it('makes unique 16-character CNAMEs of 96 random bits (RFC 7022 §4.2)', () => {
    const seen = new Set<string>();
    let malformed = 0;
    for (let i = 0; i < 20000; i++) {
      const cname = randomPool.base64(12);
      if (!/^[A-Za-z0-9+/]{16}$/.test(cname)) malformed++;
      seen.add(cname);
    }
    expect(malformed).toBe(0);
    expect(seen.size).toBe(20000);
  });
});
