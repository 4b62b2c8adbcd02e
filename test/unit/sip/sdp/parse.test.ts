import { describe, expect, it } from '@jest/globals';
import {
  MAX_SDP_LENGTH,
  parseSdp,
  type SdpErrorCode,
  type SdpSession,
} from '../../../../sip/sdp/index.js';
import {
  BARESIP,
  BARESIP_MUX,
  G729_ONLY,
  PCMA_ONLY,
  SIPP_UAC,
  SIPP_UAC_PCAP,
  VIDEO_AND_AUDIO,
  baresipWith,
  sdp,
} from './fixtures.js';

function parsed(body: string | Buffer): SdpSession {
  const result = parseSdp(body);
  if (!result.ok) throw new Error(`expected SDP to parse: ${result.reason}`);
  return result.session;
}

function refused(body: string): { code: SdpErrorCode; reason: string } {
  const result = parseSdp(body);
  if (result.ok) throw new Error('expected SDP to be refused');
  return { code: result.code, reason: result.reason };
}

/** A minimal valid body with `m` and `extra` lines swapped in. */
function body(m: string, ...extra: string[]): string {
  return sdp('v=0', 'o=- 1 1 IN IP4 10.1.1.1', 's=-', 'c=IN IP4 10.1.1.1', 't=0 0', m, ...extra);
}

describe('parseSdp: real-world offers', () => {
  it("reads SIPp's default uac offer", () => {
    const s = parsed(SIPP_UAC);
    expect(s.origin).toEqual({
      username: 'user1',
      sessionId: '53655765',
      sessionVersion: '2353687637',
      address: '127.0.0.1',
    });
    expect(s.audio).toEqual({
      index: 0,
      address: '127.0.0.1',
      family: 'IP4',
      port: 6000,
      protocol: 'RTP/AVP',
      direction: 'sendrecv',
      nullAddress: false,
      formats: [{ payloadType: 0, name: 'PCMU', clockRate: 8000 }],
      rtcpMux: false,
    });
  });

  it("reads SIPp's uac_pcap offer with telephone-event", () => {
    const a = parsed(SIPP_UAC_PCAP).audio;
    expect(a.formats.map((f) => [f.payloadType, f.name])).toEqual([
      [8, 'PCMA'],
      [101, 'telephone-event'],
    ]);
    expect(a.telephoneEvent).toEqual({
      payloadType: 101,
      name: 'telephone-event',
      clockRate: 8000,
      fmtp: '0-11,16',
    });
  });

  it("reads baresip's offer: order, ptime, direction, no rtcp-mux", () => {
    const a = parsed(BARESIP).audio;
    expect(a.address).toBe('192.168.1.10');
    expect(a.port).toBe(10004);
    expect(a.formats.map((f) => f.payloadType)).toEqual([0, 8, 101]);
    expect(a.telephoneEvent?.fmtp).toBe('0-15');
    expect(a.ptime).toBe(20);
    expect(a.direction).toBe('sendrecv');
    expect(a.rtcpMux).toBe(false);
    expect(parsed(BARESIP_MUX).audio.rtcpMux).toBe(true);
  });

  it('accepts a Buffer and bare LF line ends', () => {
    expect(parsed(Buffer.from(PCMA_ONLY)).audio.formats[0]?.name).toBe('PCMA');
    expect(parsed(PCMA_ONLY.replace(/\r\n/g, '\n')).audio.port).toBe(20000);
  });

  it('names static payload types that have no rtpmap (RFC 3551 table 4)', () => {
    const a = parsed(body('m=audio 4000 RTP/AVP 18 8 0 13')).audio;
    expect(a.formats.map((f) => `${f.payloadType}:${f.name}/${f.clockRate}`)).toEqual([
      '18:G729/8000',
      '8:PCMA/8000',
      '0:PCMU/8000',
      '13:CN/8000',
    ]);
  });

  it('leaves a dynamic payload type without rtpmap unnamed', () => {
    const a = parsed(body('m=audio 4000 RTP/AVP 0 96')).audio;
    expect(a.formats[1]).toEqual({ payloadType: 96, name: '' });
  });

  it('keeps other m-lines in outline and picks the audio one', () => {
    const s = parsed(VIDEO_AND_AUDIO);
    expect(s.media).toEqual([
      { index: 0, type: 'video', port: 40000, protocol: 'RTP/AVP', formats: ['96', '97'] },
      { index: 1, type: 'audio', port: 40002, protocol: 'RTP/AVP', formats: ['8', '0', '101'] },
    ]);
    expect(s.audio.index).toBe(1);
    expect(s.audio.telephoneEvent?.payloadType).toBe(101);
  });

  it('skips a declined or SRTP audio line for a usable RTP/AVP one', () => {
    const s = parsed(
      body('m=audio 0 RTP/AVP 0', 'm=audio 5000 RTP/SAVP 0', 'm=audio 5002 RTP/AVP 8'),
    );
    expect(s.audio.index).toBe(2);
    expect(parsed(body('m=audio 0 RTP/AVP 0')).audio.port).toBe(0);
  });
});

describe('parseSdp: connection and direction', () => {
  it('prefers the media-level c= over the session-level one', () => {
    const a = parsed(body('m=audio 4000 RTP/AVP 0', 'c=IN IP4 10.9.9.9')).audio;
    expect(a.address).toBe('10.9.9.9');
  });

  it('reads IPv6 addresses', () => {
    const a = parsed(
      sdp(
        'v=0',
        'o=- 1 1 IN IP6 2001:db8::1',
        's=-',
        'c=IN IP6 2001:db8::1',
        't=0 0',
        'm=audio 4000 RTP/AVP 0',
      ),
    ).audio;
    expect([a.address, a.family]).toEqual(['2001:db8::1', 'IP6']);
  });

  it('reports c=0.0.0.0 as an RFC 2543 hold', () => {
    const a = parsed(BARESIP.replace('c=IN IP4 192.168.1.10', 'c=IN IP4 0.0.0.0')).audio;
    expect(a.nullAddress).toBe(true);
    expect(a.direction).toBe('sendrecv');
  });

  it('reads each direction attribute; media level overrides session level', () => {
    for (const d of ['sendonly', 'recvonly', 'inactive', 'sendrecv'] as const) {
      expect(parsed(baresipWith(d)).audio.direction).toBe(d);
    }
    const sessionLevel = sdp(
      'v=0',
      'o=- 1 1 IN IP4 10.1.1.1',
      's=-',
      'c=IN IP4 10.1.1.1',
      't=0 0',
      'a=sendonly',
      'm=audio 4000 RTP/AVP 0',
      'm=audio 4002 RTP/AVP 0',
    );
    expect(parsed(sessionLevel).audio.direction).toBe('sendonly');
    const both = sessionLevel.replace('RTP/AVP 0\r\nm=', 'RTP/AVP 0\r\na=inactive\r\nm=');
    expect(parsed(both).audio.direction).toBe('inactive');
  });

  it('reads a=rtcp (RFC 3605)', () => {
    const a = parsed(body('m=audio 4000 RTP/AVP 0', 'a=rtcp:4005 IN IP4 10.1.1.2')).audio;
    expect(a.rtcp).toEqual({ port: 4005, address: '10.1.1.2' });
    expect(parsed(body('m=audio 4000 RTP/AVP 0', 'a=rtcp:4009')).audio.rtcp).toEqual({
      port: 4009,
    });
  });
});

describe('parseSdp: refusals (488)', () => {
  it.each([
    ['garbage', 'hello world'],
    ['an empty body', ''],
    ['junk before v=', `\r\n${SIPP_UAC}`],
    ['v=1', SIPP_UAC.replace('v=0', 'v=1')],
    ['no o= line', SIPP_UAC.replace('o=user1 53655765 2353687637 IN IP4 127.0.0.1\r\n', '')],
    ['a non-numeric port', body('m=audio abc RTP/AVP 0')],
    ['a port above 65535', body('m=audio 70000 RTP/AVP 0')],
    ['an m-line without formats', body('m=audio 4000 RTP/AVP')],
    ['a payload type above 127', body('m=audio 4000 RTP/AVP 0 128')],
    ['a non-numeric payload type', body('m=audio 4000 RTP/AVP 0 x')],
    ['an unreadable rtpmap', body('m=audio 4000 RTP/AVP 0', 'a=rtpmap:abc PCMU/8000')],
    ['an rtpmap without clock rate', body('m=audio 4000 RTP/AVP 96', 'a=rtpmap:96 PCMU')],
    ['an rtpmap with bad channels', body('m=audio 4000 RTP/AVP 96', 'a=rtpmap:96 L16/8000/x')],
    [
      'a payload type mapped twice',
      body('m=audio 4000 RTP/AVP 96', 'a=rtpmap:96 PCMU/8000', 'a=rtpmap:96 PCMA/8000'),
    ],
    ['no c= at all', SIPP_UAC.replace('c=IN IP4 127.0.0.1\r\n', '')],
    ['a bad IPv4 address', SIPP_UAC.replace('c=IN IP4 127.0.0.1', 'c=IN IP4 999.0.0.1')],
    ['an IPv6 address marked IP4', SIPP_UAC.replace('c=IN IP4 127.0.0.1', 'c=IN IP4 ::1')],
    ['an unknown address type', SIPP_UAC.replace('c=IN IP4 127.0.0.1', 'c=IN IP7 1.2.3.4')],
  ])('refuses %s as malformed', (_what, text) => {
    expect(refused(text).code).toBe('SDP_MALFORMED');
  });

  it('refuses a body with no m=audio', () => {
    expect(refused(SIPP_UAC.replace(/m=audio[^]*$/, '')).code).toBe('SDP_NO_AUDIO');
    expect(refused(body('m=video 4000 RTP/AVP 96', 'a=rtpmap:96 H264/90000')).code).toBe(
      'SDP_NO_AUDIO',
    );
  });

  it('refuses SRTP, multicast and host names as unsupported', () => {
    const savp = refused(body('m=audio 4000 RTP/SAVP 0'));
    expect(savp).toEqual({ code: 'SDP_UNSUPPORTED', reason: 'SRTP (RTP/SAVP) is not supported' });
    // WebRTC's profile is supported (webrtc.test.ts), but not without ICE and a fingerprint.
    expect(refused(body('m=audio 4000 UDP/TLS/RTP/SAVPF 111'))).toEqual({
      code: 'SDP_MALFORMED',
      reason: 'SAVPF audio without a=ice-ufrag and a=ice-pwd',
    });
    const multicast = SIPP_UAC.replace('c=IN IP4 127.0.0.1', 'c=IN IP4 224.2.1.1/127');
    expect(refused(multicast).code).toBe('SDP_UNSUPPORTED');
    const host = SIPP_UAC.replace('c=IN IP4 127.0.0.1', 'c=IN IP4 media.example.com');
    expect(refused(host).code).toBe('SDP_UNSUPPORTED');
  });

  it('refuses a body larger than MAX_SDP_LENGTH without parsing it', () => {
    const big = BARESIP + `a=x-pad:${'x'.repeat(MAX_SDP_LENGTH)}\r\n`;
    expect(refused(big).code).toBe('SDP_MALFORMED');
  });

  it('tolerates what it does not use: an unnamed dynamic type, odd attributes', () => {
    expect(parseSdp(G729_ONLY).ok).toBe(true);
    expect(parseSdp(body('m=audio 4000 RTP/AVP 0', 'a=ptime:abc', 'a=x-foo')).ok).toBe(true);
  });

  it('never throws on mangled bodies', () => {
    // A deterministic generator (xorshift) mangles a real offer byte by byte.
    let seed = 0x2545f491;
    const next = (): number => {
      seed ^= seed << 13;
      seed ^= seed >>> 17;
      seed ^= seed << 5;
      return (seed >>> 0) / 2 ** 32;
    };
    const alphabet = 'v=0 mc\r\n:/aIPN-\u0000\u00ff9';
    for (let round = 0; round < 2000; round++) {
      const chars = [...BARESIP];
      const edits = 1 + Math.floor(next() * 6);
      for (let e = 0; e < edits; e++) {
        const at = Math.floor(next() * chars.length);
        const op = next();
        const c = alphabet[Math.floor(next() * alphabet.length)] ?? 'x';
        if (op < 0.4) chars[at] = c;
        else if (op < 0.7) chars.splice(at, 1);
        else chars.splice(at, 0, c);
      }
      const result = parseSdp(chars.join(''));
      expect(typeof result.ok).toBe('boolean');
      if (!result.ok) expect(result.reason.length).toBeGreaterThan(0);
    }
  });
});
