import { describe, expect, it } from '@jest/globals';
import { LingerQueues, type Lingering } from '../../../../sip/transaction/lingerQueue.js';
import { FakeClock } from './fakeClock.js';

/** A waiter that records when it was told, and ignores tokens it no longer waits for. */
function waiter(clock: FakeClock, log: string[], name: string) {
  const w: Lingering & { token: number } = {
    token: 0,
    lingerExpired(token) {
      if (token === w.token) log.push(`${name}@${clock.now()}`);
    },
  };
  return w;
}

describe('LingerQueues', () => {
  it('tells each waiter at its own due time, with one clock timer per duration', () => {
    const clock = new FakeClock();
    const queues = new LingerQueues(clock);
    const log: string[] = [];
    const a = waiter(clock, log, 'a');
    const b = waiter(clock, log, 'b');
    const c = waiter(clock, log, 'c');
    a.token = queues.add(a, 32_000);
    clock.advance(10);
    b.token = queues.add(b, 32_000);
    c.token = queues.add(c, 5_000);
    expect(clock.pending).toBe(2);
    expect(queues.size).toBe(3);
    clock.advance(31_989);
    expect(log).toEqual(['c@5010']);
    clock.advance(1);
    expect(log).toEqual(['c@5010', 'a@32000']);
    clock.advance(10);
    expect(log).toEqual(['c@5010', 'a@32000', 'b@32010']);
    expect(queues.size).toBe(0);
    expect(clock.pending).toBe(0);
  });

  it('skips a waiter that stopped waiting (its token changed) and keeps the order', () => {
    const clock = new FakeClock();
    const queues = new LingerQueues(clock);
    const log: string[] = [];
    const all = Array.from({ length: 3000 }, (_, i) => waiter(clock, log, String(i)));
    all.forEach((w, i) => {
      w.token = queues.add(w, 1000);
      if (i % 10 === 9) clock.advance(1);
    });
    for (let i = 0; i < all.length; i += 2) (all[i] as { token: number }).token = 0;
    clock.advance(5000);
    const expected = all.flatMap((_, i) =>
      i % 2 === 1 ? [`${i}@${Math.floor(i / 10) + 1000}`] : [],
    );
    expect(log).toEqual(expected);
    expect(clock.pending).toBe(0);
  });

  it('takes entries added while it expires others', () => {
    const clock = new FakeClock();
    const queues = new LingerQueues(clock);
    const log: string[] = [];
    const late = waiter(clock, log, 'late');
    const first: Lingering = {
      lingerExpired() {
        log.push(`first@${clock.now()}`);
        late.token = queues.add(late, 100);
      },
    };
    queues.add(first, 100);
    clock.advance(1000);
    expect(log).toEqual(['first@100', 'late@200']);
    expect(clock.pending).toBe(0);
  });

  it('close drops every entry and timer, and ignores later adds', () => {
    const clock = new FakeClock();
    const queues = new LingerQueues(clock);
    const log: string[] = [];
    const a = waiter(clock, log, 'a');
    a.token = queues.add(a, 100);
    queues.close();
    queues.close();
    expect(clock.pending).toBe(0);
    a.token = queues.add(a, 100);
    clock.advance(1000);
    expect(log).toEqual([]);
    expect(clock.pending).toBe(0);
  });
});
