import { describe, it, expect } from '@jest/globals';
import { PayloadMap } from '../../../../media/worker/payloadMap.js';
import { canRelay } from '../../../../media/worker/relayable.js';

const PCMU = { name: 'PCMU', payloadType: 0 } as const;
const PCMA = { name: 'PCMA', payloadType: 8 } as const;

const G722 = { name: 'G722', payloadType: 9 } as const;
const OPUS = { name: 'opus', payloadType: 111 } as const;

describe('canRelay', () => {
  it('relays between G.711 legs whatever the law: shared codec or transcoding table', () => {
    const u = new PayloadMap([PCMU], null);
    const a = new PayloadMap([PCMA], null);
    const both = new PayloadMap([PCMA, PCMU], { payloadType: 101 });
    for (const source of [u, a, both]) {
      for (const listener of [u, a, both]) expect(canRelay(source, listener)).toBe(true);
    }
  });

  it('telephone-event does not decide (the packet path drops it for a listener without)', () => {
    const source = new PayloadMap([PCMU], { payloadType: 101 });
    expect(canRelay(source, new PayloadMap([PCMU], null))).toBe(true);
  });

  it('mixes when the source may send a codec the listener lacks and no table converts', () => {
    const hd = new PayloadMap([G722, PCMU], null);
    // The listener negotiated G.711 only: G.722 would need decoding.
    expect(canRelay(hd, new PayloadMap([PCMU], null))).toBe(false);
    expect(canRelay(hd, new PayloadMap([PCMA, PCMU], null))).toBe(false);
    // A listener that negotiated it too takes every packet as is or by table.
    expect(canRelay(hd, new PayloadMap([G722, PCMU], null))).toBe(true);
    // …but not by a table into a send codec that is not G.711 (PCMU → G.722 needs the mix).
    expect(canRelay(hd, new PayloadMap([G722, PCMA], null))).toBe(false);
    // The other way: every G.711 packet has a table into the listener's G.711 send codec.
    expect(canRelay(new PayloadMap([PCMU], null), new PayloadMap([PCMA, G722], null))).toBe(true);
    // …but not when what the listener is sent is a codec without a table from G.711.
    expect(canRelay(new PayloadMap([PCMU], null), new PayloadMap([OPUS], null))).toBe(false);
    expect(canRelay(new PayloadMap([OPUS], null), new PayloadMap([G722], null))).toBe(false);
  });

  it('mixes between legs whose telephone-events tick at different clocks (durations rescaled)', () => {
    const at8k = new PayloadMap([OPUS], { payloadType: 101, clockRate: 8000 });
    const at48k = new PayloadMap([OPUS], { payloadType: 110, clockRate: 48000 });
    expect(canRelay(at8k, at48k)).toBe(false);
    expect(canRelay(at48k, at8k)).toBe(false);
    expect(canRelay(at48k, new PayloadMap([OPUS], { payloadType: 96, clockRate: 48000 }))).toBe(
      true,
    );
    // A leg without telephone-event receives none: nothing to rescale.
    expect(canRelay(at48k, new PayloadMap([OPUS], null))).toBe(true);
  });
});
