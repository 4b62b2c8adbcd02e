import { describe, expect, it } from '@jest/globals';
import { EventBus } from '../../../../src/events/eventBus.js';
import type { ApiEvent, EventBody } from '../../../../src/events/eventTypes.js';

const reg = (extension: string, contacts = 1): EventBody => ({
  type: 'registration.changed',
  extension,
  registered: contacts > 0,
  contacts,
});

/** A clock that advances one second per reading, from 2024-01-01T00:00:00Z. */
function fakeNow(): () => Date {
  let t = Date.UTC(2024, 0, 1);
  return () => new Date((t += 1000));
}

describe('EventBus', () => {
  it('stamps events with increasing seq and ISO time, and delivers them in order', () => {
    const bus = new EventBus({ now: fakeNow() });
    const got: ApiEvent[] = [];
    bus.subscribe(
      () => true,
      (e) => got.push(e),
    );
    const first = bus.publish(reg('1001'));
    bus.publish(reg('1002'));
    bus.publish({
      type: 'call.created',
      callId: 'c1',
      agent: '1001',
      remote: '555',
      direction: 'inbound',
    });
    expect(first).toEqual({ ...reg('1001'), seq: 1, time: '2024-01-01T00:00:01.000Z' });
    expect(got.map((e) => e.seq)).toEqual([1, 2, 3]);
    expect(got.map((e) => e.type)).toEqual([
      'registration.changed',
      'registration.changed',
      'call.created',
    ]);
    expect(got[2]?.time).toBe('2024-01-01T00:00:03.000Z');
    expect(bus.lastSeq).toBe(3);
  });

  it('delivers to a subscriber only what its filter accepts, until it unsubscribes', () => {
    const bus = new EventBus();
    const got: string[] = [];
    const off = bus.subscribe(
      (e) => e.type === 'registration.changed' && e.extension === '1001',
      (e) => got.push(`${e.seq}`),
    );
    bus.publish(reg('1001'));
    bus.publish(reg('1002'));
    bus.publish(reg('1001', 0));
    off();
    off(); // idempotent
    bus.publish(reg('1001'));
    expect(got).toEqual(['1', '3']);
    expect(bus.subscriberCount).toBe(0);
  });

  it('replays buffered events after a seq, filtered, and forgets beyond its capacity', () => {
    const bus = new EventBus({ capacity: 3 });
    expect(bus.since(0)).toEqual([]);
    for (const ext of ['1', '2', '3', '4', '5']) bus.publish(reg(ext));
    expect(bus.oldestSeq).toBe(3);
    expect(bus.since(0).map((e) => e.seq)).toEqual([3, 4, 5]);
    expect(bus.since(3).map((e) => e.seq)).toEqual([4, 5]);
    expect(bus.since(5)).toEqual([]);
    expect(bus.since(99)).toEqual([]);
    expect(bus.since(0, (e) => e.seq % 2 === 1).map((e) => e.seq)).toEqual([3, 5]);
  });

  it('since() then subscribe() in one tick sees every event once', () => {
    const bus = new EventBus();
    bus.publish(reg('1'));
    bus.publish(reg('2'));
    const seen = bus.since(1).map((e) => e.seq);
    bus.subscribe(
      () => true,
      (e) => seen.push(e.seq),
    );
    bus.publish(reg('3'));
    expect(seen).toEqual([2, 3]);
  });

  it('reports a throwing listener and still delivers to the others', () => {
    const errors: unknown[] = [];
    const bus = new EventBus({ onListenerError: (err) => errors.push(err) });
    const got: number[] = [];
    bus.subscribe(
      () => true,
      () => {
        throw new Error('boom');
      },
    );
    bus.subscribe(
      () => true,
      (e) => got.push(e.seq),
    );
    expect(() => bus.publish(reg('1'))).not.toThrow();
    expect(got).toEqual([1]);
    expect(errors).toHaveLength(1);
  });

  it('does not call a listener unsubscribed by an earlier one during the same publish', () => {
    const bus = new EventBus();
    const got: string[] = [];
    let offB: () => void = () => {};
    bus.subscribe(
      () => true,
      () => {
        got.push('a');
        offB();
      },
    );
    offB = bus.subscribe(
      () => true,
      () => got.push('b'),
    );
    bus.publish(reg('1'));
    expect(got).toEqual(['a']);
  });

  it('after close() delivers and buffers nothing (close is idempotent)', () => {
    const bus = new EventBus();
    const got: number[] = [];
    bus.subscribe(
      () => true,
      (e) => got.push(e.seq),
    );
    bus.close();
    bus.close();
    bus.publish(reg('1'));
    bus.subscribe(
      () => true,
      (e) => got.push(e.seq),
    );
    bus.publish(reg('2'));
    expect(got).toEqual([]);
    expect(bus.since(0)).toEqual([]);
  });

  it('refuses a capacity that is not a positive integer', () => {
    expect(() => new EventBus({ capacity: 0 })).toThrow(RangeError);
    expect(() => new EventBus({ capacity: 1.5 })).toThrow(RangeError);
  });
});
