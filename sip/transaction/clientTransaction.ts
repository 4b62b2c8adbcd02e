/**
 * A client transaction (RFC 3261 §17.1): created by `TransactionLayer.sendRequest()`,
 * it sends the request, retransmits it on unreliable transports, and passes responses
 * to the TU's handlers. INVITE uses inviteClient.ts, every other method nonInviteClient.ts.
 */
import type { SipRequest, SipResponse } from '../message/index.js';
import type { Source } from '../transport/types.js';
import type { InviteClientEvent, InviteClientState, InviteClientTimer } from './inviteClient.js';
import { inviteClientMachine } from './inviteClient.js';
import type { NonInviteClientState, NonInviteClientTimer } from './nonInviteClient.js';
import { nonInviteClientMachine } from './nonInviteClient.js';
import type { TimerValues } from './timers.js';
import { TransactionBase, type TerminationReason, type TransactionHost } from './transaction.js';

export type ClientState = InviteClientState | NonInviteClientState;
type ClientTimer = InviteClientTimer | NonInviteClientTimer;

/** The TU's side of a client transaction. */
export interface ClientTransactionHandlers {
  /** Every provisional and final response the machine passes up (§17.1.1.2, §17.1.2.2). */
  onResponse(response: SipResponse): void;
  /** Timer B or F fired, or 64·T1 passed after a CANCEL without a final response (§9.1). */
  onTimeout(): void;
  /** The transport failed (§8.1.3.1: treat as 503). Defaults to onTimeout when absent. */
  onTransportError?(error: unknown): void;
}

export interface ClientHost extends TransactionHost {
  clientEnded(tx: ClientTransaction, reason: TerminationReason): void;
}

export class ClientTransaction extends TransactionBase<
  ClientState,
  InviteClientEvent,
  ClientTimer
> {
  readonly kind = 'client';

  /** @internal Created by TransactionLayer.sendRequest(). */
  constructor(
    private readonly owner: ClientHost,
    init: { id: string; request: SipRequest; destination: Source; timers: TimerValues },
    private readonly handlers: ClientTransactionHandlers,
  ) {
    super(
      owner,
      init.request.method === 'INVITE' ? inviteClientMachine : nonInviteClientMachine,
      init,
    );
  }

  /** @internal A response matched this transaction (§17.1.3). */
  receiveResponse(response: SipResponse): void {
    this.dispatch({ type: 'response', response });
  }

  /** @internal The TU sent a CANCEL for this INVITE (§9.1). */
  cancelSent(): void {
    this.dispatch({ type: 'cancelSent' });
  }

  /**
   * Accepted (an INVITE's 2xx, RFC 6026 §8.4: 2xx retransmissions go to the TU, which
   * ACKs them itself) and a non-INVITE's Completed (§17.1.2.2: responses absorbed) only
   * wait for Timer M or K: the request and the response are never read again. Kept, they
   * lingered 64·T1 after every answered call — the sent INVITE and the received 200, whose
   * header values slice the whole datagram's text — for the garbage collector to copy and
   * mark (docs/architecture.md §8.4).
   */
  protected override settled(state: ClientState): void {
    if (state === 'accepted' || (state === 'completed' && this.method !== 'INVITE')) {
      this.releaseMessages();
    }
  }

  protected delivered(response: SipResponse): void {
    this.guard('onResponse', () => this.handlers.onResponse(response));
  }

  protected timedOut(): void {
    this.guard('onTimeout', () => this.handlers.onTimeout());
  }

  protected transportFailed(error: unknown): void {
    const { onTransportError } = this.handlers;
    if (onTransportError === undefined) this.timedOut();
    else this.guard('onTransportError', () => onTransportError.call(this.handlers, error));
  }

  protected ended(reason: TerminationReason): void {
    this.owner.clientEnded(this, reason);
  }

  private guard(where: string, call: () => void): void {
    try {
      call();
    } catch (error) {
      this.owner.listenerError(error, where);
    }
  }
}
