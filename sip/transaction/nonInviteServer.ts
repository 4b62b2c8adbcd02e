/**
 * Non-INVITE server transaction (RFC 3261 §17.2.2, Figure 8).
 *
 *   Trying ──1xx──▶ Proceeding ──200-699──▶ Completed ──Timer J──▶ Terminated
 *   Trying discards retransmissions; Proceeding and Completed resend the last response.
 */
import type { SipResponse } from '../message/index.js';
import {
  go,
  isProvisional,
  linger,
  reject,
  send,
  transportError,
  type Machine,
  type MachineEvent,
  type ServerContext,
  type ServerEvent,
  type Transition,
} from './fsm.js';

export type NonInviteServerState = 'trying' | 'proceeding' | 'completed' | 'terminated';
export type NonInviteServerTimer = 'J';

type Event = MachineEvent<ServerEvent, NonInviteServerTimer>;
type Result = Transition<NonInviteServerState, NonInviteServerTimer>;

/** §17.2.2: the request goes to the TU; no timer runs until a final response. */
function initial(): Result {
  return go('trying');
}

/** §17.2.2: a response from the TU in Trying or Proceeding. */
function respond(res: SipResponse, from: NonInviteServerState, ctx: ServerContext): Result {
  if (isProvisional(res.status)) return go('proceeding', send(res));
  if (res.status < 200 || res.status >= 700) return go(from, reject(`bad status ${res.status}`));
  // Final response: Completed, Timer J (64·T1 unreliable, 0 reliable).
  return linger('completed', 'J', ctx.timers.J, [send(res)]);
}

/** §17.2.2 Trying: "any retransmissions of the request received … MUST be discarded". */
function trying(event: Event, ctx: ServerContext): Result {
  switch (event.type) {
    case 'respond':
      return respond(event.response, 'trying', ctx);
    case 'transportError':
      return go('terminated', transportError(event.error));
    default:
      return go('trying');
  }
}

/** §17.2.2 Proceeding: retransmissions get the last provisional response. */
function proceeding(event: Event, ctx: ServerContext): Result {
  switch (event.type) {
    case 'respond':
      return respond(event.response, 'proceeding', ctx);
    case 'request':
      return go('proceeding', ...(ctx.lastResponse ? [send(ctx.lastResponse)] : []));
    case 'transportError':
      return go('terminated', transportError(event.error));
    default:
      return go('proceeding');
  }
}

/** §17.2.2 Completed: retransmissions get the final response again, until Timer J. */
function completed(event: Event, ctx: ServerContext): Result {
  switch (event.type) {
    case 'respond':
      return go('completed', reject('a final response was already sent'));
    case 'request':
      return go('completed', ...(ctx.lastResponse ? [send(ctx.lastResponse)] : []));
    case 'timer':
      return event.timer === 'J' ? go('terminated') : go('completed');
    case 'transportError':
      return go('terminated', transportError(event.error));
    case 'ack':
      return go('completed');
  }
}

function terminated(event: Event): Result {
  return event.type === 'respond'
    ? go('terminated', reject('the transaction has terminated'))
    : go('terminated');
}

const STATES: Record<NonInviteServerState, (event: Event, ctx: ServerContext) => Result> = {
  trying,
  proceeding,
  completed,
  terminated,
};

export const nonInviteServerMachine: Machine<
  NonInviteServerState,
  ServerEvent,
  NonInviteServerTimer,
  ServerContext
> = {
  initial,
  step: (state, event, ctx) => STATES[state](event, ctx),
};
