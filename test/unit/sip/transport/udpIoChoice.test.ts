/** sip.io: native when the addon is usable, else dgram with one warning naming why. */
import { describe, expect, it } from '@jest/globals';
import { loadNativeAddon } from '../../../../media/io/nativeBinding.js';
import { nativeSipUnavailable } from '../../../../sip/transport/nativeSipSocket.js';
import { chooseSipUdpIo } from '../../../../sip/transport/udpIoChoice.js';

describe('chooseSipUdpIo', () => {
  it('keeps dgram without asking about the addon', () => {
    const warnings: string[] = [];
    const asked: string[] = [];
    const io = chooseSipUdpIo(
      'dgram',
      (r) => warnings.push(r),
      () => {
        asked.push('addon');
        return undefined;
      },
    );
    expect(io).toBe('dgram');
    expect(warnings).toEqual([]);
    expect(asked).toEqual([]);
  });

  it('runs native when the addon is usable', () => {
    const warnings: string[] = [];
    expect(
      chooseSipUdpIo(
        'native',
        (r) => warnings.push(r),
        () => undefined,
      ),
    ).toBe('native');
    expect(warnings).toEqual([]);
  });

  it('falls back to dgram with one warning naming why', () => {
    const warnings: string[] = [];
    expect(
      chooseSipUdpIo(
        'native',
        (r) => warnings.push(r),
        () => 'not built',
      ),
    ).toBe('dgram');
    expect(warnings).toEqual(['not built']);
  });

  it('finds the addon built here usable', () => {
    expect(nativeSipUnavailable(loadNativeAddon())).toBeUndefined();
  });

  it('names why an addon load cannot run the SIP socket', () => {
    expect(nativeSipUnavailable({ error: 'not built' })).toBe('not built');
    expect(nativeSipUnavailable({ addon: {} })).toMatch(/predates the SIP socket/);
  });
});
