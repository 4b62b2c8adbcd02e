import { describe, expect, it } from '@jest/globals';
import {
  DEFAULT_SOURCE_LIMITS,
  FailureLimiter,
  type FailureLimiterOptions,
} from '../../../../sip/auth/failureLimiter.js';
import { FakeClock } from './helpers.js';

const LIMITS: FailureLimiterOptions = {
  maxFailures: 3,
  windowMs: 10_000,
  lockoutMs: 60_000,
  maxTrackedKeys: 100,
};

function limiter(extra: Partial<FailureLimiterOptions> = {}): [FailureLimiter, FakeClock] {
  const clock = new FakeClock();
  return [new FailureLimiter(clock, { ...LIMITS, ...extra }), clock];
}

describe('FailureLimiter', () => {
  it('locks a key after N failures within the window, for L ms', () => {
    const [l, clock] = limiter();
    expect(l.recordFailure('10.0.0.1')).toEqual({ locked: false, failures: 1 });
    clock.advance(1000);
    expect(l.recordFailure('10.0.0.1')).toEqual({ locked: false, failures: 2 });
    expect(l.isLocked('10.0.0.1')).toBe(false);
    expect(l.recordFailure('10.0.0.1')).toEqual({ locked: true, failures: 0 });
    expect(l.lockedUntil('10.0.0.1')).toBe(clock.now() + 60_000);
    expect(l.isLocked('10.0.0.2')).toBe(false);

    clock.advance(59_999);
    expect(l.isLocked('10.0.0.1')).toBe(true);
    expect(l.recordFailure('10.0.0.1')).toEqual({ locked: true, failures: 0 });
    clock.advance(1);
    expect(l.isLocked('10.0.0.1')).toBe(false);
    // After the lock-out the count starts over.
    expect(l.recordFailure('10.0.0.1')).toEqual({ locked: false, failures: 1 });
  });

  it('forgets failures older than the window', () => {
    const [l, clock] = limiter();
    l.recordFailure('k');
    l.recordFailure('k');
    clock.advance(10_000);
    expect(l.recordFailure('k')).toEqual({ locked: false, failures: 1 });
  });

  it('reset() clears a key', () => {
    const [l] = limiter();
    l.recordFailure('alice');
    l.recordFailure('alice');
    l.reset('alice');
    expect(l.recordFailure('alice')).toEqual({ locked: false, failures: 1 });
  });

  it('never tracks more than maxTrackedKeys, evicting the least recently failed', () => {
    const [l] = limiter({ maxTrackedKeys: 100 });
    l.recordFailure('first');
    l.recordFailure('first');
    for (let i = 0; i < 1000; i++) {
      l.recordFailure(`198.51.100.${i}`);
      expect(l.size).toBeLessThanOrEqual(100);
    }
    expect(l.size).toBe(100);
    l.recordFailure('first'); // evicted, so this is failure 1 again
    expect(l.recordFailure('first')).toEqual({ locked: false, failures: 2 });
  });

  it('sweep() drops idle keys, keeps locked and counting ones', () => {
    const [l, clock] = limiter();
    for (let i = 0; i < 3; i++) l.recordFailure('locked');
    l.recordFailure('idle');
    clock.advance(10_000);
    l.recordFailure('counting');
    expect(l.sweep()).toBe(1);
    expect(l.size).toBe(2);
    clock.advance(60_000);
    expect(l.sweep()).toBe(2);
    expect(l.size).toBe(0);
  });

  it('purges idle keys lazily as failures arrive', () => {
    const [l, clock] = limiter();
    l.recordFailure('a');
    l.recordFailure('b');
    clock.advance(10_000);
    l.recordFailure('c');
    expect(l.size).toBe(1);
  });

  it('validates its options and has sane defaults', () => {
    const clock = new FakeClock();
    expect(() => new FailureLimiter(clock, { ...LIMITS, maxFailures: 0 })).toThrow(RangeError);
    expect(() => new FailureLimiter(clock, { ...LIMITS, maxFailures: 1.5 })).toThrow(RangeError);
    expect(() => new FailureLimiter(clock, { ...LIMITS, windowMs: -1 })).toThrow(RangeError);
    expect(() => new FailureLimiter(clock, { ...LIMITS, lockoutMs: NaN })).toThrow(RangeError);
    expect(() => new FailureLimiter(clock, { ...LIMITS, maxTrackedKeys: 0 })).toThrow(RangeError);
    expect(() => new FailureLimiter(clock, DEFAULT_SOURCE_LIMITS)).not.toThrow();
  });
});
