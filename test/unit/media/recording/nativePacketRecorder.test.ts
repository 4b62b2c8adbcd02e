/**
 * The native io's recording (nativePacketRecorder.ts, native/tap_recorder.cc) against the
 * worker's own (packetRecorder.ts): fed the same packets at the same times and drained at
 * the same moments, both write the same samples, and count the same duplicates, late
 * packets and re-anchors. The packets cover what the aligner's rules are for (loss,
 * reordering, duplicates, a new SSRC, a timestamp jump, a timestamp held still on hold,
 * packets that come too late, arrival jitter), in µ-law, A-law and G.722 (decoded by
 * JavaScript, placed as PCM), stereo and mono. The native addon is built by install.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { codecOf } from '../../../../media/codecs/table.js';
import { NativePacketIo } from '../../../../media/io/nativePacketIo.js';
import { loadNativeAddon } from '../../../../media/io/nativeBinding.js';
import { RECORDER_STAT_FIELDS, RS_WRITTEN } from '../../../../media/io/packetIo.js';
import { NativePacketRecorder } from '../../../../media/recording/nativePacketRecorder.js';
import { PacketRecorder } from '../../../../media/recording/packetRecorder.js';
import type { FrameSource, RecordingSink } from '../../../../media/recording/recordingSink.js';
import { codecOfKind } from '../../../../media/worker/legCodecs.js';
import { KIND_OF_CODEC, KIND_PCMA, KIND_PCMU } from '../../../../media/worker/payloadMap.js';
import { prng } from '../../../helpers/prng.js';

const FRAME = 160;
const KIND_G722 = KIND_OF_CODEC.G722;

/** A sink that keeps every frame it is given, interleaved as the file would hold it. */
class MemorySink implements RecordingSink {
  readonly sampleRate = 8000;
  readonly frameSamples = FRAME;
  readonly error = null;
  samples = new Int16Array(8000 * 2 * 40);
  framesWritten = 0;
  constructor(readonly channels: 1 | 2) {}
  get bytesWritten(): number {
    return this.framesWritten * FRAME * this.channels * 2;
  }
  private at(): number {
    return this.framesWritten * FRAME * this.channels;
  }
  writeFrame(left: Int16Array | null, right: Int16Array | null): void {
    const at = this.at();
    for (let i = 0; i < FRAME; i++) {
      const l = left ? left[i]! : 0;
      const r = right ? right[i]! : 0;
      if (this.channels === 2) {
        this.samples[at + 2 * i] = l;
        this.samples[at + 2 * i + 1] = r;
      } else {
        const v = l + r;
        this.samples[at + i] = v > 32767 ? 32767 : v < -32768 ? -32768 : v;
      }
    }
    this.framesWritten++;
  }
  writeSilence(frames: number): void {
    for (let f = 0; f < frames; f++) this.writeFrame(null, null);
  }
  writeFrameFrom(left: FrameSource, right: FrameSource): void {
    const l = new Int16Array(FRAME);
    const r = new Int16Array(FRAME);
    const hasLeft = left.takeInto(l, 0, 1, FRAME);
    const hasRight = right.takeInto(r, 0, 1, FRAME);
    this.writeFrame(hasLeft ? l : null, hasRight ? r : null);
  }
  writeFramesWith(
    frames: number,
    fill: (view: Int16Array, at: number, max: number) => number,
  ): number {
    const n = fill(this.samples, this.at(), frames);
    this.framesWritten += n;
    return n;
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
  output(): Int16Array {
    return this.samples.subarray(0, this.at());
  }
}

interface Sent {
  slot: number;
  kind: number;
  msg: Buffer;
  arrivalMs: number;
}

/**
 * 30 s of two sources, 20 ms packets, with every case the aligner handles; each packet
 * with its arrival time (ms after the start), in the order they arrive.
 */
function scenario(seed: number): Sent[] {
  const rnd = prng(seed).next;
  const g722 = codecOf('G722').createEncoder();
  const tone = new Int16Array(320);
  const sent: Sent[] = [];
  for (let slot = 0; slot < 2; slot++) {
    let ssrc = 0x1000 + slot;
    let seq = Math.floor(rnd() * 65536);
    let ts = Math.floor(rnd() * 2 ** 32);
    const kindOfSlot = slot === 0 ? KIND_PCMU : KIND_PCMA;
    for (let n = 0; n < 1500; n++) {
      const sendMs = 20 + n * 20;
      seq = (seq + 1) & 0xffff;
      let tsStep = 160;
      if (slot === 1 && n === 500) {
        ssrc = 0x2222; // a new stream: re-anchored
        seq = Math.floor(rnd() * 65536);
        ts = Math.floor(rnd() * 2 ** 32);
      }
      if (slot === 0 && n === 750) ts = (ts + 40000) >>> 0; // a 5 s jump
      if (slot === 1 && n >= 1000 && n < 1050) tsStep = 0; // held still on hold
      ts = (ts + tsStep) >>> 0;
      if (rnd() < 0.03) continue; // lost
      const g = slot === 0 && n >= 1250 && n < 1400; // G.722 for a while
      const kind = g ? KIND_G722 : kindOfSlot;
      const msg = Buffer.alloc(12 + 160);
      msg[0] = 0x80;
      msg[1] = g ? 9 : kind === KIND_PCMU ? 0 : 8;
      msg.writeUInt16BE(seq, 2);
      msg.writeUInt32BE(ts, 4);
      msg.writeUInt32BE(ssrc, 8);
      if (g) {
        for (let i = 0; i < 320; i++) {
          tone[i] = Math.round(8000 * Math.sin((2 * Math.PI * 1000 * (n * 320 + i)) / 16000));
        }
        g722.encode(tone, 320, msg.subarray(12));
      } else {
        for (let i = 12; i < msg.length; i++) msg[i] = Math.floor(rnd() * 256);
      }
      let arrivalMs = sendMs + rnd() * 5;
      if (rnd() < 0.02) arrivalMs += 150 + rnd() * 300; // too late for some of them
      sent.push({ slot, kind, msg, arrivalMs });
      if (rnd() < 0.02) sent.push({ slot, kind, msg: Buffer.from(msg), arrivalMs: arrivalMs + 1 });
    }
  }
  return sent.sort((a, b) => a.arrivalMs - b.arrivalMs);
}

let io: NativePacketIo;

beforeAll(() => {
  const load = loadNativeAddon();
  if (load.addon === undefined) throw new Error(`the native addon is not built: ${load.error}`);
  io = new NativePacketIo(load.addon);
});

afterAll(async () => {
  await io.close();
});

async function record(channels: 1 | 2, seed: number) {
  const startMs = 1_000_000;
  const jsSink = new MemorySink(channels);
  const nativeSink = new MemorySink(channels);
  const js = new PacketRecorder({ sink: jsSink, startMs, codecOfKind });
  const native = NativePacketRecorder.open({
    io: io.recorders,
    sink: nativeSink,
    startMs,
    codecOfKind,
    writeEveryMs: 0,
  });
  expect(native).not.toBeNull();
  js.setTracks([0, 1]);
  native!.setTracks([0, 1]);
  const packets = scenario(seed);
  let next = 0;
  for (let now = 100; now <= 30_500; now += 100) {
    for (; next < packets.length && packets[next]!.arrivalMs <= now; next++) {
      const p = packets[next]!;
      js.push(p.slot, p.kind, p.msg, 12, p.msg.length, startMs + p.arrivalMs);
      native!.push(p.slot, p.kind, p.msg, 12, p.msg.length, startMs + p.arrivalMs);
    }
    js.drain(startMs + now);
    native!.drain(startMs + now);
  }
  await js.stop(startMs + 30_600);
  await native!.stop(startMs + 30_600);
  return { js, native: native!, jsSink, nativeSink };
}

describe('NativePacketRecorder: the same file as PacketRecorder', () => {
  it.each([1, 2, 3])('stereo, seed %i: every sample, and the counts', async (seed) => {
    const { js, native, jsSink, nativeSink } = await record(2, seed);
    expect(nativeSink.framesWritten).toBe(30_600 / 20);
    expect(nativeSink.framesWritten).toBe(jsSink.framesWritten);
    const a = jsSink.output();
    const b = nativeSink.output();
    let differ = 0;
    for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) differ++;
    expect(differ).toBe(0);
    // Not a recording of silence: both tracks hold audio.
    expect(b.some((v, i) => i % 2 === 0 && v !== 0)).toBe(true);
    expect(b.some((v, i) => i % 2 === 1 && v !== 0)).toBe(true);
    const s = js.stats;
    const n = native.stats;
    expect(s.duplicates).toBeGreaterThan(0);
    expect(s.late).toBeGreaterThan(0);
    expect(s.reanchors).toBeGreaterThanOrEqual(3);
    expect({ duplicates: n.duplicates, late: n.late, reanchors: n.reanchors }).toEqual({
      duplicates: s.duplicates,
      late: s.late,
      reanchors: s.reanchors,
    });
    expect(n.overflow).toBe(0);
  });

  it('mono: the clamped sum of the tracks', async () => {
    const { jsSink, nativeSink } = await record(1, 4);
    const a = jsSink.output();
    const b = nativeSink.output();
    expect(b.length).toBe(a.length);
    let differ = 0;
    for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) differ++;
    expect(differ).toBe(0);
  });
});

describe('NativePacketRecorder: writes in steps and discards what a file refuses', () => {
  it('writes once WRITE_EVERY_MS of audio is due, and all of it at stop', async () => {
    const sink = new MemorySink(2);
    const startMs = 5_000;
    const rec = NativePacketRecorder.open({ io: io.recorders, sink, startMs, codecOfKind })!;
    rec.setTracks([0, 1]);
    rec.drain(startMs + 100);
    rec.drain(startMs + 200);
    expect(sink.framesWritten).toBe(0); // not yet due
    for (let t = 300; t <= 1000; t += 100) rec.drain(startMs + t);
    expect(sink.framesWritten).toBeGreaterThan(0);
    await rec.stop(startMs + 1234);
    expect(sink.framesWritten).toBe(Math.floor((1234 * 8) / FRAME));
  });

  it('a file that refuses frames (full, failed) leaves them behind in the io, not queued', async () => {
    const sink = new MemorySink(2);
    const take = sink.writeFramesWith.bind(sink);
    let room = 10; // frames the file still takes
    sink.writeFramesWith = (frames, fill) => {
      const n = take(Math.min(frames, room), fill);
      room -= n;
      return n;
    };
    const startMs = 9_000;
    const rec = NativePacketRecorder.open({ io: io.recorders, sink, startMs, codecOfKind })!;
    rec.setTracks([0, 1]);
    for (let t = 100; t <= 3000; t += 100) rec.drain(startMs + t);
    expect(sink.framesWritten).toBe(10);
    // The io took every frame up to the last write, the refused ones too (its own count).
    const row = new Float64Array(RECORDER_STAT_FIELDS);
    expect(io.recorders.stats(rec.ioRecording, row)).toBe(true);
    expect(row[RS_WRITTEN]).toBeGreaterThanOrEqual(((3000 - 100 - 400) * 8000) / 1000);
    expect(rec.written).toBe(row[RS_WRITTEN]);
    await rec.stop(startMs + 3000);
    expect(rec.written).toBe(3000 * 8);
  });

  it('stop and abandon make the io forget the recording', async () => {
    const row = new Float64Array(RECORDER_STAT_FIELDS);
    const stopped = NativePacketRecorder.open({
      io: io.recorders,
      sink: new MemorySink(2),
      startMs: 0,
      codecOfKind,
    })!;
    const abandoned = NativePacketRecorder.open({
      io: io.recorders,
      sink: new MemorySink(2),
      startMs: 0,
      codecOfKind,
    })!;
    expect(io.recorders.stats(stopped.ioRecording, row)).toBe(true);
    expect(io.recorders.stats(abandoned.ioRecording, row)).toBe(true);
    await stopped.stop(100);
    abandoned.abandon();
    expect(io.recorders.stats(stopped.ioRecording, row)).toBe(false);
    expect(io.recorders.stats(abandoned.ioRecording, row)).toBe(false);
  });
});
