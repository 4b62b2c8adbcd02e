/**
 * The vocabulary shared by the four transaction state machines (RFC 3261 §17).
 *
 * A machine is data: `step(state, event, context) → { state, actions }`, with no I/O and
 * no clock. The runner (transaction.ts) performs the actions in order. Conventions:
 * - TU-facing actions (`deliver`, `timeout`, `transportError`) come last, so a TU that
 *   reacts re-entrantly sees the transaction already in its new state;
 * - entering `terminated` implicitly cancels every timer, so machines list
 *   `cancelTimer` only for transitions that stay alive.
 */
import type { SipMessage, SipRequest, SipResponse } from '../message/index.js';
import type { TimerValues } from './timers.js';

/** What a client machine reads: its timer table and the request it carries. */
export interface ClientContext {
  readonly timers: TimerValues;
  readonly request: SipRequest;
}

/** What a server machine reads; `lastResponse` is the last response it sent. */
export interface ServerContext extends ClientContext {
  readonly lastResponse: SipResponse | undefined;
}

export type Action<T extends string> =
  /** Hand a message to the transport, towards the transaction's peer. */
  | { readonly type: 'send'; readonly message: SipMessage }
  | { readonly type: 'startTimer'; readonly timer: T; readonly ms: number }
  | { readonly type: 'cancelTimer'; readonly timer: T }
  /** Client side: pass a response up to the TU. */
  | { readonly type: 'deliver'; readonly response: SipResponse }
  /** Report a transaction timeout to the TU (Timers B, F, H; §9.1 CANCEL guard). */
  | { readonly type: 'timeout' }
  /** Report a transport failure to the TU (§17.1.1.2, §17.1.2.2, §17.2.1, §17.2.2). */
  | { readonly type: 'transportError'; readonly error: unknown }
  /** The TU asked for something this state forbids; the runner throws, nothing happens. */
  | { readonly type: 'reject'; readonly reason: string };

export interface Transition<S extends string, T extends string> {
  readonly state: S;
  readonly actions: readonly Action<T>[];
}

/** Events a server machine gets besides timers and transport errors. */
export type ServerEvent =
  /** The TU passes a response down. */
  | { readonly type: 'respond'; readonly response: SipResponse }
  /** A retransmission of the request arrived (§17.2.3 matched it). */
  | { readonly type: 'request' }
  /** An ACK matched the transaction (§17.2.3). */
  | { readonly type: 'ack' };

/** A timer fired after `after` ms (its armed duration, from which the next one doubles). */
export interface TimerEvent<T extends string> {
  readonly type: 'timer';
  readonly timer: T;
  readonly after: number;
}

export interface TransportErrorEvent {
  readonly type: 'transportError';
  readonly error: unknown;
}

/** Events every machine accepts, plus its own. */
export type MachineEvent<E, T extends string> = E | TimerEvent<T> | TransportErrorEvent;

/**
 * One transaction state machine. Methods (not function properties) on purpose: a
 * machine over a subset of states fits the runner's wider state union.
 */
export interface Machine<S extends string, E, T extends string, C> {
  initial(context: C): Transition<S, T>;
  step(state: S, event: MachineEvent<E, T>, context: C): Transition<S, T>;
}

export function send(message: SipMessage): Action<never> {
  return { type: 'send', message };
}

export function startTimer<T extends string>(timer: T, ms: number): Action<T> {
  return { type: 'startTimer', timer, ms };
}

export function cancelTimer<T extends string>(timer: T): Action<T> {
  return { type: 'cancelTimer', timer };
}

export function deliver(response: SipResponse): Action<never> {
  return { type: 'deliver', response };
}

export const TIMEOUT: Action<never> = { type: 'timeout' };

export function transportError(error: unknown): Action<never> {
  return { type: 'transportError', error };
}

export function reject(reason: string): Action<never> {
  return { type: 'reject', reason };
}

export function go<S extends string, T extends string>(
  state: S,
  ...actions: Action<T>[]
): Transition<S, T> {
  return { state, actions };
}

/**
 * Enters a state that only waits for stragglers (Completed with D/K/J, Confirmed with
 * I). A zero duration (reliable transports) terminates at once instead of arming a
 * zero-length timer. `actions` run before the timer starts; `tuActions` after it.
 */
export function linger<S extends string, T extends string>(
  state: S,
  timer: T,
  ms: number,
  actions: readonly Action<T>[],
  tuActions: readonly Action<T>[] = [],
): Transition<S | 'terminated', T> {
  if (ms <= 0) return { state: 'terminated', actions: [...actions, ...tuActions] };
  return { state, actions: [...actions, startTimer(timer, ms), ...tuActions] };
}

/** §7.2 status classes. */
export function isProvisional(status: number): boolean {
  return status >= 100 && status < 200;
}

export function isSuccess(status: number): boolean {
  return status >= 200 && status < 300;
}

export function isFailure(status: number): boolean {
  return status >= 300 && status < 700;
}
