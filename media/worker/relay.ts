/**
 * The packet path: one datagram received on a leg's RTP port, validated, latched,
 * counted, and relayed to every listener fed by that leg. Runs once per packet, so it
 * allocates nothing of its own and parses nothing into objects (the header is read in
 * place, rtp/rtpHeader.ts); what Node's dgram allocates per datagram is its business.
 *
 * Per packet, in order:
 * 1. RTCP multiplexed on the RTP port (RFC 5761 §4) goes to rtcpSession.ts.
 * 2. Malformed RTP (short, version ≠ 2, CSRC/extension/padding overrun) is dropped.
 * 3. Symmetric RTP (RFC 4961): latch, or drop a foreign source (WorkerLeg.tryLatch); a
 *    latch onto an unsignalled source is replaced by the signalled address once it sends.
 * 4. A payload type the leg did not negotiate is dropped.
 * 5. Counted as received (media timeout), dropped if the leg's direction doesn't accept
 *    from its endpoint (hold, RFC 3264 §5.1), then ReceiverStats (RFC 3550 A.1, A.8).
 * 6. RFC 4733 telephone-events feed the leg's DtmfReceiver ('dtmf' events), and are
 *    relayed only if the leg forwards DTMF — to relay listeners below, and to listeners
 *    fed from the room's mix through the room (workerRoom.ts forwardEvent).
 * 7. If the leg's audio is recorded, a copy of its payload is queued for the room's
 *    recorder (media/recording/packetRecorder.ts decodes and writes it off this path);
 *    if it feeds its room's mixer (workerRoom.ts), the payload is decoded by the leg's own
 *    decoder (codec table, sourceAudio.ts) into the leg's jitter buffer — both before
 *    step 8 rewrites it in place. A corrupt payload is concealed and counted.
 * 8. For each listener that sends to its endpoint and knows where: the listener's
 *    OutboundStream rewrites SSRC, sequence number, timestamp and marker (one continuous
 *    stream, docs/architecture.md §6.6), the payload type is mapped to the listener's numbering, and
 *    G.711 is transcoded in place if the listener lacks the source's law; a codec the
 *    listener lacks without such a table (G.722, Opus) is dropped (dropCodec). The last
 *    listener gets the received buffer itself; any other gets a copy in a preallocated
 *    buffer (WorkerLeg.scratch), taken before the original is rewritten.
 */
import type { DtmfDigit } from '../dtmf/dtmfReceiver.js';
import { transcodeInPlace } from '../codecs/g711.js';
import {
  isRtcp,
  RTP_INVALID,
  rtpPayloadEnd,
  rtpPayloadOffset,
  rtpPayloadType,
  writeRtpPayloadType,
} from '../rtp/rtpHeader.js';
import { KIND_NONE, KIND_TELEPHONE_EVENT, transcodeTable } from './payloadMap.js';
import { receiveRtcp } from './rtcpSession.js';
import type { WorkerLeg } from './workerLeg.js';

/** What the packet path reports (rare events; the worker core posts them). */
export interface PacketEvents {
  latched(leg: WorkerLeg, signalled: boolean): void;
  dtmf(leg: WorkerLeg, digit: DtmfDigit): void;
  /** A telephone-event of a leg in a room, for its listeners fed from the mix. */
  eventToMix(leg: WorkerLeg, msg: Buffer, length: number, nowMs: number): void;
}

/**
 * One datagram, bytes 0..`length` of `msg`, from `address`:`port` on `leg`'s RTP port, at
 * monotonic `nowMs`. `msg` is the io's receive buffer (media/io/packetIo.ts): rewritten in
 * place and sent here, never kept.
 */
export function receiveRtp(
  leg: WorkerLeg,
  msg: Buffer,
  length: number,
  address: string,
  port: number,
  nowMs: number,
  events: PacketEvents,
): void {
  const c = leg.counters;
  c.packetsIn++;
  c.bytesIn += length;
  if (isRtcp(msg, length)) {
    receiveRtcp(leg, msg, length, address, port, true, nowMs);
    return;
  }
  const end = rtpPayloadEnd(msg, length);
  if (end === RTP_INVALID) {
    c.dropMalformed++;
    return;
  }
  if (!leg.latched) {
    const how = leg.tryLatch(address, port, nowMs);
    if (how === 0) {
      c.dropForeign++;
      return;
    }
    events.latched(leg, how === 1);
  } else if (port !== leg.latchedPort || address !== leg.latchedAddress) {
    // A latch onto an unsignalled source gives way to the signalled address: the first
    // packet in the window may be a stray (a port just reused while an ended call's phone
    // still sends to it) and must not lock the real endpoint out for the whole call.
    if (leg.latchedSignalled || !leg.isSignalled(address, port)) {
      c.dropForeign++;
      return;
    }
    leg.tryLatch(address, port, nowMs);
    events.latched(leg, true);
  }
  const kind = leg.payloads.kindOf[rtpPayloadType(msg)]!;
  if (kind === KIND_NONE) {
    c.dropPayloadType++;
    return;
  }
  c.rtpIn++;
  leg.lastRtpMs = nowMs;
  if (leg.armedMs < 0) leg.armedMs = nowMs;
  if (!leg.receiving) {
    c.dropDirection++;
    return;
  }
  leg.observe(msg, nowMs);
  if (kind === KIND_TELEPHONE_EVENT) {
    const digits = leg.dtmf.pushPacket(msg, length, nowMs);
    for (let i = 0; i < digits.length; i++) events.dtmf(leg, digits[i]!);
    if (!leg.forwardDtmf) {
      c.dropDtmf++;
      return;
    }
    // Before the relay loop below rewrites the packet in place.
    if (leg.roomId !== 0) events.eventToMix(leg, msg, length, nowMs);
  }
  const offset = rtpPayloadOffset(msg, length);
  const tap = leg.recordTap;
  if (tap !== null && kind !== KIND_TELEPHONE_EVENT) {
    tap.push(leg.recordSlot, kind, msg, offset, end, nowMs);
  }
  if (leg.jitter !== null && kind !== KIND_TELEPHONE_EVENT) {
    toJitterBuffer(leg, msg, offset, end, kind, nowMs);
  }
  const listeners = leg.listeners;
  const n = listeners.length;
  if (n === 0) return;
  for (let i = 0; i < n; i++) {
    const listener = listeners[i]!;
    if (!canSend(listener, kind)) continue;
    const buf = i === n - 1 ? msg : listener.scratch(msg, length);
    if (buf === null) {
      listener.counters.dropMalformed++;
      continue;
    }
    forward(leg, listener, buf, length, offset, end, kind, nowMs);
  }
}

/**
 * Step 7 for a datagram the io's relay fast path carried (fastRelay.ts: it did steps 1-6
 * and 8 itself): its payload goes to `leg`'s recording, as received, at its arrival time.
 * This runs in the worker's sweep (or when a route is taken back), not per packet as it
 * arrives, so the recording places it at once, read where it lies (RecordTap.place): no
 * copy into the queue, and `msg` is not kept.
 */
export function tapRelayed(leg: WorkerLeg, msg: Buffer, length: number, arrivalMs: number): void {
  const tap = leg.recordTap;
  if (tap === null) return; // the recording stopped since
  const kind = leg.payloads.kindOf[rtpPayloadType(msg)]!;
  const offset = rtpPayloadOffset(msg, length);
  const end = rtpPayloadEnd(msg, length);
  if (kind === KIND_NONE || kind === KIND_TELEPHONE_EVENT) return;
  if (offset === RTP_INVALID || end === RTP_INVALID) return; // the route relays neither
  tap.place(leg.recordSlot, kind, msg, offset, end, arrivalMs);
}

/**
 * The mix's half of step 7 for a datagram the relay fast path carried (fastRelay.ts): its
 * payload decoded into `leg`'s jitter buffer at its arrival time. The worker runs it before
 * each frame, for what arrived since the last one, so the frame pops what it would have,
 * had each packet been received here.
 */
export function tapToMix(leg: WorkerLeg, msg: Buffer, length: number, arrivalMs: number): void {
  if (leg.jitter === null) return;
  const kind = leg.payloads.kindOf[rtpPayloadType(msg)]!;
  if (kind === KIND_NONE || kind === KIND_TELEPHONE_EVENT) return;
  const offset = rtpPayloadOffset(msg, length);
  const end = rtpPayloadEnd(msg, length);
  if (offset === RTP_INVALID || end === RTP_INVALID) return; // the route relays neither
  toJitterBuffer(leg, msg, offset, end, kind, arrivalMs);
}

/** Whether `listener` takes a packet of `kind` now; counts the reason when it doesn't. */
function canSend(listener: WorkerLeg, kind: number): boolean {
  const c = listener.counters;
  if (!listener.sending) {
    c.dropDirection++;
    return false;
  }
  if (listener.destPort === 0) {
    c.dropNoDestination++;
    return false;
  }
  const map = listener.payloads;
  if (kind === KIND_TELEPHONE_EVENT) {
    if (map.payloadTypeOf[KIND_TELEPHONE_EVENT]! < 0) {
      c.dropDtmf++;
      return false;
    }
  } else if (map.payloadTypeOf[kind]! < 0 && transcodeTable(kind, map.sendKind) === null) {
    // A codec the listener did not negotiate and no table gives it (G.722, Opus): never
    // forwarded as is (RFC 3264 §5.1); such a listener must be fed from the room's mix.
    c.dropCodec++;
    return false;
  }
  return true;
}

/** Rewrites `buf` (a packet of `source`) in place for `listener` and sends it. */
function forward(
  source: WorkerLeg,
  listener: WorkerLeg,
  buf: Buffer,
  length: number,
  offset: number,
  end: number,
  kind: number,
  nowMs: number,
): void {
  const map = listener.payloads;
  let payloadType = map.payloadTypeOf[kind]!;
  let table: Uint8Array | null = null;
  if (payloadType < 0) {
    // An audio codec the listener lacks, with a table to its own (checked by canSend).
    payloadType = map.payloadTypeOf[map.sendKind]!;
    table = transcodeTable(kind, map.sendKind);
  }
  if (!listener.outbound.rewrite(buf, source.id, nowMs)) {
    listener.counters.dropStale++;
    return;
  }
  writeRtpPayloadType(buf, payloadType);
  if (table !== null) transcodeInPlace(buf, table, offset, end);
  listener.sendRtp(buf, length, end - offset, nowMs);
}

/** Decodes one audio payload into the leg's jitter buffer (its room uses its audio). */
function toJitterBuffer(
  leg: WorkerLeg,
  msg: Buffer,
  offset: number,
  end: number,
  kind: number,
  nowMs: number,
): void {
  if (end - offset <= 0 || leg.audio === null) return;
  leg.audio.receive(leg.jitter!, msg, offset, end, kind, nowMs);
}
