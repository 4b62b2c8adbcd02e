import { describe, it, expect } from '@jest/globals';
import { parseVia } from '../../../../sip/message/via.js';
import { responseDestination, stampReceived } from '../../../../sip/transport/responseRouting.js';

describe('received/rport stamping (RFC 3261 §18.2.1, RFC 3581 §4)', () => {
  it('adds received when the sent-by host differs from the source', () => {
    const via = parseVia('SIP/2.0/UDP phone.example.com:5070;branch=z9hG4bK1');
    expect(stampReceived(via, { protocol: 'udp', address: '192.0.2.4', port: 5070 })).toBe(true);
    expect(via.params.get('received')).toBe('192.0.2.4');
  });

  it('fills an empty rport with the source port and adds received', () => {
    const via = parseVia('SIP/2.0/UDP 127.0.0.1:5070;rport;branch=z9hG4bK1');
    stampReceived(via, { protocol: 'udp', address: '127.0.0.1', port: 40001 });
    expect(via.params.get('rport')).toBe('40001');
    expect(via.params.get('received')).toBe('127.0.0.1');
  });

  it('leaves a matching Via alone', () => {
    const via = parseVia('SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK1');
    expect(stampReceived(via, { protocol: 'udp', address: '127.0.0.1', port: 5070 })).toBe(false);
  });
});

describe('response destination (RFC 3261 §18.2.2)', () => {
  it('answers over the same TCP connection', () => {
    const via = parseVia('SIP/2.0/TCP 10.0.0.1:5060;branch=z9hG4bK1');
    const source = { protocol: 'tcp' as const, address: '127.0.0.1', port: 33333, connectionId: 7 };
    expect(responseDestination(via, source)).toBe(source);
  });

  it('uses received and rport over UDP (NAT)', () => {
    const via = parseVia('SIP/2.0/UDP 10.0.0.1:5060;received=203.0.113.9;rport=40000;branch=z');
    expect(
      responseDestination(via, { protocol: 'udp', address: '203.0.113.9', port: 40000 }),
    ).toEqual({ protocol: 'udp', address: '203.0.113.9', port: 40000 });
  });

  it('falls back to the sent-by port, then 5060', () => {
    const source = { protocol: 'udp' as const, address: '127.0.0.1', port: 1 };
    expect(responseDestination(parseVia('SIP/2.0/UDP 127.0.0.1:5070;branch=z'), source).port).toBe(
      5070,
    );
    expect(responseDestination(parseVia('SIP/2.0/UDP 127.0.0.1;branch=z'), source).port).toBe(5060);
  });

  it('answers over the transport the request came on, whatever the Via says', () => {
    const via = parseVia('SIP/2.0/TCP host9.example.com;branch=z;received=127.0.0.1');
    const source = { protocol: 'udp' as const, address: '127.0.0.1', port: 40000 };
    expect(responseDestination(via, source)).toEqual({
      protocol: 'udp',
      address: '127.0.0.1',
      port: 5060,
    });
  });

  it('strips IPv6 brackets from the sent-by host', () => {
    const source = { protocol: 'udp' as const, address: '::1', port: 5070 };
    expect(responseDestination(parseVia('SIP/2.0/UDP [::1]:5070;branch=z'), source).address).toBe(
      '::1',
    );
  });
});
