import { describe, expect, it } from '@jest/globals';
import { PacketQueue, freeQueueRingCount } from '../../../../media/recording/packetQueue.js';
import { rtp } from '../rtpFixture.js';

const packet = (seq: number, fill: number): Buffer =>
  rtp({ pt: 0, seq, ts: seq * 160, ssrc: 9, payload: new Array<number>(160).fill(fill) });

describe('PacketQueue', () => {
  it('queues payloads with their header fields, in order', () => {
    const q = new PacketQueue();
    for (let s = 1; s <= 3; s++) {
      const msg = packet(s, s);
      q.push(s - 1, 1, msg, 12, msg.length, 1000 + s);
    }
    expect(q.size).toBe(3);
    for (let s = 1; s <= 3; s++) {
      const i = q.peek();
      expect([q.source[i], q.sequence[i], q.timestamp[i], q.ssrc[i], q.arrivalMs[i]]).toEqual([
        s - 1,
        s,
        s * 160,
        9,
        1000 + s,
      ]);
      expect(q.length[i]).toBe(160);
      expect(q.bytes[q.offset[i]!]).toBe(s);
      q.pop();
    }
    expect(q.peek()).toBe(-1);
    q.release();
  });

  it('holds no ring until the first packet, and its ring serves the next queue once released', () => {
    const a = new PacketQueue();
    expect(a.bytes.length).toBe(0); // a call that ends before its first packet needs none
    const msg = packet(1, 1);
    a.push(0, 1, msg, 12, msg.length, 0);
    const ring = a.bytes;
    expect(ring.length).toBe(32768);
    const before = freeQueueRingCount();
    a.release();
    expect(freeQueueRingCount()).toBe(before + 1);
    expect(a.size).toBe(0);
    const b = new PacketQueue();
    b.push(0, 1, msg, 12, msg.length, 0);
    expect(b.bytes).toBe(ring);
    expect(freeQueueRingCount()).toBe(before);
    b.release();
  });

  it('drops and counts what is pushed after release (a leg still holding it)', () => {
    const a = new PacketQueue();
    const msg = packet(1, 1);
    a.push(0, 1, msg, 12, msg.length, 0);
    a.release();
    a.release(); // idempotent: the ring is given back once
    const b = new PacketQueue();
    b.push(0, 1, msg, 12, msg.length, 0); // takes a's ring
    a.push(0, 1, packet(2, 2), 12, msg.length, 0);
    expect(a.overflow).toBe(1);
    expect(a.size).toBe(0);
    expect(b.size).toBe(1);
    expect(b.bytes[b.offset[b.peek()]!]).toBe(1);
    b.release();
  });
});
