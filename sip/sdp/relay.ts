/**
 * Offer/answer across an anchoring B2BUA (RFC 3264 §6, §8). Media always flows through
 * the server, so each leg sees the server's address and port, and each leg has its own
 * payload-type numbers. With leg A the offerer and leg B the answerer (either way round:
 * an INVITE's offer, a re-INVITE's, or an offer in a 200 answered in the ACK):
 *
 *   relayOffer(A's offer)            → our offer to B: the codecs we support, A's order
 *                                      first (then the rest, to transcode), telephone-event
 *                                      with A's payload type or a fixed one, A's direction;
 *   relayAnswer(that, B's answer)    → our answer to A: A's payload type for B's codec when
 *                                      A offered it (else A's best codec: transcoding), the
 *                                      direction A and B agree on, A's other m-lines
 *                                      rejected; plus what the media engine needs per leg.
 *
 * Direction: we send to B what A sends and to A what B sends, so our offer to B carries
 * A's (effective) direction and our answer to A is A's offer answered by what B accepted
 * (sendonly → recvonly, inactive → inactive, RFC 3264 §6.1).
 */
import type { RejectedStream, SdpCodec, SdpDescription } from './build.js';
import {
  AUDIO_CODECS,
  DEFAULT_TELEPHONE_EVENT_PAYLOAD_TYPE,
  audioCodecOf,
  isTelephoneEvent,
  type AudioCodecName,
} from './codecs.js';
import {
  answerDirection,
  effectiveDirection,
  intersectDirections,
  reverseDirection,
} from './direction.js';
import { sdpFailure, type SdpFailure } from './errors.js';
import { negotiateAudio, type NegotiatedAudio } from './negotiate.js';
import { isDynamicPayloadType } from './staticPayloads.js';
import type { AudioStream, Direction, SdpSession } from './types.js';

/** How the server anchors audio; the same for every leg of a call. */
export interface AnchorPolicy {
  /** Codecs the media engine handles, in our order of preference. */
  supported: readonly AudioCodecName[];
  /** Offer and accept RFC 4733 telephone-event (default true). */
  telephoneEvent?: boolean;
  /** Payload type for telephone-event when the offerer gave none usable (default 101). */
  telephoneEventPayloadType?: number;
  /** `a=ptime` we write, if any. */
  ptime?: number;
  /** The media engine multiplexes RTCP on the RTP port (RFC 5761; default false). */
  rtcpMux?: boolean;
  /** Also offer supported codecs the offerer lacks, so the legs may differ (default true). */
  transcode?: boolean;
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

/** What the media engine needs about one leg once offer and answer are done. */
export interface LegMedia {
  /** Where the peer receives RTP (RTCP: `rtcp`, else port + 1 unless `rtcpMux`). */
  remote: { address: string; port: number; rtcp?: { port: number; address?: string } };
  rtcpMux: boolean;
  codec: LegPayload & { name: AudioCodecName; clockRate: number };
  telephoneEvent?: LegPayload;
  /** What the server does on this leg: sendonly = send to the peer, do not expect RTP. */
  direction: Direction;
  /** The peer's `a=ptime`. */
  ptime?: number;
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
    for (const name of policy.supported) if (!names.includes(name)) names.push(name);
  }
  const codecs: SdpCodec[] = names.map((name) => ({ name, ...AUDIO_CODECS[name] }));
  const description: SdpDescription = {
    address: toward.address,
    port: toward.port,
    codecs,
    direction: effectiveDirection(offer.audio),
  };
  if (policy.telephoneEvent !== false) {
    description.telephoneEvent = { payloadType: eventPayloadType(offerer, codecs, policy) };
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
  const bCodec = answeredCodec(b, sent);
  if (bCodec === undefined) return sdpFailure('SDP_NO_COMMON_CODEC', 'no common codec');
  // A keeps B's codec when A offered it; otherwise A's best one, transcoded.
  const same = offerer.common.find((c) => c.name === bCodec.name);
  const aChoice = same ?? offerer.codec;
  const aCodec: LegMedia['codec'] = {
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
    codecs: [
      { name: aCodec.name, payloadType: aCodec.sendPayloadType, clockRate: aCodec.clockRate },
    ],
    direction: aDirection,
  };
  const offererLeg = completeAnswer(description, offer, offerer, policy, aCodec, aDirection);
  return {
    ok: true,
    description,
    offerer: offererLeg,
    answerer: answererMedia(b, bCodec, bDirection, sent),
  };
}

/**
 * What every answer to `offer` adds to its audio line (RFC 3264 §6): every other offered
 * m-line rejected with port 0, the offerer's telephone-event when accepted, ptime and
 * rtcp-mux per policy. Returns the offerer's leg as the media engine needs it.
 */
export function completeAnswer(
  description: SdpDescription,
  offer: SdpSession,
  offerer: NegotiatedAudio,
  policy: AnchorPolicy,
  codec: LegMedia['codec'],
  direction: Direction,
): LegMedia {
  const rtcpMux = offer.audio.rtcpMux && policy.rtcpMux === true;
  const rejected = offer.media.filter((m) => m.index !== offer.audio.index);
  if (rejected.length > 0) {
    description.rejectedStreams = rejected.map(({ index, type, protocol, formats }) => ({
      index,
      type,
      protocol,
      formats,
    }));
  }
  const event = offerer.telephoneEvent;
  if (event !== undefined) {
    description.telephoneEvent =
      event.fmtp === undefined
        ? { payloadType: event.payloadType }
        : { payloadType: event.payloadType, events: event.fmtp };
  }
  decorate(description, policy, rtcpMux);
  const leg = legMedia(offer.audio, codec, direction, rtcpMux);
  if (event !== undefined) {
    leg.telephoneEvent = {
      sendPayloadType: event.payloadType,
      receivePayloadType: event.payloadType,
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
  const codec = answeredCodec(b, sent);
  if (codec === undefined) return sdpFailure('SDP_NO_COMMON_CODEC', 'no common codec');
  const direction = intersectDirections(sent.direction, reverseDirection(effectiveDirection(b)));
  return { ok: true, leg: answererMedia(b, codec, direction, sent) };
}

function answererMedia(
  b: AudioStream,
  codec: LegMedia['codec'],
  direction: Direction,
  sent: SdpDescription,
): LegMedia {
  const leg = legMedia(b, codec, direction, sent.rtcpMux === true && b.rtcpMux);
  const bEvent = b.formats.find(isTelephoneEvent);
  if (sent.telephoneEvent !== undefined && bEvent !== undefined) {
    leg.telephoneEvent = {
      sendPayloadType: bEvent.payloadType,
      receivePayloadType: sent.telephoneEvent.payloadType,
    };
  }
  return leg;
}

/** The offerer's telephone-event payload type when it is dynamic and free, else ours. */
function eventPayloadType(
  offerer: NegotiatedAudio,
  codecs: readonly SdpCodec[],
  policy: AnchorPolicy,
): number {
  const theirs = offerer.telephoneEvent?.payloadType;
  if (
    theirs !== undefined &&
    isDynamicPayloadType(theirs) &&
    !codecs.some((c) => c.payloadType === theirs)
  ) {
    return theirs;
  }
  return policy.telephoneEventPayloadType ?? DEFAULT_TELEPHONE_EVENT_PAYLOAD_TYPE;
}

function decorate(description: SdpDescription, policy: AnchorPolicy, rtcpMux: boolean): void {
  if (policy.ptime !== undefined) description.ptime = policy.ptime;
  if (rtcpMux) description.rtcpMux = true;
}

/** The answerer's codec: the first it lists that we offered (RFC 3264 §6.1, §7). */
function answeredCodec(answer: AudioStream, sent: SdpDescription): LegMedia['codec'] | undefined {
  for (const format of answer.formats) {
    const name = audioCodecOf(format);
    const ours = sent.codecs.find((c) => c.name === name);
    if (name === undefined || ours === undefined) continue;
    return {
      name,
      clockRate: AUDIO_CODECS[name].clockRate,
      sendPayloadType: format.payloadType,
      receivePayloadType: ours.payloadType,
    };
  }
  return undefined;
}

function legMedia(
  stream: AudioStream,
  codec: LegMedia['codec'],
  direction: Direction,
  rtcpMux: boolean,
): LegMedia {
  const leg: LegMedia = {
    remote: { address: stream.address, port: stream.port },
    rtcpMux,
    codec,
    direction,
  };
  if (stream.rtcp !== undefined) leg.remote.rtcp = stream.rtcp;
  if (stream.ptime !== undefined) leg.ptime = stream.ptime;
  return leg;
}
