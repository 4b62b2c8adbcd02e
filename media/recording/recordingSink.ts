/**
 * What the packet recorder writes to: a file of two tracks (left, right; or their sum in
 * mono) taken in frames of `frameSamples` at `sampleRate`. WavRecorder (16-bit PCM or
 * G.711) and OggOpusRecorder implement it.
 */
/** A track whose next frame a sink takes straight into its own buffer (TrackBuffer). */
export interface FrameSource {
  /**
   * Takes the next `count` samples (clamped to int16) into `out[at]`, `out[at + stride]`, …,
   * zeros where the track is silent; false when it was all silent.
   */
  takeInto(out: Int16Array, at: number, stride: number, count: number): boolean;
}

export interface RecordingSink {
  readonly channels: 1 | 2;
  readonly sampleRate: number;
  readonly frameSamples: number;
  /**
   * One frame: each track's samples (null: silence) and, for a G.711 file, each sample's
   * byte as received (≥ 0) or -1 where it must be encoded (null: encode all).
   */
  writeFrame(
    left: Int16Array | null,
    right: Int16Array | null,
    leftRaw?: Int16Array | null,
    rightRaw?: Int16Array | null,
  ): void;
  /**
   * `frames` frames of silence on both tracks: the same as that many `writeFrame(null,
   * null)`, in one call (a recorder whose tracks are silent writes them in blocks).
   */
  writeSilence?(frames: number): void;
  /**
   * One frame taken from the two tracks (each `frameSamples`, taken whatever happens to
   * the frame): the same as `writeFrame` of what they hold, without a copy through a
   * frame of scratch where the file's layout allows it (16-bit PCM stereo: each track's
   * samples go straight into the block, interleaved). Not for received G.711 bytes.
   */
  writeFrameFrom?(left: FrameSource, right: FrameSource): void;
  /**
   * Up to `frames` ready-made 16-bit PCM frames (interleaved as the file's channels)
   * written by `fill(view, at, max)` straight into the file's buffer: it writes at most
   * `max` frames at `view[at…]` and returns how many. Returns the frames written. Only a
   * 16-bit PCM WAV has it.
   */
  writeFramesWith?(
    frames: number,
    fill: (view: Int16Array, at: number, max: number) => number,
  ): number;
  /** Bytes of audio on disk. */
  readonly bytesWritten: number;
  readonly framesWritten: number;
  readonly error: Error | null;
  /** Writes what is buffered, completes the file, closes it; rejects with `error`. */
  close(): Promise<void>;
}
