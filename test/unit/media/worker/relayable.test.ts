import { describe, it, expect } from '@jest/globals';
import { KIND_PCMA, KIND_PCMU, PayloadMap } from '../../../../media/worker/payloadMap.js';
import type { PayloadKind } from '../../../../media/worker/payloadMap.js';
import { canRelay } from '../../../../media/worker/relayable.js';

const PCMU = { name: 'PCMU', payloadType: 0 } as const;
const PCMA = { name: 'PCMA', payloadType: 8 } as const;

/**
 * A map with one more audio kind than G.711 (index 4: a codec with no in-place table to
 * anything, as a wideband codec would be), built by hand: canRelay must not need to
 * know it by name.
 */
function withExtraKind(negotiated: number[], sendKind: number): PayloadMap {
  const payloadTypeOf = new Int16Array(5).fill(-1);
  negotiated.forEach((kind, i) => (payloadTypeOf[kind] = 96 + i));
  return { kindOf: new Uint8Array(128), payloadTypeOf, sendKind: sendKind as PayloadKind };
}
const KIND_OTHER = 4;

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

  it('mixes when the source may send a kind the listener lacks and no table converts', () => {
    const source = withExtraKind([KIND_OTHER, KIND_PCMU], KIND_OTHER);
    // The listener negotiated G.711 only: the extra kind would need decoding.
    expect(canRelay(source, new PayloadMap([PCMU], null))).toBe(false);
    expect(canRelay(source, new PayloadMap([PCMA, PCMU], null))).toBe(false);
    // A listener that negotiated it too takes every packet as is or by table.
    expect(canRelay(source, withExtraKind([KIND_OTHER, KIND_PCMA], KIND_PCMA))).toBe(true);
    // The other way: every G.711 packet has a table into the listener's G.711 send kind.
    expect(
      canRelay(new PayloadMap([PCMU], null), withExtraKind([KIND_OTHER, KIND_PCMA], KIND_PCMA)),
    ).toBe(true);
    // …but not when what the listener is sent is a kind without a table from G.711.
    expect(canRelay(new PayloadMap([PCMU], null), withExtraKind([KIND_OTHER], KIND_OTHER))).toBe(
      false,
    );
  });
});
