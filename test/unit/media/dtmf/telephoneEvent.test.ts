import { describe, it, expect } from '@jest/globals';
import {
  dtmfCharToEvent,
  dtmfEventToChar,
  eventCode,
  eventDuration,
  eventEnd,
  eventVolume,
  writeTelephoneEvent,
} from '../../../../media/dtmf/telephoneEvent.js';

describe('RFC 4733 §2.3 telephone-event payload', () => {
  it('reads the four fields', () => {
    // event 11 (#), E=1, R=0, volume 10, duration 1600
    const payload = Buffer.from([0x00, 0x0b, 0x8a, 0x06, 0x40]);
    expect(eventCode(payload, 1)).toBe(11);
    expect(eventEnd(payload, 1)).toBe(true);
    expect(eventVolume(payload, 1)).toBe(10);
    expect(eventDuration(payload, 1)).toBe(1600);
  });

  it('ignores the reserved bit when reading the volume', () => {
    const payload = Buffer.from([5, 0x40 | 7, 0, 160]);
    expect(eventVolume(payload, 0)).toBe(7);
    expect(eventEnd(payload, 0)).toBe(false);
  });

  it('writes the payload at an offset, R = 0', () => {
    const buf = Buffer.alloc(16, 0xff);
    expect(writeTelephoneEvent(buf, 12, 5, true, 63, 0xfffe)).toBe(4);
    expect([...buf.subarray(12)]).toEqual([5, 0x80 | 63, 0xff, 0xfe]);
    writeTelephoneEvent(buf, 12, 0, false, 10, 160);
    expect([...buf.subarray(12)]).toEqual([0, 10, 0, 160]);
  });

  it('maps event codes to characters and back (RFC 4734 §3.2)', () => {
    const chars = '0123456789*#ABCD';
    for (let code = 0; code < 16; code++) {
      expect(dtmfEventToChar(code)).toBe(chars[code]);
      expect(dtmfCharToEvent(chars[code]!)).toBe(code);
    }
    expect(dtmfCharToEvent('a')).toBe(12);
    expect(dtmfEventToChar(16)).toBeUndefined(); // flash
    expect(dtmfEventToChar(-1)).toBeUndefined();
    expect(dtmfCharToEvent('E')).toBe(-1);
    expect(dtmfCharToEvent('12')).toBe(-1);
    expect(dtmfCharToEvent('')).toBe(-1);
  });
});
