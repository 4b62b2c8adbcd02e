import { describe, it, expect } from '@jest/globals';
import {
  formatUri,
  isHostname,
  isIPv4Address,
  isIPv6Address,
  isSipUri,
  parseHostPort,
  parseUri,
  socketHost,
  unescapeUri,
  SipParseError,
} from '../../../../sip/message/index.js';

describe('parseUri: SIP and SIPS', () => {
  it('reads every component and keeps escapes as written', () => {
    const uri = parseUri(
      'sips:al%69ce:se%63ret@Example.COM:5061;transport=TCP;lr?Subject=hi&X=%20',
    );
    expect(uri).toEqual({
      scheme: 'sips',
      user: 'al%69ce',
      password: 'se%63ret',
      host: 'Example.COM',
      port: 5061,
      params: new Map([
        ['transport', 'TCP'],
        ['lr', null],
      ]),
      headers: [
        ['Subject', 'hi'],
        ['X', '%20'],
      ],
    });
  });

  it('takes the scheme case-insensitively', () => {
    expect(parseUri('SIP:bob@example.com').scheme).toBe('sip');
  });

  it('accepts a user part with ; ? / and escapes (RFC 4475 §3.1.1.3, §3.1.1.9)', () => {
    expect(parseUri('sip:user;par=u%40example.net@example.com')).toMatchObject({
      user: 'user;par=u%40example.net',
      host: 'example.com',
    });
    expect(parseUri('sip:sips%3Auser%40example.com@example.net')).toMatchObject({
      user: 'sips%3Auser%40example.com',
    });
    expect(parseUri('sip:%00%00@host5.example.com')).toMatchObject({ user: '%00%00' });
  });

  it('accepts an empty password', () => {
    expect(parseUri('sip:user:@host')).toMatchObject({ user: 'user', password: '' });
  });

  it('keeps escaped parameter names and values (RFC 4475 §3.1.1.3)', () => {
    const uri = parseUri('sip:cal%6Cer@host5.example.net;%6C%72;n%61me=v%61lue%25%34%31');
    expect(isSipUri(uri) && [...uri.params]).toEqual([
      ['%6c%72', null],
      ['n%61me', 'v%61lue%25%34%31'],
    ]);
  });

  it.each([
    ['sip:', 'no host'],
    ['sip:@example.com', 'empty user'],
    ['sip:us er@example.com', 'space in user'],
    ['sip:%zzuser@example.com', 'bad escape'],
    ['sip:user%4@example.com', 'truncated escape'],
    ['sip:host;;lr', 'empty parameter'],
    ['sip:host;', 'trailing semicolon'],
    ['sip:host;a b=c', 'space in parameter'],
    ['sip:host?Route', 'header without ='],
    ['sip:host:0', 'port 0'],
    ['sip:host:65536', 'port too large'],
    ['sip:host:50x', 'bad port'],
    ['sip:-host.example.com', 'label starts with -'],
    ['sip:host-.example.com', 'label ends with -'],
    ['sip:example.123', 'numeric top label'],
    ['sip:192.0.2.256', 'octet above 255'],
    ['sip:1.2.3', 'three-part address'],
    ['sip:host..example.com', 'empty label'],
    ['sip:[2001:db8::1', 'unterminated IPv6'],
    ['sip:[2001:db8::1]x', 'junk after IPv6'],
    ['sip:<user@host>', 'angle bracket'],
  ])('rejects %s (%s)', (text) => {
    expect(() => parseUri(text)).toThrow(SipParseError);
  });

  it('formats back to the same text', () => {
    for (const text of [
      'sip:alice@example.com',
      'sips:alice:pw@[2001:db8::1]:5061;transport=tcp;lr?Subject=x&Priority=urgent',
      "sip:1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*:&it+has=1,weird!*pas$wo~d_too.(doesn't-it)@example.com",
      'tel:+1-201-555-0123;ext=42',
      'urn:uuid:f81d4fae-7dec-11d0-a765-00a0c91e6bf6',
    ]) {
      expect(formatUri(parseUri(text))).toBe(text);
    }
  });
});

describe('hosts', () => {
  it.each([
    ['[2001:db8::1]', '[2001:db8::1]', undefined],
    ['[::1]:5060', '[::1]', 5060],
    ['[::]', '[::]', undefined],
    ['[2001:db8:0:0:0:0:0:1]', '[2001:db8:0:0:0:0:0:1]', undefined],
    ['[::ffff:192.0.2.1]', '[::ffff:192.0.2.1]', undefined],
    ['[fe80::1:2:3:4:5:6]', '[fe80::1:2:3:4:5:6]', undefined],
    ['192.0.2.1:5070', '192.0.2.1', 5070],
    ['host.example.com.', 'host.example.com.', undefined],
    ['my_service', 'my_service', undefined],
    ['localhost', 'localhost', undefined],
  ])('parseHostPort(%s)', (text, host, port) => {
    const hp = parseHostPort(text);
    expect(hp.host).toBe(host);
    expect(hp.port).toBe(port);
  });

  it.each([
    '2001:db8::1::2',
    '1:2:3:4:5:6:7:8:9',
    '1:2:3:4:5:6:7',
    'gggg::1',
    '12345::1',
    '::1.2.3',
    ':1',
    '1:',
    '1:2:3:4:5:6:7:8::',
  ])('isIPv6Address rejects %s', (s) => {
    expect(isIPv6Address(s)).toBe(false);
  });

  it('isIPv6Address accepts the RFC 4291 forms', () => {
    for (const s of [
      '::',
      '::1',
      '1::',
      '1:2:3:4:5:6:7:8',
      '1:2:3:4:5:6:1.2.3.4',
      '1::2:3.4.5.6',
    ]) {
      expect(isIPv6Address(s)).toBe(true);
    }
  });

  it('tells IPv4 addresses from hostnames', () => {
    expect(isIPv4Address('255.255.255.255')).toBe(true);
    expect(isIPv4Address('1.2.3.4.5')).toBe(false);
    expect(isHostname('255.255.255.255')).toBe(false);
    expect(isHostname('a-b.c_d.example')).toBe(true);
  });

  it('socketHost strips IPv6 brackets only', () => {
    expect(socketHost('[::1]')).toBe('::1');
    expect(socketHost('example.com')).toBe('example.com');
  });
});

describe('parseUri: tel and other schemes', () => {
  it('reads tel URIs (RFC 3966)', () => {
    expect(parseUri('tel:+1-201-555-0123')).toEqual({
      scheme: 'tel',
      number: '+1-201-555-0123',
      params: new Map(),
    });
    expect(parseUri('tel:7042;phone-context=example.com')).toEqual({
      scheme: 'tel',
      number: '7042',
      params: new Map([['phone-context', 'example.com']]),
    });
    expect(parseUri('tel:*69#').scheme).toBe('tel');
  });

  it.each(['tel:', 'tel:+', 'tel:+12a', 'tel:12 34', 'tel:+1;;x'])('rejects %s', (text) => {
    expect(() => parseUri(text)).toThrow(SipParseError);
  });

  it('keeps other absolute URIs opaque (RFC 4475 §3.3.2-3.3.4)', () => {
    expect(parseUri('nobodyKnowsThisScheme:totallyopaquecontent')).toEqual({
      scheme: 'nobodyknowsthisscheme',
      opaque: 'totallyopaquecontent',
    });
    expect(parseUri('soap.beep://192.0.2.103:3002')).toMatchObject({ scheme: 'soap.beep' });
    expect(parseUri('isbn:2983792873')).toMatchObject({ scheme: 'isbn' });
    expect(parseUri('http://www.example.com')).toMatchObject({ scheme: 'http' });
  });

  it.each(['foo', ':x', '1abc:x', 'http://a b', 'mailto:<x>', 'urn:', 'x:%zz'])(
    'rejects %s',
    (text) => {
      expect(() => parseUri(text)).toThrow(SipParseError);
    },
  );
});

describe('unescapeUri', () => {
  it('decodes escapes, including NUL (RFC 4475 §3.1.1.4)', () => {
    expect(unescapeUri('null-%00-null')).toBe('null-\u0000-null');
    expect(unescapeUri('%75se%72')).toBe('user');
    expect(unescapeUri('I%20have%20spaces')).toBe('I have spaces');
  });

  it('does not unescape recursively', () => {
    expect(unescapeUri('v%61lue%25%34%31')).toBe('value%41');
  });

  it('reads UTF-8 escapes as UTF-8 and anything else octet by octet', () => {
    expect(unescapeUri('caf%C3%A9')).toBe('café');
    expect(unescapeUri('%FF')).toBe('\u00ff');
    expect(unescapeUri('100%')).toBe('100%');
  });
});
