/**
 * The runner shared by client and server transactions: it feeds events to a pure
 * machine (fsm.ts) and performs the actions that come back — sending through the
 * layer, arming timers on the injected clock, and calling the TU hooks.
 */
import type { TimerHandle, Clock } from '../clock.js';
import type { SipMessage, SipRequest, SipResponse } from '../message/index.js';
import { toWire, toWireWithBytes } from '../message/wire.js';
import type { Source } from '../transport/types.js';
import { InvalidStateError } from './errors.js';
import type { Action, Machine, MachineEvent, ServerContext, Transition } from './fsm.js';
import type { TransactionLogger } from './logger.js';
import type { Lingering, LingerQueues } from './lingerQueue.js';
import type { TimerValues } from './timers.js';

/**
 * The wait timers of a last state (RFC 3261 §17: D, I, J, K; RFC 6026 Accepted: L, M),
 * never cancelled while the transaction lives: they run on the layer's shared queues
 * (lingerQueue.ts).
 */
const LINGER_TIMERS: ReadonlySet<string> = new Set(['D', 'I', 'J', 'K', 'L', 'M']);

/** Why a transaction ended: normally, Timer B/F/H (or §9.1), a transport error, or layer close. */
export type TerminationReason = 'completed' | 'timeout' | 'transportError' | 'closed';

/** What a transaction needs from the layer that owns it. */
export interface TransactionHost {
  readonly clock: Clock;
  /** Shared queues for the last state's wait timer; without them each gets a clock timer. */
  readonly lingers?: LingerQueues;
  readonly logger: TransactionLogger | undefined;
  /** `bytes`, when given, are `message` already serialized: sent as they are. */
  transmit(message: SipMessage, destination: Source, bytes?: Buffer): void | Promise<void>;
  /** A TU callback threw. */
  listenerError(error: unknown, where: string): void;
}

export abstract class TransactionBase<
  S extends string,
  E extends { type: string },
  T extends string,
> implements Lingering {
  /** The match key (§17.1.3 / §17.2.3), unique among active transactions of its side. */
  readonly id: string;
  /** The request's method (kept when the request itself is released). */
  readonly method: string;
  /** The request; undefined once released (see holdAsBytes()). */
  private req: SipRequest | undefined;
  /** Where requests (client) or responses (server) are sent. */
  readonly destination: Source;
  /** Whether the transport towards `destination` is reliable (no retransmissions). */
  readonly reliable: boolean;
  /** Per-transaction child logger, made on first use: creating one for every transaction
   * costs more than the rest of a REGISTER's bookkeeping when debug is off. */
  private childLog: TransactionLogger | undefined;
  /** The timer values this transaction runs on (its transport's, timers.ts). */
  readonly timers: TimerValues;
  private current: S | 'terminated';
  /** Set once `ended()` ran, so a re-entrant close cannot end the transaction twice. */
  private finished = false;
  private last: SipResponse | undefined;
  private pending: Transition<S, T> | undefined;
  /** Clock timers by name, made on the first one (a lingering transaction has none). */
  private armed: Map<T, TimerHandle> | undefined;
  /** The wait timer on the layer's queues, and the token of its entry (0: none). */
  private lingerTimer: T | undefined;
  private lingerMs = 0;
  private lingerToken = 0;

  protected constructor(
    private readonly host: TransactionHost,
    private readonly machine: Machine<S, E, T, ServerContext>,
    init: { id: string; request: SipRequest; destination: Source; timers: TimerValues },
  ) {
    this.id = init.id;
    this.method = init.request.method;
    this.req = init.request;
    this.destination = init.destination;
    this.timers = init.timers;
    this.reliable = !init.timers.retransmit;
    this.pending = machine.initial(this.context());
    this.current = this.pending.state;
  }

  /**
   * The request. Throws InvalidStateError once the transaction released it: a non-INVITE
   * server transaction that answered over UDP, or an INVITE server transaction in
   * Accepted, keeps only its response (holdAsBytes()), a client transaction in Accepted or
   * a non-INVITE's Completed nothing (releaseMessages()).
   */
  get request(): SipRequest {
    if (this.req === undefined) {
      throw new InvalidStateError(`transaction ${this.id} no longer holds its request`);
    }
    return this.req;
  }

  get state(): S | 'terminated' {
    return this.current;
  }

  /**
   * Server: the last response sent. Client: the last response passed to the TU, until
   * the transaction only waits out its timer (Accepted, a non-INVITE's Completed).
   */
  get lastResponse(): SipResponse | undefined {
    return this.last;
  }

  private logState(from: string, to: string, cause: string): void {
    const logger = this.host.logger;
    if (!logger || logger.isLevelEnabled?.('debug') === false) return;
    this.childLog ??= logger.child({ tx: this.id });
    this.childLog.debug({ from, to, cause }, 'state');
  }

  /** Performs the machine's initial actions; the layer calls it once, after registering. */
  start(): void {
    const first = this.pending;
    this.pending = undefined;
    if (first !== undefined) this.perform(first, 'start');
  }

  /** Layer close: stop everything without passing through the machine. */
  abort(): void {
    if (this.finished) return;
    this.current = 'terminated';
    this.finish('closed');
  }

  /**
   * The connection this transaction's messages travel on is gone (RFC 3261 §18.4: a
   * transport error); the machine decides what follows.
   */
  connectionLost(error: unknown): void {
    this.dispatch({ type: 'transportError', error });
  }

  protected dispatch(event: MachineEvent<E, T>): void {
    if (this.current === 'terminated') return;
    this.perform(this.machine.step(this.current, event, this.context()), eventName(event));
  }

  /** Called after each transition that leaves the transaction alive in `state`. */
  protected settled(_state: S): void {}

  /**
   * Whether `response`, about to be sent, will be held as its wire bytes (see
   * holdAsBytes()): then it is serialized once, for the send and for holding.
   */
  protected holdsAsBytes(_response: SipResponse): boolean {
    return false;
  }

  /**
   * From now on the last response is held as its wire bytes (see message/wire.ts) and the
   * request is released: for a transaction that only resends responses until its timer
   * (a non-INVITE server in Completed, RFC 3261 §17.2.2; an INVITE server in Accepted,
   * RFC 6026 §8.7), which never reads the request again. Lingering 64·T1, each kept
   * request would cost memory and GC time.
   */
  protected holdAsBytes(): void {
    this.req = undefined;
    if (this.last !== undefined) this.last = toWire(this.last);
  }

  /**
   * From now on neither the request nor the last response is held: for a client
   * transaction that only passes 2xx retransmissions up or absorbs responses until its
   * timer (see ClientTransaction.settled). Reading the request then throws
   * InvalidStateError; lastResponse is undefined.
   */
  protected releaseMessages(): void {
    this.req = undefined;
    this.last = undefined;
  }

  /** TU hooks, called for the matching actions. */
  protected abstract delivered(response: SipResponse): void;
  protected abstract timedOut(): void;
  protected abstract transportFailed(error: unknown): void;
  /** Terminated (timers already cleared): leave the layer's maps, tell listeners. */
  protected abstract ended(reason: TerminationReason): void;

  /**
   * What the machine reads: the transaction itself (its timers, request and last
   * response), so no context object is made per event or kept per transaction. A machine
   * reading the request after holdAsBytes() released it gets the InvalidStateError.
   */
  private context(): ServerContext {
    return this;
  }

  private perform(transition: Transition<S, T>, cause: string): void {
    const rejected = transition.actions.find((a) => a.type === 'reject');
    if (rejected?.type === 'reject') throw new InvalidStateError(rejected.reason);
    const from = this.current;
    this.current = transition.state;
    if (from !== transition.state) this.logState(from, transition.state, cause);
    let failure: { error: unknown } | undefined;
    let reason: TerminationReason = 'completed';
    for (const action of transition.actions) {
      if (this.finished) return; // a TU callback closed the layer
      const failed = this.execute(action);
      failure ??= failed;
      if (action.type === 'timeout') reason = 'timeout';
      if (action.type === 'transportError') reason = 'transportError';
    }
    if (this.finished) return;
    if (this.current !== 'terminated') {
      if (failure !== undefined) this.dispatch({ type: 'transportError', error: failure.error });
      else this.settled(this.current);
      return;
    }
    // Terminated, possibly by a zero-length Timer D/I/J/K on a reliable transport whose
    // last send failed: the TU still hears of the failure.
    if (failure !== undefined && reason !== 'transportError') {
      reason = 'transportError';
      this.transportFailed(failure.error);
    }
    this.finish(reason);
  }

  private finish(reason: TerminationReason): void {
    if (this.finished) return;
    this.finished = true;
    this.disarmAll();
    this.ended(reason);
  }

  /** Runs one action; returns the error when a synchronous send failed. */
  private execute(action: Action<T>): { error: unknown } | undefined {
    switch (action.type) {
      case 'send':
        return this.transmit(action.message);
      case 'startTimer':
        this.arm(action.timer, action.ms);
        return undefined;
      case 'cancelTimer':
        this.disarm(action.timer);
        return undefined;
      case 'deliver':
        this.last = action.response;
        this.delivered(action.response);
        return undefined;
      case 'timeout':
        this.timedOut();
        return undefined;
      case 'transportError':
        this.transportFailed(action.error);
        return undefined;
      case 'reject':
        return undefined;
    }
  }

  private transmit(message: SipMessage): { error: unknown } | undefined {
    let bytes: Buffer | undefined;
    if (message.kind === 'response') {
      if (this.holdsAsBytes(message)) {
        const wire = toWireWithBytes(message);
        this.last = wire.held;
        bytes = wire.bytes;
      } else {
        this.last = message;
      }
    }
    try {
      const result = this.host.transmit(message, this.destination, bytes);
      if (result instanceof Promise) {
        result.then(undefined, (error: unknown) =>
          this.dispatch({ type: 'transportError', error }),
        );
      }
      return undefined;
    } catch (error) {
      return { error };
    }
  }

  private arm(timer: T, ms: number): void {
    this.disarm(timer);
    const lingers = this.host.lingers;
    if (lingers !== undefined && LINGER_TIMERS.has(timer)) {
      this.lingerTimer = timer;
      this.lingerMs = ms;
      this.lingerToken = lingers.add(this, ms);
      return;
    }
    const armed = (this.armed ??= new Map());
    const handle = this.host.clock.setTimer(ms, () => {
      if (armed.get(timer) !== handle) return;
      armed.delete(timer);
      this.dispatch({ type: 'timer', timer, after: ms });
    });
    armed.set(timer, handle);
  }

  /** @internal The layer's linger queue: the wait armed with `token` is over. */
  lingerExpired(token: number): void {
    const timer = this.lingerTimer;
    if (timer === undefined || token !== this.lingerToken) return;
    this.lingerTimer = undefined;
    this.lingerToken = 0;
    this.dispatch({ type: 'timer', timer, after: this.lingerMs });
  }

  private disarm(timer: T): void {
    if (this.lingerTimer === timer) {
      this.lingerTimer = undefined;
      this.lingerToken = 0;
    }
    const handle = this.armed?.get(timer);
    if (handle !== undefined) {
      handle.cancel();
      this.armed?.delete(timer);
    }
  }

  private disarmAll(): void {
    this.lingerTimer = undefined;
    this.lingerToken = 0;
    if (this.armed === undefined) return;
    for (const handle of this.armed.values()) handle.cancel();
    this.armed.clear();
  }
}

function eventName(event: { type: string; timer?: string }): string {
  return event.timer === undefined ? event.type : `timer ${event.timer}`;
}
