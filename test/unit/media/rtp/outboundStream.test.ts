import { describe, it, expect } from '@jest/globals';
import { OutboundStream, randomStreamInit } from '../../../../media/rtp/outboundStream.js';
import { rtpMarker, rtpSequence, rtpSsrc, rtpTimestamp } from '../../../../media/rtp/rtpHeader.js';
import { rtp } from '../rtpFixture.js';

const MIXER = 0;
const LEG_A = 1;
const LEG_B = 2;
const SUPERVISOR = 3;

/** An input packet and what the stream made of it. */
interface Out {
  seq: number;
  ts: number;
  marker: boolean;
}

function send(
  stream: OutboundStream,
  source: number,
  ssrc: number,
  seq: number,
  ts: number,
  nowMs: number,
  marker = false,
): Out | null {
  if (!stream.next(source, ssrc, seq & 0xffff, ts >>> 0, marker, nowMs)) return null;
  return { seq: stream.sequence, ts: stream.timestamp, marker: stream.marker };
}

/** A source sending one packet per 20 ms from its own random-looking seq/ts origin. */
class Source {
  private n = 0;
  constructor(
    readonly id: number,
    readonly ssrc: number,
    private readonly seq0: number,
    private readonly ts0: number,
  ) {}
  next(stream: OutboundStream, nowMs: number): Out | null {
    const n = this.n++;
    return send(stream, this.id, this.ssrc, this.seq0 + n, this.ts0 + n * 160, nowMs);
  }
}

const fixed = { ssrc: 0x5eed5eed, sequence: 65500, timestamp: 0xffff0000 };

describe('OutboundStream: one continuous stream across source switches', () => {
  it('keeps one SSRC, contiguous sequence numbers through wrap, and timestamps on the clock', () => {
    const stream = new OutboundStream(fixed);
    const a = new Source(LEG_A, 0xaaaa, 40000, 123456);
    const b = new Source(LEG_B, 0xbbbb, 65000, 0xfffff000);
    const mixer = new Source(MIXER, 0, 0, 0);
    const supervisor = new Source(SUPERVISOR, 0xcccc, 7, 99);
    // relay A → mix → relay A → relay B → mix → takeover (supervisor) …
    const plan: [Source, number][] = [
      [a, 40],
      [mixer, 25],
      [a, 30],
      [b, 60],
      [mixer, 10],
      [supervisor, 50],
      [b, 5],
    ];
    const outs: Out[] = [];
    const switchesAt: number[] = [];
    let t = 1000;
    for (const [source, count] of plan) {
      switchesAt.push(outs.length);
      for (let i = 0; i < count; i++, t += 20) {
        const out = source.next(stream, t);
        expect(out).not.toBeNull();
        outs.push(out!);
      }
    }
    expect(outs.length).toBeGreaterThan(65536 - fixed.sequence);
    for (let i = 0; i < outs.length; i++) {
      expect(outs[i]!.seq).toBe((fixed.sequence + i) % 65536);
      // Sources and switches all on the 20 ms grid: the timestamp is exactly the clock.
      expect(outs[i]!.ts).toBe((fixed.timestamp + i * 160) % 2 ** 32);
      expect(outs[i]!.marker).toBe(switchesAt.includes(i));
    }
    expect(stream.segments).toBe(plan.length);
    expect(stream.ssrc).toBe(fixed.ssrc);
  });

  it('continues timestamps from elapsed wall time when switches fall between packets', () => {
    const stream = new OutboundStream(fixed);
    let t = 0;
    let out = send(stream, LEG_A, 1, 100, 5000, t)!;
    const start = out.ts;
    // A goes quiet for 1234 ms, then the mixer takes over.
    t += 1234;
    out = send(stream, MIXER, 0, 0, 0, t)!;
    expect(out.ts).toBe((start + 1234 * 8) >>> 0);
    expect(out.marker).toBe(true);
    // A switch 5 ms after the last packet: the new audio must not overlap it (≥ 160).
    t += 5;
    out = send(stream, LEG_B, 2, 9, 777, t)!;
    expect(out.ts).toBe((start + 1234 * 8 + 160) >>> 0);
    // Switching at every packet, 20–30 ms apart: each switch advances by the elapsed time.
    for (let i = 0; i < 300; i++) {
      t += 20 + ((i * 7) % 11);
      out = send(stream, i % 3, 10 + (i % 3), i, i * 160, t)!;
    }
    // +120: the 5 ms switch above advanced one packet (160) for 40 samples of wall time.
    expect((out.ts - start) >>> 0).toBe(t * 8 + 120);
  });

  it('stays near the wall clock across rare switches with jittered arrivals', () => {
    const stream = new OutboundStream(fixed);
    const switches = 20;
    let out: Out | null = null;
    let t = 0;
    for (let i = 0; i < switches * 25; i++) {
      const source = Math.floor(i / 25);
      t = i * 20 + ((i * 13) % 11) - 5; // ±5 ms of network jitter on a 20 ms grid
      out = send(stream, source, source, 1000 * source + i, 100000 * source + i * 160, t);
    }
    const drift = ((out!.ts - fixed.timestamp) >>> 0) - (switches * 25 - 1) * 160;
    expect(Math.abs(drift)).toBeLessThanOrEqual(switches * 80);
  });

  it('rewrites a packet in place: sequence, timestamp, SSRC and marker', () => {
    const stream = new OutboundStream(fixed);
    const p = rtp({ pt: 0, seq: 4242, ts: 1, ssrc: 0xabcdef01, payload: [1, 2, 3] });
    expect(stream.rewrite(p, LEG_A, 0)).toBe(true);
    expect(rtpSequence(p)).toBe(fixed.sequence);
    expect(rtpTimestamp(p)).toBe(fixed.timestamp);
    expect(rtpSsrc(p)).toBe(fixed.ssrc);
    expect(rtpMarker(p)).toBe(true);
    const q = rtp({ pt: 0, seq: 4243, ts: 161, ssrc: 0xabcdef01, payload: [1, 2, 3] });
    expect(stream.rewrite(q, LEG_A, 20)).toBe(true);
    expect(q).toEqual(
      rtp({
        pt: 0,
        seq: fixed.sequence + 1,
        ts: fixed.timestamp + 160,
        ssrc: fixed.ssrc,
        payload: [1, 2, 3],
      }),
    );
  });

  it('draws a random SSRC, sequence and timestamp by default', () => {
    const init = randomStreamInit();
    expect(init.sequence).toBeGreaterThanOrEqual(0);
    expect(init.sequence).toBeLessThan(65536);
    expect(init.ssrc).toBeLessThan(2 ** 32);
    expect(randomStreamInit().ssrc).not.toBe(init.ssrc);
  });
});

describe('OutboundStream: within one source', () => {
  it('mirrors upstream loss as the same gap (≤ maxGap)', () => {
    const stream = new OutboundStream(fixed);
    const o0 = send(stream, LEG_A, 1, 65534, 0, 0)!;
    const o1 = send(stream, LEG_A, 1, 2, 4 * 160, 80)!; // 65535, 0, 1 lost
    expect((o1.seq - o0.seq) & 0xffff).toBe(4);
    expect(o1.ts - o0.ts).toBe(640);
    expect(o1.marker).toBe(false);
  });

  it('passes reordered and duplicate packets with their mapped numbers', () => {
    const stream = new OutboundStream(fixed);
    const seqs = [10, 11, 13, 12, 14, 14];
    const outs = seqs.map((s, i) => send(stream, LEG_A, 1, s, s * 160, i * 20)!);
    expect(outs.map((o) => (o.seq - fixed.sequence) & 0xffff)).toEqual([0, 1, 3, 2, 4, 4]);
    expect(outs.map((o) => o.ts - fixed.timestamp)).toEqual([0, 160, 480, 320, 640, 640]);
  });

  it('drops a late packet that would reuse a number sent for the previous source', () => {
    const stream = new OutboundStream(fixed);
    send(stream, LEG_A, 1, 500, 0, 0);
    send(stream, LEG_A, 1, 501, 160, 20);
    const first = send(stream, LEG_B, 2, 100, 0, 40)!;
    expect(send(stream, LEG_B, 2, 101, 160, 60)!.seq).toBe((first.seq + 1) & 0xffff);
    expect(send(stream, LEG_B, 2, 99, 0xffffff60, 61)).toBeNull();
    expect(stream.dropped).toBe(1);
    expect(send(stream, LEG_B, 2, 102, 320, 80)!.seq).toBe((first.seq + 2) & 0xffff);
  });

  it('resyncs (contiguous, marker) on a sequence jump beyond maxGap', () => {
    const stream = new OutboundStream({ ...fixed, maxGap: 100 });
    const o0 = send(stream, LEG_A, 1, 1000, 0, 0)!;
    const o1 = send(stream, LEG_A, 1, 1101, 160, 20)!; // gap of 101
    expect(o1.seq).toBe((o0.seq + 1) & 0xffff);
    expect(o1.marker).toBe(true);
    const o2 = send(stream, LEG_A, 1, 1102, 320, 40)!;
    expect(o2.seq).toBe((o0.seq + 2) & 0xffff);
    expect(o2.marker).toBe(false);
    // A gap of exactly maxGap is still mirrored.
    const o3 = send(stream, LEG_A, 1, 1202, 320 + 100 * 160, 2040)!;
    expect((o3.seq - o2.seq) & 0xffff).toBe(100);
  });

  it('treats a new input SSRC from the same source as a new segment', () => {
    const stream = new OutboundStream(fixed);
    const o0 = send(stream, LEG_A, 1, 10, 0, 0)!;
    const o1 = send(stream, LEG_A, 2, 5000, 999999, 20)!;
    expect(o1.seq).toBe((o0.seq + 1) & 0xffff);
    expect(o1.ts).toBe(o0.ts + 160);
    expect(o1.marker).toBe(true);
  });

  it('re-anchors a source whose timestamps disagree with the wall clock', () => {
    const stream = new OutboundStream(fixed);
    const o0 = send(stream, LEG_A, 1, 10, 0, 0)!;
    const jump = send(stream, LEG_A, 1, 11, 80000, 20)!; // +10 s of timestamp in 20 ms
    expect(jump.ts).toBe(o0.ts + 160);
    expect(jump.marker).toBe(true);
    // Stopped clock during hold: 5 s later the timestamp moved by one packet only.
    const held = send(stream, LEG_A, 1, 12, 80160, 5020)!;
    expect(held.ts).toBe(jump.ts + 5000 * 8);
    expect(held.seq).toBe((jump.seq + 1) & 0xffff);
  });

  it('keeps silence-suppression gaps as timestamp gaps, not re-anchors', () => {
    const stream = new OutboundStream(fixed);
    const o0 = send(stream, LEG_A, 1, 10, 0, 0)!;
    const o1 = send(stream, LEG_A, 1, 11, 3 * 8000 + 160, 3020, true)!;
    expect(o1.ts - o0.ts).toBe(3 * 8000 + 160);
    expect(o1.seq).toBe(o0.seq + 1);
    expect(o1.marker).toBe(true); // the source's own talkspurt marker passes through
    expect(stream.segments).toBe(1);
  });

  it('numbers mixer frames it skips as silence, not loss', () => {
    const stream = new OutboundStream(fixed);
    let sent = 0;
    const outs: Out[] = [];
    for (let frame = 0; frame < 20; frame++) {
      if (frame >= 5 && frame < 15) continue; // nothing audible: not sent
      outs.push(send(stream, MIXER, 0, sent++, frame * 160, frame * 20)!);
    }
    expect(outs.map((o) => o.seq - fixed.sequence)).toEqual([...Array(10).keys()]);
    expect(outs[5]!.ts - outs[4]!.ts).toBe(11 * 160);
  });
});

describe('OutboundStream: RFC 4733 events', () => {
  it('keeps one timestamp per event, also after a switch in the middle of it', () => {
    const stream = new OutboundStream(fixed);
    const start = send(stream, LEG_A, 1, 1, 8000, 0, true)!;
    const event = [2, 3, 4].map((s, i) => send(stream, LEG_A, 1, s, 8000, 50 * (i + 1))!);
    expect(event.every((o) => o.ts === start.ts)).toBe(true);
    const switched = send(stream, LEG_B, 2, 70, 4242, 200)!;
    const rest = [71, 72, 72].map((s, i) => send(stream, LEG_B, 2, s, 4242, 250 + 50 * i)!);
    expect(rest.every((o) => o.ts === switched.ts)).toBe(true);
    expect(rest.map((o) => o.seq - switched.seq)).toEqual([1, 2, 2]);
  });

  it('after a long event, a switch lands after the event, not inside it', () => {
    const stream = new OutboundStream(fixed);
    // A 1 s event: 50 packets, one timestamp.
    let out: Out | null = null;
    for (let i = 0; i < 50; i++) out = send(stream, LEG_A, 1, i, 16000, i * 20, i === 0);
    const eventTs = out!.ts;
    const next = send(stream, MIXER, 0, 0, 0, 50 * 20)!;
    expect(next.ts - eventTs).toBe(50 * 160);
    // and audio of the same source after the event is mapped, not re-anchored
    const stream2 = new OutboundStream(fixed);
    for (let i = 0; i < 50; i++) send(stream2, LEG_A, 1, i, 16000, i * 20, i === 0);
    const audio = send(stream2, LEG_A, 1, 50, 16000 + 50 * 160, 1000)!;
    expect(audio.ts - fixed.timestamp).toBe(50 * 160);
    expect(stream2.segments).toBe(1);
  });
});

describe('OutboundStream: interrupt', () => {
  it('turns a gap its owner caused into a pause: contiguous sequence, timestamp on the wall clock', () => {
    const stream = new OutboundStream(fixed);
    let last: Out | null = null;
    for (let i = 0; i < 10; i++) last = send(stream, LEG_A, 1, 100 + i, 1000 + i * 160, i * 20);
    // Hold for 500 ms: the source kept sending, 25 packets were not forwarded.
    stream.interrupt();
    const resumed = send(stream, LEG_A, 1, 135, 1000 + 35 * 160, 700)!;
    expect(resumed.seq).toBe((last!.seq + 1) & 0xffff);
    expect(resumed.marker).toBe(true);
    expect(resumed.ts - last!.ts).toBe((700 - 180) * 8);
    // Within the new segment the source's spacing is kept again.
    const next = send(stream, LEG_A, 1, 136, 1000 + 36 * 160, 720)!;
    expect([next.seq - resumed.seq, next.ts - resumed.ts, next.marker]).toEqual([1, 160, false]);
    expect(stream.segments).toBe(2);
  });

  it('without interrupt the same gap reads as loss (the policy interrupt exists to avoid)', () => {
    const stream = new OutboundStream(fixed);
    let last: Out | null = null;
    for (let i = 0; i < 10; i++) last = send(stream, LEG_A, 1, 100 + i, 1000 + i * 160, i * 20);
    const after = send(stream, LEG_A, 1, 135, 1000 + 35 * 160, 700)!;
    expect(after.seq - last!.seq).toBe(26);
  });
});

describe('handing a segment to a relay fast path and back', () => {
  const init = { ssrc: 0x5555, sequence: 40000, timestamp: 7000 };

  it('exports nothing before the first packet or after an interrupt', () => {
    const stream = new OutboundStream(init);
    const state = new Float64Array(17);
    expect(stream.exportSegment(state)).toBe(false);
    send(stream, LEG_A, 9, 10, 160, 0);
    expect(stream.exportSegment(state)).toBe(true);
    expect(state[0]).toBe(9); // the segment's source SSRC
    expect(state[13]).toBe(0x5555);
    stream.interrupt();
    expect(stream.exportSegment(state)).toBe(false);
  });

  it('continues from the state it takes back as if it had sent those packets itself', () => {
    const kept = new OutboundStream(init);
    const handed = new OutboundStream(init);
    for (let i = 0; i < 5; i++) {
      send(kept, LEG_A, 9, 10 + i, 160 * i, i * 20);
      send(handed, LEG_A, 9, 10 + i, 160 * i, i * 20);
    }
    // A fast path advances the exported state for packets 15..19 the way `next` does
    // (here a second stream of the same source stands in for it), then hands it back.
    const state = new Float64Array(17);
    expect(handed.exportSegment(state)).toBe(true);
    for (let i = 5; i < 10; i++) send(kept, LEG_A, 9, 10 + i, 160 * i, i * 20);
    const fastPath = new OutboundStream(init);
    send(fastPath, LEG_A, 9, 10, 0, 0); // same source (importSegment keeps the source)
    fastPath.importSegment(state);
    for (let i = 5; i < 10; i++) send(fastPath, LEG_A, 9, 10 + i, 160 * i, i * 20);
    expect(fastPath.exportSegment(state)).toBe(true);
    handed.importSegment(state);
    // Then a switch to another source and back: both streams agree on every packet.
    const a = [send(kept, LEG_B, 3, 500, 9000, 300), send(kept, LEG_A, 9, 30, 4000, 400)];
    const b = [send(handed, LEG_B, 3, 500, 9000, 300), send(handed, LEG_A, 9, 30, 4000, 400)];
    expect(b).toEqual(a);
    expect(handed.sequence).toBe(kept.sequence);
    expect(handed.sent).toBe(kept.sent);
    expect(a[0]!.seq).toBe((40000 + 10) & 0xffff); // contiguous after the 10 sent
  });
});
