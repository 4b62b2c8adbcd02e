/**
 * Reception statistics for one RTP source, the numbers an RR report block carries:
 * RFC 3550 Appendix A.1 (sequence validity with probation, cycles, extended highest
 * sequence number), A.3 (expected, lost, fraction lost since the last report) and A.8
 * (interarrival jitter). A pure object: `update` is called once per received packet with
 * its arrival time, is O(1) and allocates nothing; `fillReportBlock` once per report.
 *
 * Deviations from the appendix code, each a fix of a C integer artefact:
 * - "seq == max_seq + 1" is compared mod 2^16 (the C int promotion misses 65535 → 0);
 * - fraction lost saturates at 255 (a fully lost interval would be 256, which is 0 in
 *   the 8-bit field).
 * Jitter policy (A.8 leaves it open): updated only from in-order packets whose timestamp
 * differs from the previous one, so duplicates, reordering and RFC 4733 events (several
 * packets sharing one timestamp) don't count as jitter; libwebrtc does the same.
 */
import { toCompactDuration, ntpCompact } from './ntp.js';
import type { ReportBlock } from './reportBlock.js';

const SEQ_MOD = 65536;

export interface ReceiverStatsOptions {
  /** RTP clock rate in Hz (default 8000). */
  clockRate?: number;
  /** In-sequence packets needed before a source is valid (A.1 MIN_SEQUENTIAL, default 2). */
  minSequential?: number;
  /** A.1 MAX_DROPOUT (default 3000). */
  maxDropout?: number;
  /** A.1 MAX_MISORDER (default 100). */
  maxMisorder?: number;
}

export class ReceiverStats {
  readonly ssrc: number;
  readonly clockRate: number;
  readonly minSequential: number;
  readonly maxDropout: number;
  readonly maxMisorder: number;

  // A.1 per-source state
  private started = false;
  private maxSeq = 0;
  private cycles = 0;
  private baseSeq = 0;
  private badSeq = SEQ_MOD + 1;
  private probation = 0;
  private receivedCount = 0;
  private expectedPrior = 0;
  private receivedPrior = 0;

  // A.8 jitter, in timestamp units (unscaled float; reported truncated)
  private jitterUnits = 0;
  private haveTransit = false;
  private lastArrivalMs = 0;
  private lastTimestamp = 0;

  // For LSR / DLSR
  private lastSrCompact = 0;
  private lastSrArrivalMs = 0;

  constructor(ssrc: number, options: ReceiverStatsOptions = {}) {
    this.ssrc = ssrc >>> 0;
    this.clockRate = options.clockRate ?? 8000;
    this.minSequential = options.minSequential ?? 2;
    this.maxDropout = options.maxDropout ?? 3000;
    this.maxMisorder = options.maxMisorder ?? 100;
  }

  /**
   * One received packet (A.1 update_seq, then A.8). Returns false while the source is on
   * probation or for a packet after a very large jump (not counted), true otherwise.
   */
  update(sequence: number, timestamp: number, arrivalMs: number): boolean {
    const seq = sequence & 0xffff;
    if (!this.started) {
      this.started = true;
      this.initSeq(seq);
      if (this.minSequential > 0) {
        this.maxSeq = (seq - 1) & 0xffff;
        this.probation = this.minSequential;
      } else {
        this.receivedCount = 1;
        this.updateJitter(timestamp, arrivalMs);
        return true;
      }
    }
    const udelta = (seq - this.maxSeq) & 0xffff;
    if (this.probation > 0) {
      if (seq === ((this.maxSeq + 1) & 0xffff)) {
        this.probation--;
        this.maxSeq = seq;
        if (this.probation === 0) {
          this.initSeq(seq);
          this.receivedCount++;
          this.updateJitter(timestamp, arrivalMs);
          return true;
        }
      } else {
        this.probation = this.minSequential - 1;
        this.maxSeq = seq;
      }
      return false;
    }
    if (udelta < this.maxDropout) {
      // In order, with a permissible gap.
      if (seq < this.maxSeq) this.cycles += SEQ_MOD;
      this.maxSeq = seq;
      this.receivedCount++;
      if (udelta !== 0) this.updateJitter(timestamp, arrivalMs);
      return true;
    }
    if (udelta <= SEQ_MOD - this.maxMisorder) {
      // A very large jump: resync only on two sequential packets (the sender restarted).
      if (seq !== this.badSeq) {
        this.badSeq = (seq + 1) & 0xffff;
        return false;
      }
      this.initSeq(seq);
      this.receivedCount++;
      this.updateJitter(timestamp, arrivalMs);
      return true;
    }
    // Duplicate or reordered: counted (so cumulative loss can go negative), no jitter.
    this.receivedCount++;
    return true;
  }

  /** An SR from this source arrived (for the LSR/DLSR fields, §6.4.1). */
  onSenderReport(ntpSeconds: number, ntpFraction: number, arrivalMs: number): void {
    this.lastSrCompact = ntpCompact(ntpSeconds, ntpFraction);
    this.lastSrArrivalMs = arrivalMs;
  }

  /** Packets counted (A.1 `received`, duplicates included). */
  get received(): number {
    return this.receivedCount;
  }

  /** Extended highest sequence number received (A.3 extended_max), not wrapped. */
  get extendedHighestSequence(): number {
    return this.cycles + this.maxSeq;
  }

  /** Packets expected (A.3), 0 until the source passes probation. */
  get expected(): number {
    if (!this.started || this.probation > 0) return 0;
    return this.cycles + this.maxSeq - this.baseSeq + 1;
  }

  /** Cumulative packets lost (A.3), clamped to the signed 24-bit field. */
  get cumulativeLost(): number {
    const lost = this.expected - this.receivedCount;
    return lost > 0x7fffff ? 0x7fffff : lost < -0x800000 ? -0x800000 : lost;
  }

  /** Interarrival jitter in timestamp units (A.8), as the report carries it. */
  get jitter(): number {
    return Math.floor(this.jitterUnits);
  }

  /**
   * Fills a report block for this source as of `nowMs` (A.3: the fraction lost covers the
   * interval since the previous call, so call it once per report sent). Returns `block`.
   */
  fillReportBlock(block: ReportBlock, nowMs: number): ReportBlock {
    const expected = this.expected;
    const expectedInterval = expected - this.expectedPrior;
    this.expectedPrior = expected;
    const receivedInterval = this.receivedCount - this.receivedPrior;
    this.receivedPrior = this.receivedCount;
    const lostInterval = expectedInterval - receivedInterval;
    let fraction = 0;
    if (expectedInterval > 0 && lostInterval > 0) {
      fraction = Math.floor((lostInterval * 256) / expectedInterval);
      if (fraction > 255) fraction = 255;
    }
    block.ssrc = this.ssrc;
    block.fractionLost = fraction;
    block.cumulativeLost = this.cumulativeLost;
    block.highestSequence = this.extendedHighestSequence >>> 0;
    block.jitter = this.jitter;
    block.lastSr = this.lastSrCompact;
    block.delaySinceLastSr =
      this.lastSrCompact === 0 ? 0 : toCompactDuration(nowMs - this.lastSrArrivalMs);
    return block;
  }

  /**
   * For a relay that continues these statistics elsewhere (the native relay fast path,
   * native/fast_relay.h): writes maxSeq, cycles, received, jitter, whether a transit is
   * known, the last arrival (ms) and timestamp, and the clock rate into `out[at..at+8)`.
   * False (nothing written) while the source is not valid yet (not started, or on
   * probation): only the in-order branch of `update` can be continued there.
   */
  exportRelay(out: Float64Array, at: number): boolean {
    if (!this.started || this.probation > 0) return false;
    out[at] = this.maxSeq;
    out[at + 1] = this.cycles;
    out[at + 2] = this.receivedCount;
    out[at + 3] = this.jitterUnits;
    out[at + 4] = this.haveTransit ? 1 : 0;
    out[at + 5] = this.lastArrivalMs;
    out[at + 6] = this.lastTimestamp;
    out[at + 7] = this.clockRate;
    return true;
  }

  /** Takes back what `exportRelay` wrote, as the relay continued it. */
  importRelay(from: Float64Array, at: number): void {
    this.maxSeq = from[at]!;
    this.cycles = from[at + 1]!;
    this.receivedCount = from[at + 2]!;
    this.jitterUnits = from[at + 3]!;
    this.haveTransit = from[at + 4] !== 0;
    this.lastArrivalMs = from[at + 5]!;
    this.lastTimestamp = from[at + 6]!;
  }

  /** A.1 init_seq. */
  private initSeq(seq: number): void {
    this.baseSeq = seq;
    this.maxSeq = seq;
    this.badSeq = SEQ_MOD + 1;
    this.cycles = 0;
    this.receivedCount = 0;
    this.receivedPrior = 0;
    this.expectedPrior = 0;
    this.haveTransit = false;
  }

  /**
   * A.8: D = (Rj − Ri) − (Sj − Si), J += (|D| − J) / 16, with arrival times converted to
   * timestamp units and the timestamp difference taken mod 2^32 (so wrap is harmless).
   */
  private updateJitter(timestamp: number, arrivalMs: number): void {
    if (this.haveTransit) {
      const dts = (timestamp - this.lastTimestamp) | 0;
      if (dts === 0) return;
      let d = ((arrivalMs - this.lastArrivalMs) * this.clockRate) / 1000 - dts;
      if (d < 0) d = -d;
      this.jitterUnits += (d - this.jitterUnits) / 16;
    }
    this.haveTransit = true;
    this.lastArrivalMs = arrivalMs;
    this.lastTimestamp = timestamp >>> 0;
  }
}
