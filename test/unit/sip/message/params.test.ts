import { describe, it, expect } from '@jest/globals';
import {
  formatParams,
  isToken,
  paramValue,
  parseParams,
  quote,
  readQuoted,
  splitOutside,
  trimLws,
  unquote,
  SipParseError,
} from '../../../../sip/message/index.js';

describe('parseParams', () => {
  it('reads flags, values and quoted values; names lower-case, values as written', () => {
    const p = parseParams(' Tag = Ab1 ; LR ; x="a;b,\\"c" ;maddr=[2001:db8::1]');
    expect([...p]).toEqual([
      ['tag', 'Ab1'],
      ['lr', null],
      ['x', '"a;b,\\"c"'],
      ['maddr', '[2001:db8::1]'],
    ]);
    expect(paramValue(p, 'x')).toBe('a;b,"c');
    expect(paramValue(p, 'lr')).toBeUndefined();
  });

  it('treats empty text as an empty parameter (a ; was seen)', () => {
    expect(() => parseParams('')).toThrow(SipParseError);
    expect(() => parseParams('   ')).toThrow(SipParseError);
    expect(parseParams(' ', 'p', { allowEmpty: true }).size).toBe(0);
  });

  it.each(['a;;b', 'a;', ';a', 'a=', 'a=b c', 'a=b"c"', 'a b', 'a="unterminated', 'a=@'])(
    'rejects %j',
    (text) => {
      expect(() => parseParams(text)).toThrow(SipParseError);
    },
  );

  it('skips empty parameters when asked to', () => {
    expect([...parseParams('a;;b;', 'p', { allowEmpty: true })]).toEqual([
      ['a', null],
      ['b', null],
    ]);
  });

  it('formats as ;a=b;c', () => {
    expect(
      formatParams(
        new Map([
          ['a', 'b'],
          ['c', null],
        ]),
      ),
    ).toBe(';a=b;c');
  });
});

describe('lexer', () => {
  it('splits on commas outside quotes and <>', () => {
    expect(splitOutside('"a, b" <sip:x@y;p=1,2>, sip:z@w , ,', ',')).toEqual([
      '"a, b" <sip:x@y;p=1,2>',
      'sip:z@w',
      '',
      '',
    ]);
    expect(splitOutside('"a \\" , b", c', ',')).toEqual(['"a \\" , b"', 'c']);
    expect(() => splitOutside('"a, b', ',')).toThrow(SipParseError);
  });

  it('trims only SP and HTAB', () => {
    expect(trimLws(' \t\ufeffx\u00a0 \t')).toBe('\ufeffx\u00a0');
  });

  it('reads and writes quoted strings', () => {
    expect(readQuoted('x"a\\"b\\\\"y', 1)).toEqual({ value: 'a"b\\', end: 9 });
    expect(() => readQuoted('"abc\\"', 0)).toThrow(SipParseError);
    expect(quote('a"b\\c')).toBe('"a\\"b\\\\c"');
    expect(quote('BEL:\x07 NUL:\x00\tDEL:\x7f')).toBe('"BEL:\\\x07 NUL:\\\x00\tDEL:\\\x7f"');
    expect(unquote('"a\\"b"')).toBe('a"b');
    expect(unquote('plain')).toBe('plain');
    expect(unquote('"a" b')).toBe('"a" b');
  });

  it('knows tokens', () => {
    expect(isToken("abc-.!%*_+`'~09")).toBe(true);
    for (const t of ['', 'a b', 'a:b', 'a"', 'é']) expect(isToken(t)).toBe(false);
  });
});
