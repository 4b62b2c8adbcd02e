import { describe, it, expect } from '@jest/globals';
import { formatVia, parseVia, viaBranch, SipParseError } from '../../../../sip/message/index.js';

describe('parseVia', () => {
  it('reads a plain Via', () => {
    expect(parseVia('SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK776;rport')).toEqual({
      protocol: 'SIP/2.0',
      transport: 'UDP',
      host: '192.0.2.1',
      port: 5060,
      params: new Map([
        ['branch', 'z9hG4bK776'],
        ['rport', null],
      ]),
    });
  });

  it('allows LWS around / : ; and = (RFC 4475 §3.1.1.1)', () => {
    const via = parseVia(
      'SIP  / 2.0  / tcp     spindle.example.com : 5070  ;  branch  =   z9hG4bK9ikj8',
    );
    expect(via).toMatchObject({
      protocol: 'SIP/2.0',
      transport: 'TCP',
      host: 'spindle.example.com',
      port: 5070,
    });
    expect(viaBranch(via)).toBe('z9hG4bK9ikj8');
  });

  it('reads IPv6 sent-by and received, and a filled rport', () => {
    const via = parseVia(
      'SIP/2.0/TCP [2001:db8::9]:5061;received=2001:db8::1;rport=5062;branch=z9hG4bKx',
    );
    expect(via.host).toBe('[2001:db8::9]');
    expect(via.port).toBe(5061);
    expect(via.params.get('received')).toBe('2001:db8::1');
    expect(via.params.get('rport')).toBe('5062');
  });

  it('accepts unknown transports', () => {
    expect(parseVia('SIP/2.0/UNKNOWN t4.example.com;branch=z9hG4bKasd0f3en').transport).toBe(
      'UNKNOWN',
    );
  });

  it('tolerates empty parameters unless strict (RFC 4475 §3.1.2.1)', () => {
    expect(parseVia('SIP/2.0/UDP 192.0.2.15;;').host).toBe('192.0.2.15');
    expect(() => parseVia('SIP/2.0/UDP 192.0.2.15;;', { strict: true })).toThrow(SipParseError);
    expect(() => parseVia('SIP/2.0/UDP 192.0.2.15;', { strict: true })).toThrow(SipParseError);
  });

  it.each([
    'SIP/2.0 host',
    'SIP/2.0/UDPhost',
    'SIP/2.0/UDP',
    'SIP/2.0/UDP host:0',
    'SIP/2.0/UDP host:',
    'SIP/2.0/UDP ho st',
    'SIP/2.0/UDP host;received=example.com',
    'SIP/2.0/UDP host;rport=99999',
    'SIP/2.0/UDP host;rport=x',
    'SIP/2.0/UDP host;ttl=300',
    'SIP/2.0/UDP host;branch',
    'SIP/2.0/UDP host;branch=a b',
    'SIP/2.0/UDP [::1',
    '',
  ])('rejects %j', (text) => {
    expect(() => parseVia(text)).toThrow(SipParseError);
  });

  it('formats back to an equivalent Via', () => {
    const text = 'SIP/2.0/UDP [::1]:5060;branch=z9hG4bK1;received=::1;rport=5060';
    expect(formatVia(parseVia(text))).toBe(text);
    expect(formatVia(parseVia('SIP / 2.0 / udp h.example ; branch = z9hG4bK2'))).toBe(
      'SIP/2.0/UDP h.example;branch=z9hG4bK2',
    );
  });
});
