/**
 * Why an SDP body or an offer/answer exchange was refused. Every code maps to a 488 Not
 * Acceptable Here (RFC 3261 §21.4.26) on an INVITE or UPDATE, or to a BYE/re-offer when
 * it was an answer; the code lets logs and metrics tell the cases apart without matching
 * on message text.
 */
export type SdpErrorCode =
  /** Not SDP as RFC 4566 §5 writes it: no `v=0` first, a bad `m=`, `c=`, `rtpmap`, … */
  | 'SDP_MALFORMED'
  /** Well-formed, but asks for what we do not do: SRTP, multicast, a host name in `c=`. */
  | 'SDP_UNSUPPORTED'
  /** No `m=audio` line at all. */
  | 'SDP_NO_AUDIO'
  /** The audio stream is declined (port 0, RFC 3264 §5.1). */
  | 'SDP_AUDIO_DISABLED'
  /** None of the offered (or answered) codecs is one we support (RFC 3264 §6). */
  | 'SDP_NO_COMMON_CODEC';

/** A typed failure: never thrown for network input, always returned. */
export interface SdpFailure {
  ok: false;
  code: SdpErrorCode;
  /** Short human-readable text for logs (and a Warning header, if the caller wants). */
  reason: string;
}

export function sdpFailure(code: SdpErrorCode, reason: string): SdpFailure {
  return { ok: false, code, reason };
}

/**
 * The Warning header value (RFC 3261 §20.43) for a 488 caused by `failure`: code 305
 * "Incompatible media format" when no offered codec is one we support (§20.43's list;
 * `agent` is our host), else 399 with the reason under the pseudonym `callwatch`.
 */
export function sdpWarning(failure: SdpFailure, agent: string): string {
  if (failure.code === 'SDP_NO_COMMON_CODEC') return `305 ${agent} "Incompatible media format"`;
  return `399 callwatch "${failure.reason}"`;
}
