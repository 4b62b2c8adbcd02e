/**
 * One call's record and its state machine (pure data, kept in memory for the live-call
 * listing). States, in order: proceeding (INVITE received, forks ringing or not yet) →
 * early (a 1xx with a To tag relayed, or early media) → answered (2xx relayed to the
 * caller) → ended. A call may end from any state; nothing leaves 'ended'.
 */
import type { CallDirection } from './dialPlan.js';

export type CallState = 'proceeding' | 'early' | 'answered' | 'ended';

export type CallEvent = 'provisional' | 'answer' | 'end';

export type EndReason =
  | 'caller-hangup'
  | 'callee-hangup'
  | 'cancelled'
  | 'rejected'
  | 'no-answer'
  | 'media-timeout'
  | 'media-error'
  /** Our 2xx to an INVITE was never ACKed (RFC 3261 §13.3.1.4: BYE after 64·T1). */
  | 'no-ack'
  /** The supervisor who took the call over hung up. */
  | 'supervisor-hangup'
  /** A side's connection closed (a browser's WebSocket, RFC 7118): it can hear no BYE. */
  | 'connection-lost'
  /** The caller waited a queue's maximum wait and its overflow hung up (§9.5). */
  | 'queue-timeout'
  | 'server-shutdown';

export interface CallRecord {
  /** Our id: the Call-ID of the caller's dialog. */
  readonly id: string;
  readonly caller: string;
  /** The caller's display name (From), when it gave one. */
  readonly callerName?: string;
  readonly callee: string;
  readonly direction: CallDirection;
  state: CallState;
  /** Clock ms. */
  readonly startedAt: number;
  answeredAt?: number;
  endedAt?: number;
  endReason?: EndReason;
  /** The final status the caller got (200, 486, 487, …). */
  finalStatus?: number;
  /** A queue call (docs/architecture.md §9.5): the queue, and how long the caller waited. */
  queue?: QueueInfo;
}

export interface QueueInfo {
  /** The queue's number (after an overflow to another queue: that one). */
  number: string;
  /** Clock ms: when the caller joined the queue (answered by the server). */
  joinedAt: number;
  /** How long the caller waited until a member answered (set then). */
  waitMs?: number;
  /** The member who answered. */
  agent?: string;
}

/** (state, event) → next state; undefined: the event does not apply in that state. */
export function nextCallState(state: CallState, event: CallEvent): CallState | undefined {
  switch (event) {
    case 'provisional':
      return state === 'proceeding' || state === 'early' ? 'early' : undefined;
    case 'answer':
      return state === 'proceeding' || state === 'early' ? 'answered' : undefined;
    case 'end':
      return state === 'ended' ? undefined : 'ended';
  }
}
