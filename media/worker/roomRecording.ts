/**
 * A room's recording tap: which legs feed which track (track 0 left, track 1 right; the
 * legs of a track are summed), the packet recorder they feed, and its file. The packet
 * path queues each recorded leg's payloads (WorkerLeg.recordTap, relay.ts); the worker's
 * sweep calls `drain`. Nothing here runs on the room's frame clock.
 */
import type { IoRecorders } from '../io/packetIo.js';
import { NativePacketRecorder } from '../recording/nativePacketRecorder.js';
import {
  PacketRecorder,
  type PacketRecorderStats,
  type RecordTap,
} from '../recording/packetRecorder.js';
import { beginSink } from '../recording/openSink.js';
import type { CreateRecordingFile } from '../recording/recordingFile.js';
import type { RecordingSink } from '../recording/recordingSink.js';
import { codecOfKind } from './legCodecs.js';
import { KIND_PCMA, KIND_PCMU } from './payloadMap.js';
import type { RecordingConfig, RecordingStarted, RecordingSummary } from './protocol.js';
import type { WorkerLeg } from './workerLeg.js';

/** What the recording's legs feed: the worker's own recorder, or the native io's. */
interface Recorder extends RecordTap {
  readonly stats: PacketRecorderStats;
  setTracks(tracks: readonly number[]): void;
  drain(nowMs: number): void;
  stop(stopMs: number): Promise<void>;
  /** Forgets a recording that never started (its file failed): frees what it holds. */
  abandon(): void;
}

export class RoomRecording {
  private readonly slots = new Map<WorkerLeg, number>();
  private tracked: WorkerLeg[] = [];

  private constructor(
    readonly path: string,
    readonly started: RecordingStarted,
    private readonly sink: RecordingSink,
    private readonly recorder: Recorder,
  ) {}

  /**
   * Opens the file. A `wav` file's rate follows the legs recorded now (`tracks`): 16 kHz
   * if one's preferred codec is wideband, else 8 kHz. A `wav-g711` file is always 8 kHz,
   * in their G.711 law (µ-law when none is G.711); an `ogg-opus` file is encoded at
   * 16 kHz, its header recording the call's rate. `createFile` makes the file (the
   * worker's recording writer client; node:fs when absent).
   *
   * The recording starts now, not when the file is open: its legs feed it from now on
   * while the file is created and its header written (the writer client may hold the
   * create a little to send it with other ops, docs/architecture.md §7.6), and its
   * timeline starts now, so the wait costs no audio. Resolves once the header is on file;
   * if it cannot be (EEXIST, ENOENT…), the legs stop feeding it and it rejects.
   */
  static async open(
    config: RecordingConfig,
    tracks: readonly (readonly WorkerLeg[])[],
    now: () => number,
    createFile?: CreateRecordingFile,
    /** Called right before the legs' taps are attached (a relay fast path's routes go). */
    beforeTap?: () => void,
    /**
     * The io's own recordings (the native io): a 16-bit PCM file at 8 kHz is kept there,
     * fed by the relay fast path without JavaScript (nativePacketRecorder.ts).
     */
    ioRecorders?: IoRecorders,
  ): Promise<RoomRecording> {
    const legs = tracks.flat();
    const codecs = legs.map((leg) => codecOfKind(leg.payloads.sendKind));
    const wideband = codecs.some((c) => c?.wideband === true);
    const alaw =
      legs.find((l) => l.payloads.sendKind === KIND_PCMA || l.payloads.sendKind === KIND_PCMU)
        ?.payloads.sendKind === KIND_PCMA;
    const format = config.format ?? 'wav';
    const startMs = now();
    const startedAt = Date.now();
    const { sink, encoding, written } = await beginSink({
      path: config.path,
      channels: config.channels,
      format,
      sampleRate: wideband ? 16000 : 8000,
      law: alaw ? 'alaw' : 'mulaw',
      ...(config.fileMode !== undefined ? { fileMode: config.fileMode } : {}),
      ...(createFile !== undefined ? { createFile } : {}),
    });
    let recording: RoomRecording;
    let recorder: Recorder | null = null;
    try {
      recorder =
        (encoding === 'pcm16' && ioRecorders !== undefined
          ? NativePacketRecorder.open({ io: ioRecorders, sink, startMs, codecOfKind })
          : null) ??
        new PacketRecorder({
          sink,
          startMs,
          codecOfKind,
          ...(encoding === 'mulaw' ? { passthroughKind: KIND_PCMU } : {}),
          ...(encoding === 'alaw' ? { passthroughKind: KIND_PCMA } : {}),
        });
      const started: RecordingStarted = {
        format,
        sampleRate: sink.sampleRate,
        encoding,
        startedAt,
      };
      recording = new RoomRecording(config.path, started, sink, recorder);
      beforeTap?.();
      recording.setTracks(tracks);
    } catch (err) {
      recorder?.abandon();
      // The file is closed once its header settled (a failed header closed it already).
      await written.then(() => sink.close()).catch(() => undefined);
      throw err;
    }
    try {
      await written;
    } catch (err) {
      for (const leg of recording.tracked) recording.detach(leg);
      recording.tracked = [];
      recorder.abandon();
      throw err;
    }
    return recording;
  }

  get bytes(): number {
    return this.sink.bytesWritten;
  }

  get error(): Error | null {
    return this.sink.error;
  }

  /** Whether the native io keeps it (places its packets as it relays, §3.7). */
  get keptByIo(): boolean {
    return (this.recorder.ioRecording ?? 0) !== 0;
  }

  /** Payloads the recorder's decoders found corrupt (concealed in the file). */
  get corrupt(): number {
    return this.recorder.stats.corrupt;
  }

  /** The legs summed into each track; every other leg stops feeding the recording. */
  setTracks(tracks: readonly (readonly WorkerLeg[])[]): void {
    const recorded = new Set<WorkerLeg>();
    tracks.forEach((legs) => legs.forEach((leg) => recorded.add(leg)));
    for (const leg of this.tracked) {
      if (!recorded.has(leg)) this.detach(leg);
    }
    const trackOfSlot: number[] = new Array<number>(this.slots.size).fill(-1);
    tracks.forEach((legs, track) => {
      for (const leg of legs) {
        let slot = this.slots.get(leg);
        if (slot === undefined) {
          slot = this.slots.size;
          this.slots.set(leg, slot);
        }
        trackOfSlot[slot] = track;
        leg.recordTap = this.recorder;
        leg.recordSlot = slot;
      }
    });
    this.tracked = [...recorded];
    this.recorder.setTracks(trackOfSlot);
  }

  /** A leg no longer feeds the recording. */
  detach(leg: WorkerLeg): void {
    if (leg.recordTap === this.recorder) {
      leg.recordTap = null;
      leg.recordSlot = -1;
    }
  }

  /** Writes what has arrived, up to `nowMs − window` (the worker's sweep). */
  drain(nowMs: number): void {
    this.recorder.drain(nowMs);
  }

  /** Completes the file up to `nowMs` and closes it. */
  async stop(nowMs: number): Promise<RecordingSummary> {
    for (const leg of this.tracked) this.detach(leg);
    this.tracked = [];
    let error: string | null = null;
    try {
      await this.recorder.stop(nowMs);
    } catch (e) {
      error = e instanceof Error ? e.message : String(e);
    }
    error ??= this.sink.error?.message ?? null;
    return {
      path: this.path,
      bytes: this.sink.bytesWritten,
      frames: this.sink.framesWritten,
      error,
      format: this.started.format,
      sampleRate: this.started.sampleRate,
    };
  }
}
