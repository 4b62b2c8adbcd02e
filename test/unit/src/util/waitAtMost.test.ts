import { describe, expect, it } from '@jest/globals';
import { waitAtMost } from '../../../../src/util/waitAtMost.js';
import { FakeClock } from '../../sip/transaction/fakeClock.js';

/** A promise settled from outside. */
function deferred<T = void>() {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** Lets pending promise callbacks run. */
const flush = () => new Promise<void>((r) => setImmediate(r));

describe('waitAtMost', () => {
  it('resolves true when the work finishes in time, and disarms its timer', async () => {
    const clock = new FakeClock();
    const work = deferred();
    const waited = waitAtMost(work.promise, 2000, clock);
    expect(clock.pending).toBe(1);
    clock.advance(1999);
    work.resolve();
    await expect(waited).resolves.toBe(true);
    expect(clock.pending).toBe(0);
  });

  it('resolves false once the bound passes, while the work still runs', async () => {
    const clock = new FakeClock();
    const work = deferred();
    let settled: boolean | undefined;
    void waitAtMost(work.promise, 2000, clock).then((v) => (settled = v));
    clock.advance(1999);
    await flush();
    expect(settled).toBeUndefined();
    clock.advance(1);
    await flush();
    expect(settled).toBe(false);
    expect(clock.pending).toBe(0);
    // The work finishing late changes nothing and raises nothing.
    work.resolve();
    await flush();
    expect(settled).toBe(false);
  });

  it("rejects with the work's error when it fails in time", async () => {
    const clock = new FakeClock();
    const work = deferred();
    const waited = waitAtMost(work.promise, 2000, clock);
    work.reject(new Error('BYE failed'));
    await expect(waited).rejects.toThrow('BYE failed');
    expect(clock.pending).toBe(0);
  });

  it('absorbs a failure that comes after the bound (no unhandled rejection)', async () => {
    const clock = new FakeClock();
    const work = deferred();
    const waited = waitAtMost(work.promise, 10, clock);
    clock.advance(10);
    await expect(waited).resolves.toBe(false);
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      work.reject(new Error('late'));
      await flush();
      await flush();
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
    expect(unhandled).toEqual([]);
  });

  it('resolves true for work already done, even with a zero bound', async () => {
    const clock = new FakeClock();
    const waited = waitAtMost(Promise.resolve(), 0, clock);
    await flush();
    // The fake timer fires only when advanced: the resolved work settles first.
    await expect(waited).resolves.toBe(true);
  });

  it('with the default (real) timer, gives up after the bound', async () => {
    const started = performance.now();
    await expect(waitAtMost(new Promise(() => {}), 30)).resolves.toBe(false);
    expect(performance.now() - started).toBeGreaterThanOrEqual(25);
  });
});
