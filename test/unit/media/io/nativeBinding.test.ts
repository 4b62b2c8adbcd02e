/**
 * The addon loader refuses a build that lacks what the TypeScript side calls (an addon
 * built before a change to native/ loads without error otherwise, and fails at the first
 * send), naming what is missing; the addon built from these sources has everything.
 */
import { describe, expect, it } from '@jest/globals';
import type { NativeAddon } from '../../../../media/io/nativeBinding.js';
import { loadNativeAddon, missingExports } from '../../../../media/io/nativeBinding.js';

describe('the native addon loader', () => {
  it('finds every function and NativeIo method in the addon built from these sources', () => {
    const load = loadNativeAddon();
    expect(load.error).toBeUndefined();
    expect(missingExports(load.addon!)).toEqual([]);
  });

  it('names the exports and methods an older build lacks', () => {
    const real = loadNativeAddon().addon!;
    class OldIo {
      bind(): number {
        return 0;
      }
    }
    for (const name of Object.getOwnPropertyNames(real.NativeIo.prototype)) {
      if (name !== 'constructor' && name !== 'noRecvRing' && name !== 'sendQueue') {
        (OldIo.prototype as unknown as Record<string, unknown>)[name] = () => 0;
      }
    }
    // An older build: no sendBatch4, and NativeIo without two methods.
    const old = {
      NativeIo: OldIo,
      monotonicMs: real.monotonicMs,
      setSocketBuffers: real.setSocketBuffers,
      localPort: real.localPort,
    } as unknown as NativeAddon;
    expect(missingExports(old)).toEqual([
      'sendBatch4',
      'NativeIo.sendQueue',
      'NativeIo.noRecvRing',
    ]);
  });
});
