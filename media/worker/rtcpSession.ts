/**
 * A leg's RTCP (RFC 3550 §6): reports received from the endpoint read into the leg's
 * statistics, and the leg's own compound reports sent every few seconds. RTCP is a few
 * packets per leg per interval, so this allocates freely (parsed objects, one buffer per
 * report).
 *
 * Received: accepted from the endpoint's address only (the latched one, else the
 * signalled one), on the RTCP port or multiplexed on the RTP port (RFC 5761). RTP alone
 * latches (symmetric RTP, RFC 4961): RTCP from elsewhere before the leg latched, while
 * RTP from there could still latch (the latch window), is not yet known to be foreign —
 * it is dropped and counted apart (dropEarlyRtcp), since reading it would let an
 * unverified source set where our reports go. RTCP is periodic (§6.2), so the next
 * report, after RTP latched, is read. After the window only the signalled address can
 * latch, so RTCP from elsewhere is foreign, as RTP from there would be. An SR from
 * the endpoint's current SSRC feeds ReceiverStats' LSR/DLSR; a report block about our
 * SSRC gives the endpoint's view of our stream (loss, jitter) and the round-trip time
 * (§6.4.1: arrival − LSR − DLSR, with our SR stamped from the same wall clock).
 *
 * Sent: SR if the leg sent RTP since the report before last (§6.4), else RR; with one
 * report block on the endpoint's stream once it has passed probation; then SDES CNAME
 * (§6.1: every compound packet carries it); BYE last when the leg closes (§6.6). The
 * destination: the RTP destination when rtcp-mux was negotiated or seen, else where the
 * endpoint's RTCP came from, else the signalled RTCP port (`a=rtcp`, default RTP + 1).
 */
import { parseRtcpCompound } from '../rtcp/parseRtcp.js';
import {
  BYE_SIZE,
  receiverReportSize,
  sdesCnameSize,
  senderReportSize,
  writeBye,
  writeReceiverReport,
  writeSdesCname,
  writeSenderReport,
} from '../rtcp/buildRtcp.js';
import { CHANNEL_RTCP, CHANNEL_RTP } from '../io/packetIo.js';
import { ntpCompact, ntpFraction, ntpSeconds, roundTripMs } from '../rtcp/ntp.js';
import type { WorkerLeg } from './workerLeg.js';

/** A round trip longer than this is a clock or echo error, not a network. */
const MAX_RTT_MS = 60000;

/**
 * One datagram of RTCP, bytes 0..`length` of `msg`, from `address`:`port` (`muxed`: it
 * came to the RTP port).
 */
export function receiveRtcp(
  leg: WorkerLeg,
  msg: Buffer,
  length: number,
  address: string,
  port: number,
  muxed: boolean,
  nowMs: number,
): void {
  const c = leg.counters;
  if (!muxed) {
    c.packetsIn++;
    c.bytesIn += length;
  }
  if (leg.latched ? address !== leg.latchedAddress : address !== leg.remote?.address) {
    if (!leg.latched && nowMs <= leg.latchUntilMs) c.dropEarlyRtcp++;
    else c.dropForeign++;
    return;
  }
  const parsed = parseRtcpCompound(msg, length);
  if (!parsed.ok) {
    c.dropMalformed++;
    return;
  }
  c.rtcpIn++;
  if (muxed) {
    leg.rtcpMuxSeen = true;
  } else {
    leg.rtcpPeerAddress = address;
    leg.rtcpPeerPort = port;
  }
  const inbound = leg.inbound;
  const ourSsrc = leg.outbound.ssrc;
  for (const packet of parsed.packets) {
    if (packet.type !== 'sr' && packet.type !== 'rr') continue;
    if (packet.type === 'sr' && inbound !== null && inbound.ssrc === packet.ssrc) {
      inbound.onSenderReport(packet.ntpSeconds, packet.ntpFraction, nowMs);
    }
    for (const block of packet.reports) {
      if (block.ssrc !== ourSsrc) continue;
      let rttMs: number | null = null;
      if (block.lastSr !== 0) {
        const wall = Date.now();
        const rtt = roundTripMs(
          ntpCompact(ntpSeconds(wall), ntpFraction(wall)),
          block.lastSr,
          block.delaySinceLastSr,
        );
        if (rtt <= MAX_RTT_MS) rttMs = rtt;
      }
      leg.remoteReport = {
        fractionLost: block.fractionLost,
        cumulativeLost: block.cumulativeLost,
        jitter: block.jitter,
        rttMs: rttMs ?? leg.remoteReport?.rttMs ?? null,
        atMs: nowMs,
      };
    }
  }
}

/**
 * Sends the leg's compound report now (with BYE when `bye`). Returns false when the
 * endpoint's address is still unknown, so nothing was sent.
 */
export function sendReport(leg: WorkerLeg, nowMs: number, bye: boolean): boolean {
  let channel = CHANNEL_RTCP;
  let address = leg.destAddress;
  let port = 0;
  if (leg.destPort === 0) return false;
  if (leg.rtcpMuxSeen || leg.remote?.rtcpMux === true) {
    channel = CHANNEL_RTP;
    port = leg.destPort;
  } else if (leg.rtcpPeerPort !== 0) {
    address = leg.rtcpPeerAddress;
    port = leg.rtcpPeerPort;
  } else {
    const remote = leg.remote;
    const signalled = remote !== null && remote.address === address && remote.port === leg.destPort;
    port = signalled && remote.rtcpPort !== undefined ? remote.rtcpPort : leg.destPort + 1;
    if (port > 65535) return false;
  }

  const c = leg.counters;
  const isSender = c.packetsOut !== leg.sentAtReportBefore;
  leg.sentAtReportBefore = leg.sentAtLastReport;
  leg.sentAtLastReport = c.packetsOut;

  const inbound = leg.inbound;
  const blocks = leg.reportBlocks;
  const count = inbound !== null && inbound.expected > 0 ? 1 : 0;
  if (count === 1) inbound!.fillReportBlock(blocks[0]!, nowMs);
  const ssrc = leg.outbound.ssrc;
  const size =
    (isSender ? senderReportSize(count) : receiverReportSize(count)) +
    sdesCnameSize(leg.cname.length) +
    (bye ? BYE_SIZE : 0);
  const buf = Buffer.allocUnsafe(size);
  let offset = 0;
  if (isSender) {
    const wall = Date.now();
    const sinceSent = leg.lastSentMs < 0 ? 0 : nowMs - leg.lastSentMs;
    const clockMs = leg.outbound.clockRate / 1000;
    offset += writeSenderReport(
      buf,
      0,
      {
        ssrc,
        ntpSeconds: ntpSeconds(wall),
        ntpFraction: ntpFraction(wall),
        rtpTimestamp: (leg.outbound.timestamp + Math.round(sinceSent * clockMs)) >>> 0,
        packetCount: c.packetsOut >>> 0,
        octetCount: leg.payloadOctetsOut >>> 0,
      },
      blocks,
      count,
    );
  } else {
    offset += writeReceiverReport(buf, 0, ssrc, blocks, count);
  }
  offset += writeSdesCname(buf, offset, ssrc, leg.cname);
  if (bye) offset += writeBye(buf, offset, ssrc);
  leg.pair.send(channel, buf, 0, offset, port, address);
  c.rtcpOut++;
  return true;
}
