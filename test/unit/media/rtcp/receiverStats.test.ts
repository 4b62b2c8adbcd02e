import { describe, it, expect } from '@jest/globals';
import { ReceiverStats } from '../../../../media/rtcp/receiverStats.js';
import { newReportBlock } from '../../../../media/rtcp/reportBlock.js';

/** Feeds sequence numbers 20 ms apart with timestamps on the same grid. */
function feed(stats: ReceiverStats, seqs: number[], t0 = 0): boolean[] {
  return seqs.map((s, i) => stats.update(s & 0xffff, (s * 160) >>> 0, t0 + i * 20));
}

function range(from: number, to: number, skip: number[] = []): number[] {
  const out: number[] = [];
  for (let s = from; s <= to; s++) if (!skip.includes(s)) out.push(s);
  return out;
}

describe('ReceiverStats: A.1 sequence validity and A.3 loss', () => {
  it('puts a new source on probation (MIN_SEQUENTIAL = 2), then counts loss', () => {
    const stats = new ReceiverStats(0xabc);
    expect(stats.update(100, 0, 0)).toBe(false); // probation
    expect(stats.expected).toBe(0);
    feed(stats, range(101, 110, [105]));
    // base 101 (the first packet after probation), max 110: expected 10, received 9
    expect(stats.expected).toBe(10);
    expect(stats.received).toBe(9);
    expect(stats.cumulativeLost).toBe(1);
    const block = stats.fillReportBlock(newReportBlock(), 1000);
    expect(block).toMatchObject({
      ssrc: 0xabc,
      fractionLost: 25, // floor(1 · 256 / 10)
      cumulativeLost: 1,
      highestSequence: 110,
    });
    // Next interval: 111–120 with 113 and 114 lost → floor(2 · 256 / 10) = 51.
    feed(stats, range(111, 120, [113, 114]));
    stats.fillReportBlock(block, 2000);
    expect(block.fractionLost).toBe(51);
    expect(block.cumulativeLost).toBe(3);
    // An interval with nothing received reports no fraction lost.
    stats.fillReportBlock(block, 3000);
    expect(block.fractionLost).toBe(0);
    expect(block.cumulativeLost).toBe(3);
  });

  it('restarts probation on an out-of-sequence packet during probation', () => {
    const stats = new ReceiverStats(1);
    expect(feed(stats, [10, 12, 13, 14])).toEqual([false, false, true, true]);
    expect(stats.expected).toBe(2); // base 13
  });

  it('counts cycles across the 16-bit wrap (extended highest sequence number)', () => {
    const stats = new ReceiverStats(1, { minSequential: 0 });
    feed(stats, range(65530, 65536 + 5, [65534, 65536 + 2]));
    expect(stats.extendedHighestSequence).toBe(65536 + 5);
    expect(stats.expected).toBe(12);
    expect(stats.received).toBe(10);
    const block = stats.fillReportBlock(newReportBlock(), 0);
    expect(block.highestSequence).toBe(0x00010005);
    expect(block.fractionLost).toBe(42); // floor(2 · 256 / 12)
  });

  it('accepts probation across the wrap (65535 → 0)', () => {
    const stats = new ReceiverStats(1);
    expect(feed(stats, [65535, 0, 1])).toEqual([false, true, true]);
    expect(stats.expected).toBe(2);
    expect(stats.extendedHighestSequence).toBe(1);
  });

  it('counts reordered packets once and duplicates twice (negative loss)', () => {
    const reordered = new ReceiverStats(1, { minSequential: 0 });
    feed(reordered, [1, 2, 4, 3, 5]);
    expect(reordered.cumulativeLost).toBe(0);
    const duplicated = new ReceiverStats(1, { minSequential: 0 });
    feed(duplicated, [1, 2, 2, 3]);
    expect(duplicated.expected).toBe(3);
    expect(duplicated.received).toBe(4);
    expect(duplicated.cumulativeLost).toBe(-1);
    expect(duplicated.fillReportBlock(newReportBlock(), 0).fractionLost).toBe(0);
  });

  it('ignores one stray far packet, resyncs on two sequential ones', () => {
    const stats = new ReceiverStats(1, { minSequential: 0 });
    feed(stats, range(1, 10));
    expect(stats.update(30000, 0, 300)).toBe(false);
    expect(stats.update(11, 11 * 160, 320)).toBe(true);
    expect(stats.expected).toBe(11);
    // The sender restarted: 5000, 5001 → resync with 5001 as the base.
    expect(stats.update(5000, 0, 340)).toBe(false);
    expect(stats.update(5001, 160, 360)).toBe(true);
    expect(stats.expected).toBe(1);
    expect(stats.received).toBe(1);
    expect(stats.update(5002, 320, 380)).toBe(true);
    expect(stats.cumulativeLost).toBe(0);
  });
});

describe('ReceiverStats: A.8 interarrival jitter', () => {
  it('is zero for a constant-rate stream', () => {
    const stats = new ReceiverStats(1, { minSequential: 0 });
    feed(stats, range(1, 200));
    expect(stats.jitter).toBe(0);
  });

  it('follows J += (|D| − J)/16 for a jittered stream, in timestamp units', () => {
    const stats = new ReceiverStats(1, { minSequential: 0 });
    // ts 0, 160, 320, 480 arriving at 0, 20, 50, 60 ms (= 0, 160, 400, 480 units):
    // D = 0 → J = 0; D = 240 − 160 = 80 → J = 5; D = |80 − 160| = 80 → J = 5 + 75/16.
    [0, 20, 50, 60].forEach((t, i) => stats.update(i, i * 160, t));
    expect(stats.jitter).toBe(9); // 9.6875, reported truncated
    expect(stats.fillReportBlock(newReportBlock(), 100).jitter).toBe(9);
  });

  it('handles timestamp wrap', () => {
    const stats = new ReceiverStats(1, { minSequential: 0 });
    [0xfffffec0, 0xffffff60, 0, 160].forEach((ts, i) => stats.update(i, ts, i * 20));
    expect(stats.jitter).toBe(0);
  });

  it('does not count RFC 4733 packets that repeat a timestamp, nor duplicates', () => {
    const stats = new ReceiverStats(1, { minSequential: 0 });
    stats.update(1, 0, 0);
    stats.update(2, 160, 20);
    // A telephone event starting on the clock (ts 320 at 40 ms): four packets 50 ms apart,
    // all stamped 320, and a duplicate. Counting them would give D = 400, 800, 1200 units.
    [40, 90, 140, 190].forEach((t, i) => stats.update(3 + i, 320, t));
    stats.update(6, 320, 195);
    // Audio resumes on the clock, 200 ms after the event's start.
    stats.update(7, 320 + 200 * 8, 240);
    expect(stats.jitter).toBe(0);
    expect(stats.cumulativeLost).toBe(-1); // the duplicate
  });
});

describe('ReceiverStats: LSR and DLSR', () => {
  it('echoes the last SR and the delay since it in 1/65536 s', () => {
    const stats = new ReceiverStats(1, { minSequential: 0 });
    const block = stats.fillReportBlock(newReportBlock(), 0);
    expect(block.lastSr).toBe(0);
    expect(block.delaySinceLastSr).toBe(0);
    stats.onSenderReport(0xe8000001, 0x80000000, 1000);
    stats.fillReportBlock(block, 3000);
    expect(block.lastSr).toBe(0x00018000);
    expect(block.delaySinceLastSr).toBe(2 * 65536);
  });
});
