/**
 * The B2BUA's offer/answer relay: A offers, the server offers B, B answers, the server
 * answers A. Bodies go through buildSdp/parseSdp as they would on the wire.
 */
import { describe, expect, it } from '@jest/globals';
import {
  createLocalSdp,
  relayAnswer,
  relayOffer,
  renderLocalSdp,
  type AnchorPolicy,
  type RelayedOffer,
} from '../../../../sip/sdp/index.js';
import {
  BARESIP,
  G729_ONLY,
  PCMA_ONLY,
  SIPP_UAC,
  VIDEO_AND_AUDIO,
  baresipWith,
  sdp,
} from './fixtures.js';
import {
  ORIGIN,
  TOWARD_A,
  TOWARD_B,
  answerToA,
  bAnswer,
  relayedOffer,
  session,
  wire,
} from './helpers.js';

const POLICY: AnchorPolicy = { supported: ['PCMU', 'PCMA'], ptime: 20 };

function offerToB(a: string, policy: AnchorPolicy = POLICY): RelayedOffer {
  return relayedOffer(a, policy);
}

describe('relayOffer: the offer to leg B', () => {
  it("offers our codecs in baresip's order, its telephone-event type and direction", () => {
    const relayed = offerToB(BARESIP);
    expect(relayed.description).toEqual({
      address: '203.0.113.5',
      port: 30002,
      codecs: [
        { name: 'PCMU', payloadType: 0, clockRate: 8000 },
        { name: 'PCMA', payloadType: 8, clockRate: 8000 },
      ],
      telephoneEvent: { payloadType: 101 },
      direction: 'sendrecv',
      ptime: 20,
    });
  });

  it("puts A's codecs first, then the rest of ours (transcoding), unless told not to", () => {
    expect(offerToB(PCMA_ONLY).description.codecs.map((c) => c.name)).toEqual(['PCMA', 'PCMU']);
    const strict = offerToB(PCMA_ONLY, { ...POLICY, transcode: false });
    expect(strict.description.codecs.map((c) => c.name)).toEqual(['PCMA']);
  });

  it("renumbers A's dynamic codec types but keeps A's telephone-event type", () => {
    const a = sdp(
      'v=0',
      'o=- 1 1 IN IP4 10.1.1.1',
      's=-',
      'c=IN IP4 10.1.1.1',
      't=0 0',
      'm=audio 4000 RTP/AVP 96 97',
      'a=rtpmap:96 PCMU/8000',
      'a=rtpmap:97 telephone-event/8000',
    );
    const relayed = offerToB(a);
    expect(relayed.description.codecs[0]).toEqual({
      name: 'PCMU',
      payloadType: 0,
      clockRate: 8000,
    });
    expect(relayed.description.telephoneEvent).toEqual({ payloadType: 97 });
  });

  it('offers telephone-event with the fixed type when A has none, or not at all', () => {
    expect(offerToB(PCMA_ONLY).description.telephoneEvent).toEqual({ payloadType: 101 });
    const custom = offerToB(PCMA_ONLY, { ...POLICY, telephoneEventPayloadType: 120 });
    expect(custom.description.telephoneEvent).toEqual({ payloadType: 120 });
    const none = offerToB(BARESIP, { ...POLICY, telephoneEvent: false });
    expect(none.description.telephoneEvent).toBeUndefined();
  });

  it('refuses an offer we cannot take (→ 488 to A without bothering B)', () => {
    const result = relayOffer(session(G729_ONLY), TOWARD_B, POLICY);
    expect(result).toEqual({ ok: false, code: 'SDP_NO_COMMON_CODEC', reason: 'no common codec' });
  });

  it('offers B rtcp-mux only when the media engine multiplexes', () => {
    expect(offerToB(BARESIP).description.rtcpMux).toBeUndefined();
    expect(offerToB(BARESIP, { ...POLICY, rtcpMux: true }).description.rtcpMux).toBe(true);
  });
});

describe('relayAnswer: the answer to leg A', () => {
  it('baresip → SIPp: same codec both sides, payload types per leg', () => {
    const relayed = offerToB(BARESIP);
    const answer = answerToA(relayed, SIPP_UAC.replace('6000', '6010'));
    expect(answer.description).toEqual({
      address: '203.0.113.5',
      port: 30000,
      codecs: [{ name: 'PCMU', payloadType: 0, clockRate: 8000 }],
      telephoneEvent: { payloadType: 101, events: '0-15' },
      direction: 'sendrecv',
      ptime: 20,
    });
    expect(answer.offerer).toEqual({
      remote: { address: '192.168.1.10', port: 10004 },
      rtcpMux: false,
      codec: { name: 'PCMU', clockRate: 8000, sendPayloadType: 0, receivePayloadType: 0 },
      codecs: [{ name: 'PCMU', clockRate: 8000, sendPayloadType: 0, receivePayloadType: 0 }],
      telephoneEvent: { sendPayloadType: 101, receivePayloadType: 101, clockRate: 8000 },
      direction: 'sendrecv',
      ptime: 20,
    });
    expect(answer.answerer).toEqual({
      remote: { address: '127.0.0.1', port: 6010 },
      rtcpMux: false,
      codec: { name: 'PCMU', clockRate: 8000, sendPayloadType: 0, receivePayloadType: 0 },
      codecs: [{ name: 'PCMU', clockRate: 8000, sendPayloadType: 0, receivePayloadType: 0 }],
      direction: 'sendrecv',
    });
  });

  it('PCMU phone calls PCMA phone: each leg keeps its codec (transcoding)', () => {
    const relayed = offerToB(SIPP_UAC);
    const answer = answerToA(relayed, PCMA_ONLY);
    expect(answer.description.codecs).toEqual([{ name: 'PCMU', payloadType: 0, clockRate: 8000 }]);
    expect(answer.offerer.codec.name).toBe('PCMU');
    expect(answer.answerer.codec.name).toBe('PCMA');
  });

  it("answers A with A's numbers and B's telephone-event with B's", () => {
    const a = sdp(
      'v=0',
      'o=- 1 1 IN IP4 10.1.1.1',
      's=-',
      'c=IN IP4 10.1.1.1',
      't=0 0',
      'm=audio 4000 RTP/AVP 97 96 98',
      'a=rtpmap:96 PCMU/8000',
      'a=rtpmap:97 PCMA/8000',
      'a=rtpmap:98 telephone-event/8000',
    );
    const relayed = offerToB(a);
    // B uses its own number for telephone-event (a SHOULD, not a MUST, in RFC 3264 §6.1).
    const answer = answerToA(
      relayed,
      bAnswer('m=audio 5000 RTP/AVP 8 100', 'a=rtpmap:100 telephone-event/8000'),
    );
    expect(answer.description.codecs).toEqual([{ name: 'PCMA', payloadType: 97, clockRate: 8000 }]);
    expect(answer.description.telephoneEvent).toEqual({ payloadType: 98 });
    expect(answer.answerer.telephoneEvent).toEqual({
      sendPayloadType: 100,
      receivePayloadType: 98,
      clockRate: 8000,
    });
    expect(answer.offerer.telephoneEvent).toEqual({
      sendPayloadType: 98,
      receivePayloadType: 98,
      clockRate: 8000,
    });
  });

  it('takes the first codec B lists that we offered', () => {
    const relayed = offerToB(BARESIP);
    const answer = answerToA(
      relayed,
      bAnswer('m=audio 5000 RTP/AVP 18 8 0', 'a=rtpmap:18 G729/8000'),
    );
    expect(answer.answerer.codec.name).toBe('PCMA');
    expect(answer.description.codecs[0]?.payloadType).toBe(8);
  });

  it("rejects A's video m-line with port 0 in place (RFC 3264 §6)", () => {
    const relayed = offerToB(VIDEO_AND_AUDIO);
    expect(wire(relayed).media).toHaveLength(1);
    const answer = answerToA(relayed, SIPP_UAC);
    const back = wire(answer);
    expect(back.media.map((m) => `${m.type} ${m.port} ${m.formats.join(' ')}`)).toEqual([
      'video 0 96 97',
      'audio 30000 0 101',
    ]);
    expect(back.audio.index).toBe(1);
  });

  it('fails when B declines the audio or answers none of our codecs', () => {
    const relayed = offerToB(BARESIP);
    const declined = relayAnswer(relayed, session(bAnswer('m=audio 0 RTP/AVP 0')), TOWARD_A);
    expect(declined.ok === false && declined.code).toBe('SDP_AUDIO_DISABLED');
    const none = relayAnswer(relayed, session(G729_ONLY), TOWARD_A);
    expect(none.ok === false && none.code).toBe('SDP_NO_COMMON_CODEC');
  });

  it('uses rtcp-mux on a leg only when both that peer and the engine do', () => {
    const policy = { ...POLICY, rtcpMux: true };
    const relayed = offerToB(BARESIP, policy);
    const answer = answerToA(relayed, bAnswer('m=audio 5000 RTP/AVP 0', 'a=rtcp-mux'));
    expect(answer.description.rtcpMux).toBeUndefined();
    expect(answer.offerer.rtcpMux).toBe(false);
    expect(answer.answerer.rtcpMux).toBe(true);
  });
});

describe('hold and resume through the relay (RFC 3264 §8.4)', () => {
  /** A re-offers with `direction`; B answers as RFC 3264 §6.1 asks. */
  function holdFromA(aBody: string, bDirection: string) {
    const relayed = offerToB(aBody);
    const answer = answerToA(
      relayed,
      bAnswer('m=audio 5000 RTP/AVP 0 101', 'a=rtpmap:101 telephone-event/8000', `a=${bDirection}`),
    );
    return {
      offered: relayed.description.direction,
      answered: answer.description.direction,
      answer,
    };
  }

  it('A holds with sendonly: B is offered sendonly, A is answered recvonly', () => {
    const { offered, answered, answer } = holdFromA(baresipWith('sendonly'), 'recvonly');
    expect([offered, answered]).toEqual(['sendonly', 'recvonly']);
    // The engine sends nothing to A and nothing is expected from B.
    expect(answer.offerer.direction).toBe('recvonly');
    expect(answer.answerer.direction).toBe('sendonly');
  });

  it('A holds with inactive: inactive both ways', () => {
    const { offered, answered } = holdFromA(baresipWith('inactive'), 'inactive');
    expect([offered, answered]).toEqual(['inactive', 'inactive']);
  });

  it('A holds the RFC 2543 way (c=0.0.0.0): B is offered sendonly with our address', () => {
    const old = BARESIP.replace('c=IN IP4 192.168.1.10', 'c=IN IP4 0.0.0.0');
    const relayed = offerToB(old);
    expect(relayed.description.direction).toBe('sendonly');
    expect(relayed.description.address).toBe('203.0.113.5');
  });

  it("keeps A's answer within A's offer even when B answers sendrecv to sendonly", () => {
    const { answered } = holdFromA(baresipWith('sendonly'), 'sendrecv');
    expect(answered).toBe('recvonly');
  });

  it('B holds: the re-offer to A keeps the rejected video m-line and bumps the version', () => {
    // Initial call: A (video phone) offered, B answered; our answer to A went out.
    const initial = offerToB(VIDEO_AND_AUDIO);
    const toA = answerToA(initial, SIPP_UAC);
    const legA = renderLocalSdp(createLocalSdp({ ...ORIGIN, sessionId: '77' }), toA.description);
    // B re-INVITEs with sendonly: the server re-offers A, keeping A's m-line layout.
    const bHold = session(
      SIPP_UAC.replace('a=rtpmap:0 PCMU/8000', 'a=rtpmap:0 PCMU/8000\r\na=sendonly'),
    );
    const reOffer = relayOffer(
      bHold,
      { ...TOWARD_A, rejectedStreams: toA.description.rejectedStreams },
      POLICY,
    );
    if (!reOffer.ok) throw new Error(reOffer.reason);
    const next = renderLocalSdp(legA, reOffer.description);
    expect(next.origin.sessionVersion).toBe(2);
    const lines = (next.body ?? '').split('\r\n');
    expect(lines.filter((l) => l.startsWith('m='))).toEqual([
      'm=video 0 RTP/AVP 96 97',
      'm=audio 30000 RTP/AVP 0 8 101',
    ]);
    expect(lines).toContain('a=sendonly');
  });
});
