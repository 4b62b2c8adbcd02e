import { describe, expect, it } from '@jest/globals';
import { Destinations } from '../../../../sip/transaction/destinations.js';

describe('Destinations', () => {
  it('gives one shared object per peer, equal to what it was given', () => {
    const d = new Destinations();
    const a = d.shared({ protocol: 'udp', address: '192.168.100.123', port: 5060 });
    const b = d.shared({ protocol: 'udp', address: '192.168.100.123', port: 5060 });
    expect(a).toBe(b);
    expect(a).toEqual({ protocol: 'udp', address: '192.168.100.123', port: 5060 });
    expect(d.shared({ protocol: 'udp', address: '192.168.100.123', port: 5062 })).not.toBe(a);
    expect(d.shared({ protocol: 'tcp', address: '192.168.100.123', port: 5060 })).not.toBe(a);
    expect(d.size).toBe(3);
  });

  it("keeps a connection's flow as it is (its connectionId routes the response)", () => {
    const d = new Destinations();
    const flow = { protocol: 'ws' as const, address: '10.0.0.1', port: 40000, connectionId: 7 };
    expect(d.shared(flow)).toBe(flow);
    expect(d.size).toBe(0);
  });

  it('starts over when full', () => {
    const d = new Destinations();
    const first = d.shared({ protocol: 'udp', address: '10.0.0.1', port: 1 });
    for (let port = 2; port <= 4097; port++)
      d.shared({ protocol: 'udp', address: '10.0.0.1', port });
    expect(d.size).toBeLessThanOrEqual(4096);
    const again = d.shared({ protocol: 'udp', address: '10.0.0.1', port: 1 });
    expect(again).toEqual(first);
  });
});
