/**
 * The packet recorder end to end on a fake clock: packets pushed into its queue as the
 * relay would (RTP bytes, arrival ms), drains at chosen times, frames collected by an
 * in-memory sink. Checks the length against the clock, the placement of each party's
 * audio, gaps, reordering, a stalled drain, and G.711 bytes passed through unchanged.
 */
import { describe, expect, it } from '@jest/globals';
import { encodeUlawInto } from '../../../../media/codecs/g711.js';
import { PCMU } from '../../../../media/codecs/g711Codec.js';
import type { Codec } from '../../../../media/codecs/codec.js';
import { PacketRecorder } from '../../../../media/recording/packetRecorder.js';
import type { RecordingSink } from '../../../../media/recording/recordingSink.js';
import { rtp } from '../rtpFixture.js';

const KIND_PCMU = 1;

class MemorySink implements RecordingSink {
  readonly channels = 2 as const;
  readonly sampleRate = 8000;
  readonly frameSamples = 160;
  readonly left: number[] = [];
  readonly right: number[] = [];
  readonly rawLeft: number[] = [];
  bytesWritten = 0;
  framesWritten = 0;
  error: Error | null = null;
  closed = false;
  writeFrame(left: Int16Array | null, right: Int16Array | null, leftRaw?: Int16Array | null): void {
    for (let i = 0; i < 160; i++) {
      this.left.push(left?.[i] ?? 0);
      this.right.push(right?.[i] ?? 0);
      this.rawLeft.push(leftRaw?.[i] ?? -1);
    }
    this.framesWritten++;
    this.bytesWritten += 640;
  }
  close(): Promise<void> {
    this.closed = true;
    return Promise.resolve();
  }
}

/** A 20 ms PCMU packet whose samples are all `value` (a level to find it by). */
function packet(seq: number, ts: number, value: number, ssrc = 7): Buffer {
  const payload = Buffer.alloc(160);
  encodeUlawInto(new Int16Array(160).fill(value), payload);
  return rtp({ pt: 0, seq, ts, ssrc, payload });
}

function recorder(sink: MemorySink, passthrough = false): PacketRecorder {
  const r = new PacketRecorder({
    sink,
    startMs: 1000,
    codecOfKind: (kind): Codec | null => (kind === KIND_PCMU ? PCMU : null),
    ...(passthrough ? { passthroughKind: KIND_PCMU } : {}),
  });
  r.setTracks([0, 1]);
  return r;
}

function push(r: PacketRecorder, slot: number, msg: Buffer, atMs: number): void {
  r.queue.push(slot, KIND_PCMU, msg, 12, msg.length, atMs);
}

/** Mean |level| of samples [fromMs, toMs) of a track. */
function level(track: number[], fromMs: number, toMs: number): number {
  let sum = 0;
  for (let i = fromMs * 8; i < toMs * 8; i++) sum += Math.abs(track[i]!);
  return sum / ((toMs - fromMs) * 8);
}

describe('PacketRecorder, queue → drain → file', () => {
  it('writes as long as the clock ran, each party in its place, gaps silent', async () => {
    const sink = new MemorySink();
    const r = recorder(sink);
    // Left: packets every 20 ms from 20 ms, level 1000, except 500–600 ms lost.
    // Right: from 300 ms on, level 2000, with packet 400 ms arriving after 440 ms.
    let now = 1000;
    for (let t = 20; t <= 2000; t += 20) {
      now = 1000 + t;
      const i = t / 20;
      if (t <= 500 || t > 600) push(r, 0, packet(i, i * 160, 1000), now);
      if (t >= 300 && t !== 400) push(r, 1, packet(i, 5000 + i * 160, 2000, 9), now);
      if (t === 440) push(r, 1, packet(20, 5000 + 20 * 160, 2000, 9), now);
      if (t % 100 === 0) r.drain(now);
    }
    // The file trails the clock by the window (100 ms), in whole frames.
    expect(sink.left.length).toBe(1900 * 8);
    await r.stop(now + 35);
    expect(sink.closed).toBe(true);
    // Stopped 2035 ms after the start: 2020 ms in whole frames.
    expect(sink.left.length).toBe(2020 * 8);
    expect(sink.right.length).toBe(sink.left.length);
    const l = (a: number, b: number) => level(sink.left, a, b);
    const rr = (a: number, b: number) => level(sink.right, a, b);
    expect(l(0, 500)).toBeGreaterThan(900);
    expect(l(500, 580)).toBe(0); // packets ending at 520..600 were lost
    expect(l(600, 2000)).toBeGreaterThan(900);
    expect(rr(0, 280)).toBe(0);
    expect(rr(280, 2000)).toBeGreaterThan(1900); // the reordered packet filled 380–400
    expect(rr(380, 400)).toBeGreaterThan(1900);
    expect(r.stats).toMatchObject({ late: 0, duplicates: 0, overflow: 0, corrupt: 0 });
  });

  it('a drain that came late (a stalled worker) still places what waited in the socket', async () => {
    const sink = new MemorySink();
    const r = recorder(sink);
    for (let t = 20; t <= 1000; t += 20) push(r, 0, packet(t / 20, (t / 20) * 160, 1000), 1000 + t);
    r.drain(2000);
    // The worker stalled from 2000 to 2400 ms: the sweep runs before the socket is read.
    r.drain(2400);
    for (let t = 1020; t <= 1400; t += 20) push(r, 0, packet(t / 20, (t / 20) * 160, 1000), 2400);
    r.drain(2500);
    await r.stop(2500);
    expect(sink.left.length).toBe(1500 * 8);
    expect(level(sink.left, 0, 1400)).toBeGreaterThan(900);
    expect(level(sink.left, 1400, 1500)).toBe(0);
    expect(r.stats.late).toBe(0);
  });

  it('passes a sole G.711 source through as received', async () => {
    const sink = new MemorySink();
    const r = recorder(sink, true);
    const msg = packet(1, 160, 1234);
    push(r, 0, msg, 1020);
    await r.stop(1040);
    const sent = msg[12 + 5]!;
    expect(sink.rawLeft.slice(0, 160)).toEqual(new Array(160).fill(sent));
  });

  it('writes a silent stretch as one block of silence, and a silent track as null frames', async () => {
    class SilenceSink extends MemorySink {
      readonly calls: string[] = [];
      override writeFrame(
        left: Int16Array | null,
        right: Int16Array | null,
        leftRaw?: Int16Array | null,
      ): void {
        this.calls.push(`frame ${left ? 'L' : '-'}${right ? 'R' : '-'}`);
        super.writeFrame(left, right, leftRaw);
      }
      writeSilence(frames: number): void {
        this.calls.push(`silence ${frames}`);
        for (let i = 0; i < frames; i++) super.writeFrame(null, null);
      }
    }
    const sink = new SilenceSink();
    const r = recorder(sink);
    r.drain(1500);
    push(r, 0, packet(1, 160, 1000), 1520); // left: 0.5–0.52 s
    r.drain(1700); // writes up to 0.5 s (the previous drain's time)
    await r.stop(2000);
    expect(sink.left.length).toBe(1000 * 8);
    expect(sink.right.length).toBe(1000 * 8);
    expect(sink.calls).toEqual(['silence 25', 'frame L-', 'silence 24']);
    expect(level(sink.left, 500, 520)).toBeGreaterThan(900);
    expect(level(sink.left, 0, 500)).toBe(0);
    expect(level(sink.left, 520, 1000)).toBe(0);
    expect(level(sink.right, 0, 1000)).toBe(0);
  });

  it('writes silence frame by frame to a sink that has no block write, as long', async () => {
    const sink = new MemorySink();
    const r = recorder(sink);
    r.drain(1500);
    await r.stop(2000);
    expect(sink.framesWritten).toBe(50);
    expect(sink.left.every((v) => v === 0) && sink.right.every((v) => v === 0)).toBe(true);
  });

  it('writes G.711 as its decoder decodes it, sample for sample, without a decoder', async () => {
    const sink = new MemorySink();
    const r = recorder(sink);
    const payload = Buffer.from(Array.from({ length: 160 }, (_, i) => (i * 53 + 7) & 0xff));
    const msg = rtp({ pt: 0, seq: 1, ts: 160, ssrc: 7, payload: [...payload] });
    push(r, 0, msg, 1040); // ends at 40 ms: samples 160-319
    await r.stop(1100);
    const expected = new Int16Array(160);
    PCMU.createDecoder().decode(payload, 0, 160, expected);
    expect(sink.left.slice(160, 320)).toEqual([...expected]);
    expect(sink.left.slice(0, 160).every((v) => v === 0)).toBe(true);
    expect(sink.left.slice(320).every((v) => v === 0)).toBe(true);
  });

  it('places a tapped payload at once, where a queued one would go', async () => {
    const queued = new MemorySink();
    const tapped = new MemorySink();
    const q = recorder(queued);
    const r = recorder(tapped);
    for (let t = 20; t <= 1000; t += 20) {
      const i = t / 20;
      const at = 1000 + t + (i % 4); // 0-3 ms late
      const msg = packet(i, i * 160, 100 * (i % 7));
      push(q, 0, msg, at);
      r.place(0, KIND_PCMU, msg, 12, msg.length, at);
      msg.fill(0, 12); // the tap's buffer is reused at once: nothing of it may be kept
      if (t % 100 === 0) {
        q.drain(1000 + t);
        r.drain(1000 + t);
      }
    }
    await q.stop(2000);
    await r.stop(2000);
    expect(tapped.left).toEqual(queued.left);
    expect(level(tapped.left, 20, 1000)).toBeGreaterThan(0);
  });

  it('places what was queued before a tapped payload first (the anchor is the first packet)', async () => {
    const sink = new MemorySink();
    const r = recorder(sink);
    // Packet 1 on time, by the packet path; packet 2 tapped, 15 ms late.
    push(r, 0, packet(1, 160, 1000), 1040);
    const late = packet(2, 320, 2000);
    r.place(0, KIND_PCMU, late, 12, late.length, 1075);
    await r.stop(1200);
    // Anchored by packet 1: it ends at 40 ms, packet 2 right after it (60 ms).
    expect(level(sink.left, 0, 20)).toBe(0);
    expect(level(sink.left, 20, 40)).toBeGreaterThan(900);
    expect(level(sink.left, 20, 40)).toBeLessThan(1100);
    expect(level(sink.left, 40, 60)).toBeGreaterThan(1900);
    expect(level(sink.left, 60, 200)).toBe(0);
  });

  it('counts a payload tapped after the stop, and an empty one, as not taken', async () => {
    const sink = new MemorySink();
    const r = recorder(sink);
    const msg = packet(1, 160, 1000);
    r.place(0, KIND_PCMU, msg, 12, 12, 1020);
    await r.stop(1100);
    r.place(0, KIND_PCMU, msg, 12, msg.length, 1120);
    expect(r.stats.overflow).toBe(2);
    expect(level(sink.left, 0, 100)).toBe(0);
  });
});
