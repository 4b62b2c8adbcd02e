/**
 * The recording tap fed from packets (docs/architecture.md, recording): the packet path
 * queues a copy of every accepted audio payload of a recorded leg (PacketQueue; a payload
 * the relay fast path carried is handed over in the sweep and placed at once, `place`),
 * and this recorder, OFF the packet path (the worker's periodic sweep calls `drain`), decodes them
 * with stateful decoders from the codec table (G.711 at the file's rate by table as it is
 * summed), aligns them by RTP timestamp
 * (trackAligner.ts), sums the legs of each track, and writes the file in frames.
 *
 * The file follows wall-clock time: each drain writes every track up to `now − windowMs`
 * (silence where nothing came), so a packet may arrive up to `windowMs` late (or out of
 * order) and still land in place; `stop` writes up to the stop time. A recording of a
 * 60 s call is 60 s long whatever the packets did, also when the worker is overloaded.
 * A drain never writes past the previous drain's time: after the worker stalled, the
 * first drain may run before the packets that waited in the socket are read, and the
 * next one places them before it writes the stalled time.
 *
 * The file's rate is fixed at start (16 kHz when a recorded leg's codec is wideband, else
 * 8 kHz); a packet of another rate is converted (media/dsp/resampler.ts). For a G.711 file, payloads
 * of the file's law are kept as received when they are the only source of their track.
 */
import type { AudioDecoder, Codec } from '../codecs/codec.js';
import { ALAW_DECODE, ULAW_DECODE } from '../codecs/g711.js';
import { Downsampler2x, Upsampler2x } from '../dsp/resampler.js';
import { rtpSequence, rtpSsrc, rtpTimestamp } from '../rtp/rtpHeader.js';
import { PacketQueue } from './packetQueue.js';
import type { RecordingSink } from './recordingSink.js';
import { DROPPED, SourceAligner, TrackBuffer } from './trackAligner.js';

export interface PacketRecorderOptions {
  sink: RecordingSink;
  /** Monotonic ms of the recording's first sample. */
  startMs: number;
  /** The codec of a payload kind (PayloadMap KIND_*), null for none. */
  codecOfKind: (kind: number) => Codec | null;
  /** Payload kind whose bytes are written as received (a G.711 WAV of that law). */
  passthroughKind?: number;
  /** How late a packet may be and still be written in place (100). */
  windowMs?: number;
}

/** Counters of what the recorder did not write (for stats and tests). */
export interface PacketRecorderStats {
  packets: number;
  duplicates: number;
  late: number;
  reanchors: number;
  corrupt: number;
  /** Packets of a codec or rate the recorder cannot write. */
  unsupported: number;
  /** Packets lost because the queue was full. */
  overflow: number;
}

interface Source {
  track: number;
  aligner: SourceAligner;
  codec: Codec | null;
  decoder: AudioDecoder | null;
  /** Rate converters, made the first time this source's codec needs one. */
  up: Upsampler2x | null;
  down: Downsampler2x | null;
}

/** A G.711 codec's decoding table (ITU-T G.711), null for any other codec. */
function lawTable(codec: Codec): Int16Array | null {
  return codec.name === 'PCMU' ? ULAW_DECODE : codec.name === 'PCMA' ? ALAW_DECODE : null;
}

/** The most samples one payload decodes to (120 ms of Opus at 48 kHz; any codec's max). */
const MAX_DECODED = 5760;

/** Samples a track keeps ahead of the written part: the window, a timestamp jump, slack. */
const TRACK_SECONDS = 1;

/**
 * Decode and conversion scratch, shared by every recorder of the thread: a drain is
 * synchronous and places one packet at a time, so no two recorders use them at once.
 * (Per recorder they were 35 KB allocated and zeroed for every recorded call.)
 */
const DECODED = new Int16Array(MAX_DECODED);
const CONVERTED = new Int16Array(2 * MAX_DECODED);

/**
 * What a recorded leg feeds (WorkerLeg.recordTap): `push` from the packet path (a copy
 * queued for the next drain), `place` from the relay fast path's tap (placed at once).
 */
export interface RecordTap {
  /**
   * The io's own recording this tap is (nativePacketRecorder.ts): a route relaying a
   * source of it places what it relays there (RelayRoute `recorder`). Absent: the route
   * taps (RelayRoute `tap`) and the payloads come to `place`.
   */
  readonly ioRecording?: number;
  push(slot: number, kind: number, msg: Buffer, from: number, to: number, nowMs: number): void;
  place(
    slot: number,
    kind: number,
    msg: Uint8Array,
    from: number,
    to: number,
    arrivalMs: number,
  ): void;
}

export class PacketRecorder implements RecordTap {
  readonly queue = new PacketQueue();
  private readonly sink: RecordingSink;
  private readonly rate: number;
  private readonly startMs: number;
  private readonly windowMs: number;
  private readonly frame: number;
  private readonly codecOfKind: (kind: number) => Codec | null;
  private readonly passthroughKind: number;
  private readonly sources: (Source | null)[] = [];
  private readonly tracks: [TrackBuffer, TrackBuffer];
  /** Sources per track (a sole source's G.711 bytes may pass through). */
  private readonly trackSources = [0, 0];
  private readonly pcm: [Int16Array, Int16Array];
  private readonly raw: [Int16Array, Int16Array];
  private readonly counts = { packets: 0, corrupt: 0, unsupported: 0 };
  private stopped = false;
  /** Monotonic ms of the previous drain (a drain writes no further than it). */
  private lastDrainMs: number;

  constructor(options: PacketRecorderOptions) {
    this.sink = options.sink;
    this.rate = options.sink.sampleRate;
    this.frame = options.sink.frameSamples;
    this.startMs = options.startMs;
    this.lastDrainMs = options.startMs;
    this.windowMs = options.windowMs ?? 100;
    this.codecOfKind = options.codecOfKind;
    this.passthroughKind = options.passthroughKind ?? -1;
    const capacity = this.rate * TRACK_SECONDS;
    const keepRaw = this.passthroughKind >= 0;
    this.tracks = [new TrackBuffer(capacity, keepRaw), new TrackBuffer(capacity, keepRaw)];
    this.pcm = [new Int16Array(this.frame), new Int16Array(this.frame)];
    this.raw = [new Int16Array(this.frame), new Int16Array(this.frame)];
  }

  get stats(): PacketRecorderStats {
    const s: PacketRecorderStats = {
      ...this.counts,
      duplicates: 0,
      late: 0,
      reanchors: 0,
      overflow: this.queue.overflow,
    };
    for (const src of this.sources) {
      if (src === null) continue;
      s.duplicates += src.aligner.stats.duplicates;
      s.late += src.aligner.stats.late;
      s.reanchors += src.aligner.stats.reanchors;
    }
    return s;
  }

  /** Samples per track written so far (the file's length). */
  get written(): number {
    return this.tracks[0].written;
  }

  /**
   * Which track each source slot feeds: `tracks[slot]` is 0 (left), 1 (right) or -1 (not
   * recorded). Slots are the numbers the packet path queues packets with; a slot keeps
   * its decoder and alignment across calls.
   */
  setTracks(tracks: readonly number[]): void {
    for (let slot = 0; slot < tracks.length; slot++) {
      const track = tracks[slot]!;
      let src = this.sources[slot] ?? null;
      if (src === null && track >= 0) {
        src = {
          track,
          aligner: new SourceAligner(this.rate),
          codec: null,
          decoder: null,
          up: null,
          down: null,
        };
        this.sources[slot] = src;
      }
      if (src !== null) src.track = track;
    }
    for (let slot = tracks.length; slot < this.sources.length; slot++) {
      const src = this.sources[slot];
      if (src) src.track = -1;
    }
    this.trackSources[0] = 0;
    this.trackSources[1] = 0;
    for (const src of this.sources) if (src && src.track >= 0) this.trackSources[src.track]!++;
  }

  /**
   * A recording that never started (its file failed): it takes nothing more; its rings
   * are left to the collector.
   */
  abandon(): void {
    this.stopped = true;
  }

  /** Places the queued packets and writes every track up to `nowMs − windowMs`. */
  drain(nowMs: number): void {
    if (this.stopped) return;
    this.placeQueued();
    this.advance(Math.min(nowMs - this.windowMs, this.lastDrainMs));
    this.lastDrainMs = Math.max(this.lastDrainMs, nowMs);
  }

  /**
   * The recording ends at `stopMs`: what is queued is placed, every track written up to
   * then, and the file closed. Rejects with the sink's error.
   */
  async stop(stopMs: number): Promise<void> {
    if (!this.stopped) {
      this.placeQueued();
      this.advance(stopMs);
      this.stopped = true;
      for (const src of this.sources) src?.decoder?.close();
      // Their rings serve the thread's next recordings (nothing reads them after this).
      this.queue.release();
      this.tracks[0].release();
      this.tracks[1].release();
    }
    await this.sink.close();
  }

  /**
   * The packet path's hand-off (relay.ts step 7): a copy of the payload `msg[from, to)` is
   * queued, placed at the next drain. Hot path: no allocation.
   */
  push(slot: number, kind: number, msg: Buffer, from: number, to: number, nowMs: number): void {
    this.queue.push(slot, kind, msg, from, to, nowMs);
  }

  /**
   * A payload that reaches the recorder off the packet path (the relay fast path's tap,
   * taken in the worker's sweep or when a route is taken back: relay.ts `tapRelayed`):
   * placed at once, read where it lies, with no copy into the queue. What is queued is
   * placed first, so packets are placed in the order they came (docs/architecture.md §3.7).
   */
  place(
    slot: number,
    kind: number,
    msg: Uint8Array,
    from: number,
    to: number,
    arrivalMs: number,
  ): void {
    const n = to - from;
    if (this.stopped || n <= 0 || n > this.queue.maxPayload) {
      this.queue.overflow++; // as the queue counts what it refuses
      return;
    }
    if (this.queue.size > 0) this.placeQueued();
    this.placePayload(
      slot,
      kind,
      msg,
      from,
      n,
      rtpSsrc(msg),
      rtpSequence(msg),
      rtpTimestamp(msg),
      arrivalMs,
    );
  }

  private placeQueued(): void {
    const q = this.queue;
    for (let i = q.peek(); i >= 0; i = q.peek()) {
      this.placePayload(
        q.source[i]!,
        q.kind[i]!,
        q.bytes,
        q.offset[i]!,
        q.length[i]!,
        q.ssrc[i]!,
        q.sequence[i]!,
        q.timestamp[i]!,
        q.arrivalMs[i]!,
      );
      q.pop();
    }
  }

  /** One payload, `bytes[offset, offset + length)`, with its RTP header's fields. */
  private placePayload(
    slot: number,
    kind: number,
    bytes: Uint8Array,
    offset: number,
    length: number,
    ssrc: number,
    seq: number,
    ts: number,
    arrivalMs: number,
  ): void {
    const src = this.sources[slot];
    if (src === undefined || src === null || src.track < 0) return;
    this.counts.packets++;
    const codec = this.codecOfKind(kind);
    if (codec === null) {
      this.counts.unsupported++;
      return;
    }
    const law = codec.sampleRate === this.rate ? lawTable(codec) : null;
    if (law !== null) {
      this.placeLaw(src, kind, law, codec, bytes, offset, length, ssrc, seq, ts, arrivalMs);
      return;
    }
    if (src.codec !== codec) {
      src.decoder?.close();
      src.decoder = codec.createDecoder();
      src.codec = codec;
    }
    const n = src.decoder!.decode(bytes, offset, length, DECODED);
    if (n < 0) {
      this.counts.corrupt++;
      return;
    }
    let pcm = DECODED;
    let count = n;
    if (codec.sampleRate * 2 === this.rate) {
      src.up ??= new Upsampler2x(MAX_DECODED);
      count = src.up.process(DECODED, n, CONVERTED);
      pcm = CONVERTED;
    } else if (codec.sampleRate === this.rate * 2) {
      src.down ??= new Downsampler2x(MAX_DECODED);
      count = src.down.process(DECODED, n, CONVERTED);
      pcm = CONVERTED;
    } else if (codec.sampleRate !== this.rate) {
      this.counts.unsupported++;
      return;
    }
    const track = this.tracks[src.track]!;
    const pos = this.placeInTrack(src, ssrc, seq, ts, arrivalMs, codec, count);
    if (pos === DROPPED) return;
    const raw =
      kind === this.passthroughKind && pcm === DECODED && this.trackSources[src.track] === 1;
    track.add(pos, pcm, count, raw ? bytes : null, offset);
  }

  /**
   * Where a packet of `src` (`count` samples of `codec`) goes in its track, by its RTP
   * timestamp (TrackAligner.place), or DROPPED. Audio beyond the track's buffer (a very
   * long stall) first has the oldest audio written out to make room.
   */
  private placeInTrack(
    src: Source,
    ssrc: number,
    seq: number,
    ts: number,
    arrivalMs: number,
    codec: Codec,
    count: number,
  ): number {
    const track = this.tracks[src.track]!;
    const arrival = ((arrivalMs - this.startMs) * this.rate) / 1000;
    const pos = src.aligner.place(ssrc, seq, ts, codec.rtpClockRate, arrival, count, track.written);
    if (pos === DROPPED) return pos;
    const beyond = pos + count - (track.written + track.capacity);
    if (beyond > 0) this.advanceTo(track.written + Math.ceil(beyond / this.frame) * this.frame);
    return pos;
  }

  /**
   * A G.711 payload at the file's rate: decoded by table as it is added to its track
   * (TrackBuffer.addLaw), with no decoder, scratch or concealment (the file writes a gap
   * as silence, never conceals), so the same samples as the codec's decoder gives.
   */
  private placeLaw(
    src: Source,
    kind: number,
    table: Int16Array,
    codec: Codec,
    bytes: Uint8Array,
    offset: number,
    length: number,
    ssrc: number,
    seq: number,
    ts: number,
    arrivalMs: number,
  ): void {
    if (src.codec !== codec) {
      // A change of codec starts the next decoder afresh, as on the decoding path.
      src.decoder?.close();
      src.decoder = null;
      src.codec = codec;
    }
    const count = length > codec.maxFrameSamples ? codec.maxFrameSamples : length;
    const track = this.tracks[src.track]!;
    const pos = this.placeInTrack(src, ssrc, seq, ts, arrivalMs, codec, count);
    if (pos === DROPPED) return;
    const keep = kind === this.passthroughKind && this.trackSources[src.track] === 1;
    track.addLaw(pos, table, bytes, offset, count, keep);
  }

  /** Writes whole frames of every track up to monotonic `ms`. */
  private advance(ms: number): void {
    this.advanceTo(Math.floor(((ms - this.startMs) * this.rate) / 1000));
  }

  /**
   * Writes whole frames of every track up to sample position `target`. A track with nothing
   * added in a frame is written as silence (null) without a pass over its samples; frames
   * where both tracks are silent are written in one call. A sink that takes frames from the
   * tracks themselves (`writeFrameFrom`, a 16-bit PCM WAV) gets them so, without scratch.
   */
  private advanceTo(target: number): void {
    const [left, right] = this.tracks;
    const f = this.frame;
    const raw = this.passthroughKind >= 0;
    const sink = this.sink;
    // Straight into the file's block where it can take the tracks (not received G.711).
    const direct = !raw && sink.writeFrameFrom !== undefined;
    while (left.written + f <= target) {
      const quiet = Math.min(left.silentUntil, right.silentUntil, target);
      const frames = Math.floor((quiet - left.written) / f);
      if (frames > 0) {
        left.skip(frames * f);
        right.skip(frames * f);
        if (sink.writeSilence !== undefined) sink.writeSilence(frames);
        else for (let i = 0; i < frames; i++) sink.writeFrame(null, null, null, null);
        continue;
      }
      if (direct) {
        sink.writeFrameFrom!(left, right);
        continue;
      }
      const l = left.take(this.pcm[0], raw ? this.raw[0] : null, f);
      const r = right.take(this.pcm[1], raw ? this.raw[1] : null, f);
      sink.writeFrame(
        l ? this.pcm[0] : null,
        r ? this.pcm[1] : null,
        l && raw ? this.raw[0] : null,
        r && raw ? this.raw[1] : null,
      );
    }
  }
}
