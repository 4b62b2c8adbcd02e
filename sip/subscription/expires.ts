/**
 * The duration of a subscription (RFC 6665 §4.2.1.1): the notifier may shorten the
 * requested Expires but never lengthen it, answers 423 Interval Too Brief with
 * Min-Expires when a non-zero request is below its minimum (§4.2.1.1, RFC 3261
 * §21.4.17), and uses the package's default when the SUBSCRIBE has no Expires
 * (§4.1.2.1). Expires: 0 is an un-subscribe (or a fetch), never too brief. Pure.
 */
export interface ExpiresPolicy {
  /** Seconds: shortest non-zero subscription (Min-Expires of the 423). */
  readonly minSec: number;
  /** Seconds: longer requests are cut to this. */
  readonly maxSec: number;
  /** Seconds: when the SUBSCRIBE gives none (RFC 4235 §3.3: 3600 for `dialog`). */
  readonly defaultSec: number;
}

export type ExpiresDecision =
  { ok: true; expiresSec: number } | { ok: false; status: 423; minExpiresSec: number };

/** `requested`: the Expires header as delta-seconds, undefined when absent. */
export function decideExpires(
  requested: number | undefined,
  policy: ExpiresPolicy,
): ExpiresDecision {
  const wanted = requested ?? policy.defaultSec;
  if (wanted === 0) return { ok: true, expiresSec: 0 };
  if (wanted < policy.minSec) return { ok: false, status: 423, minExpiresSec: policy.minSec };
  return { ok: true, expiresSec: Math.min(wanted, policy.maxSec) };
}
