import { describe, expect, it } from '@jest/globals';
import { requestUriText } from '../../../../sip/dialog/index.js';
import { parseUri } from '../../../../sip/message/uri.js';

describe('requestUriText (RFC 3261 §19.1.1 table 1, §12.2.1.1)', () => {
  it('leaves a URI without a method parameter or headers as it is', () => {
    expect(requestUriText('sip:uas@127.0.0.1:5062')).toBe('sip:uas@127.0.0.1:5062');
    expect(requestUriText('sip:bob@b.example;transport=tcp;lr')).toBe(
      'sip:bob@b.example;transport=tcp;lr',
    );
    // "method" in the user part or a value is no method parameter.
    expect(requestUriText('sip:method@b.example;x=METHODS')).toBe('sip:method@b.example;x=METHODS');
    // An unparseable target is passed on as it is.
    expect(requestUriText('not a uri')).toBe('not a uri');
  });

  it('strips the method parameter, whatever its case, and the headers', () => {
    expect(requestUriText('sip:bob@b.example;method=INVITE;lr')).toBe('sip:bob@b.example;lr');
    expect(requestUriText('sip:bob@b.example;METHOD=BYE')).toBe('sip:bob@b.example');
    expect(requestUriText('sip:bob@b.example?subject=x')).toBe('sip:bob@b.example');
    expect(requestUriText('sips:bob@b.example;Method=REFER?a=1&b=2')).toBe('sips:bob@b.example');
  });

  it('gives the same text from an already parsed URI', () => {
    for (const text of ['sip:bob@b.example;method=INVITE;lr', 'sip:uas@127.0.0.1:5062']) {
      expect(requestUriText(text, parseUri(text))).toBe(requestUriText(text));
    }
  });
});
