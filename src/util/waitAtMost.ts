/**
 * "Wait for this, but at most N ms": the bounded wait of a shutdown (the BYEs of the calls
 * and monitor sessions being ended must not hold the process for Timer F, 32 s, when a
 * phone vanished).
 *
 * `waitAtMost(work, ms)` resolves `true` when `work` fulfils within `ms`, `false` when the
 * time runs out first (work keeps running; nobody waits for it any more), and rejects with
 * `work`'s error when it rejects within `ms` (a later rejection is absorbed: it is nobody's
 * to handle). The timer is cancelled as soon as `work` settles, so nothing is left armed.
 *
 * The default timer is a plain (ref'd) setTimeout: a shutdown in progress keeps the process
 * alive until it is done or the bound passes. Tests pass a fake clock.
 */
import type { Clock } from '../../sip/clock.js';

/** The part of a Clock the wait needs. */
export type TimerSource = Pick<Clock, 'setTimer'>;

const refTimers: TimerSource = {
  setTimer(delayMs, fire) {
    const t = setTimeout(fire, delayMs);
    return { cancel: () => clearTimeout(t) };
  },
};

export function waitAtMost(
  work: Promise<unknown>,
  ms: number,
  timers: TimerSource = refTimers,
): Promise<boolean> {
  return new Promise<boolean>((resolve, reject) => {
    let done = false;
    const timer = timers.setTimer(ms, () => {
      if (done) return;
      done = true;
      resolve(false);
    });
    work.then(
      () => {
        if (done) return;
        done = true;
        timer.cancel();
        resolve(true);
      },
      (err: unknown) => {
        if (done) return;
        done = true;
        timer.cancel();
        reject(err);
      },
    );
  });
}
