/**
 * A recording as Ogg Opus (RFC 7845), written while the call runs: OpusHead and OpusTags
 * pages, then audio pages of 20 ms Opus packets (granule positions in 48 kHz samples,
 * RFC 7845 §4), each page holding whole packets and appended about once a second. A
 * killed process leaves the pages written so far: a valid stream of that audio (the last
 * page lacks the end-of-stream flag, which readers tolerate). Mono: one Opus stream;
 * stereo: two uncoupled mono streams (mapping family 1), one encoder per track.
 *
 * The encoder is the table's Opus set for files (opusFileEncoder.ts: no FEC, 20 kbit/s
 * per stream), fed at its sampleRate in frames of its frameSamples.
 */
import { randomInt } from 'node:crypto';
import type { AudioEncoder, Codec } from '../codecs/codec.js';
import {
  OGG_BOS,
  OGG_EOS,
  OggStream,
  lacingCount,
  opusHead,
  opusTags,
  selfDelimited,
} from './oggMuxer.js';
import type { RecordingSink } from './recordingSink.js';
import { asError, createRecordingFile, writeFully, type RecordingFile } from './recordingFile.js';

/**
 * The encoder's delay in 48 kHz samples (RFC 7845 §4.2): libopus's look-ahead for the
 * VoIP application, 4 ms + 2.5 ms (104 samples at 16 kHz). The bindings cannot ask
 * OPUS_GET_LOOKAHEAD, so test/unit/media/recording/opusFile.test.ts measures it: a click
 * through encode and decode comes out exactly this late.
 */
export const OPUS_PRE_SKIP = 312;
/** Packets per page: a page about every second. */
const PACKETS_PER_PAGE = 50;
/** Pages the disk may fall behind by before the recording stops. */
const MAX_BACKLOG_PAGES = 10;

const shortWrite = (): Error => new Error('the file accepted no bytes');

export interface OggOpusOptions {
  path: string;
  channels: 1 | 2;
  /** The Opus codec (its encoder, sample rate and frame size). */
  codec: Pick<Codec, 'sampleRate' | 'frameSamples' | 'createEncoder'>;
  /** The call's rate, recorded in OpusHead (informational, RFC 7845 §5.1). */
  inputSampleRate: number;
  fileMode?: number;
}

export class OggOpusRecorder implements RecordingSink {
  readonly channels: 1 | 2;
  readonly sampleRate: number;
  readonly frameSamples: number;
  private readonly encoders: AudioEncoder[];
  private readonly stream = new OggStream(randomInt(0, 2 ** 32 - 1));
  private readonly mono: Int16Array;
  private readonly encoded = new Uint8Array(4000);
  private readonly packet = new Uint8Array(8000);
  private pending: Uint8Array[] = [];
  private pendingSegments = 0;
  private granule = 0;
  private frames = 0;
  private onFile = 0;
  private position = 0;
  private readonly queue: Buffer[] = [];
  private draining: Promise<void> | null = null;
  private failure: Error | null = null;
  private closing: Promise<void> | null = null;

  static async open(options: OggOpusOptions): Promise<OggOpusRecorder> {
    const mode = options.fileMode ?? 0o640;
    const handle = await createRecordingFile(options.path, mode);
    try {
      return await OggOpusRecorder.create(handle, options);
    } catch (err) {
      await handle.close().catch(() => undefined);
      throw err;
    }
  }

  /** Over a file opened by the caller (tests); writes the two header pages. */
  static async create(
    file: RecordingFile,
    options: Omit<OggOpusOptions, 'path'>,
  ): Promise<OggOpusRecorder> {
    const { recorder, written } = OggOpusRecorder.begin(file, options);
    await written;
    return recorder;
  }

  /**
   * As `create`, without waiting for the header pages: the recorder at once, and `written`,
   * which settles when they are on file (rejects if they could not be written; the caller
   * closes the file). Until then the recorder must not be written to (WavRecorder.begin).
   */
  static begin(
    file: RecordingFile,
    options: Omit<OggOpusOptions, 'path'>,
  ): { recorder: OggOpusRecorder; written: Promise<void> } {
    const r = new OggOpusRecorder(file, options);
    const head = r.stream.page(
      [opusHead(options.channels, OPUS_PRE_SKIP, options.inputSampleRate)],
      0,
      OGG_BOS,
    );
    const tags = r.stream.page([opusTags('callwatch')], 0);
    return { recorder: r, written: r.writeAll(Buffer.concat([head, tags])) };
  }

  private constructor(
    private readonly file: RecordingFile,
    options: Omit<OggOpusOptions, 'path'>,
  ) {
    this.channels = options.channels;
    this.sampleRate = options.codec.sampleRate;
    this.frameSamples = options.codec.frameSamples;
    this.mono = new Int16Array(this.frameSamples);
    this.encoders = Array.from({ length: options.channels }, () => options.codec.createEncoder());
  }

  get bytesWritten(): number {
    return this.onFile;
  }

  get framesWritten(): number {
    return this.frames;
  }

  get error(): Error | null {
    return this.failure;
  }

  writeFrame(left: Int16Array | null, right: Int16Array | null): void {
    if (this.closing || this.failure) return;
    const n = this.frameSamples;
    let size: number;
    if (this.channels === 1) {
      for (let i = 0; i < n; i++) {
        const v = (left ? left[i]! : 0) + (right ? right[i]! : 0);
        this.mono[i] = v > 32767 ? 32767 : v < -32768 ? -32768 : v;
      }
      size = this.encoders[0]!.encode(this.mono, n, this.packet);
    } else {
      const l = this.encoders[0]!.encode(left ?? this.silence(), n, this.encoded);
      size = selfDelimited(this.encoded, l, this.packet, 0);
      if (size < 0) {
        this.failure = new Error('the Opus encoder produced a malformed packet');
        return;
      }
      const r = this.encoders[1]!.encode(right ?? this.silence(), n, this.encoded);
      this.packet.set(this.encoded.subarray(0, r), size);
      size += r;
    }
    const copy = this.packet.slice(0, size);
    const segments = lacingCount(copy.length);
    if (this.pendingSegments + segments > 255) this.flushPage(0);
    this.pending.push(copy);
    this.pendingSegments += segments;
    this.granule += 960; // 20 ms at 48 kHz
    this.frames++;
    if (this.pending.length >= PACKETS_PER_PAGE) this.flushPage(0);
  }

  close(): Promise<void> {
    this.closing ??= this.finish();
    return this.closing;
  }

  private silence(): Int16Array {
    this.mono.fill(0);
    return this.mono;
  }

  private async finish(): Promise<void> {
    try {
      if (!this.failure) this.flushPage(OGG_EOS, true);
      while (this.draining) await this.draining;
    } finally {
      for (const e of this.encoders) e.close();
      try {
        await this.file.close();
      } catch (err) {
        this.failure ??= asError(err);
      }
    }
    if (this.failure) throw this.failure;
  }

  /** Puts the pending packets on a page and queues it for writing. */
  private flushPage(flags: number, always = false): void {
    if (this.pending.length === 0 && !always) return;
    const page = this.stream.page(this.pending, this.granule, flags);
    this.pending = [];
    this.pendingSegments = 0;
    if (this.queue.length >= MAX_BACKLOG_PAGES) {
      this.failure ??= new Error(`the disk fell ${this.queue.length} pages behind the recording`);
      return;
    }
    this.queue.push(page);
    this.draining ??= this.drain();
  }

  private async drain(): Promise<void> {
    try {
      while (this.queue.length > 0 && !this.failure) {
        await this.writeAll(this.queue[0]!);
        this.queue.shift();
      }
    } catch (err) {
      this.failure ??= asError(err);
      this.queue.length = 0;
    } finally {
      this.draining = null;
    }
  }

  /** Appends `buf` (whole pages) to the file. */
  private async writeAll(buf: Buffer): Promise<void> {
    await writeFully(this.file, buf, buf.length, this.position, shortWrite);
    this.position += buf.length;
    this.onFile = this.position;
  }
}
