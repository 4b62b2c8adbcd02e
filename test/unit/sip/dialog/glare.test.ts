import { describe, expect, it } from '@jest/globals';
import {
  canSendReInvite,
  checkIncomingReInvite,
  glareRetryDelay,
} from '../../../../sip/dialog/index.js';

const fixed = (r: number) => () => r;

describe('re-INVITE collisions (RFC 3261 §14)', () => {
  it('answers 491 to a re-INVITE while ours is pending (§14.2)', () => {
    expect(checkIncomingReInvite({ sending: true, receiving: false }, fixed(0))).toEqual({
      accept: false,
      status: 491,
    });
  });

  it('answers 500 with Retry-After 0–10 s while the previous INVITE is unanswered (§14.2)', () => {
    const busy = { sending: false, receiving: true };
    expect(checkIncomingReInvite(busy, fixed(0))).toEqual({
      accept: false,
      status: 500,
      retryAfter: 0,
    });
    expect(checkIncomingReInvite(busy, fixed(0.9999))).toMatchObject({ retryAfter: 10 });
  });

  it('accepts otherwise, and lets us send only when no INVITE is in progress (§14.1)', () => {
    expect(checkIncomingReInvite({ sending: false, receiving: false }, fixed(0.5))).toEqual({
      accept: true,
    });
    expect(canSendReInvite({ sending: false, receiving: false })).toBe(true);
    expect(canSendReInvite({ sending: true, receiving: false })).toBe(false);
    expect(canSendReInvite({ sending: false, receiving: true })).toBe(false);
  });

  it('waits 2.1–4 s when we own the Call-ID, 0–2 s otherwise, in 10 ms steps (§14.1)', () => {
    expect(glareRetryDelay(true, fixed(0))).toBe(2100);
    expect(glareRetryDelay(true, fixed(0.999999))).toBe(4000);
    expect(glareRetryDelay(false, fixed(0))).toBe(0);
    expect(glareRetryDelay(false, fixed(0.999999))).toBe(2000);
    for (let i = 0; i < 100; i++) {
      const owner = glareRetryDelay(true, fixed(i / 100));
      const other = glareRetryDelay(false, fixed(i / 100));
      expect(owner % 10).toBe(0);
      expect(other % 10).toBe(0);
      expect(owner).toBeGreaterThanOrEqual(2100);
      expect(other).toBeLessThanOrEqual(2000);
    }
  });

  it('stays in range whatever the random source returns', () => {
    expect(glareRetryDelay(true, fixed(1))).toBe(4000);
    expect(glareRetryDelay(false, fixed(-3))).toBe(0);
    expect(glareRetryDelay(false, fixed(Number.NaN))).toBe(0);
  });
});
