/**
 * One leg inside a worker: its port pair (media/io/packetIo.ts), its negotiated payload
 * types, where its endpoint is (signalled, then latched), its place in the routes, its
 * outbound stream and its reception state. The state the packet path (relay.ts, rtcpSession.ts) reads and
 * writes; the worker core (workerCore.ts) owns the legs and their life cycle.
 *
 * Symmetric RTP (RFC 4961): the leg sends from the port it receives on, to the address
 * it receives from. Latching (`tryLatch`): the first packet from the signalled address,
 * or — within `latchWindowMs` of the leg's start or of a new remote address — the first
 * packet from anywhere (a phone behind NAT signals an address it cannot be reached at).
 * After that the leg only accepts its latched source; anything else is dropped and
 * counted — except the signalled address, which replaces a latch onto another source
 * (that source may have been a stray packet sent to a just-reused port by an ended
 * call's phone, arriving before the real endpoint's first packet). A new remote address
 * (re-INVITE) unlatches and reopens the window.
 */
import { DtmfReceiver } from '../dtmf/dtmfReceiver.js';
import { CHANNEL_RTP } from '../io/packetIo.js';
import type { PortPair } from '../io/packetIo.js';
import type { JitterBuffer } from '../mixer/jitterBuffer.js';
import type { RecordTap } from '../recording/packetRecorder.js';
import { ReceiverStats } from '../rtcp/receiverStats.js';
import { newReportBlock } from '../rtcp/reportBlock.js';
import type { ReportBlock } from '../rtcp/reportBlock.js';
import { encodeCname } from '../rtcp/buildRtcp.js';
import { randomPool } from '../util/randomPool.js';
import { OutboundStream, randomStreamInit } from '../rtp/outboundStream.js';
import { rtpPayloadType, rtpSequence, rtpSsrc, rtpTimestamp } from '../rtp/rtpHeader.js';
import { Counters } from './counters.js';
import { receivesFromEndpoint, sendsToEndpoint } from './direction.js';
import { PayloadMap } from './payloadMap.js';
import type { SourceAudio } from './sourceAudio.js';
import type { LegConfig, LegStats, MediaDirection, RemoteAddress } from './protocol.js';

/** Copies for a second listener of one packet (see `scratch`). A power of two, ≥ 2. */
const RING_SIZE = 8;
/** Larger than any Ethernet-sized RTP packet. */
const RING_BUFFER_SIZE = 2048;

/** The endpoint's own report on the stream we send it (RTCP SR/RR report block). */
export interface RemoteReportState {
  fractionLost: number;
  cumulativeLost: number;
  jitter: number;
  rttMs: number | null;
  atMs: number;
}

export class WorkerLeg {
  readonly id: number;
  readonly port: number;
  readonly label: string | null;
  /** The leg's RTP and RTCP ports; every datagram of the leg goes through it. */
  /** Replaced once when the leg becomes a WebRTC leg (media/secure/securePair.ts). */
  pair: PortPair;
  readonly counters = new Counters();
  readonly outbound = new OutboundStream(randomStreamInit());
  readonly dtmf = new DtmfReceiver();
  /** Reused for every report this leg sends (one source: its endpoint). */
  readonly reportBlocks: ReportBlock[] = [newReportBlock()];

  payloads: PayloadMap;
  forwardDtmf: boolean;
  direction: MediaDirection = 'sendrecv';
  /** The engine sends to the endpoint / accepts from it (derived from `direction`). */
  sending = true;
  receiving = true;

  remote: RemoteAddress | null = null;
  latched = false;
  /** The latch is on the signalled address (else on another one: NAT, or a stray). */
  latchedSignalled = false;
  latchedAddress = '';
  latchedPort = 0;
  /** Until when a packet from anywhere may latch (monotonic ms). */
  latchUntilMs = 0;
  /** Where RTP is sent: the latched source, else the signalled remote; port 0 when unknown. */
  destAddress = '';
  destPort = 0;
  /** RTCP's own peer, learnt from the RTCP the endpoint sends (port 0: none yet). */
  rtcpPeerAddress = '';
  rtcpPeerPort = 0;
  /** The endpoint sent RTCP to our RTP port (RFC 5761 rtcp-mux). */
  rtcpMuxSeen = false;

  /** Legs this one's outbound stream is fed from, and legs fed by this one. */
  sources: WorkerLeg[] = [];
  listeners: WorkerLeg[] = [];
  /** The listener the io relays this leg's RTP to by itself (fastRelay.ts), or null. */
  fastTo: WorkerLeg | null = null;
  /** That route also taps this leg (fastRelay.ts): for its recording, for its room's mix. */
  fastTapped = false;
  fastTapRecords = false;
  fastTapMixes = false;

  /** The room (call) this leg is a participant of, by id; 0 when none. */
  roomId = 0;
  /**
   * How the room feeds this leg's outbound stream when it is not a plain relay (see
   * workerRoom.ts): its index among the room's listeners, -1 when the packet path
   * (relay) or nobody feeds it.
   */
  mixListener = -1;
  /** Packets the room sent this leg (frames, events): the mixer's input sequence numbers. */
  mixSequence = 0;
  /** Timestamp of the last mixed frame sent (the mixer's input timeline). */
  mixTimestamp = 0;
  /**
   * A telephone-event relayed into the mix stream (RFC 4733 §2.5.1.2: all packets of
   * one event share its timestamp): the source and input timestamp of the event, and
   * the mix-timeline timestamp its packets get.
   */
  mixEventSource = 0;
  mixEventInTs = -1;
  mixEventOutTs = 0;
  /** Decoded audio of this leg for the mixer; null when unused. */
  jitter: JitterBuffer | null = null;
  /** Its decoder and rate conversion into the room's mix; null when unused (with jitter). */
  audio: SourceAudio | null = null;
  /**
   * The recording this leg's audio feeds (null: it is not recorded), and the slot its
   * packets go under (media/recording/packetRecorder.ts).
   */
  recordTap: RecordTap | null = null;
  recordSlot = -1;

  /** Reception statistics of the endpoint's current SSRC. */
  inbound: ReceiverStats | null = null;
  /** Monotonic ms of the last accepted RTP packet, -1 before the first. */
  lastRtpMs = -1;
  /** When the media timeout was armed (route joined or first packet), -1 when not yet. */
  armedMs = -1;
  /** The timeout reference (see WorkerCore.sweep) an rtpTimeout was raised for. */
  timeoutRaisedFor = -1;

  /** Payload octets sent (RTCP SR octet count) and when RTP was last sent. */
  payloadOctetsOut = 0;
  lastSentMs = -1;
  nextRtcpMs = 0;
  /** packetsOut at the last report and the one before (§6.4: SR or RR). */
  sentAtLastReport = 0;
  sentAtReportBefore = 0;
  remoteReport: RemoteReportState | null = null;
  closed = false;

  private cnameBytes: Uint8Array | null = null;
  private ring: Buffer[] | null = null;
  private ringNext = 0;

  constructor(
    config: LegConfig,
    pair: PortPair,
    nowMs: number,
    private readonly latchWindowMs: number,
  ) {
    this.id = config.legId;
    this.port = config.port;
    this.label = config.label;
    this.pair = pair;
    this.payloads = this.setPayloads(PayloadMap.of(config.codecs, config.telephoneEvent));
    this.forwardDtmf = config.forwardDtmf;
    this.setDirection(config.direction);
    this.setRemote(config.remote, nowMs);
  }

  /**
   * RFC 7022 §4.2: a random per-session CNAME (96 random bits, base64), from the pool,
   * drawn with the leg's first report (a short call that sends none needs none).
   */
  get cname(): Uint8Array {
    return (this.cnameBytes ??= encodeCname(randomPool.base64(12)));
  }

  setDirection(direction: MediaDirection): void {
    this.direction = direction;
    this.sending = sendsToEndpoint(direction);
    this.receiving = receivesFromEndpoint(direction);
  }

  /**
   * The endpoint's signalled address. The same RTP address keeps the latch (only the
   * RTCP details change); a different one unlatches and reopens the latch window.
   */
  setRemote(remote: RemoteAddress | null, nowMs: number): void {
    const old = this.remote;
    this.remote = remote;
    if (
      old !== null &&
      remote !== null &&
      old.address === remote.address &&
      old.port === remote.port
    ) {
      return;
    }
    this.latched = false;
    this.latchedSignalled = false;
    this.latchedAddress = '';
    this.latchedPort = 0;
    this.rtcpPeerAddress = '';
    this.rtcpPeerPort = 0;
    this.rtcpMuxSeen = false;
    this.latchUntilMs = nowMs + this.latchWindowMs;
    this.destAddress = remote === null ? '' : remote.address;
    this.destPort = remote === null ? 0 : remote.port;
  }

  /**
   * Latches onto `address`:`port` if allowed (see the file comment). Returns 0 when the
   * packet must be dropped, 1 when latched onto the signalled address, 2 onto another
   * (NAT) address.
   */
  tryLatch(address: string, port: number, nowMs: number): 0 | 1 | 2 {
    const signalled = this.isSignalled(address, port);
    if (!signalled && nowMs > this.latchUntilMs) return 0;
    this.latched = true;
    this.latchedSignalled = signalled;
    this.latchedAddress = address;
    this.latchedPort = port;
    this.destAddress = address;
    this.destPort = port;
    return signalled ? 1 : 2;
  }

  /** Whether `address`:`port` is the endpoint's signalled RTP address. */
  isSignalled(address: string, port: number): boolean {
    const r = this.remote;
    return r !== null && port === r.port && address === r.address;
  }

  /**
   * The leg's negotiated payload types; its outbound stream runs on the send codec's
   * RTP clock (48 kHz for Opus: continuity jumps, RTCP and DTMF durations count on it).
   * Returns `map`.
   */
  setPayloads(map: PayloadMap): PayloadMap {
    this.payloads = map;
    this.outbound.setClock(map.sendClockRate);
    return map;
  }

  /**
   * Reception statistics for one accepted packet (RFC 3550 A.1, A.8), on the RTP clock
   * of its payload type (interarrival jitter is in timestamp units).
   */
  observe(buf: Uint8Array, nowMs: number): void {
    const ssrc = rtpSsrc(buf);
    const clockRate = this.payloads.clockRateOf[rtpPayloadType(buf)] || 8000;
    let stats = this.inbound;
    if (stats === null || stats.ssrc !== ssrc || stats.clockRate !== clockRate) {
      stats = this.inbound = new ReceiverStats(ssrc, { clockRate });
    }
    stats.update(rtpSequence(buf), rtpTimestamp(buf), nowMs);
  }

  /**
   * A copy of the first `length` bytes of `msg` in a preallocated buffer, for a listener
   * that needs its own rewrite of a packet another listener rewrites in place; null if
   * the packet is too large. The buffer comes from the ring (see `ringBuffer`).
   */
  scratch(msg: Buffer, length: number): Buffer | null {
    if (length > RING_BUFFER_SIZE) return null;
    const buf = this.ringBuffer();
    msg.copy(buf, 0, 0, length);
    return buf;
  }

  /**
   * The next preallocated packet buffer (RING_BUFFER_SIZE bytes) of the ring, for a
   * packet built here (the mixer's frames). A ring buffer is filled and sent through
   * this leg's pair at once; one that a pending send still reads (queued behind a full
   * socket buffer: PortPair.holds) is skipped — the pair holds at most one caller buffer
   * per port, so the next one is free.
   */
  ringBuffer(): Buffer {
    let ring = this.ring;
    if (ring === null) {
      ring = this.ring = Array.from({ length: RING_SIZE }, () =>
        Buffer.allocUnsafe(RING_BUFFER_SIZE),
      );
    }
    let buf = ring[this.ringNext]!;
    this.ringNext = (this.ringNext + 1) & (RING_SIZE - 1);
    if (this.pair.holds(buf)) {
      buf = ring[this.ringNext]!;
      this.ringNext = (this.ringNext + 1) & (RING_SIZE - 1);
    }
    return buf;
  }

  /** Sends `length` bytes of `buf` as RTP to the endpoint (the caller checked destPort). */
  sendRtp(buf: Buffer, length: number, payloadOctets: number, nowMs: number): void {
    this.pair.send(CHANNEL_RTP, buf, 0, length, this.destPort, this.destAddress);
    const c = this.counters;
    c.packetsOut++;
    c.bytesOut += length;
    this.payloadOctetsOut += payloadOctets;
    this.lastSentMs = nowMs;
  }

  stats(nowMs: number): LegStats {
    const inbound = this.inbound;
    const report = this.remoteReport;
    return {
      legId: this.id,
      direction: this.direction,
      latched: this.latched ? { address: this.latchedAddress, port: this.latchedPort } : null,
      counters: this.counters.snapshot(),
      inbound:
        inbound === null
          ? null
          : {
              ssrc: inbound.ssrc,
              received: inbound.received,
              expected: inbound.expected,
              lost: inbound.cumulativeLost,
              jitterMs: inbound.jitter / (inbound.clockRate / 1000),
            },
      remoteReport:
        report === null
          ? null
          : {
              fractionLost: report.fractionLost / 256,
              cumulativeLost: report.cumulativeLost,
              jitterMs: report.jitter / (this.outbound.clockRate / 1000),
              rttMs: report.rttMs,
              ageMs: nowMs - report.atMs,
            },
      lastRtpAgoMs: this.lastRtpMs < 0 ? null : nowMs - this.lastRtpMs,
    };
  }
}
