/** SDP offer/answer for anchored audio (RFC 4566, RFC 3264), on top of sdp-transform. */
export {
  buildSdp,
  type BuildSdpInput,
  type RejectedStream,
  type SdpCodec,
  type SdpDescription,
  type SdpTelephoneEvent,
  type SdpOriginFields,
} from './build.js';
export {
  AUDIO_CODECS,
  AUDIO_CODEC_NAMES,
  DEFAULT_TELEPHONE_EVENT_PAYLOAD_TYPE,
  TELEPHONE_EVENT,
  TELEPHONE_EVENT_EVENTS,
  audioCodecOf,
  isTelephoneEvent,
  sdpCodecOf,
  type AudioCodecInfo,
  type AudioCodecName,
} from './codecs.js';
export {
  answerDirection,
  directionFlags,
  directionFromFlags,
  effectiveDirection,
  holdDirection,
  intersectDirections,
  isHeld,
  resumeDirection,
  reverseDirection,
  type DirectionFlags,
} from './direction.js';
export { sdpFailure, sdpWarning, type SdpErrorCode, type SdpFailure } from './errors.js';
export { createLocalSdp, renderLocalSdp, type LocalSdp } from './localSdp.js';
export {
  eventAt,
  negotiateAudio,
  type CodecChoice,
  type OfferedEvent,
  type NegotiateOptions,
  type NegotiatedAudio,
} from './negotiate.js';
export { isSameSdpVersion } from './origin.js';
export { ownOffer } from './ownOffer.js';
export { MAX_SDP_LENGTH, parseSdp, type SdpParseResult } from './parse.js';
export {
  answeredLeg,
  relayAnswer,
  relayOffer,
  type AnchorPolicy,
  type LegCodec,
  type LegMedia,
  type LegPayload,
  type OurSide,
  type RelayedAnswer,
  type RelayedOffer,
  type LegWebRtc,
  type WebRtcIdentity,
} from './relay.js';
export {
  SAVPF,
  answerSetup,
  dtlsRole,
  type DtlsSetup,
  type LocalWebRtc,
  type RemoteWebRtc,
  type SdpCandidate,
  type SdpFingerprint,
} from './webrtc.js';
export { isDynamicPayloadType, staticPayload, type StaticPayload } from './staticPayloads.js';
export type {
  AddressFamily,
  AudioStream,
  Direction,
  MediaLine,
  PayloadFormat,
  SdpOrigin,
  SdpSession,
} from './types.js';
