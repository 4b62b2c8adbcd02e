/**
 * WebRTC audio in SDP (UDP/TLS/RTP/SAVPF): reading what Chrome offers, answering it
 * ICE-lite with our fingerprint and the setup the offer asks for, offering a browser
 * (actpass, Opus first, BUNDLE), and a call between a browser and a plain RTP phone where
 * each leg keeps its own profile. Bodies go through buildSdp/parseSdp as on the wire.
 */
import { describe, expect, it } from '@jest/globals';
import {
  answeredLeg,
  buildSdp,
  parseSdp,
  relayAnswer,
  relayOffer,
  type AnchorPolicy,
  type WebRtcIdentity,
} from '../../../../sip/sdp/index.js';
import { answerOffer } from '../../../../sip/sdp/localAnswer.js';
import { ownOffer } from '../../../../sip/sdp/ownOffer.js';
import { SIPP_UAC, sdp } from './fixtures.js';
import { ORIGIN, TOWARD_A, TOWARD_B, bAnswer, session } from './helpers.js';

const FP =
  'A1:B2:C3:D4:E5:F6:07:18:29:3A:4B:5C:6D:7E:8F:90:A1:B2:C3:D4:E5:F6:07:18:29:3A:4B:5C:6D:7E:8F:90';
const OUR_FP =
  '11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00';

/** What Chrome offers for one audio track (trimmed of its many extmap lines). */
function chromeOffer(
  payloads = '111 63 9 0 8 13 110 126',
  extra: string[] = [],
  setup = 'actpass',
): string {
  return sdp(
    'v=0',
    'o=- 4611731400430051336 2 IN IP4 127.0.0.1',
    's=-',
    't=0 0',
    'a=group:BUNDLE 0',
    'a=extmap-allow-mixed',
    'a=msid-semantic: WMS',
    `m=audio 9 UDP/TLS/RTP/SAVPF ${payloads}`,
    'c=IN IP4 0.0.0.0',
    'a=rtcp:9 IN IP4 0.0.0.0',
    'a=candidate:1 1 udp 2122260223 192.0.2.7 54321 typ host generation 0',
    'a=ice-ufrag:ChRm',
    'a=ice-pwd:chromepasswordchromepassword',
    'a=ice-options:trickle',
    `a=fingerprint:sha-256 ${FP}`,
    `a=setup:${setup}`,
    'a=mid:0',
    'a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level',
    'a=sendrecv',
    'a=msid:- 5b0e1c2a-1a2b',
    'a=rtcp-mux',
    'a=rtpmap:111 opus/48000/2',
    'a=rtcp-fb:111 transport-cc',
    'a=fmtp:111 minptime=10;useinbandfec=1',
    'a=rtpmap:63 red/48000/2',
    'a=fmtp:63 111/111',
    'a=rtpmap:9 G722/8000',
    'a=rtpmap:0 PCMU/8000',
    'a=rtpmap:8 PCMA/8000',
    'a=rtpmap:13 CN/8000',
    'a=rtpmap:110 telephone-event/48000',
    'a=rtpmap:126 telephone-event/8000',
    'a=ssrc:1001 cname:abcd',
    ...extra,
  );
}

const IDENTITY: WebRtcIdentity = {
  ice: { ufrag: 'ourU', pwd: 'ourpasswordourpassword' },
  fingerprint: { algorithm: 'sha-256', value: OUR_FP },
  candidates: [{ address: '203.0.113.5', port: 30000 }],
};

const POLICY: AnchorPolicy = { supported: ['opus', 'PCMU', 'PCMA'], ptime: 20 };

describe('parseSdp: a WebRTC offer', () => {
  it('reads ICE, the fingerprint, setup, mid, BUNDLE and candidates; rtcp-mux, no hold', () => {
    const s = session(chromeOffer());
    const a = s.audio;
    expect(a.protocol).toBe('UDP/TLS/RTP/SAVPF');
    expect(a.nullAddress).toBe(false); // c=0.0.0.0 is ICE's placeholder, not a hold
    expect(a.rtcpMux).toBe(true);
    expect(a.webrtc).toEqual({
      ice: { ufrag: 'ChRm', pwd: 'chromepasswordchromepassword' },
      iceLite: false,
      fingerprints: [{ algorithm: 'sha-256', value: FP }],
      setup: 'actpass',
      mid: '0',
      bundled: true,
      candidates: [{ address: '192.0.2.7', port: 54321, transport: 'udp', type: 'host' }],
    });
  });

  it('refuses SAVPF without ICE credentials or a fingerprint, and SDES RTP/SAVP as before', () => {
    const noIce = chromeOffer().replace(/a=ice-(ufrag|pwd):.*\r\n/g, '');
    const noFp = chromeOffer().replace(/a=fingerprint:.*\r\n/, '');
    expect(parseSdp(noIce)).toMatchObject({ ok: false, code: 'SDP_MALFORMED' });
    expect(parseSdp(noFp)).toMatchObject({ ok: false, code: 'SDP_MALFORMED' });
    const sdes = SIPP_UAC.replace('RTP/AVP', 'RTP/SAVP');
    expect(parseSdp(sdes)).toMatchObject({ ok: false, code: 'SDP_UNSUPPORTED' });
  });
});

describe('answering a browser (relayAnswer, answerOffer)', () => {
  it('answers ICE-lite, passive, our fingerprint and candidate, BUNDLE and mid echoed, rtcp-mux', () => {
    const relayed = relayOffer(session(chromeOffer()), TOWARD_B, POLICY);
    if (!relayed.ok) throw new Error(relayed.reason);
    // B is a plain RTP phone: our offer to it is RTP/AVP, no ICE.
    const toB = buildSdp({ ...relayed.description, origin: ORIGIN });
    expect(toB).toContain('m=audio 30002 RTP/AVP ');
    expect(toB).not.toMatch(/ice-|fingerprint|setup/);
    const answer = relayAnswer(
      relayed,
      session(bAnswer('m=audio 4000 RTP/AVP 0 101', 'a=rtpmap:101 telephone-event/8000')),
      { ...TOWARD_A, webrtc: IDENTITY },
    );
    if (!answer.ok) throw new Error(answer.reason);
    const body = buildSdp({ ...answer.description, origin: ORIGIN });
    expect(body).toContain('a=ice-lite\r\n');
    expect(body).toContain('a=group:BUNDLE 0\r\n');
    expect(body).toContain('m=audio 30000 UDP/TLS/RTP/SAVPF 111 110\r\n');
    expect(body).toContain('a=ice-ufrag:ourU\r\n');
    expect(body).toContain('a=ice-pwd:ourpasswordourpassword\r\n');
    expect(body).toContain(`a=fingerprint:sha-256 ${OUR_FP}\r\n`);
    expect(body).toContain('a=setup:passive\r\n');
    expect(body).toContain('a=mid:0\r\n');
    expect(body).toContain('a=rtcp-mux\r\n');
    expect(body).toMatch(/a=candidate:1 1 udp \d+ 203\.0\.113\.5 30000 typ host\r\n/);
    // The browser leg keeps Opus (wideband; the engine transcodes to B's PCMU).
    expect(answer.offerer.codec.name).toBe('opus');
    expect(answer.offerer.webrtc?.dtlsRole).toBe('server');
    expect(answer.offerer.webrtc?.remote.ice.ufrag).toBe('ChRm');
    expect(answer.answerer.webrtc).toBeUndefined();
    // Our own answer parses as WebRTC.
    expect(session(body).audio.webrtc?.iceLite).toBe(true);
  });

  it('never reintroduces a codec the offer narrowed away', () => {
    // The browser offers PCMU only (with its events): the answer lists PCMU only.
    const offer = session(
      chromeOffer('0 126', []).replace(
        /a=rtpmap:(111|63|9|8|13|110).*\r\n|a=fmtp:(111|63).*\r\n|a=rtcp-fb:111.*\r\n/g,
        '',
      ),
    );
    const answer = answerOffer(offer, { ...TOWARD_A, webrtc: IDENTITY }, POLICY);
    if (!answer.ok) throw new Error(answer.reason);
    const body = buildSdp({ ...answer.description, origin: ORIGIN });
    expect(body).toContain('m=audio 30000 UDP/TLS/RTP/SAVPF 0 126\r\n');
    expect(body).not.toMatch(/opus|PCMA|G722/);
    const offered = new Set(offer.audio.formats.map((f) => f.payloadType));
    for (const pt of session(body).audio.formats.map((f) => f.payloadType)) {
      expect(offered.has(pt)).toBe(true);
    }
  });

  it('answers a passive offer active (we are the DTLS client)', () => {
    const answer = answerOffer(
      session(chromeOffer(undefined, [], 'passive')),
      { ...TOWARD_A, webrtc: IDENTITY },
      POLICY,
    );
    if (!answer.ok) throw new Error(answer.reason);
    expect(answer.description.webrtc?.setup).toBe('active');
    expect(answer.leg.webrtc?.dtlsRole).toBe('client');
  });

  it('refuses to answer a WebRTC offer without our identity (no plain answer to SAVPF)', () => {
    expect(answerOffer(session(chromeOffer()), TOWARD_A, POLICY)).toMatchObject({
      ok: false,
      code: 'SDP_UNSUPPORTED',
    });
  });
});

describe('offering a browser (relayOffer toward a WebRTC leg, ownOffer)', () => {
  it('offers SAVPF actpass, Opus first then PCMU, PCMA, telephone-event, BUNDLE of mid 0', () => {
    const relayed = relayOffer(session(SIPP_UAC), { ...TOWARD_B, webrtc: IDENTITY }, POLICY);
    if (!relayed.ok) throw new Error(relayed.reason);
    const body = buildSdp({ ...relayed.description, origin: ORIGIN });
    const m = /m=audio 30002 UDP\/TLS\/RTP\/SAVPF ([\d ]+)\r\n/.exec(body);
    expect(m).not.toBeNull();
    const s = session(body).audio;
    expect(s.formats.map((f) => f.name.toLowerCase())).toEqual([
      'opus',
      'pcmu',
      'pcma',
      'telephone-event',
      'telephone-event',
    ]);
    expect(body).toContain('a=setup:actpass\r\n');
    expect(body).toContain('a=group:BUNDLE 0\r\n');
    expect(body).toContain('a=rtcp-mux\r\n');
    // The browser answers active: we are the DTLS server of that leg.
    const browserAnswer = chromeOffer('111 110', [], 'active').replace(
      /a=rtpmap:(63|9|0|8|13|126).*\r\n|a=fmtp:63.*\r\n/g,
      '',
    );
    const leg = answeredLeg(relayed.description, session(browserAnswer));
    if (!leg.ok) throw new Error(leg.reason);
    expect(leg.leg.webrtc?.dtlsRole).toBe('server');
    expect(leg.leg.codec.name).toBe('opus');
    const own = ownOffer({ ...TOWARD_B, webrtc: IDENTITY }, POLICY);
    expect(own.webrtc?.setup).toBe('actpass');
  });

  it('refuses a plain RTP/AVP answer to our WebRTC offer, and a SAVPF answer to a plain one', () => {
    const secure = relayOffer(session(SIPP_UAC), { ...TOWARD_B, webrtc: IDENTITY }, POLICY);
    const plain = relayOffer(session(SIPP_UAC), TOWARD_B, POLICY);
    if (!secure.ok || !plain.ok) throw new Error('offer refused');
    const rtpAnswer = session(bAnswer('m=audio 4000 RTP/AVP 0'));
    expect(answeredLeg(secure.description, rtpAnswer)).toMatchObject({ ok: false });
    expect(answeredLeg(plain.description, session(chromeOffer()))).toMatchObject({ ok: false });
  });
});
