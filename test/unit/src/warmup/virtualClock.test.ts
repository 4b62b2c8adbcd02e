import { describe, expect, it } from '@jest/globals';
import { VirtualClock } from '../../../../src/warmup/virtualClock.js';

describe('VirtualClock', () => {
  it('fires due timers in time order when advanced, and no others', () => {
    const clock = new VirtualClock();
    const fired: string[] = [];
    clock.setTimer(30, () => fired.push('c'));
    clock.setTimer(10, () => {
      fired.push('a');
      // Armed while firing and due within the same advance: fires too.
      clock.setTimer(5, () => fired.push('b'));
    });
    clock.setTimer(100, () => fired.push('late'));
    clock.advance(50);
    expect(fired).toEqual(['a', 'b', 'c']);
    expect(clock.now()).toBe(50);
    expect(clock.pending).toBe(1);
  });

  it('never fires a cancelled or cleared timer', () => {
    const clock = new VirtualClock();
    let fired = 0;
    clock.setTimer(10, () => fired++).cancel();
    clock.setTimer(20, () => fired++);
    clock.clear();
    clock.advance(1000);
    expect(fired).toBe(0);
    expect(clock.pending).toBe(0);
  });
});
