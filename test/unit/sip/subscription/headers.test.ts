import { describe, expect, it } from '@jest/globals';
import {
  decideExpires,
  formatEventHeader,
  formatSubscriptionState,
  parseEventHeader,
} from '../../../../sip/subscription/index.js';

describe('Event header (RFC 6665 §8.2.1)', () => {
  it('reads the package and the id parameter', () => {
    expect(parseEventHeader(['dialog'])).toEqual({
      ok: true,
      event: { type: 'dialog', id: undefined },
    });
    expect(parseEventHeader(['dialog;id=abc;foo=bar'])).toEqual({
      ok: true,
      event: { type: 'dialog', id: 'abc' },
    });
    expect(parseEventHeader(['presence.winfo ; id = 7'])).toEqual({
      ok: true,
      event: { type: 'presence.winfo', id: '7' },
    });
  });

  it('tells a missing header from several and from a malformed one', () => {
    expect(parseEventHeader([])).toEqual({ ok: false, reason: 'missing' });
    expect(parseEventHeader(['dialog', 'presence'])).toEqual({ ok: false, reason: 'several' });
    expect(parseEventHeader(['dialog, presence'])).toEqual({ ok: false, reason: 'several' });
    expect(parseEventHeader(['dia log'])).toEqual({ ok: false, reason: 'malformed' });
    expect(parseEventHeader(['dialog..x'])).toEqual({ ok: false, reason: 'malformed' });
    expect(parseEventHeader(['dialog;id'])).toEqual({ ok: false, reason: 'malformed' });
    expect(parseEventHeader(['dialog;id="q"'])).toEqual({ ok: false, reason: 'malformed' });
    expect(parseEventHeader([''])).toEqual({ ok: false, reason: 'malformed' });
  });

  it('writes the type with the id the subscription was made with', () => {
    expect(formatEventHeader({ type: 'dialog', id: undefined })).toBe('dialog');
    expect(formatEventHeader({ type: 'dialog', id: 'x1' })).toBe('dialog;id=x1');
  });
});

describe('subscription duration (RFC 6665 §4.2.1.1)', () => {
  const policy = { minSec: 60, maxSec: 3600, defaultSec: 1800 };
  it('takes the default when absent, cuts long ones, refuses short ones with 423', () => {
    expect(decideExpires(undefined, policy)).toEqual({ ok: true, expiresSec: 1800 });
    expect(decideExpires(120, policy)).toEqual({ ok: true, expiresSec: 120 });
    expect(decideExpires(7200, policy)).toEqual({ ok: true, expiresSec: 3600 });
    expect(decideExpires(59, policy)).toEqual({ ok: false, status: 423, minExpiresSec: 60 });
  });
  it('never calls an un-subscribe (0) too brief', () => {
    expect(decideExpires(0, policy)).toEqual({ ok: true, expiresSec: 0 });
  });
});

describe('Subscription-State (RFC 6665 §8.2.3)', () => {
  it('formats active with the time left and terminated with or without a reason', () => {
    expect(formatSubscriptionState({ state: 'active', expiresSec: 42 })).toBe('active;expires=42');
    expect(formatSubscriptionState({ state: 'terminated', reason: 'timeout' })).toBe(
      'terminated;reason=timeout',
    );
    expect(formatSubscriptionState({ state: 'terminated' })).toBe('terminated');
  });
});
