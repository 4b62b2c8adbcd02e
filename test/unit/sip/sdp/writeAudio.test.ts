import { describe, expect, it } from '@jest/globals';
import {
  writeSdpGeneric,
  type BuildSdpInput,
  type RejectedStream,
} from '../../../../sip/sdp/build.js';
import { writeAudioSdp } from '../../../../sip/sdp/writeAudio.js';

/** writeAudioSdp() is a faster writer for what sdp-transform writes: the two must agree. */
const BASE: BuildSdpInput = {
  origin: { username: 'callwatch', sessionId: 123456789012, sessionVersion: 1 },
  address: '203.0.113.5',
  port: 30000,
  codecs: [{ name: 'PCMA', payloadType: 8 }],
  direction: 'sendrecv',
};

const VIDEO: RejectedStream = {
  index: 0,
  type: 'video',
  protocol: 'RTP/AVP',
  formats: ['96', '97'],
};
const T38: RejectedStream = { index: 2, type: 'image', protocol: 'udptl', formats: ['t38'] };

const CASES: Array<[string, BuildSdpInput, Array<RejectedStream | undefined>]> = [
  ['one codec', BASE, [undefined]],
  [
    'the B2BUA offer: four codecs, two telephone-events, ptime',
    {
      ...BASE,
      origin: { username: 'callwatch', sessionId: '3930000000', sessionVersion: 7 },
      codecs: [
        { name: 'PCMA', payloadType: 8 },
        { name: 'PCMU', payloadType: 0 },
        { name: 'G722', payloadType: 9 },
        { name: 'opus', payloadType: 111, clockRate: 48000, channels: 2, fmtp: 'useinbandfec=1' },
      ],
      telephoneEvent: { payloadType: 101 },
      moreTelephoneEvents: [{ payloadType: 110, clockRate: 48000, events: '0-15' }],
      ptime: 20,
    },
    [undefined],
  ],
  [
    'IPv6, sendonly, rtcp-mux, no ptime',
    { ...BASE, address: '2001:db8::5', direction: 'sendonly', rtcpMux: true },
    [undefined],
  ],
  [
    'rejected streams around the audio (RFC 3264 §6)',
    { ...BASE, direction: 'inactive', telephoneEvent: { payloadType: 96, events: '0-11' } },
    [VIDEO, undefined, T38],
  ],
  ['port 0 and a fractional ptime', { ...BASE, port: 0, ptime: 22.5 }, [undefined]],
  ['no codecs', { ...BASE, codecs: [] }, [undefined]],
];

describe('writeAudioSdp', () => {
  it.each(CASES)('writes what sdp-transform writes: %s', (_name, input, slots) => {
    const ipVer = input.address.includes(':') ? 6 : 4;
    const generic = writeSdpGeneric(input, ipVer, slots);
    expect(writeAudioSdp(input, input.origin, ipVer, slots)).toBe(generic);
    expect(generic.endsWith('\r\n')).toBe(true);
  });
});
