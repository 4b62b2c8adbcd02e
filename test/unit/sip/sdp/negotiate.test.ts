import { describe, expect, it } from '@jest/globals';
import { negotiateAudio } from '../../../../sip/sdp/index.js';
import { BARESIP, G729_ONLY, PCMA_ONLY, SIPP_UAC, sdp } from './fixtures.js';
import { session } from './helpers.js';

const G711 = ['PCMU', 'PCMA'] as const;

function offer(m: string, ...attributes: string[]) {
  return session(
    sdp('v=0', 'o=- 1 1 IN IP4 10.1.1.1', 's=-', 'c=IN IP4 10.1.1.1', 't=0 0', m, ...attributes),
  ).audio;
}

describe('negotiateAudio (RFC 3264 §6.1)', () => {
  it("takes baresip's first codec and its telephone-event", () => {
    expect(negotiateAudio(session(BARESIP).audio, G711)).toEqual({
      ok: true,
      codec: { name: 'PCMU', payloadType: 0, clockRate: 8000 },
      common: [
        { name: 'PCMU', payloadType: 0, clockRate: 8000 },
        { name: 'PCMA', payloadType: 8, clockRate: 8000 },
      ],
      telephoneEvent: { payloadType: 101, clockRate: 8000, fmtp: '0-15' },
      telephoneEvents: [{ payloadType: 101, clockRate: 8000, fmtp: '0-15' }],
    });
  });

  it('answers a PCMA-only offer with PCMA', () => {
    const result = negotiateAudio(session(PCMA_ONLY).audio, G711);
    expect(result.ok && result.codec).toEqual({ name: 'PCMA', payloadType: 8, clockRate: 8000 });
    expect(result.ok && result.telephoneEvent).toBeUndefined();
  });

  it("keeps the offer's order over ours, unless told to prefer ours", () => {
    const a = offer('m=audio 4000 RTP/AVP 8 0');
    const byOffer = negotiateAudio(a, G711);
    expect(byOffer.ok && byOffer.codec.name).toBe('PCMA');
    const byUs = negotiateAudio(a, G711, { prefer: 'ours' });
    expect(byUs.ok && byUs.codec.name).toBe('PCMU');
    const onlyOurs = negotiateAudio(session(SIPP_UAC).audio, ['PCMA']);
    expect(onlyOurs.ok).toBe(false);
  });

  it("uses the offerer's payload type for a codec on a dynamic number", () => {
    const a = offer(
      'm=audio 4000 RTP/AVP 96 97',
      'a=rtpmap:96 pcmu/8000',
      'a=rtpmap:97 telephone-event/8000',
    );
    const result = negotiateAudio(a, G711);
    expect(result.ok && result.codec).toEqual({ name: 'PCMU', payloadType: 96, clockRate: 8000 });
    expect(result.ok && result.telephoneEvent).toEqual({ payloadType: 97, clockRate: 8000 });
  });

  it('ignores formats that only share a name: other clock rates, stereo', () => {
    const a = offer(
      'm=audio 4000 RTP/AVP 96 97 98',
      'a=rtpmap:96 PCMU/16000',
      'a=rtpmap:97 PCMA/8000/2',
      'a=rtpmap:98 telephone-event/16000',
    );
    const result = negotiateAudio(a, G711);
    expect(result).toEqual({ ok: false, code: 'SDP_NO_COMMON_CODEC', reason: 'no common codec' });
  });

  it('fails with "no common codec" for a G.729-only offer (→ 488)', () => {
    expect(negotiateAudio(session(G729_ONLY).audio, G711)).toEqual({
      ok: false,
      code: 'SDP_NO_COMMON_CODEC',
      reason: 'no common codec',
    });
  });

  it('fails for a declined audio stream', () => {
    const result = negotiateAudio(offer('m=audio 0 RTP/AVP 0'), G711);
    expect(result.ok === false && result.code).toBe('SDP_AUDIO_DISABLED');
  });

  it('leaves telephone-event out when told to', () => {
    const result = negotiateAudio(session(BARESIP).audio, G711, { telephoneEvent: false });
    expect(result.ok && result.telephoneEvent).toBeUndefined();
  });
});
