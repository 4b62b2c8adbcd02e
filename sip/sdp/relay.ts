/**
 * Offer/answer across an anchoring B2BUA (RFC 3264 §6, §8). Media always flows through
 * the server, so each leg sees the server's address and port, and each leg has its own
 * payload-type numbers. With leg A the offerer and leg B the answerer (either way round:
 * an INVITE's offer, a re-INVITE's, or an offer in a 200 answered in the ACK):
 *
 *   relayOffer(A's offer)            → our offer to B: the codecs we support, A's order
 *                                      first (then the rest, to transcode), one
 *                                      telephone-event per codec clock rate (RFC 4733
 *                                      §2.1: /8000 beside G.711 and G.722, /48000 beside
 *                                      Opus) with A's payload types where free, A's
 *                                      direction;
 *   relayAnswer(that, B's answer)    → our answer to A: A's payload type for B's codec when
 *                                      A offered it (else A's best codec: transcoding; and
 *                                      A keeps its wideband codec when B's is narrowband),
 *                                      telephone-event at that codec's rate, the
 *                                      direction A and B agree on, A's other m-lines
 *                                      rejected; plus what the media engine needs per leg.
 *
 * Direction: we send to B what A sends and to A what B sends, so our offer to B carries
 * A's (effective) direction and our answer to A is A's offer answered by what B accepted
 * (sendonly → recvonly, inactive → inactive, RFC 3264 §6.1).
 */
import type { RejectedStream, SdpCodec, SdpDescription, SdpTelephoneEvent } from './build.js';
import {
  AUDIO_CODECS,
  DEFAULT_TELEPHONE_EVENT_PAYLOAD_TYPE,
  audioCodecOf,
  isTelephoneEvent,
  sdpCodecOf,
  type AudioCodecName,
} from './codecs.js';
import {
  answerDirection,
  effectiveDirection,
  intersectDirections,
  reverseDirection,
} from './direction.js';
import { sdpFailure, type SdpFailure } from './errors.js';
import { eventAt, negotiateAudio, type NegotiatedAudio } from './negotiate.js';
import { isDynamicPayloadType } from './staticPayloads.js';
import { answerSetup, dtlsRole } from './webrtc.js';
import type { LocalWebRtc, RemoteWebRtc } from './webrtc.js';
import type { AudioStream, Direction, SdpSession } from './types.js';

/** How the server anchors audio; the same for every leg of a call. */
export interface AnchorPolicy {
  /** Codecs the media engine handles, in our order of preference. */
  supported: readonly AudioCodecName[];
  /** Offer and accept RFC 4733 telephone-event (default true). */
  telephoneEvent?: boolean;
  /** Payload type for telephone-event/8000 when the offerer gave none usable (default 101). */
  telephoneEventPayloadType?: number;
  /** `a=ptime` we write, if any. */
  ptime?: number;
  /** The media engine multiplexes RTCP on the RTP port (RFC 5761; default false). */
  rtcpMux?: boolean;
  /** Also offer supported codecs the offerer lacks, so the legs may differ (default true). */
  transcode?: boolean;
  /**
   * When the answerer takes only narrowband codecs (a G.711 trunk) and the offerer's
   * preferred codec is wideband (G.722, Opus), the offerer keeps it and the engine
   * transcodes, so its party stays HD for recording and supervisors (default true).
   * false: the offerer is moved to the answerer's codec when it offered it (a relay).
   */
  keepWideband?: boolean;
}

/** Our side of the leg an SDP goes to. */
export interface OurSide {
  /** The server's advertised media address and port for that leg. */
  address: string;
  port: number;
  /**
   * For a re-offer: the m-lines this leg's SDP rejected before (RFC 3264 §8: m-lines are
   * never removed). relayAnswer() ignores it: an answer mirrors the offer's m-lines.
   */
  rejectedStreams?: readonly RejectedStream[];
  /**
   * This leg is a WebRTC leg (UDP/TLS/RTP/SAVPF): our ICE credentials, certificate
   * fingerprint and host candidates. An offer then says `setup:actpass`, `mid` 0 and
   * BUNDLE with Opus first; an answer takes `setup`, `mid` and BUNDLE from the offer.
   */
  webrtc?: WebRtcIdentity;
}

/** What a WebRTC leg's SDP says about us whatever the exchange (webrtc.ts decides the rest). */
export type WebRtcIdentity = Pick<LocalWebRtc, 'ice' | 'fingerprint' | 'candidates' | 'ssrc'>;

/** A WebRTC leg's peer and our DTLS role, for the media engine. */
export interface LegWebRtc {
  remote: RemoteWebRtc;
  dtlsRole: 'server' | 'client';
}

/** An answer must keep the offer's profile (RFC 3264 §6); a WebRTC one needs our identity. */
function profileMismatch(
  offerWebRtc: boolean,
  answerWebRtc: boolean,
  what: string,
): SdpFailure | undefined {
  if (offerWebRtc === answerWebRtc) return undefined;
  return sdpFailure(
    'SDP_UNSUPPORTED',
    offerWebRtc ? `${what}: UDP/TLS/RTP/SAVPF is not offered here` : `${what}: profile changed`,
  );
}

export interface RelayedOffer {
  ok: true;
  /** The offer to send to the answerer (render it with renderLocalSdp()). */
  description: SdpDescription;
  /** The offer it was made from, and what we can accept from the offerer. */
  offer: SdpSession;
  offerer: NegotiatedAudio;
  policy: AnchorPolicy;
}

/** A codec on one leg: we send with `sendPayloadType`, we receive `receivePayloadType`. */
export interface LegPayload {
  sendPayloadType: number;
  receivePayloadType: number;
}

/** A negotiated codec on one leg. */
export type LegCodec = LegPayload & { name: AudioCodecName; clockRate: number };

/** What the media engine needs about one leg once offer and answer are done. */
export interface LegMedia {
  /** Where the peer receives RTP (RTCP: `rtcp`, else port + 1 unless `rtcpMux`). */
  remote: { address: string; port: number; rtcp?: { port: number; address?: string } };
  rtcpMux: boolean;
  /** The codec we send with when we choose (the peer's first). */
  codec: LegCodec;
  /**
   * Every codec the peer accepted that we support, `codec` first (RFC 3264 §5.1: it
   * takes any of them, so the engine may relay any of them as is).
   */
  codecs: LegCodec[];
  /** RFC 4733 telephone-event at `codec`'s clock rate (RFC 4733 §2.1). */
  telephoneEvent?: LegPayload & { clockRate: number };
  /** What the server does on this leg: sendonly = send to the peer, do not expect RTP. */
  direction: Direction;
  /** The peer's `a=ptime`. */
  ptime?: number;
  /** A WebRTC leg: the peer's ICE and DTLS parameters, our DTLS role. */
  webrtc?: LegWebRtc;
}

export interface RelayedAnswer {
  ok: true;
  /** The answer to send to the offerer (render it with renderLocalSdp()). */
  description: SdpDescription;
  offerer: LegMedia;
  answerer: LegMedia;
}

export function relayOffer(
  offer: SdpSession,
  toward: OurSide,
  policy: AnchorPolicy,
): RelayedOffer | SdpFailure {
  const offerer = negotiateAudio(offer.audio, policy.supported, {
    telephoneEvent: policy.telephoneEvent !== false,
  });
  if (!offerer.ok) return offerer;
  const names: AudioCodecName[] = offerer.common.map((c) => c.name);
  if (policy.transcode !== false) {
    // Every other codec we support follows the offerer's, so the answerer can be reached
    // whatever it speaks (an Opus-only softphone called from a G.711 trunk, a G.711 trunk
    // called from an HD phone); listed after the offerer's, they are taken only by an
    // answerer that lacks all of those, and the engine transcodes.
    for (const name of policy.supported) if (!names.includes(name)) names.push(name);
  }
  if (toward.webrtc !== undefined && names.includes('opus')) {
    // A browser's codec (RFC 7874 §3): first, so a browser is not made to transcode.
    names.splice(names.indexOf('opus'), 1);
    names.unshift('opus');
  }
  const codecs: SdpCodec[] = names.map((name) => sdpCodecOf(name));
  const description: SdpDescription = {
    address: toward.address,
    port: toward.port,
    codecs,
    direction: effectiveDirection(offer.audio),
  };
  if (toward.webrtc !== undefined) description.webrtc = offeredWebRtc(toward.webrtc);
  if (policy.telephoneEvent !== false) {
    setTelephoneEvents(description, (rate) => eventAt(offerer, rate)?.payloadType, policy);
  }
  decorate(description, policy, policy.rtcpMux === true);
  if (toward.rejectedStreams !== undefined && toward.rejectedStreams.length > 0) {
    description.rejectedStreams = toward.rejectedStreams;
  }
  return { ok: true, description, offer, offerer, policy };
}

export function relayAnswer(
  relayed: RelayedOffer,
  answer: SdpSession,
  toward: OurSide,
): RelayedAnswer | SdpFailure {
  const { offer, offerer, policy, description: sent } = relayed;
  const b = answer.audio;
  if (b.port === 0) return sdpFailure('SDP_AUDIO_DISABLED', 'the answer declined the audio');
  const mismatch =
    profileMismatch(sent.webrtc !== undefined, b.webrtc !== undefined, 'the answer') ??
    profileMismatch(offer.audio.webrtc !== undefined, toward.webrtc !== undefined, 'the offer');
  if (mismatch !== undefined) return mismatch;
  const bCodecs = answeredCodecs(b, sent);
  const bCodec = bCodecs[0];
  if (bCodec === undefined) return sdpFailure('SDP_NO_COMMON_CODEC', 'no common codec');
  const aChoice = offererChoice(offerer, bCodecs, policy);
  const aCodec: LegCodec = {
    name: aChoice.name,
    clockRate: aChoice.clockRate,
    sendPayloadType: aChoice.payloadType,
    receivePayloadType: aChoice.payloadType,
  };

  const aDirection = answerDirection(effectiveDirection(offer.audio), effectiveDirection(b));
  const bDirection = intersectDirections(sent.direction, reverseDirection(effectiveDirection(b)));
  const description: SdpDescription = {
    address: toward.address,
    port: toward.port,
    codecs: [sdpCodecOf(aCodec.name, aCodec.sendPayloadType)],
    direction: aDirection,
  };
  const offererLeg = completeAnswer(
    description,
    offer,
    offerer,
    policy,
    aCodec,
    aDirection,
    toward.webrtc,
  );
  return {
    ok: true,
    description,
    offerer: offererLeg,
    answerer: answererMedia(b, bCodecs, bDirection, sent),
  };
}

/**
 * The offerer's codec once the answerer chose: one both took (relayed as is), the first
 * the answerer lists; else the offerer's best (transcoded). With `keepWideband`, an
 * offerer preferring a wideband codec keeps it when the answerer took only narrowband.
 */
function offererChoice(
  offerer: NegotiatedAudio,
  answered: readonly LegCodec[],
  policy: AnchorPolicy,
) {
  const best = offerer.codec;
  const answeredWide = answered.some((c) => AUDIO_CODECS[c.name].wideband);
  if (policy.keepWideband !== false && AUDIO_CODECS[best.name].wideband && !answeredWide) {
    return best;
  }
  for (const c of answered) {
    const same = offerer.common.find((o) => o.name === c.name);
    if (same !== undefined) return same;
  }
  return best;
}

/**
 * What every answer to `offer` adds to its audio line (RFC 3264 §6): every other offered
 * m-line rejected with port 0, the offerer's telephone-event at the codec's clock rate
 * when accepted, ptime and rtcp-mux per policy. Returns the offerer's leg as the media
 * engine needs it.
 */
export function completeAnswer(
  description: SdpDescription,
  offer: SdpSession,
  offerer: NegotiatedAudio,
  policy: AnchorPolicy,
  codec: LegCodec,
  direction: Direction,
  webrtc?: WebRtcIdentity,
): LegMedia {
  const offered = offer.audio.webrtc;
  // RFC 8829 §5.1.1: a WebRTC leg always multiplexes RTCP.
  const rtcpMux = offer.audio.rtcpMux && (policy.rtcpMux === true || offered !== undefined);
  const rejected = offer.media.filter((m) => m.index !== offer.audio.index);
  if (rejected.length > 0) {
    description.rejectedStreams = rejected.map(({ index, type, protocol, formats }) => ({
      index,
      type,
      protocol,
      formats,
    }));
  }
  const event = eventAt(offerer, codec.clockRate);
  if (event !== undefined) {
    const te: SdpTelephoneEvent = { payloadType: event.payloadType };
    if (event.fmtp !== undefined) te.events = event.fmtp;
    if (event.clockRate !== 8000) te.clockRate = event.clockRate;
    description.telephoneEvent = te;
  }
  decorate(description, policy, rtcpMux);
  const leg = legMedia(offer.audio, [codec], direction, rtcpMux);
  if (offered !== undefined && webrtc !== undefined) {
    const setup = answerSetup(offered.setup);
    description.webrtc = {
      ...webrtc,
      setup,
      mid: offered.mid ?? '0',
      bundle: offered.bundled,
    };
    leg.webrtc = { remote: offered, dtlsRole: dtlsRole(setup, offered.setup) };
  }
  if (event !== undefined) {
    leg.telephoneEvent = {
      sendPayloadType: event.payloadType,
      receivePayloadType: event.payloadType,
      clockRate: event.clockRate,
    };
  }
  return leg;
}

/**
 * The leg of a peer that answered an offer of ours (RFC 3264 §6.1): `sent` is the
 * description we offered, `answer` its answer. Used for our own offers (a late-offer
 * INVITE, an offerless re-INVITE's 200) where no other side's offer is relayed.
 */
export function answeredLeg(
  sent: SdpDescription,
  answer: SdpSession,
): { ok: true; leg: LegMedia } | SdpFailure {
  const b = answer.audio;
  if (b.port === 0) return sdpFailure('SDP_AUDIO_DISABLED', 'the answer declined the audio');
  const mismatch = profileMismatch(sent.webrtc !== undefined, b.webrtc !== undefined, 'the answer');
  if (mismatch !== undefined) return mismatch;
  const codecs = answeredCodecs(b, sent);
  if (codecs.length === 0) return sdpFailure('SDP_NO_COMMON_CODEC', 'no common codec');
  const direction = intersectDirections(sent.direction, reverseDirection(effectiveDirection(b)));
  return { ok: true, leg: answererMedia(b, codecs, direction, sent) };
}

function answererMedia(
  b: AudioStream,
  codecs: LegCodec[],
  direction: Direction,
  sent: SdpDescription,
): LegMedia {
  const leg = legMedia(b, codecs, direction, sent.rtcpMux === true && b.rtcpMux);
  if (sent.webrtc !== undefined && b.webrtc !== undefined) {
    leg.webrtc = { remote: b.webrtc, dtlsRole: dtlsRole(sent.webrtc.setup, b.webrtc.setup) };
  }
  // The event at the codec's clock, else at 8000 Hz (see eventAt): one we offered too.
  const agreed = (rate: number) => {
    const theirs = b.formats.find((f) => isTelephoneEvent(f, rate));
    const ours = sentEvents(sent).find((e) => (e.clockRate ?? 8000) === rate);
    return theirs !== undefined && ours !== undefined ? { theirs, ours, rate } : undefined;
  };
  const found = agreed(leg.codec.clockRate) ?? agreed(8000);
  if (found !== undefined) {
    const { theirs: bEvent, ours, rate: clockRate } = found;
    leg.telephoneEvent = {
      sendPayloadType: bEvent.payloadType,
      receivePayloadType: ours.payloadType,
      clockRate,
    };
  }
  return leg;
}

function sentEvents(sent: SdpDescription): SdpTelephoneEvent[] {
  return [
    ...(sent.telephoneEvent === undefined ? [] : [sent.telephoneEvent]),
    ...(sent.moreTelephoneEvents ?? []),
  ];
}

/**
 * One telephone-event per clock rate of the description's codecs, in the order the
 * codecs need them: `theirs(rate)` (the offerer's number) when it is dynamic and free,
 * else ours (the policy's, 101, for 8000), else the first free dynamic type.
 */
export function setTelephoneEvents(
  description: SdpDescription,
  theirs: (clockRate: number) => number | undefined,
  policy: AnchorPolicy,
): void {
  const rates: number[] = [];
  for (const c of description.codecs) {
    const rate = c.clockRate ?? 8000;
    if (!rates.includes(rate)) rates.push(rate);
  }
  const used = new Set(description.codecs.map((c) => c.payloadType));
  const events: SdpTelephoneEvent[] = [];
  for (const rate of rates) {
    const payloadType = freePayloadType(used, [
      theirs(rate),
      rate === 8000
        ? (policy.telephoneEventPayloadType ?? DEFAULT_TELEPHONE_EVENT_PAYLOAD_TYPE)
        : WIDE_TELEPHONE_EVENT_PAYLOAD_TYPE,
    ]);
    if (payloadType === undefined) continue;
    used.add(payloadType);
    events.push(rate === 8000 ? { payloadType } : { payloadType, clockRate: rate });
  }
  const [first, ...more] = events;
  if (first !== undefined) description.telephoneEvent = first;
  if (more.length > 0) description.moreTelephoneEvents = more;
}

/** What browsers number telephone-event/48000 with; any free dynamic type would do. */
const WIDE_TELEPHONE_EVENT_PAYLOAD_TYPE = 110;

/**
 * The first candidate that is free (a candidate from the peer must be dynamic), else
 * the first free dynamic payload type.
 */
function freePayloadType(
  used: ReadonlySet<number>,
  candidates: ReadonlyArray<number | undefined>,
): number | undefined {
  const [theirs, ours] = candidates;
  if (theirs !== undefined && isDynamicPayloadType(theirs) && !used.has(theirs)) return theirs;
  if (ours !== undefined && !used.has(ours)) return ours;
  for (let pt = 96; pt <= 127; pt++) if (!used.has(pt)) return pt;
  return undefined;
}

/** Our side of a WebRTC offer (RFC 8829 §5.2.1): actpass, mid 0, BUNDLE of it. */
export function offeredWebRtc(identity: WebRtcIdentity): LocalWebRtc {
  return { ...identity, setup: 'actpass', mid: '0', bundle: true };
}

function decorate(description: SdpDescription, policy: AnchorPolicy, rtcpMux: boolean): void {
  if (policy.ptime !== undefined) description.ptime = policy.ptime;
  if (rtcpMux) description.rtcpMux = true;
}

/**
 * The answerer's codecs: those it lists that we offered, in its order (RFC 3264 §6.1,
 * §7). A codec we did not offer is ignored: an answer cannot add one.
 */
function answeredCodecs(answer: AudioStream, sent: SdpDescription): LegCodec[] {
  const codecs: LegCodec[] = [];
  for (const format of answer.formats) {
    const name = audioCodecOf(format);
    if (name === undefined || codecs.some((c) => c.name === name)) continue;
    const encoding = AUDIO_CODECS[name].encodingName.toLowerCase();
    const ours = sent.codecs.find((c) => c.name.toLowerCase() === encoding);
    if (ours === undefined) continue;
    codecs.push({
      name,
      clockRate: AUDIO_CODECS[name].clockRate,
      sendPayloadType: format.payloadType,
      receivePayloadType: ours.payloadType,
    });
  }
  return codecs;
}

function legMedia(
  stream: AudioStream,
  codecs: LegCodec[],
  direction: Direction,
  rtcpMux: boolean,
): LegMedia {
  const leg: LegMedia = {
    remote: { address: stream.address, port: stream.port },
    rtcpMux,
    codec: codecs[0] as LegCodec,
    codecs,
    direction,
  };
  if (stream.rtcp !== undefined) leg.remote.rtcp = stream.rtcp;
  if (stream.ptime !== undefined) leg.ptime = stream.ptime;
  return leg;
}
