/**
 * The 24-byte report block shared by SR and RR (RFC 3550 §6.4.1):
 *
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+
 * |                 SSRC_1 (SSRC of first source)                 |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * | fraction lost |       cumulative number of packets lost       |  signed 24 bits
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |           extended highest sequence number received           |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                      interarrival jitter                      |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                         last SR (LSR)                         |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                   delay since last SR (DLSR)                  |
 * +=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+
 */
import { readU32, writeU32 } from '../util/bytes.js';

export const REPORT_BLOCK_SIZE = 24;

export interface ReportBlock {
  /** SSRC of the source this block reports on. */
  ssrc: number;
  /** Fraction lost since the previous report, as a fixed point number × 256 (0–255). */
  fractionLost: number;
  /** Cumulative packets lost, signed 24 bits (negative with duplicates). */
  cumulativeLost: number;
  /** Extended highest sequence number received (cycles << 16 | highest seq), mod 2^32. */
  highestSequence: number;
  /** Interarrival jitter in timestamp units. */
  jitter: number;
  /** Middle 32 bits of the last SR's NTP timestamp, 0 if none. */
  lastSr: number;
  /** Delay since that SR in units of 1/65536 s, 0 if none. */
  delaySinceLastSr: number;
}

/** A zeroed block: allocate once per reported source, then refill it. */
export function newReportBlock(): ReportBlock {
  return {
    ssrc: 0,
    fractionLost: 0,
    cumulativeLost: 0,
    highestSequence: 0,
    jitter: 0,
    lastSr: 0,
    delaySinceLastSr: 0,
  };
}

/** Reads the block at `offset` into `out` (no allocation); the caller checked the bounds. */
export function readReportBlock(buf: Uint8Array, offset: number, out: ReportBlock): ReportBlock {
  out.ssrc = readU32(buf, offset);
  out.fractionLost = buf[offset + 4]!;
  out.cumulativeLost =
    (((buf[offset + 5]! << 16) | (buf[offset + 6]! << 8) | buf[offset + 7]!) << 8) >> 8;
  out.highestSequence = readU32(buf, offset + 8);
  out.jitter = readU32(buf, offset + 12);
  out.lastSr = readU32(buf, offset + 16);
  out.delaySinceLastSr = readU32(buf, offset + 20);
  return out;
}

/** Writes `block` at `offset`; cumulative lost is clamped to the signed 24-bit range. */
export function writeReportBlock(buf: Uint8Array, offset: number, block: ReportBlock): void {
  writeU32(buf, offset, block.ssrc);
  const lost =
    block.cumulativeLost > 0x7fffff
      ? 0x7fffff
      : block.cumulativeLost < -0x800000
        ? -0x800000
        : block.cumulativeLost;
  writeU32(buf, offset + 4, ((block.fractionLost & 0xff) << 24) | (lost & 0xffffff));
  writeU32(buf, offset + 8, block.highestSequence);
  writeU32(buf, offset + 12, block.jitter);
  writeU32(buf, offset + 16, block.lastSr);
  writeU32(buf, offset + 20, block.delaySinceLastSr);
}
