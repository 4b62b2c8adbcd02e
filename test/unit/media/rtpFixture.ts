/**
 * Test vocabulary: `rtp({ pt, seq, ts, ssrc, … })` builds a datagram byte by byte, without
 * the code under test, so tests read like the protocol (docs/architecture.md §15.11).
 */
export interface RtpSpec {
  pt?: number;
  marker?: boolean;
  seq?: number;
  ts?: number;
  ssrc?: number;
  csrc?: number[];
  /** Header extension: profile word and `words` 32-bit words of data. */
  ext?: { profile: number; words: number };
  payload?: ArrayLike<number>;
  /** Padding octets, the last one holding the count (P bit set when given). */
  pad?: number;
  version?: number;
}

function u32(n: number): number[] {
  return [(n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff];
}

export function rtp(spec: RtpSpec = {}): Buffer {
  const csrc = spec.csrc ?? [];
  const bytes: number[] = [
    ((spec.version ?? 2) << 6) |
      (spec.pad !== undefined ? 0x20 : 0) |
      (spec.ext ? 0x10 : 0) |
      csrc.length,
    (spec.marker ? 0x80 : 0) | (spec.pt ?? 0),
    ((spec.seq ?? 0) >>> 8) & 0xff,
    (spec.seq ?? 0) & 0xff,
    ...u32(spec.ts ?? 0),
    ...u32(spec.ssrc ?? 0x11223344),
  ];
  for (const c of csrc) bytes.push(...u32(c));
  if (spec.ext) {
    bytes.push((spec.ext.profile >>> 8) & 0xff, spec.ext.profile & 0xff);
    bytes.push((spec.ext.words >>> 8) & 0xff, spec.ext.words & 0xff);
    for (let i = 0; i < spec.ext.words * 4; i++) bytes.push(0xee);
  }
  bytes.push(...Array.from(spec.payload ?? []));
  if (spec.pad !== undefined) {
    for (let i = 1; i < spec.pad; i++) bytes.push(0);
    bytes.push(spec.pad);
  }
  return Buffer.from(bytes);
}
