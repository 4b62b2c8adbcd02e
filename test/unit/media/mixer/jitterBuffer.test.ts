import { describe, it, expect } from '@jest/globals';
import { JitterBuffer } from '../../../../media/mixer/jitterBuffer.js';
import type { JitterBufferOptions } from '../../../../media/mixer/jitterBuffer.js';

const N = 160;
const SSRC = 0x1234abcd;

/** The test signal: sample i of a stream is a ramp of slope 3 that wraps like int16. */
const ramp = (i: number): number => ((3 * i + 1000) << 16) >> 16;
const nextRamp = (v: number): number => ((v + 3) << 16) >> 16;
/** Samples [first, first + n) of the ramp. */
const rampFrame = (first: number, n = N): number[] =>
  Array.from({ length: n }, (_, i) => ramp(first + i));
/** A frame attenuated `times` × 6 dB, as concealment does it. */
const halve = (frame: readonly number[], times = 1): number[] => frame.map((v) => v >> times);
const snap = (frame: Int16Array | null): number[] | null => (frame ? Array.from(frame) : null);

/**
 * A sender: packet k carries samples [k·ptime, (k + 1)·ptime) of `signal`, with sequence
 * number seq0 + k and timestamp ts0 + k·ptime (both wrapping). One reused array, as the
 * packet path does.
 */
class Sender {
  private readonly buf = new Int16Array(400);
  constructor(
    readonly ssrc = SSRC,
    readonly seq0 = 1000,
    readonly ts0 = 50_000,
    readonly ptime = N,
    readonly signal: (i: number) => number = ramp,
  ) {}
  send(jb: JitterBuffer, k: number, nowMs: number): boolean {
    for (let i = 0; i < this.ptime; i++) this.buf[i] = this.signal(k * this.ptime + i);
    return jb.push(
      this.ssrc,
      (this.seq0 + k) & 0xffff,
      (this.ts0 + k * this.ptime) >>> 0,
      this.buf,
      this.ptime,
      nowMs,
    );
  }
}

/**
 * Runs the mixer's clock: tick i at i·20 ms first delivers every arrival due by then (in
 * list order), then pops. Returns each tick's frame (copied) or null.
 */
function run(
  jb: JitterBuffer,
  sender: Sender,
  arrivals: readonly (readonly [atMs: number, packet: number])[],
  ticks: number,
  firstTick = 0,
): (number[] | null)[] {
  const sorted = [...arrivals].sort((a, b) => a[0] - b[0]);
  let next = 0;
  const out: (number[] | null)[] = [];
  for (let i = firstTick; i < firstTick + ticks; i++) {
    const now = i * 20;
    while (next < sorted.length && sorted[next]![0] <= now) {
      sender.send(jb, sorted[next]![1], sorted[next]![0]);
      next++;
    }
    out.push(snap(jb.pop(now)));
  }
  return out;
}

/** Packets 0 … count−1 arriving on time: packet k of `ptime` samples at its own time. */
function onTime(count: number, ptime = N): [number, number][] {
  return Array.from({ length: count }, (_, k) => [(k * ptime) / 8, k]);
}

/** With the default 40 ms depth, tick i plays frame i − 2 (stream samples from (i−2)·160). */
const DELAY_FRAMES = 2;

function buffer(options: JitterBufferOptions = {}): JitterBuffer {
  return new JitterBuffer(options);
}

describe('JitterBuffer start-up and placement', () => {
  it('anchors the playout at first timestamp − depth: null until then, then sample-exact', () => {
    const jb = buffer();
    expect(jb.pop(0)).toBeNull(); // never started
    const out = run(jb, new Sender(), onTime(10), 12);
    expect(out.slice(0, DELAY_FRAMES)).toEqual([null, null]);
    for (let f = 0; f < 10; f++) expect(out[f + DELAY_FRAMES]).toEqual(rampFrame(f * N));
    const s = jb.stats;
    expect(s.depthMs).toBe(40);
    expect(s.popped).toBe(10);
    expect([s.concealed, s.late, s.duplicates, s.overflow, s.resets, s.skipped]).toEqual([
      0, 0, 0, 0, 0, 0,
    ]);
  });

  it.each([80, 240, 320])('reassembles %i-sample packets into 20 ms frames', (ptime) => {
    const jb = buffer();
    const sender = new Sender(SSRC, 7, 123_456, ptime);
    const count = (24 * N) / ptime;
    const out = run(jb, sender, onTime(count, ptime), 20);
    const firstAudio = out.findIndex((f) => f !== null);
    expect(firstAudio).toBe(DELAY_FRAMES);
    for (let f = 0; f < 18; f++) expect(out[f + DELAY_FRAMES]).toEqual(rampFrame(f * N));
    expect(jb.stats.concealed).toBe(0);
    expect(jb.stats.underruns).toBe(0);
  });

  it('returns one preallocated frame and copies the pushed samples', () => {
    const jb = buffer();
    const samples = Int16Array.from(rampFrame(0));
    expect(jb.push(SSRC, 1, 1000, samples, N, 0)).toBe(true);
    samples.fill(0); // the caller reuses its array
    expect(jb.pop(0)).toBeNull();
    const a = jb.pop(20);
    samples.set(rampFrame(N));
    jb.push(SSRC, 2, 1000 + N, samples, N, 20);
    const b = jb.pop(40);
    expect(a).toBeNull();
    expect(snap(b)).toEqual(rampFrame(0));
    const c = jb.pop(60);
    expect(c).toBe(b); // the same array: nothing allocated per pop
    expect(snap(c)).toEqual(rampFrame(N));
  });

  it('reads only `count` samples of the pushed array', () => {
    const jb = buffer();
    const samples = new Int16Array(400).fill(9999);
    samples.set(rampFrame(0, 80));
    jb.push(SSRC, 1, 0, samples, 80, 0);
    samples.set(rampFrame(80, 80));
    jb.push(SSRC, 2, 80, samples, 80, 10);
    samples.set(rampFrame(160, 80));
    jb.push(SSRC, 3, 160, samples, 80, 20);
    jb.pop(0);
    jb.pop(20);
    expect(snap(jb.pop(40))).toEqual(rampFrame(0));
  });
});

describe('JitterBuffer reordering, duplicates, late packets', () => {
  it('plays reordered packets exactly as in-order ones', () => {
    const inOrder = run(buffer(), new Sender(), onTime(20), 22);
    // Swap neighbours (1 ↔ 2, 3 ↔ 4, …), and deliver packet 6 after 8 (before its playout).
    const reordered: [number, number][] = onTime(20).map(([, k]) => {
      const swapped = k === 0 || k === 19 ? k : k % 2 ? k + 1 : k - 1;
      return [swapped === 6 ? 155 : k * 20, swapped];
    });
    const jb = buffer();
    expect(run(jb, new Sender(), reordered, 22)).toEqual(inOrder);
    expect(jb.stats.late).toBe(0);
    expect(jb.stats.concealed).toBe(0);
  });

  it('discards duplicates (buffered or already played) without double-writing', () => {
    const sender = new Sender();
    const jb = buffer();
    const arrivals = onTime(12).flatMap(([t, k]): [number, number][] => [
      [t, k],
      [t + 1, k], // an immediate copy
    ]);
    arrivals.push([200, 3]); // a copy of a packet played long ago
    const out = run(jb, sender, arrivals, 14);
    for (let f = 0; f < 12; f++) expect(out[f + DELAY_FRAMES]).toEqual(rampFrame(f * N));
    expect(jb.stats.duplicates).toBe(13);
    expect(jb.stats.late).toBe(0);
    expect(jb.stats.pushed).toBe(25);
  });

  it('treats a packet whose samples are all present as a duplicate, and fills overlaps', () => {
    const jb = buffer();
    const sender = new Sender();
    sender.send(jb, 0, 0);
    expect(jb.pop(0)).toBeNull();
    sender.send(jb, 1, 10);
    const half = new Int16Array(rampFrame(80, N)); // samples 80 … 239, new sequence number
    expect(jb.push(SSRC, 5000, 50_000 + 80, half, 80, 10)).toBe(false); // 80 … 159: all there
    expect(jb.stats.duplicates).toBe(1);
    const wrong = new Int16Array(N).fill(7); // overlaps packet 1, covers 2's first half
    expect(jb.push(SSRC, 5001, 50_000 + 240, wrong, N, 10)).toBe(true);
    expect(jb.pop(20)).toBeNull();
    expect(snap(jb.pop(40))).toEqual(rampFrame(0));
    expect(snap(jb.pop(60))).toEqual(rampFrame(N)); // not overwritten by the overlap
    expect(snap(jb.pop(80))!.slice(0, 80)).toEqual(new Array(80).fill(7));
    expect(jb.stats.duplicates).toBe(1);
  });

  it('discards a packet that comes after its samples were played, and counts it', () => {
    const jb = buffer();
    const sender = new Sender();
    // Packet 5 arrives 100 ms late: frame 5 (tick 7) is concealed, the packet is discarded.
    const arrivals = onTime(12).filter(([, k]) => k !== 5);
    arrivals.push([200, 5]);
    const out = run(jb, sender, arrivals, 12);
    expect(out[7]).toEqual(halve(rampFrame(4 * N)));
    expect(out[8]).toEqual(rampFrame(6 * N));
    expect(jb.stats.late).toBe(1);
    expect(jb.stats.concealed).toBe(1);
    expect(sender.send(jb, 5, 240)).toBe(false);
    expect(jb.stats.late).toBe(2);
  });

  it('writes only the unplayed part of a partly late packet', () => {
    const jb = buffer();
    const sender = new Sender(SSRC, 0, 0, 2 * N); // 40 ms packets
    sender.send(jb, 0, 0); // samples 0 … 319
    expect(snap(jb.pop(0))).toBeNull();
    expect(snap(jb.pop(20))).toBeNull();
    expect(snap(jb.pop(40))).toEqual(rampFrame(0));
    expect(snap(jb.pop(60))).toEqual(rampFrame(N));
    sender.send(jb, 2, 80); // 640 … 959 comes before 1 (320 … 639)
    expect(snap(jb.pop(80))).toEqual(halve(rampFrame(N))); // 320 … 479 missing: concealed
    expect(sender.send(jb, 1, 90)).toBe(true); // 320 … 479 are late, 480 … 639 are not
    expect(snap(jb.pop(100))).toEqual(rampFrame(3 * N));
    expect(snap(jb.pop(120))).toEqual(rampFrame(4 * N));
    expect(jb.stats.late).toBe(0);
  });

  it('discards what lies beyond the ring and counts it as overflow', () => {
    // 300 ms ring: timestamps up to 1 s ahead are no resync, but do not fit.
    const jb = buffer({ capacityMs: 300 });
    const sender = new Sender(SSRC, 0, 0);
    sender.send(jb, 0, 0); // playout point at −320: the ring covers −320 … 2079
    expect(sender.send(jb, 20, 0)).toBe(false); // 3200 …: wholly beyond
    expect(sender.send(jb, 13, 0)).toBe(false); // 2080 …: just beyond
    expect(jb.stats.overflow).toBe(2);
    const straddling = new Int16Array(rampFrame(2000));
    expect(jb.push(SSRC, 99, 2000, straddling, N, 0)).toBe(true); // 2000 … 2079 fit
    expect(jb.stats.overflow).toBe(3);
    expect(jb.stats.bufferedMs).toBe(300); // up to 2079, not 2159
    expect(jb.stats.resets).toBe(0);
  });
});

describe('JitterBuffer loss concealment', () => {
  it('repeats the last frame 6 dB down for a lost packet', () => {
    const jb = buffer();
    const out = run(
      jb,
      new Sender(),
      onTime(12).filter(([, k]) => k !== 5),
      12,
    );
    expect(out[5 + DELAY_FRAMES]).toEqual(halve(rampFrame(4 * N)));
    expect(out[6 + DELAY_FRAMES]).toEqual(rampFrame(6 * N));
    expect(jb.stats.concealed).toBe(1);
    expect(jb.stats.popped).toBe(10);
  });

  it('halves again for each further lost frame, then plays on', () => {
    // 100 ms depth: frames 5 … 7 are lost while later audio is already buffered.
    const jb = buffer({ minDepthMs: 100 });
    const out = run(
      jb,
      new Sender(),
      onTime(14).filter(([, k]) => k < 5 || k > 7),
      16,
    );
    const f4 = rampFrame(4 * N);
    expect(out.slice(9, 14)).toEqual([
      f4,
      halve(f4, 1),
      halve(f4, 2),
      halve(f4, 3),
      rampFrame(8 * N),
    ]);
    expect(jb.stats.concealed).toBe(3);
    expect(jb.stats.underruns).toBe(0);
  });

  it('goes silent (null) after maxConcealFrames, and resumes with the audio after the gap', () => {
    const jb = buffer({ minDepthMs: 100, maxConcealFrames: 2 });
    const out = run(
      jb,
      new Sender(),
      onTime(14).filter(([, k]) => k < 5 || k > 7),
      16,
    );
    const f4 = rampFrame(4 * N);
    expect(out.slice(9, 14)).toEqual([f4, halve(f4, 1), halve(f4, 2), null, rampFrame(8 * N)]);
    expect(jb.stats.concealed).toBe(2);
  });

  it('conceals only the missing part of a frame', () => {
    const jb = buffer();
    const sender = new Sender(SSRC, 0, 0, 80); // 10 ms packets
    const out = run(
      jb,
      sender,
      onTime(24, 80).filter(([, k]) => k !== 11),
      10,
    );
    // Frame 5 is packets 10 and 11: the first half real, the second half concealed.
    const f4 = rampFrame(4 * N);
    expect(out[5 + DELAY_FRAMES]).toEqual([...rampFrame(5 * N, 80), ...halve(f4.slice(80))]);
    expect(out[6 + DELAY_FRAMES]).toEqual(rampFrame(6 * N));
    expect(jb.stats.concealed).toBe(1);
  });

  it('plays the head of a half-arrived frame, conceals the tail and holds for the rest', () => {
    const jb = buffer();
    const sender = new Sender(SSRC, 0, 0, 80); // 10 ms packets
    // From packet 5 on, the network delay is 35 ms: frame 2 (packets 4 and 5) is half there.
    const arrivals = onTime(20, 80).map(([t, k]): [number, number] => [k >= 5 ? t + 35 : t, k]);
    const out = run(jb, sender, arrivals, 10);
    expect(out[4]).toEqual([...rampFrame(2 * N, 80), ...halve(rampFrame(N).slice(80))]);
    // The playout moved on by the 80 samples played: packet 5 plays in full, nothing lost.
    for (let i = 5; i < 10; i++) expect(out[i]).toEqual(rampFrame(400 + (i - 5) * N));
    expect(jb.stats.underruns).toBe(1);
    expect(jb.stats.late).toBe(0);
  });

  it('conceals then returns null for good when the source stops sending', () => {
    const jb = buffer();
    const out = run(jb, new Sender(), onTime(10), 30);
    const f9 = rampFrame(9 * N);
    expect(out[9 + DELAY_FRAMES]).toEqual(f9);
    expect(out.slice(12, 17)).toEqual([1, 2, 3, 4, 5].map((k) => halve(f9, k)));
    expect(out.slice(17)).toEqual(new Array(13).fill(null));
    expect(jb.stats.concealed).toBe(5);
    expect(jb.stats.underruns).toBe(5);
    expect(jb.stats.bufferedMs).toBe(0);
  });

  it('holds the playout through an underrun so a late packet still plays in full', () => {
    const jb = buffer();
    // Packets 6 … 11 are all 50 ms late (a delay spike, in order).
    const arrivals = onTime(16).map(([t, k]): [number, number] => [
      k >= 6 && k <= 11 ? t + 50 : t,
      k,
    ]);
    const out = run(jb, new Sender(), arrivals, 18);
    const f5 = rampFrame(5 * N);
    // Tick 8 (160 ms) wants frame 6, which arrives at 170 ms: tick 8 conceals, holding the
    // playout, and from tick 9 on everything plays a frame later than before, nothing lost.
    expect(out.slice(7, 10)).toEqual([f5, halve(f5, 1), rampFrame(6 * N)]);
    for (let f = 7; f < 15; f++) expect(out[f + DELAY_FRAMES + 1]).toEqual(rampFrame(f * N));
    expect(jb.stats.underruns).toBe(1);
    expect(jb.stats.concealed).toBe(1);
    expect(jb.stats.late).toBe(0);
    expect(jb.stats.depthMs).toBeGreaterThan(40); // the spike raised the jitter estimate
  });
});

describe('JitterBuffer resync and reset', () => {
  it('reset() drops stale audio and re-anchors on the next push', () => {
    const jb = buffer();
    const sender = new Sender();
    run(jb, sender, onTime(6), 4); // packets 0 … 3 delivered, frames 0, 1 played
    expect(jb.stats.bufferedMs).toBeGreaterThan(0);
    jb.reset();
    expect(jb.pop(80)).toBeNull();
    expect(jb.pop(100)).toBeNull();
    expect(jb.stats.resets).toBe(1);
    // The same sender continues (packets 10 …): only the new audio plays, 40 ms later.
    const out = run(
      jb,
      sender,
      onTime(14).filter(([, k]) => k >= 10),
      6,
      10,
    );
    expect(out).toEqual([
      null,
      null,
      rampFrame(10 * N),
      rampFrame(11 * N),
      rampFrame(12 * N),
      rampFrame(13 * N),
    ]);
    expect(jb.stats.resets).toBe(1);
  });

  it('resyncs on a new SSRC, dropping the old one’s audio', () => {
    const jb = buffer();
    const a = new Sender(SSRC);
    // Timestamps close to the old sender's: only the SSRC tells them apart.
    const b = new Sender(0xfeedbeef, 9, 50_000 + 2 * N, N, (i) => -ramp(i));
    a.send(jb, 0, 0);
    a.send(jb, 1, 20);
    expect(jb.pop(20)).toBeNull();
    b.send(jb, 0, 30);
    expect(jb.stats.resets).toBe(1);
    expect(jb.pop(40)).toBeNull();
    expect(jb.pop(60)).toBeNull();
    b.send(jb, 1, 50);
    expect(snap(jb.pop(80))).toEqual(rampFrame(0).map((v) => -v));
    // The old SSRC is now the stranger.
    a.send(jb, 2, 90);
    expect(jb.stats.resets).toBe(2);
  });

  it('resyncs on a timestamp jump of more than 1 s, not on a smaller one', () => {
    const jb = buffer();
    const sender = new Sender();
    run(jb, sender, onTime(5), 5);
    // 0.5 s ahead: kept (beyond maxDepth, so the playout jumps ahead to it).
    expect(sender.send(jb, 4 + 25, 100)).toBe(true);
    expect(jb.stats.resets).toBe(0);
    // 2 s ahead of the playout: resync.
    expect(sender.send(jb, 4 + 25 + 100, 100)).toBe(true);
    expect(jb.stats.resets).toBe(1);
    expect(jb.pop(100)).toBeNull();
    expect(jb.pop(120)).toBeNull();
    expect(snap(jb.pop(140))).toEqual(rampFrame(129 * N));
    // And 2 s backwards (a restarted sender): resync too.
    expect(sender.send(jb, 29, 150)).toBe(true);
    expect(jb.stats.resets).toBe(2);
  });

  it('starts a new talkspurt after silence without counting a reset', () => {
    const jb = buffer();
    const sender = new Sender();
    // 10 packets, 2 s of silence (timestamps keep running), 10 more.
    const arrivals = [...onTime(10), ...onTime(110).filter(([, k]) => k >= 100)];
    const out = run(jb, sender, arrivals, 115);
    expect(out[11]).toEqual(rampFrame(9 * N));
    expect(out.slice(17, 102)).toEqual(new Array(85).fill(null));
    expect(out[102]).toEqual(rampFrame(100 * N));
    expect(out[111]).toEqual(rampFrame(109 * N));
    expect(jb.stats.resets).toBe(0);
  });
});

describe('JitterBuffer wraparound', () => {
  it('plays across the 32-bit timestamp and 16-bit sequence wrap', () => {
    const sender = new Sender(SSRC, 65_530, 0xffffffff - 5 * N + 1);
    const arrivals = onTime(20).map(([t, k]): [number, number] => [
      k % 3 === 1 ? t + 25 : t, // 1 after 2, 4 after 5, …
      k,
    ]);
    arrivals.push([100, 6]); // a duplicate of the packet with sequence number 0
    const jb = buffer();
    const out = run(jb, sender, arrivals, 22);
    for (let f = 0; f < 20; f++) expect(out[f + DELAY_FRAMES]).toEqual(rampFrame(f * N));
    expect(jb.stats.resets).toBe(0);
    expect(jb.stats.duplicates).toBe(1);
    expect(jb.stats.late).toBe(0);
  });

  it('re-anchors across the timestamp wrap', () => {
    const jb = buffer();
    const sender = new Sender(SSRC, 0, 100); // playout point 100 − 320 wraps below zero
    const out = run(jb, sender, onTime(4), 6);
    expect(out).toEqual([null, null, ...[0, 1, 2, 3].map((f) => rampFrame(f * N))]);
  });
});

describe('JitterBuffer adaptive depth', () => {
  it('stays at minDepth for a steady sender', () => {
    const jb = buffer();
    run(jb, new Sender(), onTime(100), 100);
    expect(jb.stats.jitterMs).toBe(0);
    expect(jb.stats.depthMs).toBe(40);
  });

  it('tracks RFC 3550 jitter: depth ≈ 3·J + a frame, within [min, max]', () => {
    const jb = buffer();
    // Every other packet 20 ms late: |D| = 20 ms each time, so J → 20 ms.
    const arrivals = onTime(300).map(([t, k]): [number, number] => [k % 2 ? t + 20 : t, k]);
    run(jb, new Sender(), arrivals, 300);
    expect(jb.stats.jitterMs).toBeCloseTo(20, 1);
    expect(jb.stats.depthMs).toBeCloseTo(80, 0); // 3 · 20 + 20
    // Wild jitter: clamped to maxDepth.
    const wild = buffer();
    const late = onTime(300).map(([t, k]): [number, number] => [k % 2 ? t + 150 : t, k]);
    run(wild, new Sender(), late, 300);
    expect(wild.stats.depthMs).toBe(200);
  });

  it('applies a new target at the start of the next talkspurt', () => {
    const jb = buffer();
    const sender = new Sender();
    const jittery = onTime(100).map(([t, k]): [number, number] => [k % 2 ? t + 20 : t, k]);
    run(jb, sender, jittery, 150); // the talkspurt ends at 2 s; silence until 3 s
    expect(jb.pop(3000)).toBeNull();
    const depth = jb.stats.depthMs;
    expect(depth).toBeGreaterThan(75);
    const delay = Math.round((depth * 8000) / 1000); // in samples
    expect(delay % N).not.toBe(0); // so the talkspurt starts mid-frame
    // The next talkspurt (packet 200, at 4 s) is anchored `delay` before its first sample:
    // tick 200 + i plays stream samples from 200·160 − delay + i·160.
    const out = run(jb, sender, onTime(220).slice(200), 20, 200);
    const first = Math.floor(delay / N);
    expect(out.slice(0, first)).toEqual(new Array(first).fill(null));
    const gap = delay - first * N; // silence before the first sample, then audio
    expect(out[first]).toEqual([...new Array(gap).fill(0), ...rampFrame(200 * N, N - gap)]);
    for (let i = first + 1; i < 20; i++) expect(out[i]).toEqual(rampFrame(200 * N - delay + i * N));
    expect(jb.stats.resets).toBe(0);
  });

  it('grows the target on a late packet, and shrinks it back after 10 s', () => {
    const jb = buffer();
    const sender = new Sender();
    // Packet 10 arrives 300 ms late (too late for the jitter estimate: a discontinuity).
    const arrivals = onTime(1000).map(([t, k]): [number, number] => [k === 10 ? t + 300 : t, k]);
    run(jb, sender, arrivals, 26);
    expect(jb.stats.late).toBe(1);
    expect(jb.stats.jitterMs).toBe(0);
    expect(jb.stats.depthMs).toBe(60);
    run(jb, sender, arrivals.slice(26), 499, 26); // until 10 480 ms: < 10 s since 500 ms
    expect(jb.stats.depthMs).toBe(60);
    run(jb, sender, arrivals.slice(525), 10, 525);
    expect(jb.stats.depthMs).toBe(40);
  });

  it.each([
    [30, 60],
    [70, 40],
  ])(
    'grows the target on a repeated underrun (delay steps at packets 10 and %i → %i ms)',
    (second, depth) => {
      // The network delay steps up by 50 ms at packet 10, and again at packet `second`: each
      // step is an underrun that a later arrival confirms. Two within 1 s add a frame.
      const jb = buffer();
      const delay = (k: number): number => (k >= second ? 100 : k >= 10 ? 50 : 0);
      const arrivals = onTime(200).map(([t, k]): [number, number] => [t + delay(k), k]);
      const out = run(jb, new Sender(), arrivals, second + 10);
      expect(out[13]).toEqual(rampFrame(10 * N)); // held one frame, nothing lost
      expect(out[second + 5]).toEqual(rampFrame(second * N));
      expect(jb.stats.underruns).toBe(3);
      expect(jb.stats.late).toBe(0);
      expect(jb.stats.jitterMs).toBeLessThan(5); // the steps alone keep 3·J + 20 < 40 ms
      expect(jb.stats.depthMs).toBe(depth);
    },
  );
});

describe('JitterBuffer delay control', () => {
  it('jumps ahead when more than maxDepth is buffered (a burst)', () => {
    const jb = buffer();
    const sender = new Sender();
    for (let k = 0; k < 15; k++) sender.send(jb, k, 0); // 300 ms at once
    expect(jb.stats.bufferedMs).toBe(340);
    // A burst is jitter too: the target rose above 40 ms.
    const delay = Math.round((jb.stats.depthMs * 8000) / 1000);
    expect(delay).toBeGreaterThan(320);
    // The playout jumps to newest − target: the last `delay` samples play, the rest is skipped.
    expect(snap(jb.pop(0))).toEqual(rampFrame(15 * N - delay));
    expect(snap(jb.pop(20))).toEqual(rampFrame(16 * N - delay));
    expect(jb.stats.skipped).toBe(15 * N + 320 - delay);
  });

  it('drops holes and quiet frames, never speech, when deeper than target + 2 frames', () => {
    // Tone frames carry the ramp; every 4th frame is near-silence.
    const signal = (i: number): number => (Math.floor(i / N) % 4 === 3 ? (i % 7) - 3 : ramp(i));
    const sender = new Sender(SSRC, 0, 0, N, signal);
    const jb = buffer();
    // 120 ms arrive at once, then one packet per 20 ms: 80 ms more than needed.
    const arrivals = onTime(60).map(([t, k]): [number, number] => [k < 6 ? 0 : t - 100, k]);
    const out = run(jb, sender, arrivals, 56); // (the sender stops at tick 54)
    const toneFrames = out.filter((f) => f !== null && Math.abs(f[0]!) > 100);
    const expected = Array.from({ length: 60 }, (_, f) => f)
      .filter((f) => f % 4 !== 3)
      .map((f) => rampFrame(f * N));
    expect(toneFrames).toEqual(expected.slice(0, toneFrames.length));
    expect(toneFrames.length).toBeGreaterThan(40);
    expect(jb.stats.skipped).toBeGreaterThan(0);
    expect(jb.stats.skipped % N).toBe(0);
    expect(jb.stats.bufferedMs).toBeLessThanOrEqual(80);
    expect(jb.stats.concealed).toBe(0);
  });

  it('skips a lost frame instead of concealing it when deep enough', () => {
    const jb = buffer();
    const sender = new Sender();
    const arrivals = onTime(30)
      .filter(([, k]) => k !== 12)
      .map(([t, k]): [number, number] => [k < 6 ? 0 : t - 100, k]);
    const out = run(jb, sender, arrivals, 30);
    const played = out.filter((f) => f !== null);
    const i11 = played.findIndex((f) => f[0] === ramp(11 * N));
    expect(played[i11 + 1]).toEqual(rampFrame(13 * N));
    expect(jb.stats.concealed).toBe(0);
  });

  it.each([
    ['fast', 1.01],
    ['slow', 0.99],
  ])('keeps a %s sender (±1 %% clock) bounded and continuous for 60 s', (_name, rate) => {
    const jb = buffer();
    const sender = new Sender(SSRC, 1, 1);
    // The sender produces 160 samples per 20/rate ms of our clock, with 0–5 ms of jitter.
    let seed = 12345;
    const jitter = (): number => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return (seed % 5000) / 1000;
    };
    const arrivals = Array.from({ length: 3050 }, (_, k): [number, number] => [
      (k * 20) / rate + jitter(),
      k,
    ]);
    const sorted = arrivals.sort((a, b) => a[0] - b[0]);
    let next = 0;
    let expectNext: number | null = null;
    let started = false;
    let clean = 0;
    let nulls = 0;
    const broken: number[] = []; // ticks where a clean frame broke the ramp
    const outOfBounds: number[] = [];
    let prev = { concealed: 0, skipped: 0 };
    for (let i = 0; i < 3000; i++) {
      const now = i * 20;
      while (next < sorted.length && sorted[next]![0] <= now) {
        sender.send(jb, sorted[next]![1], sorted[next]![0]);
        next++;
      }
      const frame = jb.pop(now);
      const s = jb.stats;
      if (s.depthMs < 40 || s.depthMs > 200 || s.bufferedMs > 200 + 20) outOfBounds.push(i);
      if (!frame) {
        if (started) nulls++;
        continue;
      }
      started = true;
      if (s.skipped !== prev.skipped) expectNext = null; // a jump: continuity restarts
      if (s.concealed === prev.concealed) {
        // A clean frame continues the ramp exactly where the last real sample left off.
        let ok = expectNext === null || frame[0] === expectNext;
        for (let j = 1; j < N; j++) ok &&= frame[j] === nextRamp(frame[j - 1]!);
        if (!ok) broken.push(i);
        expectNext = nextRamp(frame[N - 1]!);
        clean++;
      } else if (expectNext !== null) {
        // A concealed frame: its real head (if any) continues the ramp.
        for (let j = 0; j < N && frame[j] === expectNext; j++) expectNext = nextRamp(frame[j]!);
      }
      prev = { concealed: s.concealed, skipped: s.skipped };
    }
    expect(outOfBounds).toEqual([]);
    expect(broken).toEqual([]);
    expect(nulls).toBe(0);
    expect(clean).toBeGreaterThan(0.95 * 2998);
    const s = jb.stats;
    expect(s.late).toBe(0);
    if (rate > 1) {
      // 30 extra frames in 60 s were trimmed, and nothing had to be concealed.
      expect(s.skipped).toBeGreaterThan(20 * N);
      expect(s.concealed).toBe(0);
    } else {
      // 30 missing frames in 60 s were bridged by holds; no real sample was skipped.
      expect(s.skipped).toBe(0);
      expect(s.underruns).toBeGreaterThan(0);
    }
  });
});

describe('JitterBuffer options', () => {
  it('rejects inconsistent sizes', () => {
    expect(() => buffer({ minDepthMs: 100, maxDepthMs: 50 })).toThrow(RangeError);
    expect(() => buffer({ capacityMs: 220 })).toThrow(RangeError);
    expect(() => buffer({ frameSamples: 0 })).toThrow(RangeError);
    expect(buffer({ clockRate: 16000 }).frameSamples).toBe(320);
  });
});

/**
 * A wideband sender: packet k carries 20 ms = `samples` PCM samples at the decoder's rate
 * (the ramp from k·samples), stamped ts0 + k·ticks in the RTP clock.
 */
function sendWide(
  jb: JitterBuffer,
  k: number,
  nowMs: number,
  samples: number,
  ticks: number,
  ts0 = 4_000_000_000,
  ssrc = SSRC,
): boolean {
  const buf = Int16Array.from(rampFrame(k * samples, samples));
  return jb.push(ssrc, (60_000 + k) & 0xffff, (ts0 + k * ticks) >>> 0, buf, samples, nowMs);
}

describe('JitterBuffer rates (RTP clock ≠ PCM rate)', () => {
  it.each([
    ['G.722: clock 8000, 16 kHz audio, 2 samples per tick', 8000, 160],
    ['Opus: clock 48000, decoded at 16 kHz, a sample per 3 ticks', 48000, 960],
  ])(
    '%s: 320-sample frames, sample-exact across the 32-bit timestamp wrap',
    (_, clockRate, ticks) => {
      const jb = buffer({ clockRate, sampleRate: 16000 });
      expect(jb.frameSamples).toBe(320);
      expect(jb.minDepth).toBe(640); // 40 ms at 16 kHz
      const out: (number[] | null)[] = [];
      for (let i = 0; i < 40; i++) {
        if (i < 38) sendWide(jb, i, i * 20, 320, ticks);
        out.push(snap(jb.pop(i * 20)));
      }
      expect(out.slice(0, DELAY_FRAMES)).toEqual([null, null]);
      for (let f = 0; f < 38; f++) expect(out[f + DELAY_FRAMES]).toEqual(rampFrame(f * 320, 320));
      const s = jb.stats;
      expect(s.depthMs).toBe(40);
      expect(s.jitterMs).toBe(0);
      expect([s.concealed, s.late, s.duplicates, s.resets, s.underruns]).toEqual([0, 0, 0, 0, 0]);
    },
  );

  it('Opus: a lost packet is concealed for 20 ms and the next plays in place', () => {
    const jb = buffer({ clockRate: 48000, sampleRate: 16000 });
    const out: (number[] | null)[] = [];
    for (let i = 0; i < 12; i++) {
      if (i !== 5) sendWide(jb, i, i * 20, 320, 960);
      out.push(snap(jb.pop(i * 20)));
    }
    expect(out[5 + DELAY_FRAMES]).toEqual(halve(rampFrame(4 * 320, 320)));
    expect(out[6 + DELAY_FRAMES]).toEqual(rampFrame(6 * 320, 320));
    expect(jb.stats.concealed).toBe(1);
  });

  it('measures jitter and resync distances in time, whatever the rates', () => {
    // 10 ms of arrival jitter on every second packet: the same depth at every rate.
    const depth = (clockRate: number, sampleRate: number, ticks: number): number => {
      const jb = buffer({ clockRate, sampleRate });
      const n = (sampleRate * 20) / 1000;
      for (let i = 0; i < 100; i++) {
        sendWide(jb, i, i * 20 + (i % 2) * 10, n, ticks);
        jb.pop(i * 20);
      }
      return jb.stats.jitterMs;
    };
    const narrow = depth(8000, 8000, 160);
    expect(narrow).toBeGreaterThan(5);
    expect(depth(8000, 16000, 160)).toBeCloseTo(narrow, 6);
    expect(depth(48000, 16000, 960)).toBeCloseTo(narrow, 6);

    // A jump of 2 s in the RTP clock resyncs; one of 0.5 s does not.
    const jb = buffer({ clockRate: 48000, sampleRate: 16000 });
    sendWide(jb, 0, 0, 320, 960);
    sendWide(jb, 25, 20, 320, 960); // 0.5 s ahead
    expect(jb.stats.resets).toBe(0);
    sendWide(jb, 100, 40, 320, 960); // 2 s ahead
    expect(jb.stats.resets).toBe(1);
  });

  it('setRates switches rates: buffered audio is dropped, the next push resyncs', () => {
    const jb = buffer();
    for (let i = 0; i < 4; i++) sendWide(jb, i, i * 20, 160, 160);
    jb.setRates(8000, 8000); // unchanged: no-op
    expect(jb.stats.resets).toBe(0);
    jb.setRates(8000, 16000);
    expect(jb.frameSamples).toBe(320);
    expect(jb.stats.resets).toBe(1);
    expect(jb.pop(100)).toBeNull();
    const out: (number[] | null)[] = [];
    for (let i = 0; i < 6; i++) {
      sendWide(jb, i, 200 + i * 20, 320, 160, 9_000);
      out.push(snap(jb.pop(200 + i * 20)));
    }
    expect(out[DELAY_FRAMES]).toEqual(rampFrame(0, 320));
    expect(out[DELAY_FRAMES + 3]).toEqual(rampFrame(3 * 320, 320));
  });
});

describe('JitterBuffer.pushLaw (a table codec decoded straight into the ring)', () => {
  /** A stand-in decoding table: distinct, signed values for every byte. */
  const table = Int16Array.from({ length: 256 }, (_, b) => (b - 128) * 211);

  /** A seeded pseudo-random generator (xorshift32), so a failure replays. */
  function rng(seed: number): () => number {
    let x = seed >>> 0 || 1;
    return () => {
      x ^= x << 13;
      x >>>= 0;
      x ^= x >>> 17;
      x ^= x << 5;
      x >>>= 0;
      return x / 2 ** 32;
    };
  }

  it('gives the frames and stats of decoding first and pushing, through loss, reordering, duplicates, late packets and overlaps', () => {
    for (const seed of [1, 7, 42, 2024]) {
      const random = rng(seed);
      const viaPush = new JitterBuffer({ maxDepthMs: 120 });
      const viaLaw = new JitterBuffer({ maxDepthMs: 120 });
      const packet = new Uint8Array(12 + 400);
      const decoded = new Int16Array(400);
      // 400 packets: mostly 20 ms, some 10 or 30 ms; shuffled arrival, duplicates, loss,
      // a few very late, a few overlapping the previous one, one SSRC change.
      let ts = 90_000;
      const arrivals: { atMs: number; ssrc: number; seq: number; ts: number; bytes: number[] }[] =
        [];
      for (let k = 0; k < 400; k++) {
        const samples = random() < 0.15 ? 80 : random() < 0.1 ? 240 : N;
        const start = random() < 0.05 ? ts - 40 : ts; // overlaps the previous packet
        const bytes = Array.from({ length: samples }, () => Math.floor(random() * 256));
        const ssrc = k < 300 ? SSRC : SSRC + 1;
        let atMs = k * 20 + random() * 30;
        if (random() < 0.03) atMs += 200; // very late
        if (random() > 0.05) arrivals.push({ atMs, ssrc, seq: k, ts: start, bytes });
        if (random() < 0.05) arrivals.push({ atMs: atMs + 5, ssrc, seq: k, ts: start, bytes });
        ts = start + samples;
      }
      arrivals.sort((a, b) => a.atMs - b.atMs);
      let next = 0;
      for (let tick = 0; tick < 420; tick++) {
        const now = tick * 20;
        while (next < arrivals.length && arrivals[next]!.atMs <= now) {
          const a = arrivals[next++]!;
          // The payload sits after a 12-byte header, as in an RTP packet.
          packet.set(a.bytes, 12);
          for (let i = 0; i < a.bytes.length; i++) decoded[i] = table[a.bytes[i]!]!;
          const pushed = viaPush.push(a.ssrc, a.seq, a.ts, decoded, a.bytes.length, a.atMs);
          const lawed = viaLaw.pushLaw(
            a.ssrc,
            a.seq,
            a.ts,
            table,
            packet,
            12,
            a.bytes.length,
            a.atMs,
          );
          expect(lawed).toBe(pushed);
        }
        expect(snap(viaLaw.pop(now))).toEqual(snap(viaPush.pop(now)));
      }
      expect({ ...viaLaw.stats }).toEqual({ ...viaPush.stats });
      // The run exercised the policies it claims to.
      const s = viaPush.stats;
      expect(s.duplicates).toBeGreaterThan(0);
      expect(s.late).toBeGreaterThan(0);
      expect(s.concealed).toBeGreaterThan(0);
      expect(s.resets).toBeGreaterThan(0);
    }
  });

  it('never reads past the bytes it is given', () => {
    const jb = new JitterBuffer();
    const bytes = new Uint8Array(12 + 100).fill(200);
    // 160 samples claimed, 100 there: 100 are written (the rest is a hole), none invented.
    expect(jb.pushLaw(SSRC, 1, 1000, table, bytes, 12, N, 0)).toBe(true);
    expect(jb.stats.bufferedMs).toBeCloseTo((100 / 8000) * 1000 + 40, 5);
  });
});
