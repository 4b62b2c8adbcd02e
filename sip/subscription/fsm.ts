/**
 * The notifier's side of one subscription (RFC 6665 §4.2) as a pure state machine, in
 * the style of the transaction machines: `step(state, event) → { state, actions }`.
 *
 *   start      → active: the initial NOTIFY at once (§4.2.1.2), the expiry timer
 *                armed; a fetch (Expires 0) sends that NOTIFY as the last one
 *   refresh    → active: timer re-armed, a NOTIFY (§4.2.1.2); Expires 0 → terminated
 *                (un-subscribe, §4.2.1.4), the last NOTIFY without a reason
 *   changed    → a NOTIFY with the new state (§4.2.2)
 *   expired    → terminated;reason=timeout (§4.2.2, §4.1.3)
 *   shutdown   → terminated;reason=deactivated
 *   notified   → the NOTIFY in flight got its final answer; `fatal` (481, a timeout,
 *                see isFatalNotifyAnswer) removes the subscription at once, without any
 *                further NOTIFY
 *
 * One NOTIFY at a time: RFC 3261 §12.2.2 lets the subscriber refuse a request whose CSeq
 * is below one it already has (500), which NOTIFYs racing over UDP would risk. A change
 * while one is in flight marks the next NOTIFY due; it goes out when the answer comes,
 * with the state of that moment (the body is always full state, so skipped steps lose
 * nothing a subscriber needs). The last NOTIFY replaces any active one that was due.
 */
import type { NotifyState, TerminationReason } from './subscriptionState.js';

export type SubscriptionPhase =
  /** Running: NOTIFYs as the resource changes. */
  | 'active'
  /** The last NOTIFY is due or in flight. */
  | 'terminating'
  /** Over: nothing more is sent; the owner forgets it. */
  | 'terminated';

export interface SubscriptionState {
  readonly phase: SubscriptionPhase;
  /** Clock ms when the subscription lapses. */
  readonly expiresAt: number;
  /** A NOTIFY awaits its final answer. */
  readonly inFlight: boolean;
  /** What the next NOTIFY says, when one is due behind the one in flight. */
  readonly due: 'active' | { readonly reason?: TerminationReason } | undefined;
}

export type SubscriptionEvent =
  | { type: 'refresh'; now: number; expiresSec: number }
  | { type: 'changed'; now: number }
  | { type: 'expired'; now: number }
  | { type: 'shutdown'; now: number }
  | { type: 'notified'; now: number; fatal: boolean };

export type SubscriptionAction =
  | { type: 'notify'; state: NotifyState }
  /** (Re-)arm the expiry timer to fire in `delayMs`. */
  | { type: 'arm'; delayMs: number }
  | { type: 'disarm' }
  /** Forget the subscription (its dialog ends with it). */
  | { type: 'ended' };

export interface Step {
  state: SubscriptionState;
  actions: SubscriptionAction[];
}

/**
 * Whole seconds left, as the `expires` of `active` (§4.2.2: the time left). Rounded to
 * the millisecond first (a fractional clock makes 3000 ms come out as 3000.0000001),
 * then down, so the subscriber refreshes before we would expire it, never after.
 */
function secondsLeft(state: SubscriptionState, now: number): number {
  return Math.max(0, Math.floor(Math.round(state.expiresAt - now) / 1000));
}

/** Sends `what` now, or marks it due behind the NOTIFY in flight. */
function send(
  state: SubscriptionState,
  what: 'active' | { reason?: TerminationReason },
  now: number,
  actions: SubscriptionAction[],
): SubscriptionState {
  if (state.inFlight) {
    // A final NOTIFY that is due stays due: an active one never replaces it.
    const due = state.due !== undefined && state.due !== 'active' ? state.due : what;
    return { ...state, due };
  }
  actions.push({
    type: 'notify',
    state:
      what === 'active'
        ? { state: 'active', expiresSec: secondsLeft(state, now) }
        : { state: 'terminated', ...(what.reason !== undefined ? { reason: what.reason } : {}) },
  });
  return { ...state, inFlight: true, due: undefined };
}

function terminate(
  state: SubscriptionState,
  reason: TerminationReason | undefined,
  now: number,
): Step {
  const actions: SubscriptionAction[] = [{ type: 'disarm' }];
  const next = send(
    { ...state, phase: 'terminating' },
    reason === undefined ? {} : { reason },
    now,
    actions,
  );
  return { state: next, actions };
}

/**
 * A new subscription of `expiresSec`: active, its first NOTIFY, its timer. 0 is a fetch
 * (RFC 6665 §4.4.3): one NOTIFY with the state, which is also the last
 * (`terminated;reason=timeout`).
 */
export function startSubscription(now: number, expiresSec: number): Step {
  const initial: SubscriptionState = {
    phase: expiresSec === 0 ? 'terminating' : 'active',
    expiresAt: now + expiresSec * 1000,
    inFlight: false,
    due: undefined,
  };
  if (expiresSec === 0) {
    const actions: SubscriptionAction[] = [];
    return { state: send(initial, { reason: 'timeout' }, now, actions), actions };
  }
  const actions: SubscriptionAction[] = [{ type: 'arm', delayMs: expiresSec * 1000 }];
  return { state: send(initial, 'active', now, actions), actions };
}

export function step(state: SubscriptionState, event: SubscriptionEvent): Step {
  if (state.phase === 'terminated') return { state, actions: [] };
  switch (event.type) {
    case 'refresh': {
      if (state.phase !== 'active') return { state, actions: [] };
      if (event.expiresSec === 0) return terminate(state, undefined, event.now);
      const actions: SubscriptionAction[] = [{ type: 'arm', delayMs: event.expiresSec * 1000 }];
      const refreshed = { ...state, expiresAt: event.now + event.expiresSec * 1000 };
      return { state: send(refreshed, 'active', event.now, actions), actions };
    }
    case 'changed': {
      if (state.phase !== 'active') return { state, actions: [] };
      const actions: SubscriptionAction[] = [];
      return { state: send(state, 'active', event.now, actions), actions };
    }
    case 'expired':
      if (state.phase !== 'active') return { state, actions: [] };
      return terminate(state, 'timeout', event.now);
    case 'shutdown':
      if (state.phase !== 'active') return { state, actions: [] };
      return terminate(state, 'deactivated', event.now);
    case 'notified': {
      if (!state.inFlight) return { state, actions: [] };
      const settled = { ...state, inFlight: false };
      if (event.fatal) {
        return {
          state: { ...settled, phase: 'terminated', due: undefined },
          actions: [{ type: 'disarm' }, { type: 'ended' }],
        };
      }
      if (settled.due !== undefined) {
        const actions: SubscriptionAction[] = [];
        return { state: send(settled, settled.due, event.now, actions), actions };
      }
      if (settled.phase === 'terminating') {
        return { state: { ...settled, phase: 'terminated' }, actions: [{ type: 'ended' }] };
      }
      return { state: settled, actions: [] };
    }
  }
}

/**
 * Whether a NOTIFY's answer ends the subscription: 481 and a transaction timeout (RFC
 * 6665 §4.2.2), and the answers that say the subscriber does not take this method or
 * package, or is gone (405, 489, 501; 404, 410, 604; RFC 5057 §5.1). Other errors leave
 * it running (the next change tries again).
 */
export function isFatalNotifyAnswer(status: number): boolean {
  return [404, 405, 408, 410, 481, 489, 501, 604].includes(status);
}
