/**
 * INVITE server transaction (RFC 3261 §17.2.1, Figure 7), with the Accepted state of
 * RFC 6026 §8.7 instead of terminating on a 2xx: the TU retransmits its 2xx through the
 * transaction, INVITE retransmissions are absorbed, and Timer L ends it.
 *
 *   Proceeding ──300-699──▶ Completed ──ACK──▶ Confirmed ──Timer I──▶ Terminated
 *        │ 2xx               Timer G: resend, Timer H: timeout
 *        ▼
 *     Accepted ──Timer L──▶ Terminated
 */
import { buildResponse } from '../message/index.js';
import {
  TIMEOUT,
  cancelTimer,
  go,
  isFailure,
  isProvisional,
  isSuccess,
  linger,
  reject,
  send,
  startTimer,
  transportError,
  type Action,
  type Machine,
  type MachineEvent,
  type ServerContext,
  type ServerEvent,
  type Transition,
} from './fsm.js';
import { nextCapped } from './timers.js';

export type InviteServerState =
  'proceeding' | 'completed' | 'confirmed' | 'accepted' | 'terminated';
/** G, H, I of §17.2.1; L of RFC 6026; Trying = the 200 ms 100-Trying delay. */
export type InviteServerTimer = 'G' | 'H' | 'I' | 'L' | 'Trying';

type Event = MachineEvent<ServerEvent, InviteServerTimer>;
type Result = Transition<InviteServerState, InviteServerTimer>;

/** Resends the last response, if one was sent (absorbing a retransmitted request). */
function resend(ctx: ServerContext): Action<never>[] {
  return ctx.lastResponse ? [send(ctx.lastResponse)] : [];
}

/** §17.2.1: the TU gets the INVITE; arm the 100 Trying delay unless disabled. */
function initial({ timers }: ServerContext): Result {
  return timers.trying === undefined
    ? go('proceeding')
    : go('proceeding', startTimer('Trying', timers.trying));
}

/** §17.2.1 Proceeding: responses from the TU go out; retransmissions get the last 1xx. */
function proceeding(event: Event, ctx: ServerContext): Result {
  switch (event.type) {
    case 'respond': {
      const res = event.response;
      const out = [cancelTimer<InviteServerTimer>('Trying'), send(res)];
      if (isProvisional(res.status)) return go('proceeding', ...out);
      // RFC 6026 §8.7: a 2xx moves to Accepted for Timer L (RFC 3261 terminated here).
      if (isSuccess(res.status)) return go('accepted', ...out, startTimer('L', ctx.timers.L));
      if (isFailure(res.status)) {
        const g = ctx.timers.retransmit ? [startTimer<InviteServerTimer>('G', ctx.timers.G)] : [];
        return go('completed', ...out, ...g, startTimer('H', ctx.timers.H));
      }
      return go('proceeding', reject(`bad status ${res.status}`));
    }
    case 'request':
      return go('proceeding', ...resend(ctx));
    case 'timer':
      // §17.2.1: "MUST generate a 100 (Trying) response" unless the TU answers within 200 ms.
      if (event.timer === 'Trying' && ctx.lastResponse === undefined) {
        return go('proceeding', send(buildResponse(ctx.request, 100)));
      }
      return go('proceeding');
    case 'ack':
      return go('proceeding');
    case 'transportError':
      return go('terminated', transportError(event.error));
  }
}

/** §17.2.1 Completed: resend the final response on G and on retransmissions; wait for ACK. */
function completed(event: Event, ctx: ServerContext): Result {
  switch (event.type) {
    case 'respond':
      return go('completed', reject('a final response was already sent'));
    case 'request':
      return go('completed', ...resend(ctx));
    case 'timer':
      if (event.timer === 'G') {
        const next = nextCapped(event.after, ctx.timers.t2);
        return go('completed', ...resend(ctx), startTimer('G', next));
      }
      // Timer H: the ACK never came; "inform the TU" (§17.2.1).
      return event.timer === 'H' ? go('terminated', TIMEOUT) : go('completed');
    case 'ack': {
      const stop = [cancelTimer<InviteServerTimer>('G'), cancelTimer<InviteServerTimer>('H')];
      return linger('confirmed', 'I', ctx.timers.I, stop);
    }
    case 'transportError':
      return go('terminated', transportError(event.error));
  }
}

/** §17.2.1 Confirmed: absorb ACK (and INVITE) retransmissions until Timer I. */
function confirmed(event: Event): Result {
  if (event.type === 'respond') return go('confirmed', reject('the transaction is confirmed'));
  return event.type === 'timer' && event.timer === 'I' ? go('terminated') : go('confirmed');
}

/**
 * RFC 6026 §8.7 Accepted: 2xx retransmissions from the TU are sent, INVITE
 * retransmissions absorbed without a response, Timer L ends it. A transport error is
 * reported and the state kept: the TU owns the 2xx retransmission schedule.
 */
function accepted(event: Event): Result {
  switch (event.type) {
    case 'respond':
      return isSuccess(event.response.status)
        ? go('accepted', send(event.response))
        : go('accepted', reject('only 2xx responses may follow a 2xx'));
    case 'timer':
      return event.timer === 'L' ? go('terminated') : go('accepted');
    case 'request':
    case 'ack':
      return go('accepted');
    case 'transportError':
      return go('accepted', transportError(event.error));
  }
}

function terminated(event: Event): Result {
  return event.type === 'respond'
    ? go('terminated', reject('the transaction has terminated'))
    : go('terminated');
}

const STATES: Record<InviteServerState, (event: Event, ctx: ServerContext) => Result> = {
  proceeding,
  completed,
  confirmed,
  accepted,
  terminated,
};

export const inviteServerMachine: Machine<
  InviteServerState,
  ServerEvent,
  InviteServerTimer,
  ServerContext
> = {
  initial,
  step: (state, event, ctx) => STATES[state](event, ctx),
};
