import { afterEach, beforeEach, describe, it, expect } from '@jest/globals';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  WAV_HEADER_SIZE,
  readWavHeader,
  type WavHeaderInfo,
} from '../../../../media/recording/wavHeader.js';
import {
  WavRecorder,
  WavRecorderError,
  freeBlockCount,
  staggerFirstBlockMs,
  type WavFile,
} from '../../../../media/recording/wavRecorder.js';
import { TrackBuffer } from '../../../../media/recording/trackAligner.js';
import { parseWav } from '../../../helpers/goertzel.js';

const N = 160;
/** Bytes of one 20 ms frame of 8 kHz 16-bit audio, per channel. */
const FRAME = N * 2;

/** A frame of samples start, start + step, … (wrapping is the caller's business). */
function ramp(start: number, step = 1, n = N): Int16Array {
  return Int16Array.from({ length: n }, (_, i) => start + i * step);
}

function constant(value: number, n = N): Int16Array {
  return new Int16Array(n).fill(value);
}

interface OnDisk {
  info: WavHeaderInfo;
  size: number;
  channels: Int16Array[];
}

/** Reads a recording as a player would, checking its header against the bytes on disk. */
async function onDisk(path: string): Promise<OnDisk> {
  const buf = await readFile(path);
  const info = readWavHeader(buf);
  expect(info.dataOffset).toBe(WAV_HEADER_SIZE);
  expect(info.dataBytes).toBe(buf.length - WAV_HEADER_SIZE);
  expect(info.riffBytes).toBe(buf.length - 8);
  const wav = parseWav(buf);
  expect(wav.truncated).toBe(false);
  return { info, size: buf.length, channels: [...wav.channelData] };
}

/** An in-memory WavFile that logs writes and can hold, split or fail them. */
class MemoryFile implements WavFile {
  data = Buffer.alloc(0);
  readonly writes: { position: number; length: number }[] = [];
  inFlight = 0;
  maxInFlight = 0;
  closes = 0;
  /** Fail the write with this index (0-based) and every later one. */
  failAt = Infinity;
  failClose = false;
  /** Largest write accepted per call (short writes). */
  maxChunk = Infinity;
  private gate: Promise<void> | null = null;
  private open = (): void => undefined;

  /** Holds writes until the returned function is called. */
  hold(): () => void {
    this.gate = new Promise((resolve) => {
      this.open = () => {
        this.gate = null;
        resolve();
      };
    });
    return () => this.open();
  }

  async write(
    buffer: Buffer,
    offset: number,
    length: number,
    position: number,
  ): Promise<{ bytesWritten: number }> {
    const index = this.writes.length;
    this.writes.push({ position, length });
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    try {
      if (this.gate) await this.gate;
      await Promise.resolve();
      if (index >= this.failAt) throw Object.assign(new Error('no space left'), { code: 'ENOSPC' });
      const n = Math.min(length, this.maxChunk);
      if (this.data.length < position + n) {
        this.data = Buffer.concat([this.data, Buffer.alloc(position + n - this.data.length)]);
      }
      buffer.copy(this.data, position, offset, offset + n);
      return { bytesWritten: n };
    } finally {
      this.inFlight--;
    }
  }

  async close(): Promise<void> {
    this.closes++;
    if (this.failClose) throw new Error('EIO on close');
  }
}

describe('WavRecorder on disk', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'wavrec-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('interleaves stereo sample-exactly: left customer, right agent', async () => {
    const path = join(dir, 'stereo.wav');
    const rec = await WavRecorder.open({ path, channels: 2, flushIntervalMs: 40 });
    for (let f = 0; f < 5; f++) rec.writeFrame(ramp(f * N), ramp(-f * N, -1));
    await rec.close();
    const { info, channels } = await onDisk(path);
    expect(info).toMatchObject({ channels: 2, sampleRate: 8000, bitsPerSample: 16 });
    expect(info.dataBytes).toBe(5 * FRAME * 2);
    expect([...channels[0]!]).toEqual(Array.from({ length: 5 * N }, (_, i) => i));
    expect([...channels[1]!]).toEqual(Array.from({ length: 5 * N }, (_, i) => -i || 0));
    expect(rec.framesWritten).toBe(5);
    expect(rec.bytesWritten).toBe(5 * FRAME * 2);
  });

  it('creates the file 0640 (or fileMode) whatever the umask', async () => {
    const old = process.umask(0o077);
    let a: WavRecorder;
    let b: WavRecorder;
    try {
      a = await WavRecorder.open({ path: join(dir, 'a.wav'), channels: 1 });
      b = await WavRecorder.open({ path: join(dir, 'b.wav'), channels: 1, fileMode: 0o600 });
    } finally {
      process.umask(old);
    }
    await a.close();
    await b.close();
    expect((await stat(join(dir, 'a.wav'))).mode & 0o777).toBe(0o640);
    expect((await stat(join(dir, 'b.wav'))).mode & 0o777).toBe(0o600);
  });
  it('mono sums both tracks and clamps to int16', async () => {
    const path = join(dir, 'mono.wav');
    const rec = await WavRecorder.open({ path, channels: 1 });
    rec.writeFrame(constant(32767), constant(32767));
    rec.writeFrame(constant(-32768), constant(-1));
    rec.writeFrame(ramp(0), ramp(1000, -2));
    await rec.close();
    const { info, channels } = await onDisk(path);
    expect(info.channels).toBe(1);
    expect(info.dataBytes).toBe(3 * FRAME);
    const s = channels[0]!;
    expect(s.subarray(0, N).every((v) => v === 32767)).toBe(true);
    expect(s.subarray(N, 2 * N).every((v) => v === -32768)).toBe(true);
    expect([...s.subarray(2 * N)]).toEqual(Array.from({ length: N }, (_, i) => 1000 - i));
  });

  it('records null frames (and the missing tail of short ones) as silence', async () => {
    const path = join(dir, 'silence.wav');
    const rec = await WavRecorder.open({ path, channels: 2 });
    rec.writeFrame(null, null);
    rec.writeFrame(constant(7), null);
    rec.writeFrame(null, constant(-7));
    rec.writeFrame(constant(5, 100), constant(6));
    await rec.close();
    const [left, right] = (await onDisk(path)).channels as [Int16Array, Int16Array];
    const frame = (c: Int16Array, f: number): number[] => [...c.subarray(f * N, (f + 1) * N)];
    expect(frame(left, 0)).toEqual(Array(N).fill(0));
    expect(frame(right, 0)).toEqual(Array(N).fill(0));
    expect(frame(left, 1)).toEqual(Array(N).fill(7));
    expect(frame(right, 1)).toEqual(Array(N).fill(0));
    expect(frame(left, 2)).toEqual(Array(N).fill(0));
    expect(frame(right, 2)).toEqual(Array(N).fill(-7));
    expect(frame(left, 3)).toEqual([...Array(100).fill(5), ...Array(N - 100).fill(0)]);
    expect(frame(right, 3)).toEqual(Array(N).fill(6));

    const monoPath = join(dir, 'silence-mono.wav');
    const mono = await WavRecorder.open({ path: monoPath, channels: 1 });
    mono.writeFrame(null, null);
    mono.writeFrame(null, constant(3));
    await mono.close();
    const m = (await onDisk(monoPath)).channels[0]!;
    expect([...m]).toEqual([...Array(N).fill(0), ...Array(N).fill(3)]);
  });

  it('writes a run of silence in blocks, byte for byte as null frames, across blocks', async () => {
    for (const encoding of ['pcm16', 'mulaw', 'alaw'] as const) {
      for (const channels of [1, 2] as const) {
        const options = { channels, flushIntervalMs: 40, encoding };
        const byFrame = join(dir, `frames-${encoding}-${channels}.wav`);
        const inBlocks = join(dir, `blocks-${encoding}-${channels}.wav`);
        const a = await WavRecorder.open({ path: byFrame, ...options });
        const b = await WavRecorder.open({ path: inBlocks, ...options });
        // A frame of audio, 7 silent frames (2-frame blocks: across 4 of them), audio again.
        a.writeFrame(constant(1000), constant(-1000));
        b.writeFrame(constant(1000), constant(-1000));
        for (let f = 0; f < 7; f++) a.writeFrame(null, null);
        b.writeSilence(7);
        a.writeFrame(constant(500), null);
        b.writeFrame(constant(500), null);
        expect(b.framesWritten).toBe(a.framesWritten);
        await a.close();
        await b.close();
        const [fa, fb] = [await readFile(byFrame), await readFile(inBlocks)];
        expect(fb.length).toBe(fa.length);
        expect(fb.equals(fa)).toBe(true);
      }
    }
    const { channels } = await onDisk(join(dir, 'blocks-pcm16-2.wav'));
    expect([...channels[0]!.subarray(N, 8 * N)].every((v) => v === 0)).toBe(true);
    expect(channels[0]![8 * N]).toBe(500);
  });

  it('gives its blocks back at close, and a recording that reuses them writes only its own audio', async () => {
    // 60 ms blocks: a size no other test uses, so the pool of that size starts empty.
    const options = { channels: 2 as const, flushIntervalMs: 60 };
    const first = join(dir, 'first.wav');
    const a = await WavRecorder.open({ path: first, ...options });
    for (let f = 0; f < 8; f++) a.writeFrame(constant(1234), constant(-1234)); // 2⅔ blocks
    const before = freeBlockCount();
    await a.close();
    // The blocks it took (the current one and the next after each full one): 3, none held.
    expect(freeBlockCount()).toBe(before + 3);
    const second = join(dir, 'second.wav');
    const b = await WavRecorder.open({ path: second, ...options });
    expect(freeBlockCount()).toBe(before + 2);
    b.writeFrame(constant(7), null);
    await b.close();
    const { info, channels } = await onDisk(second);
    expect(info.dataBytes).toBe(FRAME * 2);
    expect([...channels[0]!]).toEqual(Array(N).fill(7));
    expect([...channels[1]!]).toEqual(Array(N).fill(0));
    expect((await onDisk(first)).info.dataBytes).toBe(8 * FRAME * 2);
  });

  it('stops a run of silence at maxDataBytes, counting the frames it dropped', async () => {
    const path = join(dir, 'full-silence.wav');
    const rec = await WavRecorder.open({
      path,
      channels: 2,
      flushIntervalMs: 40,
      maxDataBytes: 3 * FRAME * 2 + 100,
    });
    rec.writeSilence(5);
    expect(rec.error).toMatchObject({ code: 'ERR_RECORDING_FULL' });
    expect(rec.framesWritten).toBe(3);
    expect(rec.droppedFrames).toBe(2);
    rec.writeSilence(2);
    expect(rec.droppedFrames).toBe(4);
    await expect(rec.close()).rejects.toMatchObject({ code: 'ERR_RECORDING_FULL' });
    expect((await onDisk(path)).info.dataBytes).toBe(3 * FRAME * 2);
  });

  it('completes the header at close, also for an empty recording', async () => {
    const path = join(dir, 'empty.wav');
    const rec = await WavRecorder.open({ path, channels: 2 });
    const before = await onDisk(path); // valid from the start: 0 data bytes
    expect(before.info.dataBytes).toBe(0);
    await rec.close();
    expect((await onDisk(path)).size).toBe(WAV_HEADER_SIZE);

    const path2 = join(dir, 'long.wav');
    const rec2 = await WavRecorder.open({ path: path2, channels: 2 });
    for (let f = 0; f < 123; f++) rec2.writeFrame(ramp(f), ramp(-f)); // 2.46 s: 2 blocks + a part
    await rec2.close();
    const { info, size } = await onDisk(path2);
    expect(info.dataBytes).toBe(123 * FRAME * 2);
    expect(size).toBe(WAV_HEADER_SIZE + 123 * FRAME * 2);
  });

  it('is a valid WAV of the audio flushed so far while still recording (a crash)', async () => {
    const path = join(dir, 'crash.wav');
    const rec = await WavRecorder.open({ path, channels: 2, flushIntervalMs: 40 });
    for (let f = 0; f < 5; f++) rec.writeFrame(ramp(f * N), ramp(f * N + 10_000));
    await rec.flushed(); // two full 40 ms blocks written, the fifth frame still buffered

    const crashed = await onDisk(path);
    expect(crashed.info.dataBytes).toBe(4 * FRAME * 2);
    expect(rec.bytesWritten).toBe(4 * FRAME * 2);
    expect([...crashed.channels[0]!]).toEqual(Array.from({ length: 4 * N }, (_, i) => i));
    expect([...crashed.channels[1]!]).toEqual(Array.from({ length: 4 * N }, (_, i) => i + 10_000));

    await rec.flush(); // the partial block too
    expect((await onDisk(path)).info.dataBytes).toBe(5 * FRAME * 2);
    rec.writeFrame(ramp(5 * N), ramp(5 * N + 10_000));
    await rec.close();
    expect([...(await onDisk(path)).channels[0]!]).toEqual(
      Array.from({ length: 6 * N }, (_, i) => i),
    );
  });

  it('never overwrites an existing file', async () => {
    const path = join(dir, 'exists.wav');
    await writeFile(path, 'precious');
    await expect(WavRecorder.open({ path, channels: 2 })).rejects.toMatchObject({
      code: 'EEXIST',
    });
    expect(await readFile(path, 'latin1')).toBe('precious');
  });

  it('rejects at open in a directory that does not exist', async () => {
    const path = join(dir, 'missing', 'x.wav');
    await expect(WavRecorder.open({ path, channels: 1 })).rejects.toMatchObject({
      code: 'ENOENT',
    });
  });

  it('rejects invalid options before creating the file', async () => {
    const path = join(dir, 'bad.wav');
    await expect(WavRecorder.open({ path, channels: 3 as 2 })).rejects.toThrow(RangeError);
    await expect(WavRecorder.open({ path, channels: 2, frameSamples: 0 })).rejects.toThrow(
      RangeError,
    );
    await expect(WavRecorder.open({ path, channels: 2, flushIntervalMs: -1 })).rejects.toThrow(
      RangeError,
    );
    await expect(WavRecorder.open({ path, channels: 2, maxDataBytes: 2 ** 32 })).rejects.toThrow(
      RangeError,
    );
    await expect(stat(path)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('close is idempotent, and frames after close are ignored', async () => {
    const path = join(dir, 'closed.wav');
    const rec = await WavRecorder.open({ path, channels: 2 });
    rec.writeFrame(ramp(0), ramp(0));
    const first = rec.close();
    expect(rec.close()).toBe(first);
    rec.writeFrame(ramp(1), ramp(1)); // while closing
    await first;
    await rec.close();
    rec.writeFrame(ramp(2), ramp(2)); // after closing
    await expect(rec.flush()).resolves.toBeUndefined();
    expect(rec.framesWritten).toBe(1);
    expect(rec.droppedFrames).toBe(0);
    expect(rec.error).toBeNull();
    expect((await onDisk(path)).info.dataBytes).toBe(FRAME * 2);
  });

  it('stops at maxDataBytes with ERR_RECORDING_FULL and keeps a valid file', async () => {
    const path = join(dir, 'full.wav');
    const rec = await WavRecorder.open({
      path,
      channels: 2,
      flushIntervalMs: 40,
      maxDataBytes: 3 * FRAME * 2 + 100,
    });
    for (let f = 0; f < 5; f++) rec.writeFrame(ramp(f * N), ramp(0));
    expect(rec.error).toBeInstanceOf(WavRecorderError);
    expect(rec.error).toMatchObject({ code: 'ERR_RECORDING_FULL' });
    expect(rec.framesWritten).toBe(3);
    expect(rec.droppedFrames).toBe(2);
    await expect(rec.close()).rejects.toMatchObject({ code: 'ERR_RECORDING_FULL' });
    const { info, channels } = await onDisk(path);
    expect(info.dataBytes).toBe(3 * FRAME * 2);
    expect([...channels[0]!]).toEqual(Array.from({ length: 3 * N }, (_, i) => i));
  });
});

describe('WavRecorder over an injected file', () => {
  const recorder = (file: MemoryFile, channels: 1 | 2 = 2, maxBacklogMs?: number) =>
    WavRecorder.create(file, { channels, flushIntervalMs: 40, maxBacklogMs });

  it('writes each block then patches the header, one write in flight at a time', async () => {
    const file = new MemoryFile();
    const rec = await recorder(file);
    for (let f = 0; f < 5; f++) rec.writeFrame(ramp(f), ramp(f));
    await rec.close();
    const block = 2 * FRAME * 2;
    expect(file.writes).toEqual([
      { position: 0, length: 44 },
      { position: 44, length: block },
      { position: 0, length: 44 },
      { position: 44 + block, length: block },
      { position: 0, length: 44 },
      { position: 44 + 2 * block, length: block / 2 },
      { position: 0, length: 44 },
    ]);
    expect(file.maxInFlight).toBe(1);
    expect(file.closes).toBe(1);
    expect(readWavHeader(file.data).dataBytes).toBe(5 * FRAME * 2);
  });

  it('writes a shorter first block (firstBlockMs), then whole blocks; the audio is unchanged', async () => {
    const file = new MemoryFile();
    const rec = await WavRecorder.create(file, {
      channels: 2,
      flushIntervalMs: 60,
      firstBlockMs: 20,
    });
    for (let f = 0; f < 5; f++) rec.writeFrame(ramp(f * N), ramp(-f * N, -1));
    rec.writeSilence(3);
    await rec.close();
    const frame = FRAME * 2;
    // Blocks of 1 (the first), 3, 3 and the last 1 frame, each followed by its header patch.
    expect(file.writes.filter((w) => w.position !== 0).map((w) => w.length)).toEqual([
      frame,
      3 * frame,
      3 * frame,
      frame,
    ]);
    const wav = parseWav(file.data);
    const left = Array.from({ length: 8 * N }, (_, i) => (i < 5 * N ? i : 0));
    expect([...wav.channelData[0]!]).toEqual(left);
    expect([...wav.channelData[1]!]).toEqual(left.map((v) => -v || 0));
  });

  it('writeFrameFrom writes the bytes writeFrame writes, stereo and mono', async () => {
    /** Left: a ramp with a summed (clamped) stretch; right: silent in frames 1 and 3. */
    const tracks = (): TrackBuffer[] => {
      const t = [new TrackBuffer(1024, false), new TrackBuffer(1024, false)];
      for (let f = 0; f < 5; f++) {
        t[0]!.add(f * N, ramp(f * 5000 - 10000, 97), N, null, 0);
        if (f === 2) t[0]!.add(f * N + 40, constant(30000, 80), 80, null, 0);
        if (f % 2 === 0) t[1]!.add(f * N, ramp(-f * 300, -3), N, null, 0);
      }
      return t;
    };
    for (const channels of [2, 1] as const) {
      const byFrame = new MemoryFile();
      const byTrack = new MemoryFile();
      const a = await recorder(byFrame, channels);
      const b = await recorder(byTrack, channels);
      const [l, r] = tracks();
      const frames = [new Int16Array(N), new Int16Array(N)] as const;
      for (let f = 0; f < 5; f++) {
        const hasL = l!.take(frames[0], null, N);
        const hasR = r!.take(frames[1], null, N);
        a.writeFrame(hasL ? frames[0] : null, hasR ? frames[1] : null);
      }
      const [l2, r2] = tracks();
      for (let f = 0; f < 5; f++) b.writeFrameFrom(l2!, r2!);
      await a.close();
      await b.close();
      expect(b.framesWritten).toBe(5);
      expect(byTrack.data.length).toBe(44 + 5 * FRAME * channels);
      expect(byTrack.data.equals(byFrame.data)).toBe(true);
      expect(byTrack.writes).toEqual(byFrame.writes);
      const left = parseWav(byTrack.data).channelData[0]!;
      if (channels === 2) expect(Math.max(...left)).toBe(32767); // the clamped stretch
    }
  });

  it('writeFrameFrom takes the tracks also when the frame is refused (full, closed)', async () => {
    const file = new MemoryFile();
    const rec = await WavRecorder.create(file, { channels: 2, maxDataBytes: FRAME * 2 });
    const tracks = [new TrackBuffer(1024, false), new TrackBuffer(1024, false)];
    tracks[0]!.add(0, constant(1000, 3 * N), 3 * N, null, 0);
    rec.writeFrameFrom(tracks[0]!, tracks[1]!);
    rec.writeFrameFrom(tracks[0]!, tracks[1]!); // would pass maxDataBytes
    expect(rec.error).toBeInstanceOf(WavRecorderError);
    expect(rec.droppedFrames).toBe(1);
    expect(tracks.map((t) => t.written)).toEqual([2 * N, 2 * N]);
    await rec.close().catch(() => undefined);
    rec.writeFrameFrom(tracks[0]!, tracks[1]!);
    expect(tracks.map((t) => t.written)).toEqual([3 * N, 3 * N]);
    expect(tracks[0]!.silent).toBe(true);
    expect(readWavHeader(file.data).dataBytes).toBe(FRAME * 2);
    expect([...parseWav(file.data).channelData[0]!]).toEqual(new Array(N).fill(1000));
  });

  it('staggers first blocks over the sweeps: 1 s blocks in 10 steps of 100 ms', () => {
    expect([0, 1, 2, 9, 10, 11].map((n) => staggerFirstBlockMs(1000, n, 10))).toEqual([
      1000, 900, 800, 100, 1000, 900,
    ]);
    expect(staggerFirstBlockMs(1000, 7, 1)).toBe(1000);
    expect(staggerFirstBlockMs(1000, 7, 0)).toBe(1000);
  });

  it('refuses a firstBlockMs that is not positive', async () => {
    const file = new MemoryFile();
    await expect(
      WavRecorder.create(file, { channels: 2, flushIntervalMs: 60, firstBlockMs: 0 }),
    ).rejects.toThrow('firstBlockMs must be positive');
    expect(file.closes).toBe(1);
  });

  it('keeps filling a second block while the first is written (double buffering)', async () => {
    const file = new MemoryFile();
    const rec = await recorder(file);
    const release = file.hold();
    for (let f = 0; f < 4; f++) rec.writeFrame(ramp(f * N), ramp(-f * N, -1));
    // block 1 in flight, block 2 queued: reuse of a block being written would corrupt it
    expect(rec.bytesWritten).toBe(0);
    release();
    for (let f = 4; f < 7; f++) rec.writeFrame(ramp(f * N), ramp(-f * N, -1));
    await rec.close();
    const wav = parseWav(file.data);
    expect([...wav.channelData[0]!]).toEqual(Array.from({ length: 7 * N }, (_, i) => i));
    expect([...wav.channelData[1]!]).toEqual(Array.from({ length: 7 * N }, (_, i) => -i || 0));
    expect(file.maxInFlight).toBe(1);
  });

  it('stops with ERR_RECORDING_BACKLOG when the disk falls too far behind', async () => {
    const file = new MemoryFile();
    const rec = await recorder(file, 2, 80); // 1 block filling + 2 queued
    const release = file.hold();
    for (let f = 0; f < 10; f++) rec.writeFrame(ramp(f * N), ramp(0));
    expect(rec.error).toMatchObject({ code: 'ERR_RECORDING_BACKLOG' });
    expect(rec.framesWritten).toBe(6);
    expect(rec.droppedFrames).toBe(4);
    release();
    await expect(rec.close()).rejects.toMatchObject({ code: 'ERR_RECORDING_BACKLOG' });
    // the audio accepted before the stop is all there
    const wav = parseWav(file.data);
    expect(readWavHeader(file.data).dataBytes).toBe(6 * FRAME * 2);
    expect([...wav.channelData[0]!]).toEqual(Array.from({ length: 6 * N }, (_, i) => i));
  });

  it('survives short writes', async () => {
    const file = new MemoryFile();
    file.maxChunk = 100;
    const rec = await recorder(file, 1);
    for (let f = 0; f < 3; f++) rec.writeFrame(ramp(f * N), null);
    await rec.close();
    expect([...parseWav(file.data).samples]).toEqual(Array.from({ length: 3 * N }, (_, i) => i));
  });

  it('remembers an I/O error, drops later frames, closes the file and rejects', async () => {
    const file = new MemoryFile();
    file.failAt = 3; // header, block 1, its header patch, then block 2 fails
    const rec = await recorder(file);
    for (let f = 0; f < 4; f++) rec.writeFrame(ramp(f), ramp(f));
    await expect(rec.flushed()).rejects.toMatchObject({ code: 'ENOSPC' });
    expect(rec.error).toMatchObject({ code: 'ENOSPC' });
    expect(() => rec.writeFrame(ramp(0), ramp(0))).not.toThrow();
    expect(rec.droppedFrames).toBe(1);
    expect(rec.bytesWritten).toBe(2 * FRAME * 2);
    await expect(rec.close()).rejects.toMatchObject({ code: 'ENOSPC' });
    await expect(rec.close()).rejects.toMatchObject({ code: 'ENOSPC' });
    expect(file.closes).toBe(1);
    // what reached the file before the error is a valid WAV
    expect(readWavHeader(file.data).dataBytes).toBe(2 * FRAME * 2);
    expect(file.data.length).toBe(WAV_HEADER_SIZE + 2 * FRAME * 2);
  });

  it('closes the file when the header cannot be written or the options are invalid', async () => {
    const file = new MemoryFile();
    file.failAt = 0;
    await expect(recorder(file)).rejects.toMatchObject({ code: 'ENOSPC' });
    expect(file.closes).toBe(1);
    const file2 = new MemoryFile();
    await expect(WavRecorder.create(file2, { channels: 2, sampleRate: -1 })).rejects.toThrow(
      RangeError,
    );
    expect(file2.closes).toBe(1);
  });

  it('reports a failing close', async () => {
    const file = new MemoryFile();
    file.failClose = true;
    const rec = await recorder(file);
    rec.writeFrame(null, null);
    await expect(rec.close()).rejects.toThrow('EIO on close');
    expect(rec.error?.message).toBe('EIO on close');
    expect(readWavHeader(file.data).dataBytes).toBe(FRAME * 2);
  });
});
