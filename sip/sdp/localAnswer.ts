/**
 * Answering an offer ourselves (RFC 3264 §6): for a session that ends at the server — a
 * supervisor's monitoring call — rather than one relayed to another party. The answer
 * keeps the offer's first codec we support with the offerer's payload type, accepts
 * telephone-event when offered (so steering digits arrive), mirrors every other m-line
 * rejected, and answers the offered direction with what we are `willing` to do.
 */
import type { SdpDescription } from './build.js';
import { sdpCodecOf } from './codecs.js';
import { answerDirection, effectiveDirection } from './direction.js';
import { sdpFailure, type SdpFailure } from './errors.js';
import { negotiateAudio } from './negotiate.js';
import { completeAnswer, type AnchorPolicy, type LegMedia, type OurSide } from './relay.js';
import type { Direction, SdpSession } from './types.js';

export interface LocalAnswer {
  ok: true;
  /** Our answer (render it with renderLocalSdp()). */
  description: SdpDescription;
  /** What the media engine needs for the offerer's leg. */
  leg: LegMedia;
}

export function answerOffer(
  offer: SdpSession,
  toward: OurSide,
  policy: AnchorPolicy,
  willing: Direction = 'sendrecv',
): LocalAnswer | SdpFailure {
  const negotiated = negotiateAudio(offer.audio, policy.supported, {
    telephoneEvent: policy.telephoneEvent !== false,
  });
  if (!negotiated.ok) return negotiated;
  if (offer.audio.webrtc !== undefined && toward.webrtc === undefined) {
    return sdpFailure('SDP_UNSUPPORTED', 'UDP/TLS/RTP/SAVPF is not offered here');
  }
  const { codec } = negotiated;
  const direction = answerDirection(effectiveDirection(offer.audio), willing);
  const description: SdpDescription = {
    address: toward.address,
    port: toward.port,
    codecs: [sdpCodecOf(codec.name, codec.payloadType)],
    direction,
  };
  const leg = completeAnswer(
    description,
    offer,
    negotiated,
    policy,
    {
      name: codec.name,
      clockRate: codec.clockRate,
      sendPayloadType: codec.payloadType,
      receivePayloadType: codec.payloadType,
    },
    direction,
    toward.webrtc,
  );
  return { ok: true, description, leg };
}
