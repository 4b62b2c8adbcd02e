/**
 * Writes RTCP packets into a preallocated buffer (RFC 3550 §6.4.1 SR, §6.4.2 RR, §6.5
 * SDES with a CNAME item, §6.6 BYE). A compound packet is these written back to back:
 * an SR or RR first, then SDES CNAME (§6.1), optionally BYE last. Each writer returns the
 * number of bytes written and allocates nothing; a buffer too small or more than 31 report
 * blocks is the caller's bug and throws a RangeError.
 */
import { writeU16, writeU32 } from '../util/bytes.js';
import { REPORT_BLOCK_SIZE, writeReportBlock } from './reportBlock.js';
import type { ReportBlock } from './reportBlock.js';
import { RTCP_BYE, RTCP_RR, RTCP_SDES, RTCP_SR, SDES_CNAME } from './rtcpTypes.js';
import type { SenderInfo } from './rtcpTypes.js';

const MAX_COUNT = 31;

export function senderReportSize(blockCount: number): number {
  return 28 + blockCount * REPORT_BLOCK_SIZE;
}

export function receiverReportSize(blockCount: number): number {
  return 8 + blockCount * REPORT_BLOCK_SIZE;
}

/** Header + one chunk: SSRC, CNAME item (type, length, text), ≥1 null octet, 32-bit aligned. */
export function sdesCnameSize(cnameLength: number): number {
  return 4 + ((4 + 2 + cnameLength + 1 + 3) & ~3);
}

export const BYE_SIZE = 8;

/** The CNAME as bytes, once per stream (§6.5.1: e.g. "user@host", at most 255 bytes). */
const UTF8 = new TextEncoder();

export function encodeCname(cname: string): Uint8Array {
  const bytes = UTF8.encode(cname);
  if (bytes.length > 255) throw new RangeError('CNAME longer than 255 bytes');
  return bytes;
}

function check(buf: Uint8Array, offset: number, size: number, count: number): void {
  if (count > MAX_COUNT) throw new RangeError(`at most ${MAX_COUNT} report blocks`);
  if (offset < 0 || offset + size > buf.length) throw new RangeError('RTCP buffer too small');
}

function writeHeader(
  buf: Uint8Array,
  offset: number,
  count: number,
  pt: number,
  size: number,
): void {
  buf[offset] = 0x80 | count;
  buf[offset + 1] = pt;
  writeU16(buf, offset + 2, size / 4 - 1);
}

/** SR with the first `count` of `blocks`. */
export function writeSenderReport(
  buf: Uint8Array,
  offset: number,
  sender: SenderInfo,
  blocks: readonly ReportBlock[],
  count: number = blocks.length,
): number {
  const size = senderReportSize(count);
  check(buf, offset, size, count);
  writeHeader(buf, offset, count, RTCP_SR, size);
  writeU32(buf, offset + 4, sender.ssrc);
  writeU32(buf, offset + 8, sender.ntpSeconds);
  writeU32(buf, offset + 12, sender.ntpFraction);
  writeU32(buf, offset + 16, sender.rtpTimestamp);
  writeU32(buf, offset + 20, sender.packetCount);
  writeU32(buf, offset + 24, sender.octetCount);
  for (let i = 0; i < count; i++)
    writeReportBlock(buf, offset + 28 + i * REPORT_BLOCK_SIZE, blocks[i]!);
  return size;
}

/** RR from `ssrc` with the first `count` of `blocks` (count 0: an empty RR, §6.4.2). */
export function writeReceiverReport(
  buf: Uint8Array,
  offset: number,
  ssrc: number,
  blocks: readonly ReportBlock[],
  count: number = blocks.length,
): number {
  const size = receiverReportSize(count);
  check(buf, offset, size, count);
  writeHeader(buf, offset, count, RTCP_RR, size);
  writeU32(buf, offset + 4, ssrc);
  for (let i = 0; i < count; i++)
    writeReportBlock(buf, offset + 8 + i * REPORT_BLOCK_SIZE, blocks[i]!);
  return size;
}

/** SDES with one chunk holding only the CNAME item (§6.5, §6.5.1). */
export function writeSdesCname(
  buf: Uint8Array,
  offset: number,
  ssrc: number,
  cname: Uint8Array,
): number {
  if (cname.length > 255) throw new RangeError('CNAME longer than 255 bytes');
  const size = sdesCnameSize(cname.length);
  check(buf, offset, size, 1);
  writeHeader(buf, offset, 1, RTCP_SDES, size);
  writeU32(buf, offset + 4, ssrc);
  buf[offset + 8] = SDES_CNAME;
  buf[offset + 9] = cname.length;
  buf.set(cname, offset + 10);
  // The item list ends with a null octet, then nulls up to the 32-bit boundary.
  buf.fill(0, offset + 10 + cname.length, offset + size);
  return size;
}

/** BYE for one SSRC, no reason (§6.6). */
export function writeBye(buf: Uint8Array, offset: number, ssrc: number): number {
  check(buf, offset, BYE_SIZE, 1);
  writeHeader(buf, offset, 1, RTCP_BYE, BYE_SIZE);
  writeU32(buf, offset + 4, ssrc);
  return BYE_SIZE;
}
