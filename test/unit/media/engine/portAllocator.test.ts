import { describe, it, expect } from '@jest/globals';
import { PortAllocator } from '../../../../media/engine/portAllocator.js';

describe('PortAllocator', () => {
  it('hands out even RTP ports whose RTCP port (+1) fits the range', () => {
    const ports = new PortAllocator(10001, 10008);
    expect(ports.first).toBe(10002);
    expect(ports.capacity).toBe(3); // 10002/3, 10004/5, 10006/7 (10008 has no 10009)
    expect([ports.allocate(), ports.allocate(), ports.allocate()]).toEqual([10002, 10004, 10006]);
    expect(ports.allocate()).toBeUndefined();
    expect(ports.inUse).toBe(3);
  });

  it('never hands out a pair twice, and reuses a released pair last (round-robin)', () => {
    const ports = new PortAllocator(20000, 20007);
    const a = ports.allocate()!;
    const b = ports.allocate()!;
    ports.release(a);
    expect(ports.isAllocated(a)).toBe(false);
    const c = ports.allocate()!;
    const d = ports.allocate()!;
    expect(new Set([b, c, d]).size).toBe(3);
    expect([c, d]).toEqual([20004, 20006]);
    expect(ports.allocate()).toBe(a); // only now
    expect(ports.allocate()).toBeUndefined();
  });

  it('tracks every pair over many cycles', () => {
    const ports = new PortAllocator(30000, 30099);
    const held = new Set<number>();
    for (let i = 0; i < 1000; i++) {
      if (held.size > 0 && (i % 3 === 0 || held.size === ports.capacity)) {
        const p = [...held][i % held.size]!;
        ports.release(p);
        held.delete(p);
      } else {
        const p = ports.allocate()!;
        expect(p % 2).toBe(0);
        expect(held.has(p)).toBe(false);
        held.add(p);
      }
      expect(ports.inUse).toBe(held.size);
    }
  });

  it('refuses bad ranges and bad releases', () => {
    expect(() => new PortAllocator(10000, 10000)).toThrow(RangeError);
    expect(() => new PortAllocator(10001, 10002)).toThrow(RangeError);
    expect(() => new PortAllocator(0, 100)).toThrow(RangeError);
    expect(() => new PortAllocator(1000, 70000)).toThrow(RangeError);
    expect(() => new PortAllocator(1.5, 100)).toThrow(RangeError);
    const ports = new PortAllocator(10000, 10003);
    expect(() => ports.release(10000)).toThrow(/not allocated/);
    expect(() => ports.release(10001)).toThrow(/not an RTP port/);
    expect(() => ports.release(10004)).toThrow(/not an RTP port/);
    expect(ports.isAllocated(10001)).toBe(false);
  });
});
