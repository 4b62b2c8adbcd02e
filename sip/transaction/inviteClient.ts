/**
 * INVITE client transaction (RFC 3261 §17.1.1, Figure 5), with the Accepted state of
 * RFC 6026 §8.4: after a 2xx the transaction lingers for Timer M and passes every 2xx
 * (retransmissions and other forks) to the TU, which ACKs them (§13.2.2.4).
 *
 *                 Calling ──1xx──▶ Proceeding ──1xx──▶ (itself)
 *        Timer A: resend │  Timer B: timeout │
 *          2xx ──▶ Accepted ──Timer M──▶ Terminated
 *      300-699 ──▶ Completed (ACK sent, resent per retransmission) ──Timer D──▶ Terminated
 */
import type { SipResponse } from '../message/index.js';
import { buildAckForFailure } from './ack.js';
import {
  TIMEOUT,
  cancelTimer,
  deliver,
  go,
  isFailure,
  isProvisional,
  isSuccess,
  linger,
  send,
  startTimer,
  transportError,
  type ClientContext,
  type Machine,
  type MachineEvent,
  type Transition,
} from './fsm.js';
import { nextTimerA } from './timers.js';

export type InviteClientState = 'calling' | 'proceeding' | 'completed' | 'accepted' | 'terminated';
/** A, B, D of §17.1.1; M of RFC 6026; Cancel = the 64·T1 guard of §9.1 after a CANCEL. */
export type InviteClientTimer = 'A' | 'B' | 'D' | 'M' | 'Cancel';

export type InviteClientEvent =
  | { readonly type: 'response'; readonly response: SipResponse }
  /** The TU sent a CANCEL for this INVITE (§9.1). */
  | { readonly type: 'cancelSent' };

type Event = MachineEvent<InviteClientEvent, InviteClientTimer>;
type Result = Transition<InviteClientState, InviteClientTimer>;

/** §17.1.1.2: send the INVITE, start Timer A (unreliable transports only) and Timer B. */
function initial({ timers, request }: ClientContext): Result {
  return timers.retransmit
    ? go('calling', send(request), startTimer('A', timers.A), startTimer('B', timers.B))
    : go('calling', send(request), startTimer('B', timers.B));
}

/** §17.1.1.2: a response in Calling or Proceeding. */
function onResponse(res: SipResponse, from: InviteClientState, ctx: ClientContext): Result {
  const stop = [cancelTimer<InviteClientTimer>('A'), cancelTimer<InviteClientTimer>('B')];
  if (isProvisional(res.status)) {
    // "In the Proceeding state, the client transaction SHOULD NOT retransmit the request."
    return from === 'calling' ? go('proceeding', ...stop, deliver(res)) : go(from, deliver(res));
  }
  if (isSuccess(res.status)) {
    // RFC 6026 §8.4: 2xx → Accepted, Timer M.
    return go(
      'accepted',
      ...stop,
      cancelTimer('Cancel'),
      startTimer('M', ctx.timers.M),
      deliver(res),
    );
  }
  if (isFailure(res.status)) {
    // §17.1.1.2: ACK the failure, pass it up, wait Timer D for retransmissions.
    const ack = send(buildAckForFailure(ctx.request, res));
    return linger(
      'completed',
      'D',
      ctx.timers.D,
      [...stop, cancelTimer('Cancel'), ack],
      [deliver(res)],
    );
  }
  return go(from);
}

/** §17.1.1.2 Calling: Timer A retransmits, Timer B times out. */
function calling(event: Event, ctx: ClientContext): Result {
  switch (event.type) {
    case 'timer':
      if (event.timer === 'A') {
        return go('calling', send(ctx.request), startTimer('A', nextTimerA(event.after)));
      }
      if (event.timer === 'B' || event.timer === 'Cancel') return go('terminated', TIMEOUT);
      return go('calling');
    case 'response':
      return onResponse(event.response, 'calling', ctx);
    case 'cancelSent':
      // §9.1 asks for a provisional first; if the TU cancels early, guard anyway.
      return go('calling', startTimer('Cancel', ctx.timers.cancelGuard));
    case 'transportError':
      return go('terminated', transportError(event.error));
  }
}

/** §17.1.1.2 Proceeding: no retransmissions, no Timer B; waits for a final response. */
function proceeding(event: Event, ctx: ClientContext): Result {
  switch (event.type) {
    case 'timer':
      // §9.1: no final response 64·T1 after the CANCEL: consider the INVITE cancelled.
      return event.timer === 'Cancel' ? go('terminated', TIMEOUT) : go('proceeding');
    case 'response':
      return onResponse(event.response, 'proceeding', ctx);
    case 'cancelSent':
      return go('proceeding', startTimer('Cancel', ctx.timers.cancelGuard));
    case 'transportError':
      return go('terminated', transportError(event.error));
  }
}

/** §17.1.1.2 Completed: resend the ACK for each retransmitted failure, until Timer D. */
function completed(event: Event, ctx: ClientContext): Result {
  switch (event.type) {
    case 'timer':
      return event.timer === 'D' ? go('terminated') : go('completed');
    case 'response':
      return isFailure(event.response.status)
        ? go('completed', send(buildAckForFailure(ctx.request, event.response)))
        : go('completed');
    case 'cancelSent':
      return go('completed');
    case 'transportError':
      return go('terminated', transportError(event.error));
  }
}

/** RFC 6026 §8.4 Accepted: every 2xx goes to the TU; other responses are dropped. */
function accepted(event: Event): Result {
  switch (event.type) {
    case 'timer':
      return event.timer === 'M' ? go('terminated') : go('accepted');
    case 'response':
      return isSuccess(event.response.status)
        ? go('accepted', deliver(event.response))
        : go('accepted');
    case 'cancelSent':
    case 'transportError':
      // Nothing is sent in Accepted (the TU sends the ACK for 2xx itself).
      return go('accepted');
  }
}

const STATES: Record<InviteClientState, (event: Event, ctx: ClientContext) => Result> = {
  calling,
  proceeding,
  completed,
  accepted,
  terminated: () => go('terminated'),
};

export const inviteClientMachine: Machine<
  InviteClientState,
  InviteClientEvent,
  InviteClientTimer,
  ClientContext
> = {
  initial,
  step: (state, event, ctx) => STATES[state](event, ctx),
};
