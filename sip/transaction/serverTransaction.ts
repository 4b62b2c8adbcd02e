/**
 * A server transaction (RFC 3261 §17.2): created by `TransactionLayer.receiveRequest()`
 * for a new request and handed to the TU, which answers with `respond()`. INVITE uses
 * inviteServer.ts, every other method nonInviteServer.ts.
 */
import type { SipRequest, SipResponse } from '../message/index.js';
import type { Source } from '../transport/types.js';
import { TypedEmitter } from '../util/typedEmitter.js';
import { InvalidStateError } from './errors.js';
import type { ServerEvent } from './fsm.js';
import type { InviteServerState, InviteServerTimer } from './inviteServer.js';
import { inviteServerMachine } from './inviteServer.js';
import type { NonInviteServerState, NonInviteServerTimer } from './nonInviteServer.js';
import { nonInviteServerMachine } from './nonInviteServer.js';
import type { TimerValues } from './timers.js';
import { TransactionBase, type TerminationReason, type TransactionHost } from './transaction.js';

export type ServerState = InviteServerState | NonInviteServerState;
type ServerTimer = InviteServerTimer | NonInviteServerTimer;

export type ServerTransactionEvents = {
  /** Timer H fired: no ACK for the final non-2xx response (§17.2.1). */
  timeout: [];
  /** A response could not be sent (§17.2.1, §17.2.2: "inform the TU"). */
  transportError: [error: unknown];
  /** The transaction left the layer; `closed` when the layer closed. */
  terminated: [reason: TerminationReason];
};

export interface ServerHost extends TransactionHost {
  serverEnded(tx: ServerTransaction, reason: TerminationReason): void;
}

export class ServerTransaction extends TransactionBase<ServerState, ServerEvent, ServerTimer> {
  readonly kind = 'server';
  /** Made by the first on(): most transactions (every REGISTER) have no listener. */
  private events: TypedEmitter<ServerTransactionEvents> | undefined;

  /** @internal Created by TransactionLayer.receiveRequest(). */
  constructor(
    private readonly owner: ServerHost,
    init: { id: string; request: SipRequest; destination: Source; timers: TimerValues },
  ) {
    super(
      owner,
      init.request.method === 'INVITE' ? inviteServerMachine : nonInviteServerMachine,
      init,
    );
  }

  on<K extends keyof ServerTransactionEvents>(
    event: K,
    listener: (...args: ServerTransactionEvents[K]) => void,
  ): this {
    this.events ??= new TypedEmitter((error, name) =>
      this.owner.listenerError(error, String(name)),
    );
    this.events.on(event, listener);
    return this;
  }

  off<K extends keyof ServerTransactionEvents>(
    event: K,
    listener: (...args: ServerTransactionEvents[K]) => void,
  ): this {
    this.events?.off(event, listener);
    return this;
  }

  /**
   * Sends a response through the transaction (build it with buildResponse()). Throws
   * InvalidStateError when the state forbids it: a second final response, anything
   * after termination, or a non-2xx after a 2xx. After a 2xx to an INVITE the TU
   * retransmits that 2xx through here (RFC 6026 Accepted, §13.3.1.4).
   */
  respond(response: SipResponse): void {
    if (this.state === 'terminated')
      throw new InvalidStateError(`transaction ${this.id} has terminated`);
    this.dispatch({ type: 'respond', response });
  }

  /** @internal A retransmission of the request matched (§17.2.3). */
  receiveRetransmission(): void {
    this.dispatch({ type: 'request' });
  }

  /** @internal An ACK matched; true when it acknowledges a 2xx (RFC 6026 Accepted). */
  receiveAck(): boolean {
    const forSuccess = this.state === 'accepted';
    this.dispatch({ type: 'ack' });
    return forSuccess;
  }

  /**
   * What a transaction that only waits out its timer keeps: its last response as bytes,
   * and not the request.
   * - §17.2.2: a non-INVITE server transaction in Completed only resends its final
   *   response until Timer J (64·T1 on UDP).
   * - RFC 6026 §8.7: an INVITE server transaction in Accepted (Timer L, 64·T1 on any
   *   transport) absorbs INVITE retransmissions and sends the 2xx retransmissions its TU
   *   hands it; it never reads the INVITE again. The call holds its own INVITE while it
   *   lasts; kept here, each ended call's parsed INVITE and 2xx (about 4 KB of heap with
   *   a small SDP) would stay 32 s longer, tens of MB at hundreds of calls a second for
   *   the garbage collector to mark over and over. The 2xx's status and To tag (an RFC 2543
   *   ACK's match, §17.2.3) are still read from the bytes.
   */
  protected override settled(state: ServerState): void {
    if (this.method === 'INVITE' ? state === 'accepted' : state === 'completed' && !this.reliable) {
      this.holdAsBytes();
    }
  }

  /**
   * The response that takes the transaction to the state above: serialized once, for the
   * send and for holding (an INVITE's 2xx, and each retransmission of it; a non-INVITE's
   * final response on UDP).
   */
  protected override holdsAsBytes(response: SipResponse): boolean {
    if (this.method === 'INVITE') return response.status >= 200 && response.status < 300;
    return response.status >= 200 && !this.reliable;
  }

  protected delivered(): void {
    // Server machines never pass responses up.
  }

  protected timedOut(): void {
    this.events?.emit('timeout');
  }

  protected transportFailed(error: unknown): void {
    this.events?.emit('transportError', error);
  }

  protected ended(reason: TerminationReason): void {
    this.owner.serverEnded(this, reason);
    this.events?.emit('terminated', reason);
    this.events?.removeAllListeners();
  }
}
