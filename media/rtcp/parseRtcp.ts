/**
 * Parses a compound RTCP packet (RFC 3550 §6.1): SR and RR fully, SDES, BYE, APP and
 * other types skipped by their length word. Validity per Appendix A.2: version 2 on every
 * packet, the first one an SR or RR, padding only on the last one, and the length words
 * adding up exactly to the datagram. Reduced-size RTCP (RFC 5506) is not negotiated, so
 * a compound that starts with anything else is rejected.
 *
 * RTCP arrives every few seconds per leg, so this builds plain objects; the bytes are not
 * copied (unknown bodies are subarray views). Never throws on network input.
 */
import { readU16, readU32 } from '../util/bytes.js';
import { newReportBlock, readReportBlock, REPORT_BLOCK_SIZE } from './reportBlock.js';
import type { ReportBlock } from './reportBlock.js';
import { RTCP_APP, RTCP_BYE, RTCP_RR, RTCP_SDES, RTCP_SR } from './rtcpTypes.js';
import type { RtcpError, RtcpPacket, RtcpParseResult } from './rtcpTypes.js';

const HEADER_SIZE = 4;
const SR_FIXED_SIZE = 28;
const RR_FIXED_SIZE = 8;

function fail(error: RtcpError): RtcpParseResult {
  return { ok: false, error };
}

function readBlocks(buf: Uint8Array, offset: number, count: number): ReportBlock[] {
  const reports: ReportBlock[] = [];
  for (let i = 0; i < count; i++) {
    reports.push(readReportBlock(buf, offset + i * REPORT_BLOCK_SIZE, newReportBlock()));
  }
  return reports;
}

function otherType(pt: number): 'sdes' | 'bye' | 'app' | 'other' {
  if (pt === RTCP_SDES) return 'sdes';
  if (pt === RTCP_BYE) return 'bye';
  if (pt === RTCP_APP) return 'app';
  return 'other';
}

export function parseRtcpCompound(buf: Uint8Array, length: number = buf.length): RtcpParseResult {
  if (length > buf.length || length < HEADER_SIZE) return fail('too-short');
  if (length % 4 !== 0) return fail('bad-length');
  const packets: RtcpPacket[] = [];
  let offset = 0;
  while (offset < length) {
    if (offset + HEADER_SIZE > length) return fail('bad-length');
    const b0 = buf[offset]!;
    if (b0 >>> 6 !== 2) return fail('bad-version');
    const count = b0 & 0x1f;
    const pt = buf[offset + 1]!;
    if (offset === 0 && pt !== RTCP_SR && pt !== RTCP_RR) return fail('first-not-report');
    const size = (readU16(buf, offset + 2) + 1) * 4;
    const end = offset + size;
    if (end > length) return fail('bad-length');
    let bodyEnd = end;
    if ((b0 & 0x20) !== 0) {
      if (end !== length) return fail('padding-not-last');
      const pad = buf[end - 1]!;
      if (pad === 0 || pad > size - HEADER_SIZE) return fail('bad-padding');
      bodyEnd = end - pad;
    }
    const body = offset + HEADER_SIZE;
    if (pt === RTCP_SR) {
      if (offset + SR_FIXED_SIZE + count * REPORT_BLOCK_SIZE > bodyEnd)
        return fail('report-overrun');
      packets.push({
        type: 'sr',
        ssrc: readU32(buf, body),
        ntpSeconds: readU32(buf, body + 4),
        ntpFraction: readU32(buf, body + 8),
        rtpTimestamp: readU32(buf, body + 12),
        packetCount: readU32(buf, body + 16),
        octetCount: readU32(buf, body + 20),
        reports: readBlocks(buf, offset + SR_FIXED_SIZE, count),
      });
    } else if (pt === RTCP_RR) {
      if (offset + RR_FIXED_SIZE + count * REPORT_BLOCK_SIZE > bodyEnd)
        return fail('report-overrun');
      packets.push({
        type: 'rr',
        ssrc: readU32(buf, body),
        reports: readBlocks(buf, offset + RR_FIXED_SIZE, count),
      });
    } else {
      packets.push({
        type: otherType(pt),
        packetType: pt,
        count,
        body: buf.subarray(body, bodyEnd),
      });
    }
    offset = end;
  }
  return { ok: true, packets };
}
