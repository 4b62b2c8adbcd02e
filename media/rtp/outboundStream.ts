/**
 * One leg's outbound RTP as ONE stream (docs/architecture.md §6.6): one SSRC, contiguous sequence numbers
 * and timestamps on the media clock, whatever feeds it — relay from another leg, the
 * mixer, a new source after a takeover, and every switch between them. Phones mute or
 * glitch on a stream that jumps; this is the rewriter that prevents it. Pure: the caller
 * passes the input packet's fields and "now" (monotonic milliseconds); no timers, no I/O.
 *
 * Segments. Consecutive packets from the same source (same source id and same input SSRC)
 * form a segment, mapped by two fixed offsets: out seq = in seq + seqOffset (mod 2^16),
 * out ts = in ts + tsOffset (mod 2^32). So within a segment the source's own spacing
 * survives untouched: real loss, silence-suppression gaps, reordering, and the RFC 4733
 * rule that every packet of one telephone event carries the event's timestamp.
 *
 * Policies (decided here, tested in test/unit/media/rtp/outboundStream.test.ts):
 * - A new segment starts on a source change (id or input SSRC), on a sequence jump of
 *   more than `maxGap` either way, on a timestamp that disagrees with the wall clock
 *   by more than `maxSkewMs` (a sender that restarted, or stopped its clock during hold),
 *   and after `interrupt()` (the owner stopped forwarding for a while: hold, re-route).
 * - First packet of a segment: sequence = last sent + 1 (never a skip, never a repeat);
 *   timestamp = highest timestamp sent + the wall time elapsed since that timestamp was
 *   first sent × clock rate, but at least `frameSamples` (the leg's packet duration, so
 *   the new audio never overlaps the last packet sent); marker bit set (RFC 3551 §4.1:
 *   marker on the first packet of a talkspurt — the receiver may resync its playout).
 * - Within a segment: an in-order packet that skips input sequence numbers (gap ≤
 *   `maxGap`, default 100) skips the same output numbers, so the receiver's loss counters
 *   and concealment see the real upstream loss. A reordered or duplicate packet is passed
 *   with its mapped numbers (it fills its hole, or duplicates as upstream did), unless it
 *   maps before the segment's first packet: those numbers belong to the previous source
 *   and it is dropped (`next` returns false). Input marker bits pass through.
 * - The mixer is a source like any other: it numbers the frames it actually sends
 *   contiguously and stamps them frameIndex × frameSamples, so frames it chooses not to
 *   send read as silence (timestamp gap), not as loss (sequence gap).
 *
 * Hot path: `next` and `rewrite` are O(1), allocate nothing, and never throw.
 */
import {
  rtpMarker,
  rtpSequence,
  rtpSsrc,
  rtpTimestamp,
  writeRtpMarker,
  writeRtpSequence,
  writeRtpSsrc,
  writeRtpTimestamp,
} from './rtpHeader.js';
import { randomPool } from '../util/randomPool.js';

export interface OutboundStreamInit {
  /** The stream's SSRC, fixed for its life (inject for deterministic tests). */
  ssrc: number;
  /** Sequence number of the first packet sent. */
  sequence: number;
  /** Timestamp of the first packet sent. */
  timestamp: number;
  /** RTP clock rate in Hz (8000 for G.711 and telephone-event at 8 kHz). */
  clockRate?: number;
  /** Minimum timestamp advance at a segment start: one packet (160 = 20 ms at 8 kHz). */
  frameSamples?: number;
  /** Largest input sequence gap mirrored as loss within a segment (default 100). */
  maxGap?: number;
  /** Largest disagreement between a source's timestamps and the wall clock (default 1000). */
  maxSkewMs?: number;
}

/**
 * Random SSRC, first sequence number and first timestamp (RFC 3550 §5.1 wants them random),
 * from the thread's pool of CSPRNG bytes (util/randomPool.ts: no system call per stream).
 */
export function randomStreamInit(): OutboundStreamInit {
  const ssrc = randomPool.uint32();
  const sequence = randomPool.uint32() & 0xffff;
  return { ssrc, sequence, timestamp: randomPool.uint32() };
}

/** Signed distance a − b in 16-bit sequence space. */
function seqDiff(a: number, b: number): number {
  return (((a - b) << 16) >> 16) | 0;
}

/** Signed distance a − b in 32-bit timestamp space. */
function tsDiff(a: number, b: number): number {
  return (a - b) | 0;
}

export class OutboundStream {
  readonly ssrc: number;
  /** RTP clock rate in Hz: the leg's send codec's (setClock). */
  get clockRate(): number {
    return this.clock;
  }
  /** The leg's packet duration in timestamp units. */
  get frameSamples(): number {
    return this.frame;
  }
  get maxSkewSamples(): number {
    return this.maxSkew;
  }
  private clock: number;
  private frame: number;
  private maxSkew: number;
  private readonly maxSkewMs: number;
  readonly maxGap: number;

  /** Packets passed, packets dropped (stale after a switch), segments started. */
  sent = 0;
  dropped = 0;
  segments = 0;

  private readonly firstSequence: number;
  private readonly firstTimestamp: number;
  private outSequence = 0;
  private outTimestamp = 0;
  private outMarker = false;

  private started = false;
  private source = 0;
  private sourceSsrc = 0;
  private seqOffset = 0;
  private tsOffset = 0;
  /** Highest input sequence number of the segment. */
  private inHighSeq = 0;
  /** Highest input timestamp of the segment, and when it first arrived. */
  private inRefTs = 0;
  private inRefMs = 0;
  /** First output sequence number of the segment. */
  private segmentFirstSeq = 0;
  /** Highest output sequence number sent. */
  private highSeq = 0;
  /** Highest output timestamp sent, and when it was first sent. */
  private outRefTs = 0;
  private outRefMs = 0;

  constructor(init: OutboundStreamInit) {
    this.ssrc = init.ssrc >>> 0;
    this.firstSequence = init.sequence & 0xffff;
    this.firstTimestamp = init.timestamp >>> 0;
    this.clock = init.clockRate ?? 8000;
    this.frame = init.frameSamples ?? (this.clock * 20) / 1000;
    this.maxGap = init.maxGap ?? 100;
    this.maxSkewMs = init.maxSkewMs ?? 1000;
    this.maxSkew = (this.maxSkewMs * this.clock) / 1000;
  }

  /**
   * The leg's codec changed to one on another RTP clock (8 kHz G.711/G.722, 48 kHz Opus):
   * wall-clock jumps, the skew limit and the minimum step are counted on the new clock
   * from the next packet on, which starts a new segment (a new payload type is a new
   * timeline for the receiver anyway). The packet duration keeps its length in time.
   */
  setClock(clockRate: number): void {
    if (clockRate === this.clock || !(clockRate > 0)) return;
    this.frame = (this.frame * clockRate) / this.clock;
    this.clock = clockRate;
    this.maxSkew = (this.maxSkewMs * clockRate) / 1000;
    this.interrupt();
  }

  /** Output sequence number of the last packet `next` accepted. */
  get sequence(): number {
    return this.outSequence;
  }

  /** Output timestamp of the last packet `next` accepted. */
  get timestamp(): number {
    return this.outTimestamp;
  }

  /** The source id of the current segment (0 before the first packet). */
  get sourceId(): number {
    return this.source;
  }

  /** Output marker bit of the last packet `next` accepted. */
  get marker(): boolean {
    return this.outMarker;
  }

  /**
   * Maps one input packet. `source` identifies the feeder (a leg, the mixer, a tone…);
   * `ssrc` is the input packet's SSRC (a change starts a new segment too). Returns true
   * with `sequence`, `timestamp` and `marker` set for the packet to send, or false when
   * the packet must be dropped.
   */
  next(
    source: number,
    ssrc: number,
    sequence: number,
    timestamp: number,
    marker: boolean,
    nowMs: number,
  ): boolean {
    if (!this.started || source !== this.source || ssrc !== this.sourceSsrc) {
      return this.startSegment(source, ssrc, sequence, timestamp, nowMs);
    }
    const d = seqDiff(sequence, this.inHighSeq);
    if (d > this.maxGap || d < -this.maxGap) {
      return this.startSegment(source, ssrc, sequence, timestamp, nowMs);
    }
    if (d > 0) {
      const dts = tsDiff(timestamp, this.inRefTs);
      if (dts > 0) {
        const skew = dts - ((nowMs - this.inRefMs) * this.clock) / 1000;
        if (skew > this.maxSkew || skew < -this.maxSkew) {
          return this.startSegment(source, ssrc, sequence, timestamp, nowMs);
        }
        this.inRefTs = timestamp;
        this.inRefMs = nowMs;
      } else if (dts < -this.maxSkew) {
        return this.startSegment(source, ssrc, sequence, timestamp, nowMs);
      }
      this.inHighSeq = sequence;
      this.highSeq = (sequence + this.seqOffset) & 0xffff;
      this.outSequence = this.highSeq;
    } else {
      const out = (sequence + this.seqOffset) & 0xffff;
      if (seqDiff(out, this.segmentFirstSeq) < 0) {
        this.dropped++;
        return false;
      }
      this.outSequence = out;
    }
    const outTs = (timestamp + this.tsOffset) >>> 0;
    if (tsDiff(outTs, this.outRefTs) > 0) {
      this.outRefTs = outTs;
      this.outRefMs = nowMs;
    }
    this.outTimestamp = outTs;
    this.outMarker = marker;
    this.sent++;
    return true;
  }

  /**
   * The next packet starts a new segment even if it comes from the same source. For gaps
   * the stream's owner caused — it stopped sending (hold, a route change) or dropped the
   * source's packets — which must read as a pause (contiguous sequence, timestamp on the
   * wall clock), not as loss. No input SSRC is negative, so the next packet never matches.
   */
  interrupt(): void {
    this.sourceSsrc = -1;
  }

  /**
   * `next` on a validated RTP packet, rewriting its sequence number, timestamp, SSRC and
   * marker in place when it is to be sent. The payload type is the caller's (per-leg
   * mapping, writeRtpPayloadType).
   */
  rewrite(buf: Uint8Array, source: number, nowMs: number): boolean {
    const ssrc = rtpSsrc(buf);
    if (!this.next(source, ssrc, rtpSequence(buf), rtpTimestamp(buf), rtpMarker(buf), nowMs)) {
      return false;
    }
    writeRtpSequence(buf, this.outSequence);
    writeRtpTimestamp(buf, this.outTimestamp);
    writeRtpSsrc(buf, this.ssrc);
    writeRtpMarker(buf, this.outMarker);
    return true;
  }

  /**
   * The current segment as the numbers a relay fast path continues it from (order of
   * native/fast_relay.h's StateField; times on performance.now()'s clock), written into
   * `out` (RELAY_STATE_FIELDS entries). False when there is no segment to continue
   * (nothing sent yet, or `interrupt` was called): the next packet starts one here.
   */
  exportSegment(out: Float64Array): boolean {
    if (!this.started || this.sourceSsrc < 0) return false;
    out[0] = this.sourceSsrc;
    out[1] = this.seqOffset;
    out[2] = this.tsOffset;
    out[3] = this.inHighSeq;
    out[4] = this.inRefTs;
    out[5] = this.inRefMs;
    out[6] = this.highSeq;
    out[7] = this.outRefTs;
    out[8] = this.outRefMs;
    out[9] = this.outSequence;
    out[10] = this.outTimestamp;
    out[11] = this.outMarker ? 1 : 0;
    out[12] = this.sent;
    out[13] = this.ssrc;
    out[14] = this.maxGap;
    out[15] = this.maxSkew;
    out[16] = this.clock;
    return true;
  }

  /**
   * Takes back a segment a relay fast path continued (what `exportSegment` handed out,
   * advanced by the packets it sent), for the same source: the stream goes on from it.
   */
  importSegment(state: Float64Array): void {
    this.seqOffset = state[1]!;
    this.tsOffset = state[2]!;
    this.inHighSeq = state[3]!;
    this.inRefTs = state[4]!;
    this.inRefMs = state[5]!;
    this.highSeq = state[6]!;
    this.outRefTs = state[7]!;
    this.outRefMs = state[8]!;
    this.outSequence = state[9]!;
    this.outTimestamp = state[10]!;
    this.outMarker = state[11] !== 0;
    this.sent = state[12]!;
  }

  private startSegment(
    source: number,
    ssrc: number,
    sequence: number,
    timestamp: number,
    nowMs: number,
  ): boolean {
    let outSeq: number;
    let outTs: number;
    if (this.started) {
      outSeq = (this.highSeq + 1) & 0xffff;
      const elapsed = Math.round(((nowMs - this.outRefMs) * this.clock) / 1000);
      outTs = (this.outRefTs + (elapsed > this.frame ? elapsed : this.frame)) >>> 0;
    } else {
      this.started = true;
      outSeq = this.firstSequence;
      outTs = this.firstTimestamp;
    }
    this.source = source;
    this.sourceSsrc = ssrc;
    this.seqOffset = (outSeq - sequence) & 0xffff;
    this.tsOffset = (outTs - timestamp) >>> 0;
    this.inHighSeq = sequence;
    this.inRefTs = timestamp;
    this.inRefMs = nowMs;
    this.segmentFirstSeq = outSeq;
    this.highSeq = outSeq;
    this.outRefTs = outTs;
    this.outRefMs = nowMs;
    this.outSequence = outSeq;
    this.outTimestamp = outTs;
    this.outMarker = true;
    this.segments++;
    this.sent++;
    return true;
  }
}
