import { ALAW_DECODE, ULAW_DECODE } from '../../../../media/codecs/g711.js';
import { describe, expect, it } from '@jest/globals';
import {
  DROPPED,
  LATE_RUN,
  SourceAligner,
  TrackBuffer,
  freeRingCount,
} from '../../../../media/recording/trackAligner.js';

const RATE = 8000;
/** Arrival position (samples) of a packet arriving at `ms` after the start. */
const at = (ms: number): number => (ms * RATE) / 1000;

describe('SourceAligner', () => {
  it('anchors the first packet at its arrival and follows timestamps after it', () => {
    const a = new SourceAligner(RATE);
    expect(a.place(1, 10, 5000, 8000, at(520), 160, 0)).toBe(at(500));
    // 20 ms later by timestamp, arriving a little late: placed by its timestamp.
    expect(a.place(1, 11, 5160, 8000, at(547), 160, 0)).toBe(at(520));
  });

  it('does not shift a first packet that began before the recording: its head is cut', () => {
    const a = new SourceAligner(RATE);
    // Arrives 5 ms after the start: its 20 ms began 15 ms before it (negative position).
    expect(a.place(1, 10, 5000, 8000, at(5), 160, 0)).toBe(at(-15));
    expect(a.place(1, 11, 5160, 8000, at(25), 160, 0)).toBe(at(5));
  });

  it('leaves a gap where packets are missing (silence), in place after it', () => {
    const a = new SourceAligner(RATE);
    a.place(1, 1, 0, 8000, at(20), 160, 0);
    // Packets 2..50 lost: packet 51 lands 1 s after packet 1.
    expect(a.place(1, 51, 50 * 160, 8000, at(1020), 160, 0)).toBe(at(1000));
  });

  it('puts a reordered packet in place, and drops duplicates and very late packets', () => {
    const a = new SourceAligner(RATE);
    a.place(1, 1, 0, 8000, at(20), 160, 0);
    a.place(1, 3, 320, 8000, at(60), 160, 0);
    expect(a.place(1, 2, 160, 8000, at(65), 160, 0)).toBe(at(20));
    expect(a.place(1, 2, 160, 8000, at(66), 160, 0)).toBe(DROPPED);
    expect(a.stats.duplicates).toBe(1);
    // Packet 0 arrives after the file was written past its audio: dropped as late.
    expect(a.place(1, 0, -160 >>> 0, 8000, at(400), 160, at(300))).toBe(DROPPED);
    expect(a.stats.late).toBe(1);
  });

  it('re-anchors on a new SSRC and on a timestamp jump, by arrival time', () => {
    const a = new SourceAligner(RATE);
    a.place(1, 1, 0, 8000, at(20), 160, 0);
    expect(a.place(2, 900, 777777, 8000, at(2020), 160, 0)).toBe(at(2000));
    // The sender restarts its timestamps 10 s ahead while real time moved 20 ms.
    expect(a.place(2, 901, 777777 + 80000, 8000, at(2040), 160, 0)).toBe(at(2020));
    expect(a.stats.reanchors).toBe(2);
  });

  it('keeps two tracks in step whatever their timestamps', () => {
    const left = new SourceAligner(RATE);
    const right = new SourceAligner(RATE);
    for (let i = 0; i < 100; i++) {
      const ms = 40 + i * 20;
      const l = left.place(0x1111, i, 123456 + i * 160, 8000, at(ms), 160, 0);
      const r = right.place(
        0x2222,
        5000 + i,
        (4000000000 + i * 160) >>> 0,
        8000,
        at(ms + 3),
        160,
        0,
      );
      expect(Math.abs(l - r)).toBeLessThanOrEqual(at(3));
    }
  });

  it('scales timestamps of another clock (Opus: 48 kHz) to the file rate', () => {
    const a = new SourceAligner(16000);
    a.place(1, 1, 0, 48000, 16 * 20, 320, 0);
    expect(a.place(1, 2, 960, 48000, 16 * 40, 320, 0)).toBe(320);
  });
});

describe('TrackBuffer', () => {
  it('sums sources, clamps, writes silence where nothing came, and follows wall time', () => {
    const t = new TrackBuffer(RATE * 2);
    const pcm = new Int16Array(160).fill(20000);
    t.add(0, pcm, 160, null, 0);
    t.add(80, pcm, 160, null, 0);
    const out = new Int16Array(400);
    t.take(out, null, 400);
    expect(out[0]).toBe(20000);
    expect(out[100]).toBe(32767);
    expect(out[200]).toBe(20000);
    expect(out[300]).toBe(0);
    expect(t.written).toBe(400);
    // A packet overlapping the written part only contributes its unwritten tail.
    t.add(380, pcm, 160, null, 0);
    t.take(out, null, 160);
    expect(out[0]).toBe(20000);
    expect(out[139]).toBe(20000);
    expect(out[140]).toBe(0);
  });

  it('passes a sole source`s bytes through, never a sum', () => {
    const t = new TrackBuffer(1024);
    const bytes = new Uint8Array([1, 2, 3, 4]);
    t.add(0, new Int16Array([5, 6, 7, 8]), 4, bytes, 0);
    t.add(2, new Int16Array([1, 1]), 2, null, 0);
    const out = new Int16Array(6);
    const raw = new Int16Array(6);
    t.take(out, raw, 6);
    expect([...raw]).toEqual([1, 2, -1, -1, -1, -1]);
    expect([...out]).toEqual([5, 6, 8, 9, 0, 0]);
  });
});

describe('TrackBuffer.takeInto: straight into one channel of an interleaved frame', () => {
  it('gives the samples of take, clamped, every stride-th, zeros where silent', () => {
    const fill = (t: TrackBuffer): void => {
      t.add(40, new Int16Array(160).fill(20000), 160, null, 0);
      t.add(120, new Int16Array(160).fill(20000), 160, null, 0); // summed: clamped
      t.add(
        100,
        Int16Array.from({ length: 40 }, (_, i) => -900 * i),
        40,
        null,
        0,
      ); // < -32768
    };
    const a = new TrackBuffer(1024, false);
    const b = new TrackBuffer(1024, false);
    fill(a);
    fill(b);
    const frame = new Int16Array(160);
    const out = new Int16Array(2 * 160);
    for (let f = 0; f < 3; f++) {
      out.fill(999);
      const had = a.take(frame, null, 160);
      expect(b.takeInto(out, 1, 2, 160)).toBe(had);
      const mine = Array.from({ length: 160 }, (_, i) => out[2 * i + 1]);
      expect(mine).toEqual(had ? [...frame] : new Array(160).fill(0));
      expect(out.filter((_, i) => i % 2 === 0).every((v) => v === 999)).toBe(true);
      expect(b.written).toBe(a.written);
    }
    expect(Math.max(...out.filter((_, i) => i % 2 === 1))).toBe(0); // 320-480: silent
    expect(a.take(frame, null, 160)).toBe(false);
  });

  it('clears what it takes, sums and kept bytes, for the ring`s next turn', () => {
    const t = new TrackBuffer(256, true);
    const out = new Int16Array(256);
    t.add(0, new Int16Array(160).fill(7), 160, new Uint8Array(160).fill(3), 0);
    expect(t.takeInto(out, 0, 1, 160)).toBe(true);
    expect(out[0]).toBe(7);
    // The same ring slots, one turn later: only the new audio, its bytes passed through.
    t.takeInto(out, 0, 1, 96);
    t.add(256, new Int16Array(160).fill(5), 160, new Uint8Array(160).fill(9), 0);
    const frame = new Int16Array(160);
    const raw = new Int16Array(160);
    expect(t.take(frame, raw, 160)).toBe(true);
    expect([...frame]).toEqual(new Array(160).fill(5));
    expect([...raw]).toEqual(new Array(160).fill(9));
  });
});

describe('TrackBuffer: audio across the end of the ring', () => {
  it('adds, sums and takes samples whose run wraps the ring, and clears them', () => {
    const t = new TrackBuffer(256, false);
    const bytes = Uint8Array.from({ length: 160 }, (_, i) => (i * 29 + 3) & 0xff);
    const decoded = Array.from(bytes, (b) => ULAW_DECODE[b]!);
    t.skip(200); // nothing added yet: slots 200-255, then 0-103
    t.addLaw(200, ULAW_DECODE, bytes, 0, 160, false);
    t.add(250, new Int16Array(20).fill(1000), 20, null, 0); // summed across the wrap
    const out = new Int16Array(2 * 160).fill(7);
    expect(t.takeInto(out, 0, 2, 160)).toBe(true);
    const expected = decoded.map((v, i) => {
      const sum = i >= 50 && i < 70 ? v + 1000 : v;
      return Math.max(-32768, Math.min(32767, sum));
    });
    expect(Array.from({ length: 160 }, (_, i) => out[2 * i])).toEqual(expected);
    expect(Array.from({ length: 160 }, (_, i) => out[2 * i + 1])).toEqual(new Array(160).fill(7));
    // The slots were cleared: the next turn of the ring holds only what is added then.
    t.add(456, new Int16Array(160).fill(3), 160, null, 0);
    const next = new Int16Array(256);
    t.takeInto(next, 0, 1, 256);
    expect([...next]).toEqual([...new Array(96).fill(0), ...new Array(160).fill(3)]);
  });
});

describe('TrackBuffer: silence and ring reuse', () => {
  it('takes no ring until audio is added, and reports silence without writing samples', () => {
    const t = new TrackBuffer(1024, false);
    const out = new Int16Array(160).fill(99);
    expect(t.silent).toBe(true);
    expect(t.silentUntil).toBe(Infinity);
    expect(t.take(out, null, 160)).toBe(false);
    expect(out[0]).toBe(99); // untouched: the caller writes silence
    expect(t.written).toBe(160);
    t.skip(320);
    expect(t.written).toBe(480);
    // Audio 500–660 (plus 1 at 600) and a sample at 900: silent up to 500 and after 901.
    t.add(500, new Int16Array(160).fill(3), 160, null, 0);
    t.add(900, new Int16Array([1]), 1, null, 0);
    t.add(600, new Int16Array([1]), 1, null, 0);
    expect(t.silent).toBe(false);
    expect(t.silentUntil).toBe(500);
    expect(t.end).toBe(901);
    expect(t.take(out, null, 160)).toBe(true); // 480–640
    expect([out[19], out[20], out[119], out[120], out[121]]).toEqual([0, 3, 3, 4, 3]);
    expect(t.take(out, null, 160)).toBe(true); // 640–800
    expect([out[19], out[20], out[159]]).toEqual([3, 0, 0]);
    expect(t.take(out, null, 160)).toBe(true); // 800–960
    expect([out[99], out[100], out[101]]).toEqual([0, 1, 0]);
    expect(t.silent).toBe(true);
    out.fill(99);
    expect(t.take(out, null, 160)).toBe(false);
    expect(out[0]).toBe(99);
  });

  it('gives its ring back cleared, and the next buffer of that size reuses it', () => {
    for (const keepRaw of [false, true]) {
      const a = new TrackBuffer(1000, keepRaw);
      const before = freeRingCount();
      a.release(); // no ring taken: nothing to give
      expect(freeRingCount()).toBe(before);
      // Audio ahead of the written part, across the ring's end (written 900, size 1024).
      a.skip(900);
      a.add(950, new Int16Array(200).fill(7), 200, keepRaw ? new Uint8Array(200).fill(5) : null, 0);
      a.release();
      expect(freeRingCount()).toBe(before + 1);
      const b = new TrackBuffer(1000, keepRaw);
      b.add(0, new Int16Array([1]), 1, null, 0);
      expect(freeRingCount()).toBe(before);
      // Nothing of `a` is left: every sample of b's ring reads 0 (raw -1) but its own.
      const out = new Int16Array(1024);
      const raw = new Int16Array(1024);
      expect(b.take(out, keepRaw ? raw : null, 1024)).toBe(true);
      expect(out[0]).toBe(1);
      expect(out.subarray(1).every((v) => v === 0)).toBe(true);
      if (keepRaw) expect(raw.every((v) => v === -1)).toBe(true);
      b.release();
    }
  });
});

describe('TrackBuffer.addLaw: G.711 decoded as it is added', () => {
  it('gives the samples, sums and kept bytes of decoding first and adding', () => {
    const bytes = Uint8Array.from({ length: 300 }, (_, i) => (i * 37 + 11) & 0xff);
    for (const [law, table] of [
      ['µ-law', ULAW_DECODE],
      ['A-law', ALAW_DECODE],
    ] as const) {
      for (const keepRaw of [false, true]) {
        const fused = new TrackBuffer(512, keepRaw);
        const plain = new TrackBuffer(512, keepRaw);
        fused.skip(400);
        plain.skip(400);
        // A packet across the ring's end, one overlapping the written part, one summed in,
        // one beyond the ring (cut and counted).
        const steps: [number, number, number, boolean][] = [
          [450, 20, 160, true], // pos, bytes offset, count, sole source
          [390, 0, 40, true],
          [500, 100, 100, false],
          [800, 0, 200, true],
        ];
        for (const [pos, off, count, sole] of steps) {
          fused.addLaw(pos, table, bytes, off, count, sole);
          const pcm = Int16Array.from(bytes.subarray(off, off + count), (b) => table[b]!);
          plain.add(pos, pcm, count, sole ? bytes : null, off);
        }
        expect([fused.end, fused.overflow]).toEqual([plain.end, plain.overflow]);
        const [a, b] = [new Int16Array(512), new Int16Array(512)];
        const [ra, rb] = [new Int16Array(512), new Int16Array(512)];
        fused.take(a, keepRaw ? ra : null, 512);
        plain.take(b, keepRaw ? rb : null, 512);
        expect({ law, keepRaw, same: a.every((v, i) => v === b[i]) }).toEqual({
          law,
          keepRaw,
          same: true,
        });
        expect(ra.every((v, i) => v === rb[i])).toBe(true);
        expect(a.some((v) => v !== 0)).toBe(true);
      }
    }
  });
});

describe('SourceAligner: senders whose timestamps do not follow real time', () => {
  it('places a sender whose timestamp stops advancing on hold by arrival, dropping nothing', () => {
    const a = new SourceAligner(RATE);
    // Talking: 50 packets, timestamps advancing.
    for (let i = 0; i < 50; i++) {
      expect(a.place(7, i, 1000 + i * 160, 8000, at(20 + i * 20), 160, at(i * 20 - 100))).toBe(
        at(i * 20),
      );
    }
    // On hold: 200 more packets (4 s), sequence numbers advancing, the timestamp stuck at
    // the last one's. The file is written up to 100 ms behind each arrival.
    const stuck = 1000 + 49 * 160;
    const positions: number[] = [];
    for (let i = 50; i < 250; i++) {
      const pos = a.place(7, i, stuck, 8000, at(20 + i * 20), 160, at(i * 20 - 100));
      expect(pos).not.toBe(DROPPED);
      positions.push(pos);
    }
    // Each lands where its arrival says: after the previous one, 20 ms apart, no overlap.
    positions.forEach((pos, k) => expect(pos).toBe(at((50 + k) * 20)));
    expect(a.stats.late).toBe(0);
    expect(a.stats.duplicates).toBe(0);
    // Off hold, timestamps advance again from the stuck value: placed by timestamp
    // relative to the last packet.
    expect(a.place(7, 250, stuck + 160, 8000, at(20 + 250 * 20), 160, at(4900))).toBe(at(5000));
    // A duplicate of a held packet is still a duplicate.
    expect(a.place(7, 250, stuck + 160, 8000, at(5030), 160, at(4900))).toBe(DROPPED);
    expect(a.stats.duplicates).toBe(1);
  });

  it(`re-anchors by arrival after ${LATE_RUN} in-order packets in a row land in the written part`, () => {
    const a = new SourceAligner(RATE);
    a.place(3, 0, 0, 8000, at(20), 160, 0);
    // The sender's timestamps advance at half speed: 80 ticks per 20 ms packet. After a
    // second its audio would land 500 ms in the past, behind the written part (arrival −
    // 100 ms), though within the 1.5 s the aligner allows a stalled worker's packets.
    let dropped = 0;
    let placedLast = 0;
    for (let i = 1; i <= 100; i++) {
      const pos = a.place(3, i, i * 80, 8000, at(20 + i * 20), 160, at(i * 20 - 100));
      if (pos === DROPPED) dropped++;
      else placedLast = pos;
    }
    // Only the runs before each re-anchor are lost, never more than LATE_RUN − 1 at a time.
    expect(a.stats.reanchors).toBeGreaterThan(0);
    expect(dropped).toBeLessThanOrEqual((LATE_RUN - 1) * (a.stats.reanchors + 1));
    expect(dropped).toBeLessThan(30);
    expect(placedLast + 160).toBeGreaterThan(at(100 * 20 - 100));
  });

  it('still drops a reordered packet whose audio lies in the written part', () => {
    const a = new SourceAligner(RATE);
    for (let i = 0; i < 20; i++) a.place(1, 100 + i, i * 160, 8000, at(20 + i * 20), 160, 0);
    // Packets 90..92, older by sequence number and timestamp, arrive after the file passed
    // them: each is late, none re-anchors.
    for (let k = 0; k < LATE_RUN + 2; k++) {
      expect(a.place(1, 90 + k, (-(10 - k) * 160) >>> 0, 8000, at(400), 160, at(300))).toBe(
        DROPPED,
      );
    }
    expect(a.stats.late).toBe(LATE_RUN + 2);
    expect(a.stats.reanchors).toBe(0);
  });
});
