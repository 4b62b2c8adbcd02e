/** Answering an offer at the server (a supervisor's monitoring call). */
import { describe, expect, it } from '@jest/globals';
import { answerOffer } from '../../../../sip/sdp/localAnswer.js';
import { buildSdp, type AnchorPolicy } from '../../../../sip/sdp/index.js';
import { BARESIP, G729_ONLY, PCMA_ONLY, VIDEO_AND_AUDIO, baresipWith } from './fixtures.js';
import { session } from './helpers.js';

const POLICY: AnchorPolicy = { supported: ['PCMU', 'PCMA'], ptime: 20 };
const US = { address: '203.0.113.5', port: 30000 };
const ORIGIN = { username: 'callwatch', sessionId: 1, sessionVersion: 1 };

describe('answerOffer', () => {
  it('keeps the offer’s first codec and its telephone-event, at our address', () => {
    const answer = answerOffer(session(BARESIP), US, POLICY);
    if (!answer.ok) throw new Error(answer.reason);
    const text = buildSdp({ ...answer.description, origin: ORIGIN });
    expect(text).toContain('c=IN IP4 203.0.113.5');
    expect(text).toContain('m=audio 30000 RTP/AVP 0 101');
    expect(text).toContain('a=sendrecv');
    expect(answer.leg.remote).toEqual({ address: '192.168.1.10', port: 10004 });
    expect(answer.leg.codec).toMatchObject({ name: 'PCMU', sendPayloadType: 0 });
    expect(answer.leg.telephoneEvent).toEqual({
      sendPayloadType: 101,
      receivePayloadType: 101,
      clockRate: 8000,
    });
    expect(answer.leg.direction).toBe('sendrecv');
  });

  it('answers a PCMA-only phone with PCMA and no telephone-event', () => {
    const answer = answerOffer(session(PCMA_ONLY), US, POLICY);
    if (!answer.ok) throw new Error(answer.reason);
    expect(answer.leg.codec.name).toBe('PCMA');
    expect(answer.leg.telephoneEvent).toBeUndefined();
    expect(answer.description.telephoneEvent).toBeUndefined();
  });

  it('answers a held (sendonly) offer recvonly', () => {
    const answer = answerOffer(session(baresipWith('sendonly')), US, POLICY);
    if (!answer.ok) throw new Error(answer.reason);
    expect(answer.description.direction).toBe('recvonly');
    expect(answer.leg.direction).toBe('recvonly');
  });

  it('rejects the other m-lines with port 0', () => {
    const answer = answerOffer(session(VIDEO_AND_AUDIO), US, POLICY);
    if (!answer.ok) throw new Error(answer.reason);
    const text = buildSdp({ ...answer.description, origin: ORIGIN });
    expect(text).toMatch(/m=video 0 /);
  });

  it('fails without a common codec', () => {
    const answer = answerOffer(session(G729_ONLY), US, POLICY);
    expect(answer.ok).toBe(false);
  });
});
