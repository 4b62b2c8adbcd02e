/**
 * Non-INVITE client transaction (RFC 3261 §17.1.2, Figure 6).
 *
 *   Trying ──1xx──▶ Proceeding ──200-699──▶ Completed ──Timer K──▶ Terminated
 *   Timer E resends (doubling up to T2; at T2 in Proceeding), Timer F times out.
 */
import type { SipResponse } from '../message/index.js';
import {
  TIMEOUT,
  cancelTimer,
  deliver,
  go,
  isProvisional,
  linger,
  send,
  startTimer,
  transportError,
  type ClientContext,
  type Machine,
  type MachineEvent,
  type Transition,
} from './fsm.js';
import { nextCapped } from './timers.js';

export type NonInviteClientState = 'trying' | 'proceeding' | 'completed' | 'terminated';
export type NonInviteClientTimer = 'E' | 'F' | 'K';
export type NonInviteClientEvent = { readonly type: 'response'; readonly response: SipResponse };

type Event = MachineEvent<NonInviteClientEvent, NonInviteClientTimer>;
type Result = Transition<NonInviteClientState, NonInviteClientTimer>;

/** §17.1.2.2: send the request, start Timer E (unreliable only) and Timer F. */
function initial({ timers, request }: ClientContext): Result {
  return timers.retransmit
    ? go('trying', send(request), startTimer('E', timers.E), startTimer('F', timers.F))
    : go('trying', send(request), startTimer('F', timers.F));
}

/** §17.1.2.2: a response in Trying or Proceeding. */
function onResponse(res: SipResponse, from: NonInviteClientState, ctx: ClientContext): Result {
  if (isProvisional(res.status)) return go('proceeding', deliver(res));
  if (res.status < 200 || res.status >= 700) return go(from);
  // A final response: stop E and F, wait Timer K to absorb retransmissions.
  const stop = [cancelTimer<NonInviteClientTimer>('E'), cancelTimer<NonInviteClientTimer>('F')];
  return linger('completed', 'K', ctx.timers.K, stop, [deliver(res)]);
}

/** §17.1.2.2 Trying: Timer E resends at MIN(2^n·T1, T2); Timer F times out. */
function trying(event: Event, ctx: ClientContext): Result {
  switch (event.type) {
    case 'timer':
      if (event.timer === 'E') {
        const next = nextCapped(event.after, ctx.timers.t2);
        return go('trying', send(ctx.request), startTimer('E', next));
      }
      return event.timer === 'F' ? go('terminated', TIMEOUT) : go('trying');
    case 'response':
      return onResponse(event.response, 'trying', ctx);
    case 'transportError':
      return go('terminated', transportError(event.error));
  }
}

/** §17.1.2.2 Proceeding: "Timer E MUST be reset with a value of T2 seconds." */
function proceeding(event: Event, ctx: ClientContext): Result {
  switch (event.type) {
    case 'timer':
      if (event.timer === 'E') {
        return go('proceeding', send(ctx.request), startTimer('E', ctx.timers.t2));
      }
      return event.timer === 'F' ? go('terminated', TIMEOUT) : go('proceeding');
    case 'response':
      return onResponse(event.response, 'proceeding', ctx);
    case 'transportError':
      return go('terminated', transportError(event.error));
  }
}

/** §17.1.2.2 Completed: absorb response retransmissions until Timer K. */
function completed(event: Event): Result {
  return event.type === 'timer' && event.timer === 'K' ? go('terminated') : go('completed');
}

const STATES: Record<NonInviteClientState, (event: Event, ctx: ClientContext) => Result> = {
  trying,
  proceeding,
  completed,
  terminated: () => go('terminated'),
};

export const nonInviteClientMachine: Machine<
  NonInviteClientState,
  NonInviteClientEvent,
  NonInviteClientTimer,
  ClientContext
> = {
  initial,
  step: (state, event, ctx) => STATES[state](event, ctx),
};
