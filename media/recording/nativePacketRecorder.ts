/**
 * A recording kept by the native io (docs/architecture.md §3.7): the 16-bit PCM, 8 kHz
 * case of PacketRecorder, with its tracks in the io's event thread. The routes that relay
 * a recorded source place its G.711 payloads there as they relay them (RelayRoute
 * `recorder`), so a recorded, unmonitored call costs JavaScript nothing per packet;
 * JavaScript places what it handles itself (`push`, `place`: G.711 as received, any
 * other codec decoded here and converted to the file's rate), and each `drain` moves the
 * finished frames from the io straight into the file's blocks (RecordingSink
 * `writeFramesWith`).
 *
 * The rules are PacketRecorder's (packetRecorder.ts): packets placed by RTP timestamp
 * after an anchor on arrival (the io's port of trackAligner.ts), a track with nothing
 * in a frame written as silence, the file written up to `now − windowMs` at each drain
 * and up to the stop time at `stop`, so its length follows the wall clock. One
 * difference: a track holds `TRACK_SECONDS` ahead of what was written (more than
 * PacketRecorder's 1 s, as the event thread goes on placing while the worker is busy);
 * audio beyond that is dropped and counted (`overflow`) instead of written early.
 */
import type { AudioDecoder, Codec } from '../codecs/codec.js';
import { Downsampler2x } from '../dsp/resampler.js';
import {
  RECORDER_STAT_FIELDS,
  RECORD_ALAW,
  RECORD_ULAW,
  RS_DUPLICATES,
  RS_LATE,
  RS_OVERFLOW,
  RS_PACKETS,
  RS_REANCHORS,
  type IoRecorders,
} from '../io/packetIo.js';
import { rtpSequence, rtpSsrc, rtpTimestamp } from '../rtp/rtpHeader.js';
import type { PacketRecorderStats, RecordTap } from './packetRecorder.js';
import type { RecordingSink } from './recordingSink.js';

/** The file's rate: G.711's, the only codec the event thread decodes. */
export const NATIVE_RECORDING_RATE = 8000;
/** How far ahead of the written part a track holds audio (a stalled worker's sweeps). */
const TRACK_SECONDS = 2;
/** The most samples one payload decodes to (120 ms of Opus at 48 kHz). */
const MAX_DECODED = 5760;
/**
 * How much audio a drain lets become due before it writes (a sweep is 100 ms): well
 * within the tracks' TRACK_SECONDS, and a few frames per write instead of one sweep's.
 */
const WRITE_EVERY_MS = 200;
/** Frames taken per call when a refused file's frames are discarded. */
const DISCARD_FRAMES = 50;

const DECODED = new Int16Array(MAX_DECODED);
const CONVERTED = new Int16Array(MAX_DECODED);

/** A source's decoding of what the io cannot decode (as PacketRecorder's sources keep it). */
interface Decoding {
  codec: Codec | null;
  decoder: AudioDecoder | null;
  /** 16 kHz → 8 kHz (G.722), made when first needed and kept across codec changes. */
  down: Downsampler2x | null;
}

export interface NativePacketRecorderOptions {
  io: IoRecorders;
  /** A 16-bit PCM sink at NATIVE_RECORDING_RATE with `writeFramesWith`. */
  sink: RecordingSink;
  /** Monotonic ms (performance.now()) of the recording's first sample. */
  startMs: number;
  codecOfKind: (kind: number) => Codec | null;
  /** How late a packet may be and still be written in place (100). */
  windowMs?: number;
  /** How much audio a drain lets become due before it writes (WRITE_EVERY_MS). */
  writeEveryMs?: number;
}

export class NativePacketRecorder implements RecordTap {
  /** The io's recording: routes place into it (RecordTap.ioRecording). */
  readonly ioRecording: number;
  private readonly io: IoRecorders;
  private readonly sink: RecordingSink;
  private readonly startMs: number;
  private readonly windowMs: number;
  private readonly writeEveryMs: number;
  private readonly frame: number;
  private readonly codecOfKind: (kind: number) => Codec | null;
  private readonly decoding: (Decoding | null)[] = [];
  private readonly counts = { corrupt: 0, unsupported: 0 };
  private readonly statsRow = new Float64Array(RECORDER_STAT_FIELDS);
  private readonly fill = (view: Int16Array, at: number, max: number): number =>
    this.io.take(this.ioRecording, this.target, view, at, max);
  private discard: Int16Array | null = null;
  /** Sample position the frames are taken up to (set before each take). */
  private target = 0;
  /** Samples per track written so far (the io's, which only takes advance). */
  private writtenSamples = 0;
  private lastDrainMs: number;
  private stopped = false;
  private finalStats: PacketRecorderStats | null = null;

  /** Opens the io's recording; null when the io refuses one (the caller records itself). */
  static open(options: NativePacketRecorderOptions): NativePacketRecorder | null {
    const { io, sink } = options;
    if (sink.sampleRate !== NATIVE_RECORDING_RATE || sink.writeFramesWith === undefined) {
      return null;
    }
    const id = io.open(
      NATIVE_RECORDING_RATE,
      sink.frameSamples,
      sink.channels,
      options.startMs,
      TRACK_SECONDS,
    );
    return id === 0 ? null : new NativePacketRecorder(id, options);
  }

  private constructor(id: number, o: NativePacketRecorderOptions) {
    this.ioRecording = id;
    this.io = o.io;
    this.sink = o.sink;
    this.startMs = o.startMs;
    this.lastDrainMs = o.startMs;
    this.windowMs = o.windowMs ?? 100;
    this.writeEveryMs = o.writeEveryMs ?? WRITE_EVERY_MS;
    this.frame = o.sink.frameSamples;
    this.codecOfKind = o.codecOfKind;
  }

  get stats(): PacketRecorderStats {
    if (this.finalStats !== null) return this.finalStats;
    return this.readStats();
  }

  /** Samples per track written so far (the file's length). */
  get written(): number {
    return this.writtenSamples;
  }

  /** Which track (0, 1, -1: not recorded) each source slot feeds (PacketRecorder.setTracks). */
  setTracks(tracks: readonly number[]): void {
    this.io.tracks(this.ioRecording, Int32Array.from(tracks));
  }

  /** A payload the packet path handled: placed at once (the io keeps arrival order). */
  push(slot: number, kind: number, msg: Buffer, from: number, to: number, nowMs: number): void {
    this.place(slot, kind, msg, from, to, nowMs);
  }

  place(
    slot: number,
    kind: number,
    msg: Uint8Array,
    from: number,
    to: number,
    arrivalMs: number,
  ): void {
    if (this.stopped || to <= from) return;
    const codec = this.codecOfKind(kind);
    if (codec === null) {
      this.counts.unsupported++;
      return;
    }
    const law = codec.name === 'PCMU' ? RECORD_ULAW : codec.name === 'PCMA' ? RECORD_ALAW : 0;
    if (law !== 0) {
      // A change of codec starts the next decoder afresh (as PacketRecorder does).
      const d = this.decoding[slot];
      if (d !== undefined && d !== null && d.codec !== null) this.forget(d);
      this.io.placeLaw(this.ioRecording, slot, law, msg, from, to, arrivalMs);
      return;
    }
    const ssrc = rtpSsrc(msg);
    const seq = rtpSequence(msg);
    const ts = rtpTimestamp(msg);
    if (
      codec.sampleRate !== NATIVE_RECORDING_RATE &&
      codec.sampleRate !== 2 * NATIVE_RECORDING_RATE
    ) {
      this.counts.unsupported++; // Opus at 48 kHz: such a call's file is not this recorder's
      return;
    }
    const d = this.decoderOf(slot, codec);
    const n = d.decoder!.decode(msg, from, to - from, DECODED);
    if (n < 0) {
      this.counts.corrupt++;
      return;
    }
    let pcm = DECODED;
    let count = n;
    if (codec.sampleRate !== NATIVE_RECORDING_RATE) {
      d.down ??= new Downsampler2x(MAX_DECODED);
      count = d.down.process(DECODED, n, CONVERTED);
      pcm = CONVERTED;
    }
    this.io.placePcm(
      this.ioRecording,
      slot,
      pcm,
      count,
      ssrc,
      seq,
      ts,
      codec.rtpClockRate,
      arrivalMs,
    );
  }

  /**
   * Writes what has arrived, up to `nowMs − windowMs` (and no further than the last
   * drain), once at least WRITE_EVERY_MS of it is due: the io's tracks hold it meanwhile,
   * so most sweeps cost the recording nothing.
   */
  drain(nowMs: number): void {
    if (this.stopped) return;
    const upTo = Math.min(nowMs - this.windowMs, this.lastDrainMs);
    this.lastDrainMs = Math.max(this.lastDrainMs, nowMs);
    const due = upTo - this.startMs - (this.writtenSamples * 1000) / NATIVE_RECORDING_RATE;
    if (due >= this.writeEveryMs) this.writeTo(upTo);
  }

  /** Writes up to `stopMs`, forgets the io's recording and closes the file. */
  async stop(stopMs: number): Promise<void> {
    if (!this.stopped) {
      this.writeTo(stopMs);
      this.finalStats = this.readStats();
      this.stopped = true;
      this.io.close(this.ioRecording);
      for (const d of this.decoding) if (d) this.forget(d);
    }
    await this.sink.close();
  }

  /** A recording that never started (its file failed): the io forgets it, nothing written. */
  abandon(): void {
    if (this.stopped) return;
    this.finalStats = this.readStats();
    this.stopped = true;
    this.io.close(this.ioRecording);
    for (const d of this.decoding) if (d) this.forget(d);
  }

  private writeTo(ms: number): void {
    const target = Math.floor(((ms - this.startMs) * NATIVE_RECORDING_RATE) / 1000);
    const frames = Math.floor((target - this.writtenSamples) / this.frame);
    if (frames <= 0) return;
    this.target = target;
    const n = this.sink.writeFramesWith!(frames, this.fill);
    this.writtenSamples += n * this.frame;
    if (n < frames) this.discardTo(target);
  }

  /** The frames a refused file did not take (closed, failed, full) leave the io's tracks. */
  private discardTo(target: number): void {
    const values = this.frame * this.sink.channels;
    this.discard ??= new Int16Array(values * DISCARD_FRAMES);
    for (;;) {
      const n = this.io.take(this.ioRecording, target, this.discard, 0, DISCARD_FRAMES);
      this.writtenSamples += n * this.frame;
      if (n < DISCARD_FRAMES) return;
    }
  }

  private decoderOf(slot: number, codec: Codec): Decoding {
    let d = this.decoding[slot];
    if (d === undefined || d === null) {
      d = { codec: null, decoder: null, down: null };
      this.decoding[slot] = d;
    }
    if (d.codec !== codec) {
      this.forget(d);
      d.decoder = codec.createDecoder();
      d.codec = codec;
    }
    return d;
  }

  private forget(d: Decoding): void {
    d.decoder?.close();
    d.decoder = null;
    d.codec = null;
  }

  private readStats(): PacketRecorderStats {
    const row = this.statsRow;
    row.fill(0);
    this.io.stats(this.ioRecording, row);
    return {
      packets: row[RS_PACKETS]! + this.counts.corrupt + this.counts.unsupported,
      duplicates: row[RS_DUPLICATES]!,
      late: row[RS_LATE]!,
      reanchors: row[RS_REANCHORS]!,
      corrupt: this.counts.corrupt,
      unsupported: this.counts.unsupported,
      overflow: row[RS_OVERFLOW]!,
    };
  }
}
