import { describe, expect, it } from '@jest/globals';
import {
  COMMON_HEADERS,
  canonicalHeaderName,
  commonHeaderName,
} from '../../../../sip/message/headerNames.js';

describe('commonHeaderName (the parser’s shortcut)', () => {
  it.each(COMMON_HEADERS)('%s is its own canonical spelling', (name) => {
    expect(canonicalHeaderName(name)).toBe(name);
    expect(commonHeaderName(`${name}: value`, name.length)).toBe(name);
  });

  it('takes only the exact canonical spelling, over the whole name', () => {
    expect(commonHeaderName('via: x', 3)).toBeUndefined();
    expect(commonHeaderName('VIA: x', 3)).toBeUndefined();
    expect(commonHeaderName('Vias: x', 4)).toBeUndefined();
    expect(commonHeaderName('v: x', 1)).toBeUndefined();
    expect(commonHeaderName('To : x', 2)).toBe('To');
    expect(commonHeaderName('X-Via: x', 5)).toBeUndefined();
  });
});
