import { describe, it, expect } from '@jest/globals';
import {
  contactsOf,
  contentTypeOf,
  expiresOf,
  mediaTypeName,
  parseCSeq,
  parseDeltaSeconds,
  parseMaxForwards,
  parseMediaRange,
  parseMediaType,
  parseMessage,
  rangesAccept,
  requestUriOf,
  SipParseError,
  type SipRequest,
} from '../../../../sip/message/index.js';

function request(lines: string[]): SipRequest {
  const r = parseMessage(
    Buffer.from(
      [
        'REGISTER sip:example.com SIP/2.0',
        'Via: SIP/2.0/UDP h;branch=z9hG4bK1',
        'From: <sip:a@example.com>;tag=1',
        'To: <sip:a@example.com>',
        'Call-ID: c',
        'CSeq: 1 REGISTER',
        ...lines,
        '',
        '',
      ].join('\r\n'),
    ),
  );
  if (!r.ok || r.message.kind !== 'request') throw new Error('bad fixture');
  return r.message;
}

describe('accessors', () => {
  it('reads Contacts, the star included', () => {
    const [star] = contactsOf(request(['Contact: *']));
    expect(star).toBe('*');
    const contacts = contactsOf(request(['m: <sip:a@h1>;expires=5, sip:a@h2']));
    expect(contacts.map((c) => (c === '*' ? c : c.uriText))).toEqual(['sip:a@h1', 'sip:a@h2']);
  });

  it('reads the Request-URI, Content-Type and Expires', () => {
    const r = request(['c: Application/SDP ; charset=utf-8', 'Expires: 0600']);
    expect(requestUriOf(r)).toMatchObject({ scheme: 'sip', host: 'example.com' });
    expect(contentTypeOf(r)).toEqual({
      type: 'application',
      subtype: 'sdp',
      params: new Map([['charset', 'utf-8']]),
    });
    expect(expiresOf(r)).toBe(600);
    expect(expiresOf(request([]))).toBeUndefined();
  });

  it('parses scalar values at their limits (RFC 4475 §3.1.2.4)', () => {
    expect(parseDeltaSeconds('1' + '0'.repeat(100))).toBe(2 ** 32 - 1);
    expect(parseDeltaSeconds('0004294967296')).toBe(2 ** 32 - 1);
    expect(() => parseDeltaSeconds('-1')).toThrow(SipParseError);
    expect(parseMaxForwards('0068')).toBe(68);
    expect(() => parseMaxForwards('300')).toThrow(SipParseError);
    expect(parseCSeq('4294967295 INVITE').seq).toBe(4294967295);
    expect(() => parseCSeq('4294967296 INVITE')).toThrow(SipParseError);
    expect(() => parseCSeq('36893488147419103232 REGISTER')).toThrow(SipParseError);
    expect(parseCSeq('  0009 \t INVITE ')).toEqual({ seq: 9, method: 'INVITE' });
    for (const bad of ['1', 'INVITE', '1INVITE', '1 INV ITE', '1 INVITE;x', '-1 INVITE']) {
      expect(() => parseCSeq(bad)).toThrow(SipParseError);
    }
  });
});

describe('media types', () => {
  it('parses types and ranges', () => {
    expect(mediaTypeName(parseMediaType('multipart/mixed;boundary="a b"'))).toBe('multipart/mixed');
    expect(parseMediaRange('*/*;q=0.1').type).toBe('*');
    expect(parseMediaRange('text/*').subtype).toBe('*');
    for (const bad of ['sdp', 'a/', '/b', '*/*', 'a/b c', 'a/b;']) {
      expect(() => parseMediaType(bad)).toThrow(SipParseError);
    }
    expect(() => parseMediaRange('*/sdp')).toThrow(SipParseError);
  });

  it('matches Accept ranges with q-values (RFC 3261 §20.1)', () => {
    const ranges = (s: string) => s.split(',').map((r) => parseMediaRange(r));
    expect(rangesAccept(ranges('application/sdp'), 'application', 'sdp')).toBe(true);
    expect(rangesAccept(ranges('text/plain, application/*'), 'application', 'sdp')).toBe(true);
    expect(rangesAccept(ranges('*/*'), 'application', 'sdp')).toBe(true);
    expect(rangesAccept(ranges('*/*, application/sdp;q=0'), 'application', 'sdp')).toBe(false);
    expect(rangesAccept(ranges('text/nobodyKnowsThis'), 'application', 'sdp')).toBe(false);
    expect(rangesAccept([], 'application', 'sdp')).toBe(false);
  });
});
