/**
 * A media worker's pending commands: each fails with the timeout error once its deadline
 * passed, never before; an answered one is not failed; one timer serves them all, re-armed
 * for the oldest pending deadline; rejectAll fails the rest and stops the timer.
 */
import { describe, expect, it } from '@jest/globals';
import { PendingRequests, type DeadlineTimer } from '../../../../media/engine/pendingRequests.js';

/** A manual clock: advance(ms) runs the timer when its time came. */
function manual(): DeadlineTimer & { advance(ms: number): void; armed: number; scheduled: number } {
  let time = 0;
  let due: { at: number; run: () => void } | undefined;
  const c = {
    armed: 0,
    scheduled: 0,
    now: () => time,
    schedule(run: () => void, ms: number) {
      due = { at: time + ms, run };
      c.armed++;
      c.scheduled++;
      return due;
    },
    cancel(handle: unknown) {
      if (handle === due) {
        due = undefined;
        c.armed--;
      }
    },
    advance(ms: number) {
      const end = time + ms;
      while (due !== undefined && due.at <= end) {
        const d = due;
        due = undefined;
        c.armed--;
        time = d.at;
        d.run();
      }
      time = end;
    },
  };
  return c;
}

function recorder() {
  const settled: string[] = [];
  const settle = (name: string) => ({
    resolve: (r: unknown) => settled.push(`${name} ok ${String(r)}`),
    reject: (e: Error) => settled.push(`${name} failed: ${e.message}`),
  });
  return { settled, settle };
}

describe('PendingRequests', () => {
  it('fails each unanswered command at its own deadline, not before, with one timer', () => {
    const clock = manual();
    const table = new PendingRequests(100, (what) => new Error(`no answer to ${what}`), clock);
    const { settled, settle } = recorder();
    table.add(1, 'createLeg', settle('1'));
    clock.advance(30);
    table.add(2, 'createRoom', settle('2'));
    table.add(3, 'closeLeg', settle('3'));
    expect(clock.scheduled).toBe(1);
    clock.advance(69);
    expect(settled).toEqual([]);
    clock.advance(1);
    expect(settled).toEqual(['1 failed: no answer to createLeg']);
    expect(table.size).toBe(2);
    clock.advance(29);
    expect(settled).toHaveLength(1);
    clock.advance(1);
    expect(settled).toEqual([
      '1 failed: no answer to createLeg',
      '2 failed: no answer to createRoom',
      '3 failed: no answer to closeLeg',
    ]);
    expect(table.size).toBe(0);
    expect(clock.armed).toBe(0);
  });

  it('does not fail an answered command, and re-arms for the oldest one still pending', () => {
    const clock = manual();
    const table = new PendingRequests(100, (what) => new Error(`no answer to ${what}`), clock);
    const { settled, settle } = recorder();
    table.add(1, 'a', settle('1'));
    clock.advance(50);
    table.add(2, 'b', settle('2'));
    table.take(1)?.resolve('r1');
    expect(table.take(1)).toBeUndefined();
    clock.advance(50); // command 1's deadline: nothing to fail, the timer moves to command 2's
    expect(settled).toEqual(['1 ok r1']);
    expect(clock.armed).toBe(1);
    clock.advance(49);
    expect(settled).toEqual(['1 ok r1']);
    clock.advance(1);
    expect(settled).toEqual(['1 ok r1', '2 failed: no answer to b']);
    expect(table.take(2)).toBeUndefined(); // a late answer finds nothing
    expect(clock.armed).toBe(0);
    table.add(3, 'c', settle('3'));
    expect(clock.armed).toBe(1); // armed again for a new command
  });

  it('rejectAll fails every pending command once and stops the timer', () => {
    const clock = manual();
    const table = new PendingRequests(100, () => new Error('timeout'), clock);
    const { settled, settle } = recorder();
    table.add(1, 'a', settle('1'));
    table.add(2, 'b', settle('2'));
    table.rejectAll(new Error('closed'));
    expect(settled).toEqual(['1 failed: closed', '2 failed: closed']);
    expect(clock.armed).toBe(0);
    clock.advance(1000);
    expect(settled).toHaveLength(2);
  });
});
