/**
 * The Subscription-State header of a NOTIFY (RFC 6665 §8.2.3, §4.1.3):
 * `active;expires=N` while the subscription runs, `terminated[;reason=R][;retry-after=S]`
 * in the last one.
 */

/** The reasons of RFC 6665 §4.1.3 that this notifier gives. */
export type TerminationReason =
  /** The subscription lapsed without a refresh. */
  | 'timeout'
  /** The notifier ends it (shutting down): the subscriber may subscribe again at once. */
  | 'deactivated'
  /** The resource is gone (the watched extension no longer exists). */
  | 'noresource';

export type NotifyState =
  | { readonly state: 'active'; readonly expiresSec: number }
  /** No reason: the subscriber's own un-subscribe (Expires: 0). */
  | { readonly state: 'terminated'; readonly reason?: TerminationReason };

export function formatSubscriptionState(s: NotifyState): string {
  if (s.state === 'active') return `active;expires=${s.expiresSec}`;
  return s.reason === undefined ? 'terminated' : `terminated;reason=${s.reason}`;
}
