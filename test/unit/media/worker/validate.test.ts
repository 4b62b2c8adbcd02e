import { describe, it, expect } from '@jest/globals';
import { MediaError } from '../../../../media/engine/errors.js';
import {
  checkCodecs,
  checkLegConfig,
  checkRemote,
  checkSources,
  checkTelephoneEvent,
  checkWorkerConfig,
  validateCommand,
} from '../../../../media/worker/validate.js';

const PCMU = { name: 'PCMU', payloadType: 0 } as const;

const leg = {
  legId: 7,
  port: 20000,
  codecs: [PCMU],
  telephoneEvent: { payloadType: 101 },
  remote: { address: '192.0.2.1', port: 4000 },
  direction: 'sendrecv',
  forwardDtmf: true,
  label: 'call-1',
};

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(MediaError);
    return (error as MediaError).code;
  }
  return undefined;
}

describe('validateCommand', () => {
  it('accepts every command shape and keeps only known fields', () => {
    const cmd = validateCommand({ type: 'createLeg', id: 1, leg: { ...leg, extra: 1 }, junk: 2 });
    expect(cmd).toEqual({ type: 'createLeg', id: 1, leg });
    expect(validateCommand({ type: 'setRemote', id: 2, legId: 7, remote: null })).toEqual({
      type: 'setRemote',
      id: 2,
      legId: 7,
      remote: null,
    });
    expect(
      validateCommand({
        type: 'setCodecs',
        id: 3,
        legId: 7,
        codecs: [{ name: 'PCMA', payloadType: 8 }],
        telephoneEvent: null,
      }),
    ).toMatchObject({ type: 'setCodecs', telephoneEvent: null });
    expect(validateCommand({ type: 'setSources', id: 4, legId: 7, sources: [8] })).toMatchObject({
      sources: [8],
    });
    expect(validateCommand({ type: 'setSources', id: 4, legId: 7, sources: [] })).toMatchObject({
      sources: [],
    });
    expect(
      validateCommand({ type: 'setDirection', id: 5, legId: 7, direction: 'inactive' }),
    ).toMatchObject({ direction: 'inactive' });
    expect(validateCommand({ type: 'getStats', id: 6, legId: null })).toMatchObject({
      legId: null,
    });
    expect(validateCommand({ type: 'closeLeg', id: 7, legId: 7 })).toMatchObject({ legId: 7 });
    expect(validateCommand({ type: 'close', id: 8 })).toEqual({ type: 'close', id: 8 });
  });

  it('answers a malformed command with ERR_INVALID_COMMAND naming the field', () => {
    const bad: unknown[] = [
      null,
      'close',
      { type: 'close' },
      { type: 'close', id: -1 },
      { type: 'explode', id: 1 },
      { type: 'closeLeg', id: 1, legId: 0 },
      { type: 'closeLeg', id: 1, legId: '7' },
      { type: 'setDirection', id: 1, legId: 7, direction: 'hold' },
      { type: 'createLeg', id: 1, leg: { ...leg, port: 20001 } },
      { type: 'createLeg', id: 1, leg: { ...leg, codecs: [] } },
      { type: 'createLeg', id: 1, leg: { ...leg, forwardDtmf: 'yes' } },
      { type: 'getStats', id: 1 },
    ];
    for (const x of bad) expect(codeOf(() => validateCommand(x))).toBe('ERR_INVALID_COMMAND');
    expect(() =>
      validateCommand({ type: 'createLeg', id: 1, leg: { ...leg, port: 20001 } }),
    ).toThrow(/leg\.port must be even/);
  });

  it('refuses two or more sources with ERR_MIX_UNSUPPORTED, and a leg hearing itself', () => {
    expect(codeOf(() => checkSources([1, 2], 3))).toBe('ERR_MIX_UNSUPPORTED');
    expect(codeOf(() => checkSources([3], 3))).toBe('ERR_INVALID_ARGUMENT');
    expect(codeOf(() => checkSources([1, 1], 3))).toBe('ERR_INVALID_ARGUMENT');
  });
});

describe('argument checks', () => {
  it('codecs: known names, payload types 0–127 outside RTCP 64–95, no repeats', () => {
    expect(checkCodecs([PCMU, { name: 'PCMA', payloadType: 8 }])).toHaveLength(2);
    expect(checkCodecs([{ name: 'PCMA', payloadType: 96 }])).toEqual([
      { name: 'PCMA', payloadType: 96 },
    ]);
    for (const bad of [
      [],
      [{ name: 'G722', payloadType: 9 }],
      [{ name: 'PCMU', payloadType: 128 }],
      [{ name: 'PCMU', payloadType: 72 }],
      [PCMU, { name: 'PCMA', payloadType: 0 }],
      'PCMU',
      [PCMU, null],
    ]) {
      expect(codeOf(() => checkCodecs(bad))).toBe('ERR_INVALID_ARGUMENT');
    }
  });

  it('telephone-event: optional, and not a codec’s payload type', () => {
    expect(checkTelephoneEvent(undefined, [PCMU])).toBeNull();
    expect(checkTelephoneEvent({ payloadType: 101 }, [PCMU])).toEqual({ payloadType: 101 });
    expect(() => checkTelephoneEvent({ payloadType: 0 }, [PCMU])).toThrow(/already a codec/);
  });

  it('remote: IP literal and port, optional RTCP details', () => {
    expect(checkRemote({ address: '::1', port: 5, rtcpPort: 9, rtcpMux: false })).toEqual({
      address: '::1',
      port: 5,
      rtcpPort: 9,
      rtcpMux: false,
    });
    expect(checkRemote(null)).toBeNull();
    expect(() => checkRemote({ address: 'phone.example.com', port: 5 })).toThrow(/IP address/);
    expect(() => checkRemote({ address: '10.0.0.1', port: 0 })).toThrow(/remote\.port/);
    expect(() => checkRemote({ address: '10.0.0.1', port: 5, rtcpMux: 1 })).toThrow(/rtcpMux/);
    expect(() => checkRemote({ address: '::1', port: 5 }, 'remote', 4)).toThrow(/IPv4/);
    expect(checkRemote({ address: '::1', port: 5 }, 'remote', 6)).toEqual({
      address: '::1',
      port: 5,
    });
  });

  it('leg config and worker config', () => {
    expect(
      checkLegConfig({ ...leg, telephoneEvent: null, remote: null, label: null }),
    ).toMatchObject({ telephoneEvent: null, remote: null, label: null });
    const config = {
      index: 0,
      address: '127.0.0.1',
      rtpTimeoutMs: 0,
      latchWindowMs: 2000,
      statsIntervalMs: 5000,
      rtcpIntervalMs: 5000,
      sweepIntervalMs: 100,
    };
    expect(checkWorkerConfig(config)).toEqual(config);
    expect(() => checkWorkerConfig({ ...config, sweepIntervalMs: 0 })).toThrow(/sweepIntervalMs/);
    expect(() => checkWorkerConfig({ ...config, address: 'localhost' })).toThrow(/address/);
  });
});
