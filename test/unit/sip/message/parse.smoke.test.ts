import { describe, it, expect } from '@jest/globals';
import {
  parseMessage,
  serializeMessage,
  topVia,
  cseqOf,
  fromOf,
} from '../../../../sip/message/index.js';

const text = [
  'REGISTER sip:127.0.0.1 SIP/2.0',
  'v: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK1;rport',
  'Via: SIP/2.0/UDP 10.0.0.1, SIP/2.0/TCP [::1]:5061;branch=z9hG4bKx',
  'f: "Al \\"B\\"" <sip:1001@127.0.0.1>;tag=a',
  't: <sip:1001@127.0.0.1>',
  'i: abc',
  'CSeq: 1 REGISTER',
  'm: <sip:1001-0x55@127.0.0.1:5070;transport=udp>;expires=60, sip:x@y',
  'Content-Length: 0',
  '',
  '',
].join('\r\n');

describe('parse smoke', () => {
  it('parses compact and list headers', () => {
    const r = parseMessage(Buffer.from(text));
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    const m = r.message;
    expect(m.headers.getAll('Via')).toHaveLength(3);
    expect(topVia(m).params.get('branch')).toBe('z9hG4bK1');
    expect(cseqOf(m)).toEqual({ seq: 1, method: 'REGISTER' });
    expect(fromOf(m).displayName).toBe('Al "B"');
    expect(m.headers.getAll('Contact')).toEqual([
      '<sip:1001-0x55@127.0.0.1:5070;transport=udp>;expires=60',
      'sip:x@y',
    ]);
    const again = parseMessage(serializeMessage(m));
    expect(again.ok).toBe(true);
  });
});
