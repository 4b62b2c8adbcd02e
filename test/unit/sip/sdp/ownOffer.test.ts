/**
 * Our own offer (late-offer INVITE, offerless re-INVITE) and the leg read from the
 * answer to it (RFC 3264 §5, §6.1): the offer lists every supported codec (a preferred
 * one first) and telephone-event; answeredLeg() takes the answerer's first codec we
 * offered, its payload types, address and direction, and refuses what cannot be used.
 */
import { describe, expect, it } from '@jest/globals';
import {
  answeredLeg,
  buildSdp,
  ownOffer,
  type AnchorPolicy,
  type SdpDescription,
} from '../../../../sip/sdp/index.js';
import { sdp } from './fixtures.js';
import { session } from './helpers.js';

const POLICY: AnchorPolicy = { supported: ['PCMU', 'PCMA'] };
const TOWARD = { address: '203.0.113.5', port: 30000 };

function answer(m: string, ...attributes: string[]) {
  return session(
    sdp('v=0', 'o=- 9 9 IN IP4 10.2.2.2', 's=-', 'c=IN IP4 10.2.2.2', 't=0 0', m, ...attributes),
  );
}

function leg(sent: SdpDescription, m: string, ...attributes: string[]) {
  const result = answeredLeg(sent, answer(m, ...attributes));
  if (!result.ok) throw new Error(`answeredLeg failed: ${result.reason}`);
  return result.leg;
}

describe('ownOffer', () => {
  it('offers every supported codec in our order, telephone-event 101, sendrecv', () => {
    const offer = ownOffer(TOWARD, POLICY);
    expect(offer.codecs.map((c) => [c.name, c.payloadType])).toEqual([
      ['PCMU', 0],
      ['PCMA', 8],
    ]);
    expect(offer.telephoneEvent).toEqual({ payloadType: 101 });
    expect(offer.direction).toBe('sendrecv');
    const body = buildSdp({ ...offer, origin: { username: 'x', sessionId: 1, sessionVersion: 1 } });
    expect(body).toContain('m=audio 30000 RTP/AVP 0 8 101\r\n');
    expect(body).toContain('c=IN IP4 203.0.113.5\r\n');
  });

  it('puts a preferred codec first', () => {
    expect(ownOffer(TOWARD, POLICY, 'PCMA').codecs.map((c) => c.name)).toEqual(['PCMA', 'PCMU']);
  });

  it('follows the policy: no telephone-event, its payload type, ptime, rtcp-mux', () => {
    expect(ownOffer(TOWARD, { ...POLICY, telephoneEvent: false }).telephoneEvent).toBeUndefined();
    const offer = ownOffer(TOWARD, {
      ...POLICY,
      telephoneEventPayloadType: 96,
      ptime: 20,
      rtcpMux: true,
    });
    expect(offer.telephoneEvent).toEqual({ payloadType: 96 });
    expect(offer.ptime).toBe(20);
    expect(offer.rtcpMux).toBe(true);
  });
});

describe('answeredLeg', () => {
  const sent = ownOffer(TOWARD, POLICY);

  it('takes the answer’s first codec we offered, its address and port', () => {
    const l = leg(sent, 'm=audio 4000 RTP/AVP 8 0', 'a=rtpmap:8 PCMA/8000');
    expect(l.codec).toEqual({
      name: 'PCMA',
      clockRate: 8000,
      sendPayloadType: 8,
      receivePayloadType: 8,
    });
    expect(l.remote).toEqual({ address: '10.2.2.2', port: 4000 });
    expect(l.direction).toBe('sendrecv');
    expect(l.telephoneEvent).toBeUndefined();
  });

  it('maps telephone-event: we send with the answer’s payload type, receive with ours', () => {
    const l = leg(
      sent,
      'm=audio 4000 RTP/AVP 0 100',
      'a=rtpmap:100 telephone-event/8000',
      'a=fmtp:100 0-15',
    );
    expect(l.telephoneEvent).toEqual({
      sendPayloadType: 100,
      receivePayloadType: 101,
      clockRate: 8000,
    });
  });

  it('reverses the answer’s direction for our side (recvonly answer → we only send)', () => {
    expect(leg(sent, 'm=audio 4000 RTP/AVP 0', 'a=recvonly').direction).toBe('sendonly');
    expect(leg(sent, 'm=audio 4000 RTP/AVP 0', 'a=inactive').direction).toBe('inactive');
  });

  it('refuses a declined stream and an answer with no codec we offered', () => {
    const declined = answeredLeg(sent, answer('m=audio 0 RTP/AVP 0'));
    expect(declined).toMatchObject({ ok: false, code: 'SDP_AUDIO_DISABLED' });
    const g729 = answeredLeg(sent, answer('m=audio 4000 RTP/AVP 18', 'a=rtpmap:18 G729/8000'));
    expect(g729).toMatchObject({ ok: false, code: 'SDP_NO_COMMON_CODEC' });
  });
});
