/**
 * One source's jitter buffer in front of the per-call mixer. The packet path pushes the
 * decoded audio of each accepted RTP packet; the mixer's drift-free 20 ms clock pops
 * exactly one frame per tick. Pure: the caller passes "now" (monotonic milliseconds); no
 * timers, no I/O (docs/architecture.md §15.5: a processor; adapters own the clock).
 *
 * A ring of samples indexed by RTP timestamp. Sample t lives at ring slot (playIdx + (t −
 * playTs)) mod capacity, where playTs is the playout point (the next sample to play) and
 * playIdx its slot; a per-sample "filled" byte marks what has arrived. So any packet
 * duration works (10/20/30/40 ms, even mixed), a reordered packet just writes at its
 * place, and an overlapping or duplicated one writes only the samples still missing.
 * Timestamps compare as signed 32-bit differences (RFC 3550 §5.1: they wrap), sequence
 * numbers as 16-bit ones.
 *
 * Policies (decided here, tested in test/unit/media/mixer/jitterBuffer.test.ts):
 * - Anchor. The first packet, a new SSRC, a timestamp more than `resyncMs` (1 s) away from
 *   where the playout expects it, and the first packet after `reset()` resync: everything
 *   buffered is dropped (stats.resets counts all but the very first anchor) and the
 *   playout point is set to that packet's timestamp − the target depth. The first packet
 *   after the source went silent (see below) starts a new talkspurt the same way but
 *   quietly (not a reset): silence is the safe moment to apply a new target depth.
 *   Until the playout point reaches audio, pop returns null (not silence frames).
 * - Per pop, the frame [playTs, playTs + frameSamples): complete → played. Samples
 *   missing while audio exists after them (loss, or reordering not yet repaired) are
 *   concealed by the previous output frame at the same position, attenuated 6 dB (each
 *   fully concealed frame halves the last one), and the playout moves on. At most
 *   `maxConcealFrames` consecutive frames are concealed; after that a missing frame is
 *   null (silence) and missing parts of frames are zeros.
 * - Underrun: the buffer runs dry inside a talkspurt (nothing buffered at or after the
 *   missing samples: the next packet is late, or the sender stopped). The missing part is
 *   concealed the same way but the playout point is held (advances only over the samples
 *   actually played), so the delay grows by exactly what was missing and the late packet
 *   still plays instead of being discarded. When the concealment budget is spent the
 *   source is silent: pop returns null until the next push (a new talkspurt).
 * - Late: a packet wholly before the playout point is discarded (stats.late); a partly
 *   late one writes only its unplayed part. Duplicates (same sequence number seen in the
 *   last 256, or every sample already present) are discarded (stats.duplicates).
 *   Overflow: samples beyond the ring are discarded (stats.overflow, per packet).
 * - Target depth (stats.depthMs) = clamp(max(minDepth, 3·J + one frame) + boost,
 *   minDepth, maxDepth), J the RFC 3550 §6.4.1 / A.8 interarrival jitter (|D| smoothed
 *   by 1/16, from arrival time vs timestamp; a |D| beyond maxDepth + a frame is a
 *   timestamp discontinuity, not jitter, and is ignored). Boost: +1 frame per late packet
 *   and per repeated underrun (a hold that a later arrival confirmed, within 1 s of the
 *   previous one); −1 frame per 10 s without either (pop's `nowMs` times that). A new
 *   target applies at the next anchor; within a talkspurt it moves the shrink threshold.
 * - Depth control, only at safe moments. Grow: the underrun hold above. Shrink gently:
 *   when more than target + 2 frames is buffered, a frame that is a hole or quiet (peak
 *   ≤ `quietLevel`) is dropped instead of played (stats.skipped counts the samples).
 *   Shrink hard: when more than maxDepth + 1 frame is buffered (a burst after a stall, a
 *   sender clock running fast) the playout jumps ahead to newest − target. Together these
 *   bound a drifting sender: a fast one is trimmed, a slow one is held.
 *
 * Rates. The ring holds PCM at `sampleRate`; RTP timestamps tick at `clockRate`. They are
 * equal for G.711 (8000/8000); G.722 has 2 samples per tick (RTP clock 8000, RFC 3551
 * §4.5.2, audio 16 kHz), Opus decoded at 16 kHz one sample per 3 ticks (RTP clock 48000,
 * RFC 7587 §4.1). A timestamp becomes a sample position relative to an anchor timestamp
 * (re-anchored when it drifts more than 2^30 ticks away), so the 32-bit wrap of either
 * timeline is harmless; with equal rates the mapping is the identity. Every duration
 * (depths, jitter, resync distance) is in samples, every policy as above. `setRates`
 * switches rates (a sender changed codec): it reallocates and resyncs (counted as a reset).
 *
 * Hot path: push and pop are O(packet) / O(frame), allocate nothing (the ring, the marks,
 * the output and history frames and the stats object are preallocated), and never throw.
 */

export interface JitterBufferOptions {
  /** RTP clock rate in Hz (default 8000). */
  clockRate?: number;
  /** Rate of the PCM pushed and popped, in Hz (default: the clock rate). */
  sampleRate?: number;
  /** Samples per pop (default 20 ms at sampleRate: 160 at 8 kHz, 320 at 16 kHz). */
  frameSamples?: number;
  /** Lowest target playout delay (default 40 ms). */
  minDepthMs?: number;
  /** Highest target playout delay (default 200 ms); more buffered is trimmed. */
  maxDepthMs?: number;
  /** Ring size (default 1000 ms); at least maxDepth + 4 frames. */
  capacityMs?: number;
  /** Consecutive concealed frames before a missing frame is silence (default 5 = 100 ms). */
  maxConcealFrames?: number;
  /** A frame whose peak |sample| is at most this may be dropped to shrink the delay (128). */
  quietLevel?: number;
  /** A timestamp further than this from the expected one resyncs (default 1000 ms). */
  resyncMs?: number;
}

export interface JitterBufferStats {
  /** push calls. */
  pushed: number;
  /** Frames popped with audio (real or concealed). */
  popped: number;
  /** Frames (or partial frames) filled by loss concealment. */
  concealed: number;
  /** Packets discarded because their samples were already played out. */
  late: number;
  /** Packets discarded as duplicates. */
  duplicates: number;
  /** Packets with samples discarded because too far ahead (beyond capacity). */
  overflow: number;
  /** Resyncs: new SSRC, big timestamp jump, reset(). */
  resets: number;
  /** Pops that found the buffer dry inside a talkspurt and held the playout point. */
  underruns: number;
  /** Samples of playout delay removed (quiet or missing frames dropped, jumps ahead). */
  skipped: number;
  /** Current target playout delay. */
  depthMs: number;
  /** Current actual delay: newest buffered audio − playout point (0 when dry). */
  bufferedMs: number;
  /** Interarrival jitter estimate (RFC 3550 A.8). */
  jitterMs: number;
}

/** Sequence numbers remembered for duplicate detection (a power of two). */
const SEQ_WINDOW = 256;
/** Two confirmed underruns closer than this grow the target by a frame. */
const REPEAT_UNDERRUN_MS = 1000;
/** The boost shrinks by a frame after this long without a late packet or repeated underrun. */
const BOOST_DECAY_MS = 10000;

/** Ticks a timestamp may drift from the anchor before the anchor moves to it. */
const REANCHOR_TICKS = 2 ** 30;

/** Signed distance a − b in 32-bit timestamp space. */
function tsDiff(a: number, b: number): number {
  return (a - b) | 0;
}

export class JitterBuffer {
  // Set by the constructor and setRates (read them, never write them).
  clockRate = 0;
  sampleRate = 0;
  frameSamples = 0;
  /** Ring size in samples. */
  capacity = 0;
  minDepth = 0;
  maxDepth = 0;
  readonly maxConcealFrames: number;
  readonly quietLevel: number;
  resyncSamples = 0;

  private ring = new Int16Array(0);
  private filled = new Uint8Array(0);
  private readonly seen: Int32Array;
  private out = new Int16Array(0);
  private history = new Int16Array(0);
  private readonly counters: JitterBufferStats;
  private readonly options: JitterBufferOptions;
  /** Samples per RTP tick (1 for G.711) and the timestamp ↔ sample anchor. */
  private samplesPerTick = 1;
  private anchorTicks = 0;
  private anchorSample = 0;

  /** False before the first push and after reset(): the next push anchors. */
  private anchored = false;
  /** The source went silent (dry, concealment spent): the next push starts a talkspurt. */
  private idle = false;
  private ssrc = 0;
  /** Timestamp of the next sample to play, and its ring slot. */
  private playTs = 0;
  private playIdx = 0;
  /** Highest timestamp written + 1 (end of the newest audio). */
  private newestEnd = 0;
  /** A frame with real audio was played this talkspurt (`history` is meaningful). */
  private hasHistory = false;
  /** Consecutive fully concealed frames. */
  private concealRun = 0;
  /** Samples inserted by underrun holds since the last accepted packet. */
  private held = 0;
  /** Target playout delay in samples. */
  private target = 0;
  /** Interarrival jitter in samples (RFC 3550 A.8), and the previous packet's timing. */
  private jitter = 0;
  private hasTransit = false;
  private lastArrival = 0;
  private lastTs = 0;
  private boost = 0;
  private lastBoostMs = 0;
  private lastUnderrunMs = Number.NEGATIVE_INFINITY;

  constructor(options: JitterBufferOptions = {}) {
    this.options = options;
    this.maxConcealFrames = options.maxConcealFrames ?? 5;
    this.quietLevel = options.quietLevel ?? 128;
    this.seen = new Int32Array(SEQ_WINDOW).fill(-1);
    const clockRate = options.clockRate ?? 8000;
    this.configure(clockRate, options.sampleRate ?? clockRate, options.frameSamples);
    this.counters = {
      pushed: 0,
      popped: 0,
      concealed: 0,
      late: 0,
      duplicates: 0,
      overflow: 0,
      resets: 0,
      underruns: 0,
      skipped: 0,
      depthMs: 0,
      bufferedMs: 0,
      jitterMs: 0,
    };
  }

  /** Sizes everything for the rates (throws a RangeError for impossible options). */
  private configure(clockRate: number, sampleRate: number, frameSamples?: number): void {
    const options = this.options;
    if (!(clockRate > 0) || !(sampleRate > 0)) throw new RangeError('rates must be positive');
    const n = frameSamples ?? (sampleRate * 20) / 1000;
    const samples = (ms: number): number => Math.round((ms * sampleRate) / 1000);
    const minDepth = samples(options.minDepthMs ?? 40);
    const maxDepth = samples(options.maxDepthMs ?? 200);
    const capacity = samples(options.capacityMs ?? 1000);
    if (!Number.isInteger(n) || n <= 0) throw new RangeError(`bad frameSamples ${n}`);
    if (minDepth < 0 || maxDepth < minDepth) {
      throw new RangeError('need 0 <= minDepthMs <= maxDepthMs');
    }
    if (capacity < maxDepth + 4 * n) {
      throw new RangeError('capacityMs must exceed maxDepthMs by at least 4 frames');
    }
    this.clockRate = clockRate;
    this.sampleRate = sampleRate;
    this.samplesPerTick = sampleRate / clockRate;
    this.frameSamples = n;
    this.minDepth = minDepth;
    this.maxDepth = maxDepth;
    this.capacity = capacity;
    this.resyncSamples = samples(options.resyncMs ?? 1000);
    if (this.ring.length !== capacity) {
      this.ring = new Int16Array(capacity);
      this.filled = new Uint8Array(capacity);
    }
    if (this.out.length !== n) {
      this.out = new Int16Array(n);
      this.history = new Int16Array(n);
    }
    this.jitter = 0;
    this.boost = 0;
    this.target = minDepth;
  }

  /**
   * Switches to other rates (a sender changed codec; not for the hot path: it may
   * allocate). Everything buffered is dropped and the next push resyncs (a reset).
   * No-op when the rates are unchanged.
   */
  setRates(clockRate: number, sampleRate: number, frameSamples?: number): void {
    const n = frameSamples ?? (sampleRate * 20) / 1000;
    if (clockRate === this.clockRate && sampleRate === this.sampleRate && n === this.frameSamples) {
      return;
    }
    this.configure(clockRate, sampleRate, n);
    if (this.anchored) this.reset();
  }

  /** Counters and gauges (one object, updated in place: copy it to keep a snapshot). */
  get stats(): Readonly<JitterBufferStats> {
    const c = this.counters;
    const buffered = this.anchored && !this.idle ? tsDiff(this.newestEnd, this.playTs) : 0;
    c.depthMs = (this.target * 1000) / this.sampleRate;
    c.bufferedMs = ((buffered > 0 ? buffered : 0) * 1000) / this.sampleRate;
    c.jitterMs = (this.jitter * 1000) / this.sampleRate;
    return c;
  }

  /** The sample position (32-bit, wrapping) of RTP timestamp `ts` (already unsigned). */
  private sampleOf(ts: number, ssrc: number): number {
    if (this.samplesPerTick === 1) return ts;
    const d = tsDiff(ts, this.anchorTicks);
    if (!this.anchored || ssrc !== this.ssrc || d > REANCHOR_TICKS || d < -REANCHOR_TICKS) {
      const sample = (this.anchorSample + Math.round(d * this.samplesPerTick)) >>> 0;
      this.anchorTicks = ts;
      this.anchorSample = sample;
      return sample;
    }
    return (this.anchorSample + Math.round(d * this.samplesPerTick)) >>> 0;
  }

  /**
   * Decoded audio of one RTP packet: `count` int16 samples of `samples` (the caller reuses
   * the array), its RTP SSRC, sequence number and timestamp, and its arrival time in
   * monotonic ms. Returns false when discarded (late, duplicate, overflow).
   */
  push(
    ssrc: number,
    sequence: number,
    timestamp: number,
    samples: Int16Array,
    count: number,
    nowMs: number,
  ): boolean {
    if (count > samples.length) count = samples.length;
    return this.write(ssrc, sequence, timestamp, samples, null, null, 0, count, nowMs);
  }

  /**
   * As `push`, for a table codec's payload (G.711): `count` bytes of `bytes` from
   * `offset`, decoded by `table` (byte → sample, one sample per byte and RTP tick) as they
   * are written into the ring — no decoder, no intermediate frame. The same samples and
   * the same policies as decoding them first and pushing those.
   */
  pushLaw(
    ssrc: number,
    sequence: number,
    timestamp: number,
    table: Int16Array,
    bytes: Uint8Array,
    offset: number,
    count: number,
    nowMs: number,
  ): boolean {
    if (count > bytes.length - offset) count = bytes.length - offset;
    return this.write(ssrc, sequence, timestamp, null, table, bytes, offset, count, nowMs);
  }

  /** push and pushLaw: `samples` given, or `table` and `bytes` from `offset`. */
  private write(
    ssrc: number,
    sequence: number,
    timestamp: number,
    samples: Int16Array | null,
    table: Int16Array | null,
    bytes: Uint8Array | null,
    offset: number,
    count: number,
    nowMs: number,
  ): boolean {
    const c = this.counters;
    c.pushed++;
    ssrc >>>= 0;
    const seq = sequence & 0xffff;
    const ts = this.sampleOf(timestamp >>> 0, ssrc);
    if (!(count > 0)) return false;

    if (!this.anchored) {
      this.resync(ssrc, ts);
    } else if (ssrc !== this.ssrc) {
      c.resets++;
      this.resync(ssrc, ts);
    } else if (this.idle) {
      this.anchor(ts);
    } else {
      const d = tsDiff(ts, this.playTs);
      if (d > this.target + this.resyncSamples || d < -this.resyncSamples) {
        c.resets++;
        this.resync(ssrc, ts);
      }
    }

    const slot = seq & (SEQ_WINDOW - 1);
    if (this.seen[slot] === seq) {
      c.duplicates++;
      return false;
    }
    this.updateJitter(ts, nowMs);

    const d = tsDiff(ts, this.playTs);
    const start = d < 0 ? -d : 0;
    if (start >= count) {
      c.late++;
      this.bump(nowMs);
      return false;
    }
    let end = count;
    if (d + end > this.capacity) {
      end = this.capacity - d;
      c.overflow++;
      if (end <= start) return false;
    }

    const cap = this.capacity;
    const ring = this.ring;
    const filled = this.filled;
    let idx = this.playIdx + d + start;
    if (idx >= cap) idx -= cap;
    let wrote = 0;
    const last = idx + (end - start);
    if (last <= cap && isFree(filled, idx, last)) {
      // The common case: the packet's slots are free and contiguous — one plain copy (or
      // table decode) and a native fill of the flags (no per-sample checks).
      if (samples !== null) {
        for (let i = start, j = idx; i < end; i++, j++) ring[j] = samples[i]!;
      } else {
        for (let i = offset + start, j = idx; j < last; i++, j++) ring[j] = table![bytes![i]!]!;
      }
      filled.fill(1, idx, last);
      wrote = end - start;
    } else {
      for (let i = start; i < end; i++) {
        if (filled[idx] === 0) {
          ring[idx] = samples !== null ? samples[i]! : table![bytes![offset + i]!]!;
          filled[idx] = 1;
          wrote++;
        }
        if (++idx === cap) idx = 0;
      }
    }
    if (wrote === 0) {
      c.duplicates++;
      return false;
    }
    this.seen[slot] = seq;
    const endTs = (ts + end) >>> 0;
    if (tsDiff(endTs, this.newestEnd) > 0) this.newestEnd = endTs;
    if (this.held > 0) {
      // The hold was an underrun (audio kept coming), not the end of the talkspurt.
      this.held = 0;
      if (nowMs - this.lastUnderrunMs <= REPEAT_UNDERRUN_MS) this.bump(nowMs);
      this.lastUnderrunMs = nowMs;
    }
    return true;
  }

  /**
   * The frame for the tick at `nowMs`: frameSamples samples owned by the buffer (valid
   * until the next pop), or null when the source is silent (not started, stopped sending
   * and concealment spent, or a loss longer than the concealment budget).
   */
  pop(nowMs: number): Int16Array | null {
    if (!this.anchored || this.idle) return null;
    const c = this.counters;
    const n = this.frameSamples;
    if (this.boost > 0 && nowMs - this.lastBoostMs >= BOOST_DECAY_MS) {
      this.boost = this.boost > n ? this.boost - n : 0;
      this.lastBoostMs = nowMs;
      this.updateTarget();
    }

    let buffered = tsDiff(this.newestEnd, this.playTs);
    if (buffered > this.maxDepth + n) {
      this.skip(buffered - this.target);
      buffered = this.target;
    } else if (buffered > this.target + 2 * n && this.droppable()) {
      this.skip(n);
      buffered -= n;
    }

    // Scan the frame: how much is there, and how long a run from its start.
    const cap = this.capacity;
    const ring = this.ring;
    const filled = this.filled;
    let present = 0;
    let head = 0;
    let idx = this.playIdx;
    // The common case — a whole frame in one stretch of the ring — is checked and copied
    // in one tight loop (copyWhole: it stops at the first hole); the per-sample scan is
    // for holes and the ring's wrap.
    const end = idx + n;
    const contiguous = end <= cap;
    const out = this.out;
    const history = this.history;
    if (contiguous && copyWhole(filled, ring, idx, out, n)) {
      present = head = n;
    } else {
      for (let i = 0; i < n; i++) {
        if (filled[idx] !== 0) {
          present++;
          if (head === i) head++;
        }
        if (++idx === cap) idx = 0;
      }
    }
    // Dry: nothing is buffered after the frame's leading run.
    const dry = buffered <= head;
    const canConceal = this.hasHistory && this.concealRun < this.maxConcealFrames;

    if (present === 0) {
      if (!canConceal) {
        if (dry) {
          this.idle = true;
          this.hasHistory = false;
          this.held = 0;
        } else {
          this.advance(n);
        }
        return null;
      }
      for (let i = 0; i < n; i++) out[i] = history[i]! >> 1;
      this.concealRun++;
      c.concealed++;
      if (dry) {
        c.underruns++;
        this.held += n;
      } else {
        this.advance(n);
      }
    } else if (present === n && contiguous) {
      // Already copied into `out` by copyWhole.
      this.concealRun = 0;
      this.hasHistory = true;
      this.advance(n);
    } else {
      idx = this.playIdx;
      for (let i = 0; i < n; i++) {
        out[i] = filled[idx] !== 0 ? ring[idx]! : canConceal ? history[i]! >> 1 : 0;
        if (++idx === cap) idx = 0;
      }
      if (present < n && canConceal) c.concealed++;
      this.concealRun = 0;
      this.hasHistory = true;
      if (present < n && dry) {
        c.underruns++;
        this.held += n - head;
        this.advance(head);
      } else {
        this.advance(n);
      }
    }
    history.set(out);
    c.popped++;
    return out;
  }

  /** Drops everything buffered (stale audio must not replay) and resyncs on the next push. */
  reset(): void {
    this.counters.resets++;
    this.anchored = false; // pop returns null; the next push resyncs, clearing the ring
  }

  /** Drops all audio and sequence history and anchors on `ts` for a (new) sender. */
  private resync(ssrc: number, ts: number): void {
    this.anchored = true;
    this.ssrc = ssrc;
    this.filled.fill(0);
    this.seen.fill(-1);
    this.anchor(ts);
  }

  /** Starts a talkspurt: the playout point goes to ts − target. Nothing is buffered. */
  private anchor(ts: number): void {
    this.playTs = (ts - this.target) >>> 0;
    this.newestEnd = this.playTs;
    this.idle = false;
    this.hasHistory = false;
    this.concealRun = 0;
    this.held = 0;
    this.hasTransit = false;
  }

  /** RFC 3550 A.8: J += (|D(i−1, i)| − J) / 16, D from arrival vs timestamp spacing. */
  private updateJitter(ts: number, nowMs: number): void {
    const arrival = (nowMs * this.sampleRate) / 1000;
    if (this.hasTransit) {
      let d = arrival - this.lastArrival - tsDiff(ts, this.lastTs);
      if (d < 0) d = -d;
      // Beyond maxDepth + a frame it is a timestamp discontinuity, not jitter.
      if (d <= this.maxDepth + this.frameSamples) {
        this.jitter += (d - this.jitter) / 16;
        this.updateTarget();
      }
    }
    this.hasTransit = true;
    this.lastArrival = arrival;
    this.lastTs = ts;
  }

  /** A late packet or a repeated underrun: one more frame of target depth. */
  private bump(nowMs: number): void {
    const next = this.boost + this.frameSamples;
    this.boost = next < this.maxDepth ? next : this.maxDepth;
    this.lastBoostMs = nowMs;
    this.updateTarget();
  }

  private updateTarget(): void {
    const fromJitter = Math.round(3 * this.jitter) + this.frameSamples;
    const t = (fromJitter > this.minDepth ? fromJitter : this.minDepth) + this.boost;
    this.target = t < this.maxDepth ? t : this.maxDepth;
  }

  /** The frame at the playout point is a hole or quiet (safe to drop). */
  private droppable(): boolean {
    const cap = this.capacity;
    const quiet = this.quietLevel;
    let idx = this.playIdx;
    const first = this.filled[idx]!;
    for (let i = 0; i < this.frameSamples; i++) {
      if (this.filled[idx] !== first) return false;
      if (first !== 0) {
        const v = this.ring[idx]!;
        if (v > quiet || v < -quiet) return false;
      }
      if (++idx === cap) idx = 0;
    }
    return true;
  }

  /** Drops `count` samples of delay (played past without output). */
  private skip(count: number): void {
    this.counters.skipped += count;
    this.advance(count);
  }

  /** Moves the playout point on by `count` samples, freeing their slots. */
  private advance(count: number): void {
    const cap = this.capacity;
    const filled = this.filled;
    let idx = this.playIdx;
    if (idx + count <= cap) {
      filled.fill(0, idx, idx + count);
      idx += count;
      if (idx === cap) idx = 0;
    } else {
      for (let i = 0; i < count; i++) {
        filled[idx] = 0;
        if (++idx === cap) idx = 0;
      }
    }
    this.playIdx = idx;
    this.playTs = (this.playTs + count) >>> 0;
  }
}

/**
 * Whether every slot of [from, to) is empty. A loop over the packet's own slots: a native
 * `filled.indexOf(1, from)` would scan on to the ring's end (up to a second of samples)
 * whenever the slots after the packet are free, which is the usual case.
 */
function isFree(filled: Uint8Array, from: number, to: number): boolean {
  for (let i = from; i < to; i++) if (filled[i] !== 0) return false;
  return true;
}

/**
 * Copies the `n` samples of `ring` from `from` into `out` if every one of their slots is
 * filled (true); false at the first empty one (`out` is then partly written: the caller
 * rewrites it). One pass instead of a scan for holes and then a copy.
 */
function copyWhole(
  filled: Uint8Array,
  ring: Int16Array,
  from: number,
  out: Int16Array,
  n: number,
): boolean {
  for (let i = 0, j = from; i < n; i++, j++) {
    if (filled[j] === 0) return false;
    out[i] = ring[j]!;
  }
  return true;
}
