import { describe, it, expect } from '@jest/globals';
import { MediaError } from '../../../../media/engine/errors.js';
import {
  checkCodecs,
  checkLegConfig,
  checkLegIds,
  checkRoutes,
  checkRecording,
  checkTone,
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
  telephoneEvent: { payloadType: 101, clockRate: 8000 },
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
    // One offer/answer's result; without a remote the leg keeps its own (no field at all).
    const applied = {
      type: 'applyMedia',
      id: 9,
      legId: 7,
      codecs: [{ name: 'PCMA', payloadType: 8 }],
      telephoneEvent: { payloadType: 101 },
      direction: 'sendonly',
    };
    expect(validateCommand(applied)).toEqual({
      ...applied,
      telephoneEvent: { payloadType: 101, clockRate: 8000 },
    });
    expect(
      validateCommand({ ...applied, remote: { address: '192.0.2.1', port: 4000 }, junk: 1 }),
    ).toEqual({
      ...applied,
      telephoneEvent: { payloadType: 101, clockRate: 8000 },
      remote: { address: '192.0.2.1', port: 4000 },
    });
    expect(validateCommand({ ...applied, remote: null })).toMatchObject({ remote: null });
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
    expect(validateCommand({ type: 'getStats', id: 6, legId: null, legs: false })).toMatchObject({
      legId: null,
      legs: false,
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
      {
        type: 'applyMedia',
        id: 1,
        legId: 7,
        codecs: [PCMU],
        telephoneEvent: null,
        direction: 'hold',
      },
      {
        type: 'applyMedia',
        id: 1,
        legId: 7,
        codecs: [],
        telephoneEvent: null,
        direction: 'sendrecv',
      },
      {
        type: 'applyMedia',
        id: 1,
        legId: 7,
        codecs: [PCMU],
        telephoneEvent: null,
        remote: { address: 'phone.example', port: 4000 },
        direction: 'sendrecv',
      },
      { type: 'createLeg', id: 1, leg: { ...leg, port: 20001 } },
      { type: 'createLeg', id: 1, leg: { ...leg, codecs: [] } },
      { type: 'createLeg', id: 1, leg: { ...leg, forwardDtmf: 'yes' } },
      { type: 'getStats', id: 1 },
      { type: 'getStats', id: 1, legId: null, legs: 'no' },
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
    expect(
      checkCodecs([
        { name: 'opus', payloadType: 111 },
        { name: 'G722', payloadType: 9 },
      ]),
    ).toEqual([
      { name: 'opus', payloadType: 111 },
      { name: 'G722', payloadType: 9 },
    ]);
    for (const bad of [
      [],
      [{ name: 'G729', payloadType: 18 }],
      [{ name: 'OPUS', payloadType: 111 }],
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
    expect(checkTelephoneEvent({ payloadType: 101 }, [PCMU])).toEqual({
      payloadType: 101,
      clockRate: 8000,
    });
    expect(() => checkTelephoneEvent({ payloadType: 0 }, [PCMU])).toThrow(/already a codec/);
  });

  it('telephone-event: at 8000 or 48000 (its codec’s clock, RFC 4733 §2.1)', () => {
    const opus = [{ name: 'opus' as const, payloadType: 111 }];
    expect(checkTelephoneEvent({ payloadType: 110, clockRate: 48000 }, opus)).toEqual({
      payloadType: 110,
      clockRate: 48000,
    });
    for (const clockRate of [16000, 44100, '8000', 0]) {
      expect(() => checkTelephoneEvent({ payloadType: 110, clockRate }, opus)).toThrow(
        /telephoneEvent\.clockRate/,
      );
    }
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
      jitter: { minDepthMs: 20, maxDepthMs: 200 },
    };
    expect(checkWorkerConfig(config)).toEqual(config);
    expect(checkWorkerConfig({ ...config, io: 'native' })).toEqual({ ...config, io: 'native' });
    expect(checkWorkerConfig({ ...config, io: 'dgram' })).toEqual({ ...config, io: 'dgram' });
    expect(() => checkWorkerConfig({ ...config, io: 'uring' })).toThrow(/workerData\.io/);
    // The engine's minMixRate option reaches the worker (it was once dropped here).
    expect(checkWorkerConfig({ ...config, minMixRate: 16000 })).toEqual({
      ...config,
      minMixRate: 16000,
    });
    expect(() => checkWorkerConfig({ ...config, minMixRate: 12000 })).toThrow(
      /workerData\.minMixRate/,
    );
    expect(() => checkWorkerConfig({ ...config, jitter: undefined })).toThrow(/jitter/);
    expect(() =>
      checkWorkerConfig({ ...config, jitter: { minDepthMs: 100, maxDepthMs: 50 } }),
    ).toThrow(/jitter\.maxDepthMs/);
    expect(() => checkWorkerConfig({ ...config, sweepIntervalMs: 0 })).toThrow(/sweepIntervalMs/);
    expect(() => checkWorkerConfig({ ...config, address: 'localhost' })).toThrow(/address/);
  });
});

const tone = { frequencies: [440], levelDbm0: -13, onMs: 200, offMs: 0, repeat: 1 };

describe('room commands', () => {
  it('accepts every room command shape and keeps only known fields', () => {
    expect(validateCommand({ type: 'createRoom', id: 1, roomId: 3, junk: 1 })).toEqual({
      type: 'createRoom',
      id: 1,
      roomId: 3,
    });
    expect(
      validateCommand({
        type: 'setRoutes',
        id: 2,
        roomId: 3,
        members: [
          { legId: 1, hears: [{ legId: 2, gain: 1, extra: true }], role: 'customer' },
          {
            legId: 2,
            hears: [
              { legId: 1, gain: 1 },
              { legId: 4, gain: 0.5 },
            ],
          },
          {
            legId: 4,
            hears: [
              { legId: 1, gain: 1 },
              { legId: 2, gain: 4 },
            ],
          },
          { legId: 5, hears: [] },
        ],
        recordingTracks: [[1], [2]],
      }),
    ).toEqual({
      type: 'setRoutes',
      id: 2,
      roomId: 3,
      members: [
        { legId: 1, hears: [{ legId: 2, gain: 1 }] },
        {
          legId: 2,
          hears: [
            { legId: 1, gain: 1 },
            { legId: 4, gain: 0.5 },
          ],
        },
        {
          legId: 4,
          hears: [
            { legId: 1, gain: 1 },
            { legId: 2, gain: 4 },
          ],
        },
        { legId: 5, hears: [] },
      ],
      recordingTracks: [[1], [2]],
    });
    expect(
      validateCommand({
        type: 'setRoutes',
        id: 2,
        roomId: 3,
        members: [],
        recordingTracks: [[], []],
      }),
    ).toMatchObject({ members: [], recordingTracks: [[], []] });
    expect(
      validateCommand({
        type: 'startRecording',
        id: 3,
        roomId: 3,
        recording: { path: '/var/rec/a.wav', channels: 2, bitrate: 64 },
      }),
    ).toEqual({
      type: 'startRecording',
      id: 3,
      roomId: 3,
      recording: { path: '/var/rec/a.wav', channels: 2 },
    });
    expect(() =>
      validateCommand({
        type: 'startRecording',
        id: 3,
        roomId: 3,
        recording: { path: '/var/rec/a.wav', channels: 2, format: 'mp3' },
      }),
    ).toThrow('recording.format must be one of wav, wav-g711, ogg-opus');
    expect(validateCommand({ type: 'stopRecording', id: 4, roomId: 3 })).toEqual({
      type: 'stopRecording',
      id: 4,
      roomId: 3,
    });
    expect(
      validateCommand({ type: 'playTone', id: 5, roomId: 3, legIds: [1, 2], tone: { ...tone } }),
    ).toEqual({ type: 'playTone', id: 5, roomId: 3, legIds: [1, 2], tone });
    expect(validateCommand({ type: 'closeRoom', id: 6, roomId: 3 })).toEqual({
      type: 'closeRoom',
      id: 6,
      roomId: 3,
    });
  });

  it('answers malformed room commands with ERR_INVALID_COMMAND', () => {
    const bad: unknown[] = [
      { type: 'createRoom', id: 1 },
      { type: 'createRoom', id: 1, roomId: 0 },
      { type: 'createRoom', id: 1, roomId: 1.5 },
      { type: 'closeRoom', id: 1, roomId: '3' },
      { type: 'stopRecording', id: 1, roomId: -3 },
      { type: 'setRoutes', id: 1, roomId: 3 },
      { type: 'setRoutes', id: 1, roomId: 3, members: {}, recordingTracks: [[], []] },
      { type: 'setRoutes', id: 1, roomId: 3, members: [{ legId: 1, hears: [] }] },
      {
        type: 'setRoutes',
        id: 1,
        roomId: 3,
        members: [{ legId: 1, hears: [{ legId: 1, gain: 1 }] }],
        recordingTracks: [[], []],
      },
      { type: 'startRecording', id: 1, roomId: 3 },
      { type: 'startRecording', id: 1, roomId: 3, recording: { path: 'a.wav', channels: 2 } },
      { type: 'playTone', id: 1, roomId: 3, legIds: [1], tone: { ...tone, repeat: 0 } },
      { type: 'playTone', id: 1, roomId: 3, legIds: 1, tone },
      { type: 'playTone', id: 1, roomId: 3, legIds: [1] },
    ];
    for (const x of bad) {
      expect({ x, code: codeOf(() => validateCommand(x)) }).toEqual({
        x,
        code: 'ERR_INVALID_COMMAND',
      });
    }
  });
});

describe('room argument checks', () => {
  it('routes: distinct members hearing other members at a gain in (0, 4]; two tracks', () => {
    const member = (legId: number, ...hears: [number, number][]) => ({
      legId,
      hears: hears.map(([id, gain]) => ({ legId: id, gain })),
    });
    const two = [member(1, [2, 1]), member(2, [1, 1])];
    expect(checkRoutes(two, [[1], [2]])).toEqual({ members: two, recordingTracks: [[1], [2]] });
    // Gains: any finite value in (0, 4], unity or not.
    for (const gain of [Number.MIN_VALUE, 0.001, 0.5, 1, 2.5, 4]) {
      expect(checkRoutes([member(1, [2, gain]), member(2)], [[], []]).members[0]).toEqual(
        member(1, [2, gain]),
      );
    }
    // A leg may be on both tracks or on neither; a mono recording sums the two.
    expect(checkRoutes(two, [[1, 2], [2]]).recordingTracks).toEqual([[1, 2], [2]]);
    const bad: [unknown, unknown, RegExp][] = [
      ['nope', [[], []], /members must be an array/],
      [Array.from({ length: 17 }, (_, i) => member(i + 1)), [[], []], /at most 16/],
      [[null], [[], []], /members\[0\] must be an object/],
      [[member(0)], [[], []], /members\[0\]\.legId/],
      [[member(1), member(1)], [[], []], /members\[1\]\.legId repeats leg 1/],
      [[{ legId: 1 }], [[], []], /members\[0\]\.hears must be an array/],
      [[{ legId: 1, hears: [7] }], [[], []], /members\[0\]\.hears\[0\] must be an object/],
      // Nobody hears themselves, nor a leg outside the room, nor a leg twice.
      [[member(1, [1, 1])], [[], []], /members\[0\]\.hears\[0\]\.legId is leg 1 itself/],
      [[member(1, [9, 1])], [[], []], /members\[0\]\.hears\[0\]\.legId 9 is not a member/],
      [
        [member(1, [2, 1], [2, 0.5]), member(2)],
        [[], []],
        /members\[0\]\.hears\[1\]\.legId repeats leg 2/,
      ],
      // Gains: finite, > 0 (a route at 0 is no route), ≤ 4.
      ...[0, -1, 4.0001, 10, Infinity, -Infinity, NaN, '1', null, undefined].map(
        (gain): [unknown, unknown, RegExp] => [
          [{ legId: 1, hears: [{ legId: 2, gain }] }, member(2)],
          [[], []],
          /members\[0\]\.hears\[0\]\.gain must be a finite number with 0 < gain ≤ 4/,
        ],
      ),
      // Tracks: two arrays of members, no leg twice in one.
      [two, undefined, /recordingTracks must be an array of two tracks/],
      [two, [[1]], /recordingTracks must be an array of two tracks/],
      [two, [[1], [2], []], /recordingTracks must be an array of two tracks/],
      [two, [1, [2]], /recordingTracks\[0\] must be an array/],
      [two, [[1], [3]], /recordingTracks\[1\]\[0\] 3 is not a member/],
      [two, [[1, 1], []], /recordingTracks\[0\] must not repeat a leg/],
      [two, [[0], []], /recordingTracks\[0\]\[0\]/],
    ];
    for (const [members, tracks, message] of bad) {
      expect(codeOf(() => checkRoutes(members, tracks))).toBe('ERR_INVALID_ARGUMENT');
      expect(() => checkRoutes(members, tracks)).toThrow(message);
    }
    const full = Array.from({ length: 16 }, (_, i) => member(i + 1));
    expect(checkRoutes(full, [[], []]).members).toHaveLength(16);
  });

  it('recording: an absolute path and 1 or 2 channels', () => {
    expect(checkRecording({ path: '/tmp/r.wav', channels: 1 })).toEqual({
      path: '/tmp/r.wav',
      channels: 1,
    });
    for (const [x, message] of [
      [null, /recording must be an object/],
      [{ path: 'rel/r.wav', channels: 2 }, /recording\.path/],
      [{ path: '/tmp/a\0b.wav', channels: 2 }, /recording\.path/],
      [{ path: 42, channels: 2 }, /recording\.path/],
      [{ path: '/tmp/r.wav', channels: 3 }, /recording\.channels must be 1 or 2/],
      [{ path: '/tmp/r.wav' }, /recording\.channels/],
    ] as [unknown, RegExp][]) {
      expect(codeOf(() => checkRecording(x))).toBe('ERR_INVALID_ARGUMENT');
      expect(() => checkRecording(x)).toThrow(message);
    }
  });

  it('tone: one or two frequencies in the voice band, bounded level, cadence and repeats', () => {
    expect(checkTone({ ...tone, frequencies: [350, 440], extra: 1 })).toEqual({
      ...tone,
      frequencies: [350, 440],
    });
    expect(checkTone({ ...tone, levelDbm0: 3, onMs: 10000, offMs: 10000, repeat: 10 })).toEqual({
      ...tone,
      levelDbm0: 3,
      onMs: 10000,
      offMs: 10000,
      repeat: 10,
    });
    for (const [x, message] of [
      [{ ...tone, frequencies: [] }, /tone\.frequencies must be an array of one or two/],
      [{ ...tone, frequencies: [1, 2, 3] }, /tone\.frequencies must be/],
      [{ ...tone, frequencies: [4000] }, /tone\.frequencies\[0\]/],
      [{ ...tone, frequencies: [440.5] }, /tone\.frequencies\[0\]/],
      [{ ...tone, levelDbm0: 4 }, /tone\.levelDbm0/],
      [{ ...tone, levelDbm0: -61 }, /tone\.levelDbm0/],
      [{ ...tone, onMs: 19 }, /tone\.onMs/],
      [{ ...tone, offMs: -1 }, /tone\.offMs/],
      [{ ...tone, repeat: 11 }, /tone\.repeat/],
      [{ ...tone, levelDbm0: undefined }, /tone\.levelDbm0/],
    ] as [unknown, RegExp][]) {
      expect(codeOf(() => checkTone(x))).toBe('ERR_INVALID_ARGUMENT');
      expect(() => checkTone(x)).toThrow(message);
    }
  });

  it('leg ids of a tone: distinct positive integers, at most a room’s worth', () => {
    expect(checkLegIds([], 'legIds')).toEqual([]);
    expect(checkLegIds([3, 1], 'legIds')).toEqual([3, 1]);
    expect(() => checkLegIds([1, 1], 'legIds')).toThrow(/legIds must not repeat a leg/);
    expect(() => checkLegIds([0], 'legIds')).toThrow(/legIds\[0\]/);
    expect(() => checkLegIds('1', 'legIds')).toThrow(/legIds must be an array/);
    expect(() =>
      checkLegIds(
        Array.from({ length: 17 }, (_, i) => i + 1),
        'legIds',
      ),
    ).toThrow(/at most 16/);
  });
});

describe('secureLeg', () => {
  const local = { ufrag: 'abcd', pwd: 'passwordpasswordpassword' };
  const remote = {
    ice: { ufrag: 'wxyz', pwd: 'theirpasswordtheirpassword' },
    fingerprints: [{ algorithm: 'sha-256', value: 'AB:CD' }],
    dtlsRole: 'server',
  };
  const certificate = { certPem: '-----BEGIN CERTIFICATE-----', keyPem: '-----BEGIN KEY-----' };

  it('takes our ICE credentials alone, or with the peer’s side and the certificate', () => {
    const base = { type: 'secureLeg', id: 1, legId: 3, local };
    expect(validateCommand({ ...base, remote: null, certificate: null, extra: 1 })).toEqual({
      ...base,
      remote: null,
      certificate: null,
    });
    expect(validateCommand({ ...base, remote, certificate })).toEqual({
      ...base,
      remote,
      certificate,
    });
    expect(validateCommand({ ...base, remote: { ...remote, ice: null }, certificate })).toEqual({
      ...base,
      remote: { ...remote, ice: null },
      certificate,
    });
  });

  it('refuses empty credentials, no fingerprint and an unknown DTLS role', () => {
    const base = { type: 'secureLeg', id: 1, legId: 3, local, remote, certificate };
    const bad = (patch: Record<string, unknown>) =>
      codeOf(() => validateCommand({ ...base, ...patch }));
    expect(bad({ local: { ufrag: '', pwd: 'x' } })).toBe('ERR_INVALID_COMMAND');
    expect(bad({ remote: { ...remote, fingerprints: [] } })).toBe('ERR_INVALID_COMMAND');
    expect(bad({ remote: { ...remote, dtlsRole: 'auto' } })).toBe('ERR_INVALID_COMMAND');
    expect(bad({ certificate: { certPem: 'x' } })).toBe('ERR_INVALID_COMMAND');
  });
});
