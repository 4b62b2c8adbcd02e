/**
 * re-INVITE collisions (RFC 3261 §14). Each side may have at most one INVITE transaction
 * in progress in a dialog in either direction (§14.1). When both sides re-INVITE at once
 * (glare) each answers the other 491 and retries after a random delay whose range
 * depends on who generated the Call-ID, so that one of them wins.
 */

/** The INVITE transactions in progress in a dialog. */
export interface InviteActivity {
  /** We sent a re-INVITE and have no final response yet. */
  sending: boolean;
  /** We received an INVITE and have not sent its final response yet. */
  receiving: boolean;
}

export type ReInviteVerdict =
  | { accept: true }
  /** §14.2: our own re-INVITE is pending: glare. */
  | { accept: false; status: 491 }
  /** §14.2: a previous INVITE from the peer is still unanswered; Retry-After in seconds. */
  | { accept: false; status: 500; retryAfter: number };

/** A source of uniform numbers in [0, 1) (Math.random in production, fixed in tests). */
export type RandomSource = () => number;

/** §14.2: what to do with a re-INVITE received in a dialog. */
export function checkIncomingReInvite(
  activity: InviteActivity,
  random: RandomSource,
): ReInviteVerdict {
  if (activity.receiving) {
    // "a randomly chosen value of between 0 and 10 seconds".
    return { accept: false, status: 500, retryAfter: pick(random, 0, 10) };
  }
  if (activity.sending) return { accept: false, status: 491 };
  return { accept: true };
}

/** §14.1: a UAC must not start an INVITE while another is in progress either way. */
export function canSendReInvite(activity: InviteActivity): boolean {
  return !activity.sending && !activity.receiving;
}

/**
 * §14.1: how long to wait after a 491 before retrying, in ms: 2.1–4 s when we own the
 * Call-ID (generated it), 0–2 s otherwise, in units of 10 ms.
 */
export function glareRetryDelay(ownsCallId: boolean, random: RandomSource): number {
  return ownsCallId ? pick(random, 210, 400) * 10 : pick(random, 0, 200) * 10;
}

/** A uniform integer in [min, max], whatever the source returns. */
function pick(random: RandomSource, min: number, max: number): number {
  const r = random();
  const unit = Number.isFinite(r) ? Math.min(Math.max(r, 0), 1 - Number.EPSILON) : 0;
  return min + Math.floor(unit * (max - min + 1));
}
