import { describe, expect, it } from '@jest/globals';
import { TrackOrder } from '../../../../sip/auth/trackOrder.js';

describe('TrackOrder', () => {
  it('gives keys back oldest first', () => {
    const q = new TrackOrder();
    expect(q.peek()).toBeUndefined();
    q.push('a');
    q.push('b');
    expect(q.peek()).toBe('a');
    q.shift();
    expect(q.peek()).toBe('b');
    q.shift();
    q.shift(); // empty: harmless
    expect(q.peek()).toBeUndefined();
    expect(q.length).toBe(0);
  });

  it('keeps its order across many pushes and shifts (front cut off as it goes)', () => {
    const q = new TrackOrder();
    let next = 0;
    let oldest = 0;
    for (let i = 0; i < 10_000; i++) {
      q.push(String(next++));
      q.push(String(next++));
      expect(q.peek()).toBe(String(oldest));
      q.shift();
      oldest++;
    }
    expect(q.length).toBe(next - oldest);
    expect(q.peek()).toBe(String(oldest));
  });

  it('compact() drops keys the map no longer has, once they outnumber the live ones', () => {
    const q = new TrackOrder();
    const live = new Map<string, number>();
    for (let i = 0; i < 1000; i++) {
      q.push(String(i));
      if (i % 10 === 0) live.set(String(i), i);
    }
    q.compact(live);
    expect(q.length).toBe(100);
    expect(q.peek()).toBe('0');
    q.shift();
    expect(q.peek()).toBe('10');
    // Few dead keys: left for the front to skip.
    live.delete('20');
    q.compact(live);
    expect(q.length).toBe(99);
  });
});
