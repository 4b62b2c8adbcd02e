/**
 * The recording tap's writer (docs/architecture.md §7.3): a call recorded as a 16-bit PCM WAV written while
 * the call runs, customer left and agent right (or both summed into mono), that stays a
 * valid WAV holding the audio written so far if the process dies mid-call.
 *
 * Crash safety by write order. The file starts as a header declaring 0 data bytes. Audio
 * is appended in blocks; after each block is written, the header's RIFF and data sizes are
 * rewritten (positional writes, `patchWavSizes`). Sizes are only ever patched to cover
 * bytes already written, so at any moment the header never claims more than the file
 * holds: a killed process leaves a playable file missing at most the last
 * `flushIntervalMs` of audio (plus a block in flight). The data lives in the OS page cache
 * until the kernel writes it; a process crash loses nothing more, a power failure may
 * (no fsync: a recording is not worth stalling the disk every second).
 *
 * Policies (tested in test/unit/media/recording/wavRecorder.test.ts):
 * - `open` creates the file with flag 'wx': an existing file is never overwritten or
 *   appended to (open rejects with EEXIST). The file gets `fileMode` (default 0640: a
 *   call holds customers' voices) whatever the umask. A failed header write closes it.
 * - `writeFrame` is the 20 ms hot path: it copies the frame into a preallocated block
 *   (little-endian, interleaved L R; mono is the int16-clamped sum), allocates nothing
 *   (one promise per block written, not per frame) and never throws. A missing frame
 *   (null) and the missing tail of a short frame record as silence.
 * - Blocks: each holds `flushIntervalMs` of audio (at least one frame), except the first,
 *   which may be shorter (`firstBlockMs`: recordings started together are staggered so
 *   their blocks do not all fall due in the same sweep, docs/architecture.md §7.3). A full block is
 *   queued and a new one taken from a free list, so a block being written is never
 *   touched (two are preallocated: double buffering). One write is in flight at a time
 *   (on a file with `writeParts`, the writer thread's, every queued block goes at once
 *   with its header patch, in order, without waiting: sendQueued); queued blocks are
 *   written in order. If the disk falls behind by more than
 *   `maxBacklogMs` of audio, the recording stops with ERR_RECORDING_BACKLOG (audio
 *   already queued is still written) rather than buffer without bound.
 * - Size limit: a WAV's sizes are uint32, so the data never exceeds `maxDataBytes`
 *   (default and at most MAX_WAV_DATA_BYTES = 4 GiB − 44, ≈ 37 h stereo at 8 kHz). The
 *   frame that would cross it stops the recording with ERR_RECORDING_FULL; everything
 *   before it is kept and the file is valid.
 * - Errors: the first error is kept in `error`; later frames are dropped (counted in
 *   `droppedFrames`). An I/O error (ENOSPC, EIO…, the Node error as thrown) also discards
 *   the queued audio: the file keeps what was written and the header patched before it.
 * - `close` (idempotent: every call returns the same promise) refuses further frames
 *   (silently ignored, not counted), writes the partial block, patches the final header,
 *   and always closes the file handle — then REJECTS with `error` if the recording hit
 *   one, resolves otherwise. `flush` and `flushed` reject likewise.
 */
import { endianness } from 'node:os';
import { ALAW_ENCODE, ULAW_ENCODE } from '../codecs/g711.js';
import {
  MAX_WAV_DATA_BYTES,
  MAX_WAV_LAW_DATA_BYTES,
  WAV_FORMAT_ALAW,
  WAV_FORMAT_MULAW,
  patchWavLawSizes,
  patchWavSizes,
  wavHeader,
  wavLawHeader,
} from './wavHeader.js';
import {
  asError,
  createRecordingFile,
  writeFully,
  type FilePart,
  type RecordingFile,
} from './recordingFile.js';
import type { FrameSource } from './recordingSink.js';

/** How samples are stored: 16-bit PCM, or G.711 (8-bit µ-law / A-law, RFC 3551 §4.5.14). */
export type WavEncoding = 'pcm16' | 'mulaw' | 'alaw';

/**
 * The first block's length for the `n`th recording a thread opens: `flushIntervalMs` less
 * `n mod steps` steps of `flushIntervalMs / steps`. Recordings started in the same moment
 * (a burst of calls) would otherwise complete their blocks in the same sweep, so one sweep
 * copied and sent every recording's block while the others sent none (docs/architecture.md
 * §7.3); with `steps` = blocks per sweep interval (10 for 1 s blocks and the 100 ms sweep)
 * their writes spread evenly over the sweeps.
 */
export function staggerFirstBlockMs(flushIntervalMs: number, n: number, steps: number): number {
  if (!(steps >= 1)) return flushIntervalMs;
  const step = flushIntervalMs / Math.floor(steps);
  return flushIntervalMs - (n % Math.floor(steps)) * step;
}

/** Owner read/write, group read: a recording holds customers' voices. */
export const DEFAULT_WAV_FILE_MODE = 0o640;

/**
 * Blocks of closed recordings, by size, for the next recordings of this thread (a module is
 * loaded per thread): a recorded call then allocates none (32-64 KB each, two per call
 * that outlives its first block) and its first writes fault in no fresh pages. Only a block
 * no write holds comes back; bounded, beyond that blocks are left to the collector. A
 * reused block holds an earlier call's audio, but only the bytes a frame wrote are ever
 * written to a file.
 *
 * The bound is in bytes, about what a worker's recordings hold at a few hundred call
 * set-ups per second (1 s calls: ~200 recordings per worker, each with a block): with room
 * for 32 blocks, most recordings took a fresh block there and faulted in its pages while
 * writing silence into it (the largest item of a recorded call's set-up on the worker,
 * docs/architecture.md §7.6). What is kept is at most what the recordings held at their
 * peak.
 */
const freeBlocks = new Map<number, Buffer[]>();
const MAX_FREE_BLOCK_BYTES = 16 * 1024 * 1024;
let freeBlockBytes = 0;

function takeBlock(bytes: number): Buffer {
  const block = freeBlocks.get(bytes)?.pop();
  if (block === undefined) return Buffer.allocUnsafeSlow(bytes);
  freeBlockBytes -= bytes;
  return block;
}

function giveBlocks(bytes: number, blocks: Buffer[]): void {
  let list = freeBlocks.get(bytes);
  if (list === undefined) {
    list = [];
    freeBlocks.set(bytes, list);
  }
  while (blocks.length > 0 && freeBlockBytes + bytes <= MAX_FREE_BLOCK_BYTES) {
    list.push(blocks.pop()!);
    freeBlockBytes += bytes;
  }
  blocks.length = 0;
}

/** Blocks waiting for reuse in this thread (for tests). */
export function freeBlockCount(): number {
  let n = 0;
  for (const list of freeBlocks.values()) n += list.length;
  return n;
}

/** WAV samples are little-endian: on such a machine a block is written as an Int16Array. */
const LITTLE_ENDIAN = endianness() === 'LE';
const views = new WeakMap<Buffer, Int16Array>();

/** The int16 view of a block (made once per block; blocks are unpooled: offset 0, aligned). */
function sampleView(buf: Buffer): Int16Array {
  let view = views.get(buf);
  if (view === undefined) {
    view = new Int16Array(buf.buffer, buf.byteOffset, buf.length >> 1);
    views.set(buf, view);
  }
  return view;
}

export interface WavRecorderOptions {
  /** File to create (it must not exist). */
  path: string;
  /** 2: left (customer) and right (agent) interleaved; 1: their clamped sum. */
  channels: 1 | 2;
  /** Default 8000. */
  sampleRate?: number;
  /** Audio per block: how often buffered audio is written and the header patched (1000). */
  flushIntervalMs?: number;
  /**
   * Audio in the first block (default flushIntervalMs; at least one frame, at most a
   * block): a shorter first block moves every later block's write earlier by the
   * difference (staggerFirstBlockMs).
   */
  firstBlockMs?: number;
  /** Samples per channel in one writeFrame call (160 = 20 ms at 8 kHz). */
  frameSamples?: number;
  /** Audio the disk may fall behind by before the recording stops (10000). */
  maxBacklogMs?: number;
  /** Data size at which the recording stops (default and at most MAX_WAV_DATA_BYTES). */
  maxDataBytes?: number;
  /** Permissions of the file (default 0640), applied whatever the umask. */
  fileMode?: number;
  /** Sample format (default pcm16). */
  encoding?: WavEncoding;
}

/** What the recorder needs of a file (the name the tests use). */
export type WavFile = RecordingFile;

export type WavRecorderErrorCode =
  /** The data reached maxDataBytes (a WAV holds at most 4 GiB). */
  | 'ERR_RECORDING_FULL'
  /** The disk fell more than maxBacklogMs behind. */
  | 'ERR_RECORDING_BACKLOG'
  /** The file accepted no bytes of a write (a 0-byte write that would loop forever). */
  | 'ERR_RECORDING_SHORT_WRITE';

export class WavRecorderError extends Error {
  constructor(
    readonly code: WavRecorderErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'WavRecorderError';
  }
}

interface Settings {
  encoding: WavEncoding;
  bytesPerSample: number;
  channels: 1 | 2;
  sampleRate: number;
  frameSamples: number;
  blockBytes: number;
  firstBlockBytes: number;
  maxBlocks: number;
  maxDataBytes: number;
}

function settings(options: WavRecorderOptions): Settings {
  const { channels } = options;
  const encoding = options.encoding ?? 'pcm16';
  if (encoding !== 'pcm16' && encoding !== 'mulaw' && encoding !== 'alaw') {
    throw new RangeError(`unknown WAV encoding ${String(encoding)}`);
  }
  const bytesPerSample = encoding === 'pcm16' ? 2 : 1;
  const maxBytes = encoding === 'pcm16' ? MAX_WAV_DATA_BYTES : MAX_WAV_LAW_DATA_BYTES;
  const sampleRate = options.sampleRate ?? 8000;
  const frameSamples = options.frameSamples ?? 160;
  const flushIntervalMs = options.flushIntervalMs ?? 1000;
  const maxBacklogMs = options.maxBacklogMs ?? 10_000;
  const maxDataBytes = options.maxDataBytes ?? maxBytes;
  const positiveInteger = (name: string, v: number): void => {
    if (!Number.isInteger(v) || v <= 0) throw new RangeError(`${name} must be a positive integer`);
  };
  if (channels !== 1 && channels !== 2) throw new RangeError('channels must be 1 or 2');
  positiveInteger('sampleRate', sampleRate);
  positiveInteger('frameSamples', frameSamples);
  if (!(flushIntervalMs > 0)) throw new RangeError('flushIntervalMs must be positive');
  if (!(maxBacklogMs > 0)) throw new RangeError('maxBacklogMs must be positive');
  if (!Number.isInteger(maxDataBytes) || maxDataBytes < 0 || maxDataBytes > maxBytes) {
    throw new RangeError(`maxDataBytes must be an integer in [0, ${maxBytes}]`);
  }
  const frameMs = (frameSamples * 1000) / sampleRate;
  const blockFrames = Math.max(1, Math.round(flushIntervalMs / frameMs));
  const firstBlockMs = options.firstBlockMs ?? flushIntervalMs;
  if (!(firstBlockMs > 0)) throw new RangeError('firstBlockMs must be positive');
  const firstFrames = Math.min(blockFrames, Math.max(1, Math.round(firstBlockMs / frameMs)));
  const frameBytes = frameSamples * channels * bytesPerSample;
  return {
    encoding,
    bytesPerSample,
    channels,
    sampleRate,
    frameSamples,
    blockBytes: blockFrames * frameBytes,
    firstBlockBytes: firstFrames * frameBytes,
    maxBlocks: 1 + Math.max(1, Math.ceil(maxBacklogMs / (blockFrames * frameMs))),
    maxDataBytes,
  };
}

const shortWrite = (): Error =>
  new WavRecorderError('ERR_RECORDING_SHORT_WRITE', 'the file accepted no bytes');

export class WavRecorder {
  readonly channels: 1 | 2;
  readonly sampleRate: number;
  readonly frameSamples: number;
  readonly encoding: WavEncoding;
  /** Frames not recorded because the recording had stopped on an error. */
  droppedFrames = 0;

  private readonly file: WavFile;
  private readonly header: Buffer;
  private readonly headerSize: number;
  /** G.711 encoding table (null for 16-bit PCM). */
  private readonly lawTable: Uint8Array | null;
  private readonly frameBytes: number;
  private readonly blockBytes: number;
  private readonly maxBlocks: number;
  private readonly maxDataBytes: number;

  /** The block being filled (null once the backlog limit stopped the recording). */
  private block: Buffer | null;
  private fill = 0;
  /** Bytes at which the block being filled is full: the first block's, then blockBytes. */
  private limit: number;
  private readonly free: Buffer[] = [];
  private blocks: number;
  /** Full (or flushed partial) blocks waiting to be written, oldest first. */
  private readonly queue: Buffer[] = [];
  private readonly queueLengths: number[] = [];
  private draining: Promise<void> | null = null;
  /** Frames of scratch for writeFrameFrom's other cases (made when first needed). */
  private scratch: [Int16Array, Int16Array] | null = null;
  /** Audio bytes the writes sent so far will have put on file (sendQueued). */
  private sentBytes = 0;

  private frames = 0;
  private accepted = 0;
  private onFile = 0;
  private failure: Error | null = null;
  private ioFailed = false;
  private closing: Promise<void> | null = null;

  /**
   * Creates `options.path` (flag 'wx': rejects with EEXIST if it exists) and writes a header
   * declaring no audio. Rejects on invalid options (RangeError) or I/O errors.
   */
  static async open(options: WavRecorderOptions): Promise<WavRecorder> {
    const s = settings(options);
    const mode = options.fileMode ?? DEFAULT_WAV_FILE_MODE;
    const handle = await createRecordingFile(options.path, mode);
    return WavRecorder.start(handle, s);
  }

  /**
   * A recorder over a file opened by the caller (tests inject failing or slow files). The
   * header is written at position 0; the recorder owns the file and closes it.
   */
  static async create(
    file: WavFile,
    options: Omit<WavRecorderOptions, 'path'>,
  ): Promise<WavRecorder> {
    let s: Settings;
    try {
      s = settings({ ...options, path: '' });
    } catch (err) {
      await file.close().catch(() => undefined);
      throw err;
    }
    return WavRecorder.start(file, s);
  }

  /**
   * As `create`, without waiting for the header: the recorder at once (it may take frames),
   * and `written`, which settles when the header is on file, or rejects, the file closed,
   * when it could not be written (a create the writer thread refused: EEXIST, ENOENT…).
   * Until it resolves, the recorder must not be written to the file: a room feeds it its
   * packets meanwhile, so its file can start when the recording was asked for, not when the
   * create came back (docs/architecture.md §7.6). Invalid options throw, the file closed.
   */
  static begin(
    file: WavFile,
    options: Omit<WavRecorderOptions, 'path'>,
  ): { recorder: WavRecorder; written: Promise<void> } {
    let s: Settings;
    try {
      s = settings({ ...options, path: '' });
    } catch (err) {
      void file.close().catch(() => undefined);
      throw err;
    }
    const recorder = new WavRecorder(file, s);
    const written = writeFully(file, recorder.header, recorder.headerSize, 0, shortWrite).catch(
      async (err: unknown) => {
        await file.close().catch(() => undefined);
        throw asError(err);
      },
    );
    return { recorder, written };
  }

  private static async start(file: WavFile, s: Settings): Promise<WavRecorder> {
    const recorder = new WavRecorder(file, s);
    try {
      await writeFully(file, recorder.header, recorder.headerSize, 0, shortWrite);
    } catch (err) {
      await file.close().catch(() => undefined);
      throw asError(err);
    }
    return recorder;
  }

  private constructor(file: WavFile, s: Settings) {
    this.file = file;
    this.channels = s.channels;
    this.sampleRate = s.sampleRate;
    this.frameSamples = s.frameSamples;
    this.encoding = s.encoding;
    this.frameBytes = s.frameSamples * s.channels * s.bytesPerSample;
    this.blockBytes = s.blockBytes;
    this.maxBlocks = s.maxBlocks;
    this.maxDataBytes = s.maxDataBytes;
    if (s.encoding === 'pcm16') {
      this.header = wavHeader(s.channels, s.sampleRate, 0);
      this.lawTable = null;
    } else {
      const tag = s.encoding === 'alaw' ? WAV_FORMAT_ALAW : WAV_FORMAT_MULAW;
      this.header = wavLawHeader(s.channels, s.sampleRate, tag, 0);
      this.lawTable = s.encoding === 'alaw' ? ALAW_ENCODE : ULAW_ENCODE;
    }
    this.headerSize = this.header.length;
    // One block now; the second when the first is queued (a short call never needs it).
    // Not zero-filled: only the bytes a frame wrote are ever written to the file.
    this.block = takeBlock(s.blockBytes);
    this.limit = s.firstBlockBytes;
    this.blocks = 1;
  }

  /** Audio bytes written to the file, which its header declares (buffered audio excluded). */
  get bytesWritten(): number {
    return this.onFile;
  }

  /** Frames accepted into the recording (written or still buffered). */
  get framesWritten(): number {
    return this.frames;
  }

  /** The first error that stopped the recording, or null. */
  get error(): Error | null {
    return this.failure;
  }

  /**
   * One frame: `left` (customer) and `right` (agent), each frameSamples int16 samples or
   * null for silence. Hot path: allocates nothing, never throws (see the policies above).
   */
  writeFrame(
    left: Int16Array | null,
    right: Int16Array | null,
    leftRaw: Int16Array | null = null,
    rightRaw: Int16Array | null = null,
  ): void {
    if (this.closing) return;
    if (this.failure || !this.block) {
      this.droppedFrames++;
      return;
    }
    if (this.accepted + this.frameBytes > this.maxDataBytes) {
      this.stop(
        new WavRecorderError(
          'ERR_RECORDING_FULL',
          `recording reached ${this.accepted} bytes (a WAV holds at most ${this.maxDataBytes})`,
        ),
      );
      this.droppedFrames++;
      return;
    }
    const buf = this.block;
    const n = this.frameSamples;
    if (left === null && right === null) {
      this.silence(1);
      return;
    }
    const ln = left ? Math.min(left.length, n) : 0;
    const rn = right ? Math.min(right.length, n) : 0;
    const start = this.fill;
    if (this.lawTable !== null) {
      this.writeLaw(buf, start, this.lawTable, left, ln, right, rn, leftRaw, rightRaw);
    } else if (LITTLE_ENDIAN) {
      // The block's samples as int16 in place (an unpooled buffer: 0-offset, aligned): plain
      // stores instead of a checked writeInt16LE per sample.
      const view = sampleView(buf);
      let at = start >> 1;
      if (this.channels === 2 && ln === n && rn === n) {
        // Both tracks whole (the common frame): a plain interleave, no test per sample.
        const l = left!;
        const r = right!;
        for (let i = 0; i < n; i++, at += 2) {
          view[at] = l[i]!;
          view[at + 1] = r[i]!;
        }
      } else if (this.channels === 2) {
        for (let i = 0; i < n; i++) {
          view[at] = i < ln ? left![i]! : 0;
          view[at + 1] = i < rn ? right![i]! : 0;
          at += 2;
        }
      } else {
        for (let i = 0; i < n; i++) {
          const v = (i < ln ? left![i]! : 0) + (i < rn ? right![i]! : 0);
          view[at++] = v > 32767 ? 32767 : v < -32768 ? -32768 : v;
        }
      }
    } else {
      let off = start;
      for (let i = 0; i < n; i++) {
        const l = i < ln ? left![i]! : 0;
        const r = i < rn ? right![i]! : 0;
        if (this.channels === 2) {
          buf.writeInt16LE(l, off);
          buf.writeInt16LE(r, off + 2);
          off += 4;
        } else {
          const v = l + r;
          buf.writeInt16LE(v > 32767 ? 32767 : v < -32768 ? -32768 : v, off);
          off += 2;
        }
      }
    }
    const off = start + this.frameBytes;
    this.fill = off;
    this.frames++;
    this.accepted += this.frameBytes;
    if (off + this.frameBytes > this.limit) this.enqueueBlock();
  }

  /**
   * One frame taken from two tracks (recordingSink.ts): a 16-bit PCM stereo frame the
   * recording takes goes straight into the block, each track into its channel, with no
   * frame of scratch in between; any other (mono, G.711, a frame refused: closed, failed,
   * full) is taken into scratch and goes through `writeFrame`. Hot path: allocates
   * nothing (the scratch is made once per recorder, when first needed), never throws.
   */
  writeFrameFrom(left: FrameSource, right: FrameSource): void {
    const n = this.frameSamples;
    const fb = this.frameBytes;
    const buf = this.block;
    if (
      buf !== null &&
      this.lawTable === null &&
      LITTLE_ENDIAN &&
      this.channels === 2 &&
      this.closing === null &&
      this.failure === null &&
      this.accepted + fb <= this.maxDataBytes
    ) {
      const view = sampleView(buf);
      const at = this.fill >> 1;
      left.takeInto(view, at, 2, n);
      right.takeInto(view, at + 1, 2, n);
      const off = this.fill + fb;
      this.fill = off;
      this.frames++;
      this.accepted += fb;
      if (off + fb > this.limit) this.enqueueBlock();
      return;
    }
    this.scratch ??= [new Int16Array(n), new Int16Array(n)];
    const [l, r] = this.scratch;
    const hasLeft = left.takeInto(l, 0, 1, n);
    const hasRight = right.takeInto(r, 0, 1, n);
    this.writeFrame(hasLeft ? l : null, hasRight ? r : null);
  }

  /**
   * Up to `frames` frames written by `fill` straight into the blocks (recordingSink.ts): a
   * 16-bit PCM file whose frames come ready-made, interleaved as its channels (the native
   * io's recordings, docs/architecture.md §3.7). `fill(view, at, max)` writes at most
   * `max` frames of samples at `view[at…]` and returns how many. Returns the frames
   * written; the rest are refused as `writeFrame` refuses them (closed: silently; failed
   * or full: counted in `droppedFrames`). Never throws on a running recording.
   */
  writeFramesWith(
    frames: number,
    fill: (view: Int16Array, at: number, max: number) => number,
  ): number {
    if (this.lawTable !== null || !LITTLE_ENDIAN) {
      throw new Error('writeFramesWith takes 16-bit PCM frames on a little-endian host');
    }
    const fb = this.frameBytes;
    let done = 0;
    while (done < frames) {
      if (this.closing) return done;
      if (this.failure || !this.block) {
        this.droppedFrames += frames - done;
        return done;
      }
      if (this.accepted + fb > this.maxDataBytes) {
        this.stop(
          new WavRecorderError(
            'ERR_RECORDING_FULL',
            `recording reached ${this.accepted} bytes (a WAV holds at most ${this.maxDataBytes})`,
          ),
        );
        this.droppedFrames += frames - done;
        return done;
      }
      // Frames that fit the block (at least one: a full block was queued) and the file.
      const k = Math.min(
        frames - done,
        Math.floor((this.limit - this.fill) / fb),
        Math.floor((this.maxDataBytes - this.accepted) / fb),
      );
      const n = fill(sampleView(this.block), this.fill >> 1, k);
      this.fill += n * fb;
      this.frames += n;
      this.accepted += n * fb;
      done += n;
      if (this.fill + fb > this.limit) this.enqueueBlock();
      if (n < k) return done;
    }
    return done;
  }

  /**
   * `frames` frames of silence, the same as that many `writeFrame(null, null)`: each block
   * is filled in one pass (not sample by sample, frame by frame). Never throws.
   */
  writeSilence(frames: number): void {
    if (this.closing) return;
    if (this.failure || !this.block) {
      this.droppedFrames += frames;
      return;
    }
    this.silence(frames);
  }

  /** Writes `frames` silent frames into blocks (the recording is running). */
  private silence(frames: number): void {
    const fb = this.frameBytes;
    // A G.711 file's silence is the law's code for 0, 16-bit PCM's is 0.
    const value = this.lawTable !== null ? this.lawTable[0]! : 0;
    while (frames > 0) {
      if (this.failure || !this.block) {
        this.droppedFrames += frames;
        return;
      }
      if (this.accepted + fb > this.maxDataBytes) {
        this.stop(
          new WavRecorderError(
            'ERR_RECORDING_FULL',
            `recording reached ${this.accepted} bytes (a WAV holds at most ${this.maxDataBytes})`,
          ),
        );
        this.droppedFrames += frames;
        return;
      }
      // Frames that fit the block (at least one: a full block was queued) and the file.
      const k = Math.min(
        frames,
        Math.floor((this.limit - this.fill) / fb),
        Math.floor((this.maxDataBytes - this.accepted) / fb),
      );
      const start = this.fill;
      this.block.fill(value, start, start + k * fb);
      this.fill = start + k * fb;
      this.frames += k;
      this.accepted += k * fb;
      frames -= k;
      if (this.fill + fb > this.limit) this.enqueueBlock();
    }
  }

  /**
   * One frame as G.711 bytes: a sample with a received byte (`raw` ≥ 0) is written as it
   * came, any other is encoded (mono: the clamped sum, always encoded).
   */
  private writeLaw(
    buf: Buffer,
    start: number,
    table: Uint8Array,
    left: Int16Array | null,
    ln: number,
    right: Int16Array | null,
    rn: number,
    leftRaw: Int16Array | null,
    rightRaw: Int16Array | null,
  ): void {
    const n = this.frameSamples;
    let at = start;
    if (this.channels === 2) {
      for (let i = 0; i < n; i++) {
        const lr = leftRaw !== null && i < ln ? leftRaw[i]! : -1;
        const rr = rightRaw !== null && i < rn ? rightRaw[i]! : -1;
        buf[at++] = lr >= 0 ? lr : table[(i < ln ? left![i]! : 0) & 0xffff]!;
        buf[at++] = rr >= 0 ? rr : table[(i < rn ? right![i]! : 0) & 0xffff]!;
      }
    } else {
      for (let i = 0; i < n; i++) {
        const v = (i < ln ? left![i]! : 0) + (i < rn ? right![i]! : 0);
        buf[at++] = table[(v > 32767 ? 32767 : v < -32768 ? -32768 : v) & 0xffff]!;
      }
    }
  }

  /**
   * Writes everything accepted so far, the partial block included, and patches the header.
   * Rejects with `error` if the recording has stopped on one.
   */
  async flush(): Promise<void> {
    if (this.closing) return this.closing;
    if (this.block && this.fill > 0) this.enqueueBlock();
    return this.flushed();
  }

  /**
   * Resolves when the blocks already queued are written (not the partial block: what a
   * crash now would leave on disk). Rejects with `error` if the recording stopped on one.
   */
  async flushed(): Promise<void> {
    if (this.draining) await this.draining;
    if (this.failure) throw this.failure;
  }

  /**
   * Writes the partial block, patches the final header and closes the file (always, also
   * after an error). Idempotent: every call returns the same promise, which rejects with
   * `error` if the recording hit one.
   */
  close(): Promise<void> {
    this.closing ??= this.finish();
    return this.closing;
  }

  private async finish(): Promise<void> {
    let closed: Promise<void> | null = null;
    try {
      if (this.block && this.fill > 0) this.queueBlock();
      else if (this.block) this.free.push(this.block);
      this.block = null;
      const drained = this.startDrain();
      // A file whose ops run in the order called (writeParts) takes the close now, behind
      // the last blocks' write, when nothing is left to queue after it: the same batch.
      if (this.file.writeParts !== undefined && this.queue.length === 0) {
        closed = this.file.close();
        closed.catch(() => undefined); // awaited below
      }
      await drained;
      // Every write is done (the drain never rejects): its blocks serve the next recordings.
      giveBlocks(this.blockBytes, this.free);
    } finally {
      try {
        await (closed ?? this.file.close());
      } catch (err) {
        this.failure ??= asError(err);
      }
    }
    if (this.failure) throw this.failure;
  }

  /** Queues the current block for writing and takes a free one (or stops: backlog). */
  private enqueueBlock(): void {
    this.queueBlock();
    this.block = this.free.pop() ?? null;
    if (!this.block && this.blocks < this.maxBlocks) {
      this.block = takeBlock(this.blockBytes);
      this.blocks++;
    }
    if (!this.block) {
      this.stop(
        new WavRecorderError(
          'ERR_RECORDING_BACKLOG',
          `the disk fell ${this.queue.length} blocks behind the recording`,
        ),
      );
    }
    void this.startDrain();
  }

  private queueBlock(): void {
    this.queue.push(this.block!);
    this.queueLengths.push(this.fill);
    this.fill = 0;
    this.limit = this.blockBytes;
  }

  /**
   * Starts the writer unless it runs. It starts only with work to do, so `drain` reaches its
   * first await before its `finally` can clear `draining`.
   */
  private startDrain(): Promise<void> {
    if (this.file.writeParts !== undefined) return this.sendQueued(this.file);
    if (this.draining) return this.draining;
    if (this.queue.length === 0 || this.ioFailed) return Promise.resolve();
    this.draining = this.drain();
    return this.draining;
  }

  /** Writes the queued blocks in order, each followed by the header patch. Never rejects. */
  private async drain(): Promise<void> {
    try {
      while (this.queue.length > 0 && !this.ioFailed) {
        const buf = this.queue[0]!;
        const length = this.queueLengths[0]!;
        await writeFully(this.file, buf, length, this.headerSize + this.onFile, shortWrite);
        this.onFile += length;
        if (this.lawTable === null) patchWavSizes(this.header, this.onFile);
        else patchWavLawSizes(this.header, this.onFile, this.channels);
        await writeFully(this.file, this.header, this.headerSize, 0, shortWrite);
        this.queue.shift();
        this.queueLengths.shift();
        this.free.push(buf);
      }
    } catch (err) {
      this.ioFail(asError(err));
    } finally {
      this.draining = null;
    }
  }

  /**
   * A file whose ops run in the order called (writeParts: the writer thread's): every
   * queued block and then the header patched to cover them go now, as one operation,
   * without waiting for the ones before (one message per block, not two awaited in turn).
   * The crash-safety order holds: the writer writes a patch only after its blocks were
   * written whole, and after one write on a file failed it writes nothing more to it. A
   * block comes back to the free list when its write is answered, so the backlog limit
   * counts blocks sent and not yet written as before. Resolves when all sent are answered.
   */
  private sendQueued(file: WavFile): Promise<void> {
    if (this.queue.length > 0 && !this.ioFailed) {
      const blocks = this.queue.splice(0);
      const lengths = this.queueLengths.splice(0);
      const parts: FilePart[] = [];
      let position = this.headerSize + this.sentBytes;
      for (let i = 0; i < blocks.length; i++) {
        parts.push({ buf: blocks[i]!, offset: 0, length: lengths[i]!, position });
        position += lengths[i]!;
      }
      const before = this.sentBytes;
      const after = position - this.headerSize;
      this.sentBytes = after;
      if (this.lawTable === null) patchWavSizes(this.header, after);
      else patchWavLawSizes(this.header, after, this.channels);
      // Its own copy: the bytes are taken when the batch is sent, and the next block's
      // patch may be made before that.
      parts.push({
        buf: Buffer.from(this.header),
        offset: 0,
        length: this.headerSize,
        position: 0,
      });
      const sent = file.writeParts!(parts).then((written) => {
        if (written !== after - before + this.headerSize) throw shortWrite();
        this.onFile = after;
        for (const b of blocks) this.free.push(b);
      });
      const done = sent.catch((err: unknown) => this.ioFail(asError(err)));
      const all = this.draining === null ? done : Promise.all([this.draining, done]);
      const settled = all.then(() => {
        if (this.draining === settled) this.draining = null;
      });
      this.draining = settled;
    }
    return this.draining ?? Promise.resolve();
  }

  /** An I/O error: the queued audio is discarded, the recording stops with it. */
  private ioFail(err: Error): void {
    this.ioFailed = true;
    this.queue.length = 0;
    this.queueLengths.length = 0;
    this.fill = 0;
    this.stop(err);
  }

  /** Keeps the first error; frames after it are dropped. */
  private stop(err: Error): void {
    this.failure ??= err;
  }
}
