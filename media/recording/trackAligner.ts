/**
 * Where a recorded packet's audio goes in the file: RTP timestamps mapped to sample
 * positions on the recording's timeline (samples since the recording started, at the
 * file's rate). Pure: numbers in, numbers out; the recorder owns the audio.
 *
 * One aligner per source (a leg summed into a track). The first packet ANCHORS the
 * source: its audio is placed so that it ends at the packet's arrival time (on the
 * worker's monotonic clock, relative to the recording's start), and every later packet
 * of that SSRC lands at anchor + (timestamp − anchor timestamp) scaled to the file's
 * rate (RFC 3550 §5.1: the timestamp is the sampling instant). Both tracks are anchored
 * on the same clock, so they stay in step whatever their senders' timestamps are.
 *
 * - A gap (loss, silence suppression, hold) is left empty: the recorder writes silence.
 * - A reordered packet lands in place, provided its audio is not entirely in the part of
 *   the file already written (the recorder writes up to `now − window`).
 * - A duplicate (same SSRC and sequence number as a packet of the last 128) is dropped.
 * - A packet older than the written part is dropped as late.
 * - A new SSRC, a new clock rate, or a timestamp that disagrees with the arrival time by
 *   more than `jumpMs` ahead or `lateMs` behind (a sender that restarted its timestamps)
 *   re-anchors by arrival time, as the first packet did.
 * - A packet NEWER by sequence number whose timestamp did not advance (some phones keep
 *   the timestamp still while they send on hold) cannot be placed by its timestamp: it
 *   would land on the previous packet and, once the file passed that, be dropped as late
 *   for as long as the hold lasts. It is placed by its arrival (re-anchored), so each
 *   such packet follows the previous one in real time.
 * - A run of LATE_RUN packets in a row, each newer by sequence number, that all land
 *   entirely in the written part (a sender whose timestamps fall behind real time) is
 *   re-anchored by arrival too, instead of dropping its audio until `lateMs` is reached.
 */

import type { FrameSource } from './recordingSink.js';

export interface AlignerStats {
  placed: number;
  duplicates: number;
  late: number;
  reanchors: number;
}

const SEEN = 128;
/** In-order packets dropped as late in a row before the source is re-anchored. */
export const LATE_RUN = 3;

/** `place`'s answer for a dropped packet (a position may be negative: before the start). */
export const DROPPED = Number.MIN_SAFE_INTEGER;

export class SourceAligner {
  readonly stats: AlignerStats = { placed: 0, duplicates: 0, late: 0, reanchors: 0 };
  private anchored = false;
  private ssrc = 0;
  private clockRate = 0;
  private anchorTs = 0;
  private anchorPos = 0;
  private highestTs = 0;
  /** Sequence number of the newest packet placed in order. */
  private highestSeq = 0;
  /** In-order packets dropped as late in a row. */
  private lateRun = 0;
  private readonly seen = new Int32Array(SEEN).fill(-1);
  private readonly jumpSamples: number;
  private readonly lateSamples: number;
  private readonly backTicksMs: number;

  /**
   * `rate`: the file's sample rate. `jumpMs`: how far ahead of its arrival a packet's
   * timestamp may place it before the source is re-anchored; `lateMs`: how far behind (a
   * packet that waited in a stalled worker is placed by its timestamp up to this). `backMs`: how much older than the newest
   * a packet may be and still count as reordered (older still: the sender restarted).
   */
  constructor(
    readonly rate: number,
    jumpMs = 500,
    backMs = 2000,
    lateMs = 1500,
  ) {
    this.jumpSamples = (jumpMs * rate) / 1000;
    this.lateSamples = (lateMs * rate) / 1000;
    this.backTicksMs = backMs;
  }

  /**
   * The position (samples since the start, at the file's rate) of the first of `count`
   * samples a packet decodes to (negative when its audio began before the recording), or
   * DROPPED (a duplicate, or late: it would end at or before `written`, the position up
   * to which the file is final).
   * `arrival` is the packet's arrival as a position (same units).
   */
  place(
    ssrc: number,
    seq: number,
    ts: number,
    clockRate: number,
    arrival: number,
    count: number,
    written: number,
  ): number {
    let pos: number;
    // In order by sequence number (RFC 3550 §5.1: wraps at 2^16); not a duplicate.
    const ahead = (seq - this.highestSeq) & 0xffff;
    const inOrder = this.anchored && ahead > 0 && ahead < 0x8000;
    if (!this.anchored || ssrc !== this.ssrc || clockRate !== this.clockRate) {
      pos = this.anchor(ssrc, seq, ts, clockRate, arrival, count);
    } else {
      const d = (ts - this.highestTs) | 0; // signed, RFC 3550 timestamps wrap
      if (d > 0) {
        pos = this.position(ts);
        const expected = arrival - count;
        if (pos - expected > this.jumpSamples || expected - pos > this.lateSamples) {
          pos = this.anchor(ssrc, seq, ts, clockRate, arrival, count);
        } else {
          this.highestTs = ts;
        }
      } else if (inOrder) {
        // A newer packet with a still (or receding) timestamp: place it by arrival.
        pos = this.anchor(ssrc, seq, ts, clockRate, arrival, count);
      } else if ((-d * 1000) / clockRate <= this.backTicksMs) {
        if (this.seen[seq % SEEN] === seq) {
          this.stats.duplicates++;
          return DROPPED;
        }
        pos = this.position(ts);
      } else {
        pos = this.anchor(ssrc, seq, ts, clockRate, arrival, count);
      }
    }
    if (pos + count <= written && inOrder && ++this.lateRun >= LATE_RUN) {
      // Timestamps that fell behind real time: follow the arrival from here.
      pos = this.anchor(ssrc, seq, ts, clockRate, arrival, count);
    }
    if (pos + count <= written) {
      this.stats.late++;
      return DROPPED;
    }
    if (inOrder) {
      this.highestSeq = seq;
      this.lateRun = 0;
    }
    this.seen[seq % SEEN] = seq;
    this.stats.placed++;
    return pos;
  }

  private position(ts: number): number {
    const ticks = (ts - this.anchorTs) | 0;
    return this.anchorPos + Math.round((ticks * this.rate) / this.clockRate);
  }

  private anchor(
    ssrc: number,
    seq: number,
    ts: number,
    clockRate: number,
    arrival: number,
    count: number,
  ): number {
    if (this.anchored) this.stats.reanchors++;
    this.anchored = true;
    this.ssrc = ssrc;
    this.clockRate = clockRate;
    this.anchorTs = ts;
    this.highestTs = ts;
    this.highestSeq = seq;
    this.lateRun = 0;
    // Not clamped at 0: audio from before the recording's start is cut, not shifted.
    this.anchorPos = Math.round(arrival - count);
    this.seen.fill(-1);
    return this.anchorPos;
  }
}

/** The ring of a TrackBuffer: sums and (for a G.711 file) received bytes. */
interface Ring {
  readonly sums: Int32Array;
  readonly raw: Int16Array;
}

/**
 * Rings of ended recordings, kept for the next ones of this thread (a module is loaded per
 * thread): a recorded call then allocates and zeroes no ring (32-64 KB per track) and
 * leaves none to the garbage collector. A ring comes back clear (sums 0, raw -1). Bounded
 * in bytes, about what a worker's recordings hold at a few hundred call set-ups per second
 * (as the WAV recorder's blocks, wavRecorder.ts); beyond, rings are left to the collector.
 */
const freeRings = new Map<string, Ring[]>();
const MAX_FREE_RING_BYTES = 32 * 1024 * 1024;
let freeRingBytes = 0;

function ringBytes(ring: Ring): number {
  return ring.sums.byteLength + ring.raw.byteLength;
}

function ringKey(size: number, keepRaw: boolean): string {
  return keepRaw ? `${size}r` : `${size}`;
}

function takeRing(size: number, keepRaw: boolean): Ring {
  const ring = freeRings.get(ringKey(size, keepRaw))?.pop();
  if (ring !== undefined) {
    freeRingBytes -= ringBytes(ring);
    return ring;
  }
  return { sums: new Int32Array(size), raw: new Int16Array(keepRaw ? size : 0).fill(-1) };
}

function giveRing(ring: Ring, size: number, keepRaw: boolean): void {
  const key = ringKey(size, keepRaw);
  let list = freeRings.get(key);
  if (list === undefined) {
    list = [];
    freeRings.set(key, list);
  }
  if (freeRingBytes + ringBytes(ring) <= MAX_FREE_RING_BYTES) {
    list.push(ring);
    freeRingBytes += ringBytes(ring);
  }
}

/** Rings waiting for reuse in this thread (for tests). */
export function freeRingCount(): number {
  let n = 0;
  for (const list of freeRings.values()) n += list.length;
  return n;
}

const NO_SUMS = new Int32Array(0);
const NO_RAW = new Int16Array(0);

/**
 * One track's audio between the written part of the file and what may still arrive: a
 * ring of 32-bit sums (several sources add up; clamped when taken), optionally with the
 * received G.711 bytes of a sole source so they can be written as received.
 *
 * The ring is taken when the first audio is added (a track that never gets any, or a call
 * that ends before its first packet, needs none) and given back by `release` for the next
 * recording of the thread. The buffer knows where the audio added begins and ends: outside
 * that the track is silent, and `take` writes no samples (the file writes silence in
 * blocks, packetRecorder.ts).
 */
export class TrackBuffer implements FrameSource {
  private sums: Int32Array = NO_SUMS;
  private raw: Int16Array = NO_RAW;
  private ring: Ring | null = null;
  private readonly mask: number;
  /** Position (samples since the start) of the first sample not yet taken. */
  written = 0;
  /** Position after the last sample ever added: from here on the track is silent. */
  end = 0;
  /** Position of the first sample added and not yet taken (valid while not silent). */
  private first = 0;
  /** Samples dropped because they lay beyond the ring (cannot happen within limits). */
  overflow = 0;

  /** Samples it holds beyond `written`. */
  readonly capacity: number;

  /**
   * `capacity` is rounded up to a power of two. `keepRaw`: the file may take received
   * G.711 bytes as they are (a G.711 WAV); otherwise no bytes are kept and `add`/`take`
   * touch only the sums (the common 16-bit PCM file: half the work per sample).
   */
  constructor(
    capacity: number,
    private readonly keepRaw = true,
  ) {
    let size = 1;
    while (size < capacity) size <<= 1;
    this.capacity = size;
    this.mask = size - 1;
  }

  /** Whether the samples from `written` on are all silent (nothing added there). */
  get silent(): boolean {
    return this.written >= this.end;
  }

  /** The track is silent from `written` up to this position (Infinity: from there on). */
  get silentUntil(): number {
    return this.written >= this.end ? Infinity : this.first;
  }

  /**
   * Makes room for `count` samples at `pos`: counts what lies beyond the ring as overflow,
   * takes the ring at the first audio and widens the span [first, end) that holds audio.
   * Returns the end (exclusive, relative to `pos`) of what fits; nothing is reserved when
   * it is not past the samples already written.
   */
  private reserve(pos: number, count: number): number {
    const start = pos < this.written ? this.written - pos : 0;
    let end = count;
    const limit = this.written + this.capacity - pos;
    if (end > limit) {
      this.overflow += end - limit;
      end = limit;
    }
    if (start >= end) return end;
    if (this.ring === null) {
      this.ring = takeRing(this.capacity, this.keepRaw);
      this.sums = this.ring.sums;
      this.raw = this.ring.raw;
    }
    if (this.written >= this.end || pos + start < this.first) this.first = pos + start;
    if (pos + end > this.end) this.end = pos + end;
    return end;
  }

  /**
   * Adds `count` samples of `pcm` at `pos`; the part before `written` is skipped. With
   * `bytes` (G.711 as received, one byte per sample from `bytesOffset`), those bytes are
   * kept to be written as they are; pass null when this track sums several sources.
   */
  add(
    pos: number,
    pcm: Int16Array,
    count: number,
    bytes: Uint8Array | null,
    bytesOffset: number,
  ): void {
    const end = this.reserve(pos, count);
    const start = pos < this.written ? this.written - pos : 0;
    if (start >= end) return;
    const sums = this.sums;
    const raw = this.raw;
    const mask = this.mask;
    if (!this.keepRaw) {
      for (let i = start; i < end; i++) {
        const at = (pos + i) & mask;
        sums[at] = sums[at]! + pcm[i]!;
      }
      return;
    }
    for (let i = start; i < end; i++) {
      const at = (pos + i) & mask;
      sums[at] = sums[at]! + pcm[i]!;
      // Raw bytes only for a sample nobody else wrote: a sum is never passed through.
      raw[at] = bytes !== null && raw[at] === -1 ? bytes[bytesOffset + i]! : -2;
    }
  }

  /**
   * Adds `count` G.711 bytes at `pos`, decoded with `table` (ULAW_DECODE or ALAW_DECODE) as
   * they are summed: the decode fused into the add, no scratch and no second pass. With
   * `keepBytes` (a sole source of a G.711 file), the bytes are kept to be written as they
   * are. The same as `add` of the decoded samples.
   */
  addLaw(
    pos: number,
    table: Int16Array,
    bytes: Uint8Array,
    bytesOffset: number,
    count: number,
    keepBytes: boolean,
  ): void {
    const end = this.reserve(pos, count);
    const start = pos < this.written ? this.written - pos : 0;
    if (start >= end) return;
    const sums = this.sums;
    const mask = this.mask;
    if (!this.keepRaw) {
      // In runs that do not wrap the ring: no mask per sample.
      const size = this.capacity;
      for (let i = start; i < end;) {
        const from = (pos + i) & mask;
        const run = end - i < size - from ? end - i : size - from;
        for (let k = from, b = bytesOffset + i, stop = from + run; k < stop; k++, b++) {
          sums[k] = sums[k]! + table[bytes[b]!]!;
        }
        i += run;
      }
      return;
    }
    const raw = this.raw;
    for (let i = start, b = bytesOffset + start; i < end; i++, b++) {
      const at = (pos + i) & mask;
      const byte = bytes[b]!;
      sums[at] = sums[at]! + table[byte]!;
      raw[at] = keepBytes && raw[at] === -1 ? byte : -2;
    }
  }

  /**
   * Takes the next `count` samples (clamped to int16) into `out`, and their received bytes
   * into `rawOut` (-1 where the sample must be encoded), and clears them for reuse.
   * Returns false, and writes nothing to `out` or `rawOut`, when they are all silent
   * (nothing was added there): the caller writes silence.
   */
  take(out: Int16Array, rawOut: Int16Array | null, count: number): boolean {
    let at = this.written;
    if (at >= this.end || at + count <= this.first) {
      this.written = at + count;
      return false;
    }
    const sums = this.sums;
    const raw = this.raw;
    const mask = this.mask;
    if (!this.keepRaw) {
      for (let i = 0; i < count; i++, at++) {
        const k = at & mask;
        const v = sums[k]!;
        out[i] = v > 32767 ? 32767 : v < -32768 ? -32768 : v;
        sums[k] = 0;
      }
      if (rawOut !== null) rawOut.fill(-1, 0, count);
      this.written = at;
      return true;
    }
    for (let i = 0; i < count; i++, at++) {
      const k = at & mask;
      const v = sums[k]!;
      out[i] = v > 32767 ? 32767 : v < -32768 ? -32768 : v;
      if (rawOut !== null) rawOut[i] = raw[k]! >= 0 ? raw[k]! : -1;
      sums[k] = 0;
      raw[k] = -1;
    }
    this.written = at;
    return true;
  }

  /**
   * As `take`, straight into one channel of an interleaved frame (a WAV block: recordingSink.ts
   * FrameSource): the `count` samples, clamped to int16, go to `out[at]`, `out[at + stride]`,
   * …, zeros where nothing was added, and are cleared for reuse. Returns false when they
   * were all silent.
   */
  takeInto(out: Int16Array, at: number, stride: number, count: number): boolean {
    let pos = this.written;
    this.written = pos + count;
    if (pos >= this.end || pos + count <= this.first) {
      for (let i = 0, o = at; i < count; i++, o += stride) out[o] = 0;
      return false;
    }
    const sums = this.sums;
    const size = this.capacity;
    // In runs that do not wrap the ring: no mask per sample, and the clearing is a fill.
    for (let o = at, left = count; left > 0;) {
      const from = pos & this.mask;
      const run = left < size - from ? left : size - from;
      for (let k = from, stop = from + run; k < stop; k++, o += stride) {
        const v = sums[k]!;
        out[o] = v > 32767 ? 32767 : v < -32768 ? -32768 : v;
      }
      sums.fill(0, from, from + run);
      if (this.keepRaw) this.raw.fill(-1, from, from + run);
      pos += run;
      left -= run;
    }
    return true;
  }

  /** Skips `count` silent samples (only up to `silentUntil`). */
  skip(count: number): void {
    this.written += count;
  }

  /**
   * Gives the ring back for the next recording of the thread, cleared of what was added
   * but not taken. The buffer must not be used afterwards.
   */
  release(): void {
    const ring = this.ring;
    if (ring === null) return;
    this.ring = null;
    this.sums = NO_SUMS;
    this.raw = NO_RAW;
    if (this.end > this.written) {
      // The part added beyond `written` (at most the ring), in ring order: up to two runs.
      const n = Math.min(this.end - this.written, this.capacity);
      const from = this.written & this.mask;
      const first = Math.min(n, this.capacity - from);
      ring.sums.fill(0, from, from + first);
      ring.sums.fill(0, 0, n - first);
      if (this.keepRaw) {
        ring.raw.fill(-1, from, from + first);
        ring.raw.fill(-1, 0, n - first);
      }
    }
    this.end = this.written;
    giveRing(ring, this.capacity, this.keepRaw);
  }
}
