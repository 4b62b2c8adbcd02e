/**
 * Engine ↔ worker batching: the messages of one turn go out as one post, in order; a lone
 * message goes out unwrapped; the receiver sees the same sequence either way; close drops
 * what is queued and the pending flush.
 */
import { describe, expect, it } from '@jest/globals';
import { Batcher, isBatch, unbatch, type Scheduler } from '../../../../media/worker/batch.js';

function manual(): Scheduler & { run(): void; live: number } {
  let next: (() => void) | undefined;
  const s = {
    live: 0,
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
    run() {
      const r = next;
      next = undefined;
      if (r) {
        s.live--;
        r();
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
});
