/**
 * An offer of our own (RFC 3264 §5), when no peer's offer is there to relay: toward the
 * callee for an INVITE that came without SDP (late offer, RFC 3261 §13.2.1), and toward
 * the caller in the 200 to that INVITE. Every codec of the policy (a preferred one
 * first, e.g. the one the callee chose, so that no transcoding is needed when the other
 * side takes it), telephone-event at each of their clock rates, sendrecv. The answer is read with answeredLeg().
 */
import type { SdpCodec, SdpDescription } from './build.js';
import { sdpCodecOf, type AudioCodecName } from './codecs.js';
import { offeredWebRtc, setTelephoneEvents, type AnchorPolicy, type OurSide } from './relay.js';

export function ownOffer(
  toward: OurSide,
  policy: AnchorPolicy,
  preferred?: AudioCodecName,
): SdpDescription {
  const names = [...policy.supported];
  if (preferred !== undefined && names.includes(preferred)) {
    names.splice(names.indexOf(preferred), 1);
    names.unshift(preferred);
  }
  const codecs: SdpCodec[] = names.map((name) => sdpCodecOf(name));
  const description: SdpDescription = {
    address: toward.address,
    port: toward.port,
    codecs,
    direction: 'sendrecv',
  };
  if (policy.telephoneEvent !== false) {
    // One per codec clock rate (RFC 4733 §2.1): /8000, and /48000 when Opus is offered.
    setTelephoneEvents(description, () => undefined, policy);
  }
  if (policy.ptime !== undefined) description.ptime = policy.ptime;
  if (policy.rtcpMux === true) description.rtcpMux = true;
  if (toward.webrtc !== undefined) description.webrtc = offeredWebRtc(toward.webrtc);
  return description;
}
