import { describe, it, expect } from '@jest/globals';
import { dateHeaderValue } from '../../../../src/registrar/dateHeader.js';

describe('dateHeaderValue', () => {
  it('is the RFC 1123 GMT date of the second (RFC 3261 §20.17)', () => {
    expect(dateHeaderValue(Date.UTC(2026, 11, 6, 21, 5, 7, 999))).toBe(
      'Sun, 06 Dec 2026 21:05:07 GMT',
    );
  });

  it('follows the clock from one second to the next, also backwards', () => {
    const t = Date.UTC(2026, 0, 1, 0, 0, 59, 500);
    expect(dateHeaderValue(t)).toBe('Thu, 01 Jan 2026 00:00:59 GMT');
    expect(dateHeaderValue(t + 400)).toBe('Thu, 01 Jan 2026 00:00:59 GMT');
    expect(dateHeaderValue(t + 500)).toBe('Thu, 01 Jan 2026 00:01:00 GMT');
    expect(dateHeaderValue(t - 1000)).toBe('Thu, 01 Jan 2026 00:00:58 GMT');
  });

  it('reads the wall clock when given no time', () => {
    expect(new Date(dateHeaderValue()).getTime()).toBeGreaterThan(Date.now() - 2000);
  });
});
