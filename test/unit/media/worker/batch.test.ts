/**
 * Engine ↔ worker batching: the messages of one turn go out as one post, in order; a lone
 * message goes out unwrapped; the receiver sees the same sequence either way; close drops
 * what is queued and the pending flush. A deferred message waits for the next pushed one
 * (in order) or for its delay, never longer.
 */
import { describe, expect, it } from '@jest/globals';
import { Batcher, isBatch, unbatch, type Scheduler } from '../../../../media/worker/batch.js';

function manual(): Scheduler & {
  run(): void;
  live: number;
  /** The delay asked for and its run, while one is pending. */
  delayed: { ms: number; run: () => void } | undefined;
  expire(): void;
} {
  let next: (() => void) | undefined;
  const s = {
    live: 0,
    delayed: undefined as { ms: number; run: () => void } | undefined,
    schedule(run: () => void) {
      next = run;
      s.live++;
      return run;
    },
    cancel(handle: unknown) {
      if (handle === next) {
        next = undefined;
        s.live--;
      }
    },
    delay(run: () => void, ms: number) {
      s.delayed = { ms, run };
      s.live++;
      return s.delayed;
    },
    cancelDelay(handle: unknown) {
      if (handle === s.delayed) {
        s.delayed = undefined;
        s.live--;
      }
    },
    run() {
      const r = next;
      next = undefined;
      if (r) {
        s.live--;
        r();
      }
    },
    expire() {
      const d = s.delayed;
      s.delayed = undefined;
      if (d) {
        s.live--;
        d.run();
      }
    },
  };
  return s;
}

describe('Batcher', () => {
  it('posts the messages of one turn as one batch, in order, and one message alone', () => {
    const posted: unknown[] = [];
    const turn = manual();
    const b = new Batcher((m) => posted.push(m), turn);
    b.push({ type: 'a', id: 1 });
    b.push({ type: 'b', id: 2 });
    b.push({ type: 'c', id: 3 });
    expect(posted).toEqual([]);
    turn.run();
    expect(posted).toEqual([
      {
        type: 'batch',
        messages: [
          { type: 'a', id: 1 },
          { type: 'b', id: 2 },
          { type: 'c', id: 3 },
        ],
      },
    ]);
    b.push({ type: 'd', id: 4 });
    turn.run();
    expect(posted[1]).toEqual({ type: 'd', id: 4 });
    expect(turn.live).toBe(0);
  });

  it('hands the receiver the same sequence whether batched or not', () => {
    const seen: unknown[] = [];
    const posted: unknown[] = [];
    const turn = manual();
    const b = new Batcher((m) => posted.push(m), turn);
    for (let i = 0; i < 5; i++) b.push({ type: 'x', id: i });
    turn.run();
    b.push({ type: 'x', id: 5 });
    turn.run();
    for (const m of posted) unbatch(m, (one) => seen.push(one));
    expect(seen).toEqual([0, 1, 2, 3, 4, 5].map((id) => ({ type: 'x', id })));
    expect(isBatch(posted[0])).toBe(true);
    expect(isBatch(posted[1])).toBe(false);
  });

  it('close drops the queue and the pending flush; later pushes are ignored', () => {
    const posted: unknown[] = [];
    const turn = manual();
    const b = new Batcher((m) => posted.push(m), turn);
    b.push({ type: 'a' });
    b.close();
    expect(turn.live).toBe(0);
    b.push({ type: 'b' });
    turn.run();
    expect(posted).toEqual([]);
  });

  it('a deferred message goes with the next pushed one, in order, without its own post', () => {
    const posted: unknown[] = [];
    const turn = manual();
    const b = new Batcher((m) => posted.push(m), turn, 20);
    b.defer({ type: 'closeLeg', id: 1 });
    turn.run(); // no turn flush was asked for
    expect(posted).toEqual([]);
    expect(turn.delayed?.ms).toBe(20);
    b.push({ type: 'createLeg', id: 2 });
    turn.run();
    expect(posted).toEqual([
      {
        type: 'batch',
        messages: [
          { type: 'closeLeg', id: 1 },
          { type: 'createLeg', id: 2 },
        ],
      },
    ]);
    expect(turn.delayed).toBeUndefined(); // its own flush was cancelled
    expect(turn.live).toBe(0);
  });

  it('a deferred message goes alone once its delay is over', () => {
    const posted: unknown[] = [];
    const turn = manual();
    const b = new Batcher((m) => posted.push(m), turn, 20);
    b.defer({ type: 'closeLeg', id: 1 });
    b.defer({ type: 'closeRoom', id: 2 });
    expect(turn.live).toBe(1); // one delay for both
    turn.expire();
    expect(posted).toEqual([
      {
        type: 'batch',
        messages: [
          { type: 'closeLeg', id: 1 },
          { type: 'closeRoom', id: 2 },
        ],
      },
    ]);
    expect(turn.live).toBe(0);
  });

  it('a message deferred in a turn that flushes anyway goes at its end, and close drops it', () => {
    const posted: unknown[] = [];
    const turn = manual();
    const b = new Batcher((m) => posted.push(m), turn, 20);
    b.push({ type: 'a', id: 1 });
    b.defer({ type: 'closeLeg', id: 2 });
    expect(turn.delayed).toBeUndefined();
    turn.run();
    expect(posted).toEqual([
      {
        type: 'batch',
        messages: [
          { type: 'a', id: 1 },
          { type: 'closeLeg', id: 2 },
        ],
      },
    ]);
    b.defer({ type: 'closeLeg', id: 3 });
    b.close();
    expect(turn.live).toBe(0);
    expect(posted).toHaveLength(1);
  });
});
