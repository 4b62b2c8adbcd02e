/**
 * G.722 and Opus beside G.711 (RFC 3551 §4.5.2, RFC 7587), with telephone-event at each
 * codec clock rate (RFC 4733 §2.1), as real peers offer them: a G.722-first desk phone
 * (Polycom-style) and an Opus-first softphone with telephone-event at 48000 and 8000
 * (browser-style). Bodies go through buildSdp/parseSdp as on the wire.
 */
import { describe, expect, it } from '@jest/globals';
import {
  answeredLeg,
  buildSdp,
  negotiateAudio,
  ownOffer,
  parseSdp,
  relayAnswer,
  relayOffer,
  sdpWarning,
  type AnchorPolicy,
  type RelayedOffer,
  type SdpSession,
} from '../../../../sip/sdp/index.js';
import { answerOffer } from '../../../../sip/sdp/localAnswer.js';
import { sdp } from './fixtures.js';
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

const ALL: AnchorPolicy = { supported: ['PCMU', 'PCMA', 'G722', 'opus'] };

function body(m: string, ...attributes: string[]): string {
  return sdp(
    'v=0',
    'o=- 7 7 IN IP4 10.1.1.1',
    's=-',
    'c=IN IP4 10.1.1.1',
    't=0 0',
    m,
    ...attributes,
  );
}

/** A Polycom VVX-style offer: G.722 first, then G.711, G.729, telephone-event/8000. */
const POLYCOM = body(
  'm=audio 2222 RTP/AVP 9 0 8 18 127',
  'a=rtpmap:9 G722/8000',
  'a=rtpmap:0 PCMU/8000',
  'a=rtpmap:8 PCMA/8000',
  'a=rtpmap:18 G729/8000',
  'a=fmtp:18 annexb=no',
  'a=rtpmap:127 telephone-event/8000',
  'a=fmtp:127 0-15',
  'a=sendrecv',
);

/** A browser-style offer over plain RTP: Opus first, telephone-event at 48000 and 8000. */
const BROWSER = body(
  'm=audio 5004 RTP/AVP 111 9 0 8 110 126',
  'a=rtpmap:111 opus/48000/2',
  'a=fmtp:111 minptime=10;useinbandfec=1',
  'a=rtpmap:9 G722/8000',
  'a=rtpmap:0 PCMU/8000',
  'a=rtpmap:8 PCMA/8000',
  'a=rtpmap:110 telephone-event/48000',
  'a=rtpmap:126 telephone-event/8000',
  'a=sendrecv',
);

function offerToB(a: string, policy: AnchorPolicy = ALL): RelayedOffer {
  return relayedOffer(a, policy);
}

/** `[payload type, encoding/rate(/channels)]` of an SDP's audio formats. */
function formats(s: SdpSession): Array<[number, string]> {
  return s.audio.formats.map((f) => [
    f.payloadType,
    `${f.name}/${f.clockRate}${f.channels === undefined ? '' : `/${f.channels}`}`,
  ]);
}

describe('a G.722-first desk phone (Polycom-style)', () => {
  it('is offered to B in its own order, G.711 kept as the fallback, Opus added', () => {
    const relayed = offerToB(POLYCOM);
    expect(formats(wire(relayed))).toEqual([
      [9, 'G722/8000'],
      [0, 'PCMU/8000'],
      [8, 'PCMA/8000'],
      [111, 'opus/48000/2'],
      [127, 'telephone-event/8000'],
      [110, 'telephone-event/48000'],
    ]);
  });

  it('B answers G.722: both legs G.722, relayed (no transcoding)', () => {
    const answer = answerToA(
      offerToB(POLYCOM),
      bAnswer('m=audio 4000 RTP/AVP 9 101', 'a=rtpmap:101 telephone-event/8000'),
    );
    expect(formats(wire(answer))).toEqual([
      [9, 'G722/8000'],
      [127, 'telephone-event/8000'],
    ]);
    expect(answer.offerer.codec).toEqual({
      name: 'G722',
      clockRate: 8000,
      sendPayloadType: 9,
      receivePayloadType: 9,
    });
    expect(answer.answerer.codecs.map((c) => c.name)).toEqual(['G722']);
    expect(answer.offerer.telephoneEvent).toEqual({
      sendPayloadType: 127,
      receivePayloadType: 127,
      clockRate: 8000,
    });
    expect(answer.answerer.telephoneEvent).toEqual({
      sendPayloadType: 101,
      receivePayloadType: 127,
      clockRate: 8000,
    });
  });

  it('B is a G.711 trunk: A keeps G.722, B gets PCMU (the engine transcodes)', () => {
    const answer = answerToA(offerToB(POLYCOM), bAnswer('m=audio 4000 RTP/AVP 0'));
    expect(answer.offerer.codec.name).toBe('G722');
    expect(answer.answerer.codec.name).toBe('PCMU');
    expect(answer.answerer.telephoneEvent).toBeUndefined();
    // With keepWideband off, A is moved to the codec both share: a plain relay.
    const relay = relayAnswer(
      offerToB(POLYCOM, { ...ALL, keepWideband: false }),
      session(bAnswer('m=audio 4000 RTP/AVP 0')),
      TOWARD_A,
    );
    expect(relay.ok && relay.offerer.codec.name).toBe('PCMU');
  });

  it('B answers several codecs: its leg lists every one we offered, in its order', () => {
    const answer = answerToA(
      offerToB(POLYCOM),
      bAnswer('m=audio 4000 RTP/AVP 8 18 0', 'a=rtpmap:18 G729/8000'),
    );
    expect(answer.answerer.codecs.map((c) => [c.name, c.sendPayloadType])).toEqual([
      ['PCMA', 8],
      ['PCMU', 0],
    ]);
    expect(answer.answerer.codec.name).toBe('PCMA');
  });
});

describe('an Opus-first softphone (browser-style)', () => {
  it('takes opus/48000/2 with telephone-event/48000; G.711 with telephone-event/8000', () => {
    const a = session(BROWSER).audio;
    const opus = negotiateAudio(a, ALL.supported);
    expect(opus.ok && opus.codec).toEqual({ name: 'opus', payloadType: 111, clockRate: 48000 });
    expect(opus.ok && opus.telephoneEvent).toEqual({ payloadType: 110, clockRate: 48000 });
    const g711 = negotiateAudio(a, ['PCMU']);
    expect(g711.ok && g711.codec.name).toBe('PCMU');
    expect(g711.ok && g711.telephoneEvent).toEqual({ payloadType: 126, clockRate: 8000 });
  });

  it('is answered Opus with telephone-event/48000 only, and our fmtp', () => {
    const local = answerOffer(session(BROWSER), TOWARD_A, ALL);
    if (!local.ok) throw new Error(local.reason);
    const text = buildSdp({ ...local.description, origin: ORIGIN });
    expect(text).toMatch(/^m=audio 30000 RTP\/AVP 111 110\r$/m);
    expect(text).toMatch(/^a=rtpmap:111 opus\/48000\/2\r$/m);
    expect(text).toMatch(/^a=fmtp:111 minptime=10;useinbandfec=1\r$/m);
    expect(text).toMatch(/^a=rtpmap:110 telephone-event\/48000\r$/m);
    expect(text).not.toMatch(/telephone-event\/8000/);
    expect(local.leg.telephoneEvent).toEqual({
      sendPayloadType: 110,
      receivePayloadType: 110,
      clockRate: 48000,
    });
  });

  it('Opus offered beside telephone-event/8000 only (baresip) is answered with /8000', () => {
    const offer = body(
      'm=audio 4000 RTP/AVP 111 101',
      'a=rtpmap:111 opus/48000/2',
      'a=rtpmap:101 telephone-event/8000',
      'a=fmtp:101 0-15',
    );
    const local = answerOffer(session(offer), TOWARD_A, ALL);
    if (!local.ok) throw new Error(local.reason);
    const text = buildSdp({ ...local.description, origin: ORIGIN });
    expect(text).toMatch(/^m=audio 30000 RTP\/AVP 111 101\r$/m);
    expect(text).toMatch(/^a=rtpmap:101 telephone-event\/8000\r$/m);
    expect(local.leg.telephoneEvent).toEqual({
      sendPayloadType: 101,
      receivePayloadType: 101,
      clockRate: 8000,
    });
  });

  it('relayed to B with both telephone-events; B answering PCMU gets /8000', () => {
    const relayed = offerToB(BROWSER);
    expect(formats(wire(relayed))).toEqual([
      [111, 'opus/48000/2'],
      [9, 'G722/8000'],
      [0, 'PCMU/8000'],
      [8, 'PCMA/8000'],
      [110, 'telephone-event/48000'],
      [126, 'telephone-event/8000'],
    ]);
    const answer = answerToA(
      relayed,
      bAnswer(
        'm=audio 4000 RTP/AVP 0 101 102',
        'a=rtpmap:101 telephone-event/8000',
        'a=rtpmap:102 telephone-event/48000',
      ),
    );
    expect(answer.answerer.telephoneEvent).toEqual({
      sendPayloadType: 101,
      receivePayloadType: 126,
      clockRate: 8000,
    });
    // A keeps Opus (wideband), with its telephone-event at Opus's clock.
    expect(answer.offerer.codec.name).toBe('opus');
    expect(answer.offerer.telephoneEvent?.clockRate).toBe(48000);
    expect(formats(wire(answer))).toEqual([
      [111, 'opus/48000/2'],
      [110, 'telephone-event/48000'],
    ]);
  });
});

describe('dynamic payload types', () => {
  const RENUMBERED = body(
    'm=audio 5004 RTP/AVP 96 97 0',
    'a=rtpmap:96 opus/48000/2',
    'a=rtpmap:97 telephone-event/48000',
    'a=rtpmap:0 PCMU/8000',
  );

  it('answer the offerer with its own numbers, and send to each peer what it numbered', () => {
    const relayed = offerToB(RENUMBERED);
    // Our offer to B uses our numbering for Opus, and A's free dynamic one for its event.
    expect(formats(wire(relayed)).slice(0, 2)).toEqual([
      [111, 'opus/48000/2'],
      [0, 'PCMU/8000'],
    ]);
    expect(relayed.description.telephoneEvent).toEqual({ payloadType: 97, clockRate: 48000 });
    const answer = answerToA(
      relayed,
      bAnswer(
        'm=audio 4000 RTP/AVP 107 108',
        'a=rtpmap:107 opus/48000/2',
        'a=rtpmap:108 telephone-event/48000',
      ),
    );
    expect(formats(wire(answer))).toEqual([
      [96, 'opus/48000/2'],
      [97, 'telephone-event/48000'],
    ]);
    expect(answer.offerer.codec).toMatchObject({ sendPayloadType: 96, receivePayloadType: 96 });
    expect(answer.answerer.codec).toMatchObject({ sendPayloadType: 107, receivePayloadType: 111 });
    expect(answer.answerer.telephoneEvent).toEqual({
      sendPayloadType: 108,
      receivePayloadType: 97,
      clockRate: 48000,
    });
  });

  it('moves our telephone-event off a number the offerer gave a codec', () => {
    const clash = body(
      'm=audio 5004 RTP/AVP 111 101 0',
      'a=rtpmap:111 telephone-event/48000',
      'a=rtpmap:101 opus/48000/2',
      'a=rtpmap:0 PCMU/8000',
    );
    const relayed = offerToB(clash);
    const pts = relayed.description.codecs.map((c) => c.payloadType);
    const events = [
      relayed.description.telephoneEvent,
      ...(relayed.description.moreTelephoneEvents ?? []),
    ];
    for (const e of events) expect(pts).not.toContain(e?.payloadType);
    expect(new Set(events.map((e) => e?.payloadType)).size).toBe(events.length);
  });
});

describe('encoding names compare case-insensitively (RFC 4566 §6)', () => {
  it('takes OPUS, g722 and Telephone-Event as ours', () => {
    const mixed = body(
      'm=audio 5004 RTP/AVP 100 101 102 103',
      'a=rtpmap:100 OPUS/48000/2',
      'a=rtpmap:101 g722/8000',
      'a=rtpmap:102 Telephone-Event/48000',
      'a=rtpmap:103 pcmu/8000',
    );
    const result = negotiateAudio(session(mixed).audio, ALL.supported);
    expect(result.ok && result.common.map((c) => [c.name, c.payloadType])).toEqual([
      ['opus', 100],
      ['G722', 101],
      ['PCMU', 103],
    ]);
    expect(result.ok && result.telephoneEvent).toEqual({ payloadType: 102, clockRate: 48000 });
  });

  it('refuses Opus at a rate other than 48000, and G.722 at 16000 (RFC 3551 §4.5.2)', () => {
    const wrong = body(
      'm=audio 5004 RTP/AVP 100 101',
      'a=rtpmap:100 opus/16000/2',
      'a=rtpmap:101 G722/16000',
    );
    expect(negotiateAudio(session(wrong).audio, ALL.supported)).toMatchObject({
      ok: false,
      code: 'SDP_NO_COMMON_CODEC',
    });
  });
});

describe('codecs we lack', () => {
  const G729_GSM = body('m=audio 5004 RTP/AVP 18 3', 'a=rtpmap:18 G729/8000');

  it('refuse the offer: no common codec, Warning 305 (RFC 3261 §20.43)', () => {
    const result = relayOffer(session(G729_GSM), TOWARD_B, ALL);
    expect(result).toEqual({ ok: false, code: 'SDP_NO_COMMON_CODEC', reason: 'no common codec' });
    if (result.ok) return;
    expect(sdpWarning(result, '192.0.2.7')).toBe('305 192.0.2.7 "Incompatible media format"');
    expect(sdpWarning({ ok: false, code: 'SDP_MALFORMED', reason: 'bad c= line' }, 'x')).toBe(
      '399 callwatch "bad c= line"',
    );
  });

  it('a second audio m-line with a codec we know is the one anchored', () => {
    const two = parseSdp(
      sdp(
        'v=0',
        'o=- 7 7 IN IP4 10.1.1.1',
        's=-',
        'c=IN IP4 10.1.1.1',
        't=0 0',
        'm=audio 5004 RTP/AVP 18',
        'a=rtpmap:18 G729/8000',
        'm=audio 5006 RTP/AVP 9',
      ),
    );
    expect(two.ok && two.session.audio.index).toBe(1);
    expect(two.ok && two.session.audio.port).toBe(5006);
  });

  it('an answer never lists a codec the offer did not (G.722 only, B on PCMU)', () => {
    const g722 = body('m=audio 5004 RTP/AVP 9');
    for (const keepWideband of [true, false]) {
      const answer = answerToA(
        offerToB(g722, { ...ALL, keepWideband }),
        bAnswer('m=audio 4000 RTP/AVP 0'),
      );
      expect(formats(wire(answer))).toEqual([[9, 'G722/8000']]);
    }
    // B listing a codec we never offered it: ignored.
    const sent = ownOffer(TOWARD_B, { supported: ['PCMU'] });
    const leg = answeredLeg(sent, session(bAnswer('m=audio 4000 RTP/AVP 9 0')));
    expect(leg.ok && leg.leg.codecs.map((c) => c.name)).toEqual(['PCMU']);
  });
});

describe('our own offer with every codec', () => {
  it('lists G.711, G.722 and Opus, with telephone-event/8000 (101) and /48000', () => {
    const text = buildSdp({ ...ownOffer(TOWARD_A, ALL), origin: ORIGIN });
    expect(formats(session(text))).toEqual([
      [0, 'PCMU/8000'],
      [8, 'PCMA/8000'],
      [9, 'G722/8000'],
      [111, 'opus/48000/2'],
      [101, 'telephone-event/8000'],
      [110, 'telephone-event/48000'],
    ]);
  });
});
