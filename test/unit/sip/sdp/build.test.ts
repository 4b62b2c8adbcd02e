import { describe, expect, it } from '@jest/globals';
import {
  buildSdp,
  createLocalSdp,
  isSameSdpVersion,
  parseSdp,
  renderLocalSdp,
  type SdpDescription,
} from '../../../../sip/sdp/index.js';
import { BARESIP, baresipWith, sdp } from './fixtures.js';
import { session } from './helpers.js';

const ORIGIN = { username: 'callwatch', sessionId: '3930000000', sessionVersion: 1 };

const AUDIO: SdpDescription = {
  address: '203.0.113.5',
  port: 30000,
  codecs: [
    { name: 'PCMU', payloadType: 0 },
    { name: 'PCMA', payloadType: 8 },
  ],
  telephoneEvent: { payloadType: 101 },
  direction: 'sendrecv',
  ptime: 20,
};

describe('buildSdp', () => {
  it('writes an audio offer with CRLF line ends', () => {
    expect(buildSdp({ ...AUDIO, origin: ORIGIN })).toBe(
      sdp(
        'v=0',
        'o=callwatch 3930000000 1 IN IP4 203.0.113.5',
        's=-',
        'c=IN IP4 203.0.113.5',
        't=0 0',
        'm=audio 30000 RTP/AVP 0 8 101',
        'a=rtpmap:0 PCMU/8000',
        'a=rtpmap:8 PCMA/8000',
        'a=rtpmap:101 telephone-event/8000',
        'a=fmtp:101 0-16',
        'a=ptime:20',
        'a=sendrecv',
      ),
    );
  });

  it('writes IPv6, a direction, rtcp-mux and custom events', () => {
    const text = buildSdp({
      origin: ORIGIN,
      address: '2001:db8::5',
      port: 30002,
      codecs: [{ name: 'PCMA', payloadType: 8 }],
      telephoneEvent: { payloadType: 96, events: '0-15' },
      direction: 'recvonly',
      rtcpMux: true,
    });
    expect(text).toContain('o=callwatch 3930000000 1 IN IP6 2001:db8::5\r\n');
    expect(text).toContain('c=IN IP6 2001:db8::5\r\n');
    expect(text).toContain('m=audio 30002 RTP/AVP 8 96\r\n');
    expect(text).toContain('a=fmtp:96 0-15\r\na=recvonly\r\na=rtcp-mux\r\n');
    expect(text).not.toContain('ptime');
  });

  it('answers other m-lines with port 0 at their offer positions (RFC 3264 §6)', () => {
    const text = buildSdp({
      ...AUDIO,
      origin: ORIGIN,
      rejectedStreams: [
        { index: 0, type: 'video', protocol: 'RTP/AVP', formats: ['96', '97'] },
        { index: 2, type: 'image', protocol: 'udptl', formats: ['t38'] },
      ],
    });
    const mLines = text.split('\r\n').filter((l) => l.startsWith('m='));
    expect(mLines).toEqual([
      'm=video 0 RTP/AVP 96 97',
      'm=audio 30000 RTP/AVP 0 8 101',
      'm=image 0 udptl t38',
    ]);
  });

  it('refuses rejected-stream positions that cannot be (a caller bug)', () => {
    const stream = { type: 'video', protocol: 'RTP/AVP', formats: ['96'] };
    expect(() =>
      buildSdp({ ...AUDIO, origin: ORIGIN, rejectedStreams: [{ ...stream, index: 2 }] }),
    ).toThrow(RangeError);
    expect(() =>
      buildSdp({
        ...AUDIO,
        origin: ORIGIN,
        rejectedStreams: [
          { ...stream, index: 0 },
          { ...stream, index: 0 },
        ],
      }),
    ).toThrow(RangeError);
  });

  it('reads back as what it wrote', () => {
    const result = parseSdp(buildSdp({ ...AUDIO, origin: ORIGIN, direction: 'sendonly' }));
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    const a = result.session.audio;
    expect([a.address, a.port, a.direction, a.ptime]).toEqual([
      '203.0.113.5',
      30000,
      'sendonly',
      20,
    ]);
    expect(a.formats.map((f) => `${f.payloadType} ${f.name}`)).toEqual([
      '0 PCMU',
      '8 PCMA',
      '101 telephone-event',
    ]);
    expect(a.telephoneEvent?.fmtp).toBe('0-16');
  });
});

describe('renderLocalSdp (RFC 3264 §8 versions)', () => {
  it('keeps the version when re-sending, increments it by one on each change', () => {
    const first = renderLocalSdp(createLocalSdp(ORIGIN), AUDIO);
    expect(first.body).toContain('o=callwatch 3930000000 1 IN IP4');

    const again = renderLocalSdp(first, { ...AUDIO });
    expect(again).toBe(first);

    const held = renderLocalSdp(again, { ...AUDIO, direction: 'sendonly' });
    expect(held.origin.sessionVersion).toBe(2);
    expect(held.body).toContain('o=callwatch 3930000000 2 IN IP4');
    expect(held.body).toContain('a=sendonly');

    const resumed = renderLocalSdp(held, AUDIO);
    expect(resumed.origin.sessionVersion).toBe(3);
    expect(resumed.body?.replace(' 3 IN', ' 1 IN')).toBe(first.body);
  });

  it('tells a re-sent remote offer from a changed one by its o= line', () => {
    const before = session(BARESIP).origin;
    expect(isSameSdpVersion(before, session(BARESIP).origin)).toBe(true);
    expect(isSameSdpVersion(before, session(baresipWith('sendonly')).origin)).toBe(false);
  });
});
