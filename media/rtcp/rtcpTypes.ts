/**
 * RTCP packet types and parsed shapes (RFC 3550 §6.4–§6.7). Every RTCP packet starts with
 * the common header (§6.4.1):
 *
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |V=2|P|  count  |      PT       |   length (32-bit words − 1)   |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 */
import type { ReportBlock } from './reportBlock.js';

export const RTCP_SR = 200;
export const RTCP_RR = 201;
export const RTCP_SDES = 202;
export const RTCP_BYE = 203;
export const RTCP_APP = 204;

/** SDES item type of the canonical name (§6.5.1). */
export const SDES_CNAME = 1;

/** The sender info section of an SR (§6.4.1), after the sender's SSRC. */
export interface SenderInfo {
  ssrc: number;
  ntpSeconds: number;
  ntpFraction: number;
  rtpTimestamp: number;
  packetCount: number;
  octetCount: number;
}

export interface SenderReport extends SenderInfo {
  type: 'sr';
  reports: ReportBlock[];
}

export interface ReceiverReport {
  type: 'rr';
  /** SSRC of the packet's sender. */
  ssrc: number;
  reports: ReportBlock[];
}

/** SDES, BYE, APP and anything else: skipped by length, body kept as a view. */
export interface OtherRtcpPacket {
  type: 'sdes' | 'bye' | 'app' | 'other';
  packetType: number;
  /** The 5-bit count field (source count, subtype…). */
  count: number;
  /** The bytes after the 4-byte header, padding excluded (a view, not a copy). */
  body: Uint8Array;
}

export type RtcpPacket = SenderReport | ReceiverReport | OtherRtcpPacket;

/** Why a compound packet was rejected (RFC 3550 Appendix A.2 validity checks). */
export type RtcpError =
  | 'too-short'
  | 'bad-version'
  | 'first-not-report'
  | 'padding-not-last'
  | 'bad-padding'
  | 'bad-length'
  | 'report-overrun';

export type RtcpParseResult = { ok: true; packets: RtcpPacket[] } | { ok: false; error: RtcpError };
