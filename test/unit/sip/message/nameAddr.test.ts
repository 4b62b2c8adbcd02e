import { describe, it, expect } from '@jest/globals';
import {
  formatNameAddr,
  isSipUri,
  parseNameAddr,
  tryParseNameAddr,
  SipParseError,
} from '../../../../sip/message/index.js';

describe('parseNameAddr', () => {
  it('unescapes a quoted display name', () => {
    const a = parseNameAddr('"Al \\"B\\" \\\\ C" <sip:a@example.com>;tag=1');
    expect(a.displayName).toBe('Al "B" \\ C');
    expect(a.uriText).toBe('sip:a@example.com');
    expect([...a.params]).toEqual([['tag', '1']]);
  });

  it('keeps a token display name of several tokens, with or without LWS before <', () => {
    expect(parseNameAddr("token1~` token2'+_ <sip:a@b.example>").displayName).toBe(
      "token1~` token2'+_",
    );
    expect(parseNameAddr('caller<sip:caller@example.com>;tag=323').displayName).toBe('caller');
    expect(parseNameAddr('A. Bell <sip:a.g.bell@example.com>').displayName).toBe('A. Bell');
  });

  it('puts everything after ; in an addr-spec into header parameters (RFC 3261 §20.10)', () => {
    const a = parseNameAddr('sip:+19725552222@gw1.example.net;unknownparam');
    expect(isSipUri(a.uri) && a.uri.params.size).toBe(0);
    expect(a.params.get('unknownparam')).toBeNull();
    const b = parseNameAddr('<sip:+19725552222@gw1.example.net;unknownparam>');
    expect(b.params.size).toBe(0);
    expect(isSipUri(b.uri) && b.uri.params.has('unknownparam')).toBe(true);
  });

  it('accepts LWS around parameters and quoted parameter values', () => {
    const a = parseNameAddr(
      ' <sip:a@b.example> ; expires = 60 ; +sip.instance="<urn:uuid:1;2>" ; q=0.5 ',
    );
    expect([...a.params]).toEqual([
      ['expires', '60'],
      ['+sip.instance', '"<urn:uuid:1;2>"'],
      ['q', '0.5'],
    ]);
  });

  it('accepts non-SIP URIs in name-addr form', () => {
    expect(parseNameAddr('<urn:uuid:f81d4fae-7dec-11d0-a765-00a0c91e6bf6>').uri.scheme).toBe('urn');
    expect(parseNameAddr('<tel:+1-201-555-0123>').uri.scheme).toBe('tel');
    expect(parseNameAddr('isbn:2983792873').uri.scheme).toBe('isbn');
  });

  it.each([
    ['"Mr. J. User <sip:j.user@example.com>', 'unterminated quote (RFC 4475 §3.1.2.6)'],
    ['"Watson, Thomas" < sip:t.watson@example.org >', 'spaces inside <> (§3.1.2.14)'],
    ['Bell, Alexander <sip:a.g.bell@example.com>;tag=43', 'unquoted comma (§3.1.2.15)'],
    ['sip:user@example.com?Route=%3Csip:sip.example.com%3E', 'headers need <> (§3.1.2.13)'],
    ['<sip:a@b', 'missing >'],
    ['<sip:a@b> junk', 'junk after >'],
    ['"x" sip:a@b', 'quoted name without <>'],
    ['<>', 'empty URI'],
    ['<sip:a@b>;;tag=1', 'empty parameter'],
    ['<sip:a@b>;', 'trailing semicolon'],
    ['<sip:a@b>;tag=', 'empty parameter value'],
    ['<sip:a@b>;tag=a b', 'space in a parameter value'],
    ['', 'nothing'],
  ])('rejects %s (%s)', (text) => {
    expect(() => parseNameAddr(text)).toThrow(SipParseError);
    expect(tryParseNameAddr(text)).toBeUndefined();
  });

  it('round-trips control characters in a display name as quoted-pairs', () => {
    const name = 'BEL:\x07 NUL:\x00 DEL:\x7f';
    const text = formatNameAddr({ displayName: name, uriText: 'sip:a@b', params: new Map() });
    expect(parseNameAddr(text).displayName).toBe(name);
  });

  it('formats with <> and a quoted, escaped display name, and parses back', () => {
    const text = formatNameAddr({
      displayName: 'Al "B"\r\n',
      uriText: 'sip:a@b.example;lr',
      params: new Map([
        ['tag', 'x'],
        ['lr', null],
      ]),
    });
    expect(text).toBe('"Al \\"B\\"  " <sip:a@b.example;lr>;tag=x;lr');
    const again = parseNameAddr(text);
    expect(again.displayName).toBe('Al "B"  ');
    expect(again.uriText).toBe('sip:a@b.example;lr');
  });
});
