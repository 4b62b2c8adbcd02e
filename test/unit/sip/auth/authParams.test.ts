import { describe, expect, it } from '@jest/globals';
import {
  MAX_AUTH_HEADER_LENGTH,
  MAX_AUTH_PARAMS,
  parseAuthHeader,
  quoteString,
  serializeDigestChallenge,
  serializeDigestCredentials,
} from '../../../../sip/auth/authParams.js';

function params(value: string): Record<string, string> {
  const r = parseAuthHeader(value);
  if (!r.ok) throw new Error(r.reason);
  return Object.fromEntries(r.value.params);
}

function reason(value: string): string {
  const r = parseAuthHeader(value);
  if (r.ok) throw new Error('expected a parse failure');
  return r.reason;
}

describe('parseAuthHeader', () => {
  it('reads the RFC 2617 §3.5 Authorization example, folded over lines', () => {
    const value =
      'Digest username="Mufasa",\r\n realm="testrealm@host.com",\r\n' +
      '\tnonce="dcd98b7102dd2f0e8b11d0f600bfb0c093",\r\n uri="/dir/index.html",\r\n' +
      ' qop=auth, nc=00000001, cnonce="0a4f113b",\r\n' +
      ' response="6629fae49393a05397450978507c4ef1",\r\n' +
      ' opaque="5ccc069c403ebaf9f0171e9517f40e41"';
    const r = parseAuthHeader(value);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.value.scheme).toBe('Digest');
    expect(Object.fromEntries(r.value.params)).toEqual({
      username: 'Mufasa',
      realm: 'testrealm@host.com',
      nonce: 'dcd98b7102dd2f0e8b11d0f600bfb0c093',
      uri: '/dir/index.html',
      qop: 'auth',
      nc: '00000001',
      cnonce: '0a4f113b',
      response: '6629fae49393a05397450978507c4ef1',
      opaque: '5ccc069c403ebaf9f0171e9517f40e41',
    });
  });

  it('lowercases names, keeps the scheme as written, keeps value case', () => {
    const r = parseAuthHeader('dIgEsT ReAlm="Atlanta.COM", NC=0000000A');
    expect(r.ok && r.value.scheme).toBe('dIgEsT');
    expect(params('dIgEsT ReAlm="Atlanta.COM", NC=0000000A')).toEqual({
      realm: 'Atlanta.COM',
      nc: '0000000A',
    });
  });

  it('tolerates whitespace around "=" and ",", and empty list elements', () => {
    expect(params('Digest   realm =  "a" ,nonce= b\t,\t, qop =auth ,')).toEqual({
      realm: 'a',
      nonce: 'b',
      qop: 'auth',
    });
  });

  it('unescapes quoted-pairs and keeps commas and "=" inside quotes', () => {
    expect(params('Digest realm="a\\"b\\\\c", uri="sip:x@y;a=b,c"')).toEqual({
      realm: 'a"b\\c',
      uri: 'sip:x@y;a=b,c',
    });
  });

  it('reads a folded line inside a quoted string as one space', () => {
    expect(params('Digest realm="one\r\n   two"')).toEqual({ realm: 'one two' });
  });

  it('accepts UTF-8 text in quoted strings and an empty quoted string', () => {
    expect(params('Digest username="Jäsøn", opaque=""')).toEqual({ username: 'Jäsøn', opaque: '' });
  });

  it('accepts a scheme with no parameters', () => {
    expect(params('Digest')).toEqual({});
    expect(params('  Digest  ')).toEqual({});
  });

  it.each([
    ['', 'missing auth scheme'],
    ['   ', 'missing auth scheme'],
    ['"Digest"', 'missing auth scheme'],
    ['Digestrealm="x"', 'expected whitespace after auth scheme'],
    ['Digest realm', 'expected "=" after realm'],
    ['Digest realm="x', 'unterminated quoted string'],
    ['Digest realm="x\\', 'bad escape in quoted string at 15'],
    ['Digest realm="a\r\nb"', 'line break in quoted string at 15'],
    ['Digest realm="a\u0000b"', 'control character in quoted string at 15'],
    ['Digest realm=', 'expected token or quoted string for realm'],
    ['Digest nonce=abc/def=', 'expected "," at 16'],
    ['Digest realm="x" nonce="y"', 'expected "," at 17'],
    ['Digest realm="x", =y', 'expected parameter name at 18'],
    ['Digest realm="x", REALM="y"', 'duplicate parameter realm'],
    ['Digest realm="x"\r\n', 'expected "," at 16'],
  ])('rejects %j', (value, expected) => {
    expect(reason(value)).toBe(expected);
  });

  it('bounds the work: long values and too many parameters are refused', () => {
    expect(reason(`Digest realm="${'a'.repeat(MAX_AUTH_HEADER_LENGTH)}"`)).toBe(
      'header value too long',
    );
    const many = Array.from({ length: MAX_AUTH_PARAMS + 1 }, (_, i) => `p${i}=1`).join(',');
    expect(reason(`Digest ${many}`)).toBe('too many parameters');
  });

  it('refuses a non-string at run time instead of throwing', () => {
    expect(reason(42 as unknown as string)).toBe('header value is not a string');
  });
});

describe('serializeDigestChallenge', () => {
  it('quotes strings and leaves tokens bare, in the conventional order', () => {
    expect(
      serializeDigestChallenge({
        realm: 'atlanta.com',
        nonce: 'abc/def=',
        algorithm: 'SHA-256',
        qop: ['auth'],
        opaque: 'o',
        stale: true,
      }),
    ).toBe(
      'Digest realm="atlanta.com", nonce="abc/def=", algorithm=SHA-256, qop="auth", opaque="o", stale=true',
    );
  });

  it('omits stale=false and absent fields, joins a qop list', () => {
    expect(
      serializeDigestChallenge({ realm: 'r', nonce: 'n', qop: ['auth', 'auth-int'], stale: false }),
    ).toBe('Digest realm="r", nonce="n", qop="auth,auth-int"');
  });

  it('escapes quotes and backslashes so the value parses back unchanged', () => {
    const realm = 'he said "hi" \\o/';
    const value = serializeDigestChallenge({ realm, nonce: 'n', domain: 'sip:a sip:b' });
    expect(params(value)).toEqual({ realm, nonce: 'n', domain: 'sip:a sip:b' });
  });

  it('throws on values that would inject header lines, or on non-token algorithms', () => {
    expect(() => quoteString('a\r\nVia: evil')).toThrow(RangeError);
    expect(() =>
      serializeDigestChallenge({ realm: 'r', nonce: 'n', algorithm: 'SHA 256' }),
    ).toThrow(RangeError);
  });
});

describe('serializeDigestCredentials', () => {
  it('round-trips through the parser', () => {
    const fields = {
      username: 'alice',
      realm: 'example.com',
      nonce: 'n0nce',
      uri: 'sip:example.com;transport=tcp',
      response: 'abcdef',
      algorithm: 'MD5',
      cnonce: 'c',
      opaque: 'o',
      qop: 'auth',
      nc: '00000001',
    };
    expect(params(serializeDigestCredentials(fields))).toEqual(fields);
  });
});
