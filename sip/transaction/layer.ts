/**
 * The transaction layer (RFC 3261 §17): creates, matches and owns client and server
 * transactions. The transport feeds it with receiveRequest()/receiveResponse(); the TU
 * sends requests with sendRequest() and answers through ServerTransaction.respond().
 * Time and I/O are passed in (a Clock and a `send` function).
 */
import type { Clock } from '../clock.js';
import { toTag, type SipMessage, type SipRequest, type SipResponse } from '../message/index.js';
import { sameFlow, type Endpoint, type Source } from '../transport/types.js';
import {
  ClientTransaction,
  type ClientHost,
  type ClientTransactionHandlers,
} from './clientTransaction.js';
import { detached } from '../util/detached.js';
import { TypedEmitter } from '../util/typedEmitter.js';
import { InvalidStateError, TransactionError } from './errors.js';
import type { TransactionLogger } from './logger.js';
import { clientKey, isRfc3261Branch, responseKey, serverKey, topBranch } from './matching.js';
import { LingerQueues } from './lingerQueue.js';
import { Destinations } from './destinations.js';
import { ServerTransaction, type ServerHost } from './serverTransaction.js';
import {
  DEFAULT_TRYING_DELAY,
  resolveTimerConfig,
  timerValues,
  type TimerConfig,
  type TimerValues,
} from './timers.js';
import type { TerminationReason } from './transaction.js';

export type Transaction = ClientTransaction | ServerTransaction;

export interface TransactionLayerOptions {
  clock: Clock;
  /**
   * Hands a message to the transport; `bytes`, when given, are the message already
   * serialized. A thrown error or rejected promise is a transport error.
   */
  send: (message: SipMessage, destination: Source, bytes?: Buffer) => void | Promise<void>;
  /** T1/T2/T4 in ms (defaults 500/4000/5000); every timer derives from them. */
  timers?: Partial<TimerConfig>;
  /** Whether the transport towards `destination` is reliable (default: anything but UDP). */
  reliable?: (destination: Endpoint) => boolean;
  /** §17.2.1: ms before an INVITE server sends 100 Trying on its own; false disables it. */
  tryingDelay?: number | false;
  logger?: TransactionLogger;
}

/** What receiveRequest() did with a request. */
export type ReceiveRequestResult =
  /** A new server transaction: the TU must answer it through `tx.respond()`. */
  | { kind: 'new'; tx: ServerTransaction }
  /** A retransmission, absorbed (the last response was resent if the state asks for it). */
  | { kind: 'retransmission' }
  /** An ACK for a non-2xx final response, absorbed by its INVITE server transaction. */
  | { kind: 'ack-absorbed' }
  /** An ACK for a 2xx (or matching nothing): the dialog layer's (§13.3.1.4, §17.2.3). */
  | { kind: 'ack-for-2xx' };

export type TransactionLayerObserverEvents = {
  transactionCreated: [tx: Transaction];
  transactionTerminated: [tx: Transaction, reason: TerminationReason];
};

export class TransactionLayer {
  /** Monitoring hooks (docs/architecture.md §15.10: metrics observe). */
  readonly observer: TypedEmitter<TransactionLayerObserverEvents>;
  private readonly clients = new Map<string, ClientTransaction>();
  private readonly servers = new Map<string, ServerTransaction>();
  private readonly unreliableTimers: TimerValues;
  private readonly reliableTimers: TimerValues;
  private readonly isReliable: (destination: Endpoint) => boolean;
  private readonly host: ClientHost & ServerHost;
  private readonly lingers: LingerQueues;
  private readonly destinations = new Destinations();
  private closed = false;

  constructor(options: TransactionLayerOptions) {
    const config = resolveTimerConfig(options.timers);
    const trying = options.tryingDelay ?? DEFAULT_TRYING_DELAY;
    this.unreliableTimers = timerValues(config, false, trying);
    this.reliableTimers = timerValues(config, true, trying);
    this.isReliable = options.reliable ?? ((d) => d.protocol !== 'udp');
    const logger = options.logger?.child({ module: 'transaction' });
    const listenerError = (error: unknown, where: string): void => {
      logger?.error({ err: error, where }, 'transaction listener threw');
    };
    this.observer = new TypedEmitter((error, event) => listenerError(error, String(event)));
    this.lingers = new LingerQueues(options.clock);
    this.host = {
      clock: options.clock,
      lingers: this.lingers,
      logger,
      transmit: options.send,
      listenerError,
      clientEnded: (tx, reason) => {
        if (this.clients.get(tx.id) === tx) this.clients.delete(tx.id);
        this.observer.emit('transactionTerminated', tx, reason);
      },
      serverEnded: (tx, reason) => {
        if (this.servers.get(tx.id) === tx) this.servers.delete(tx.id);
        this.observer.emit('transactionTerminated', tx, reason);
      },
    };
  }

  /** Active transactions (terminated ones leave the maps at once). */
  get size(): number {
    return this.clients.size + this.servers.size;
  }

  get counts(): Readonly<{ client: number; server: number }> {
    return { client: this.clients.size, server: this.servers.size };
  }

  /**
   * A connection-oriented flow ended (a WebSocket closed): every client transaction
   * whose requests went down it fails as by a transport error (RFC 3261 §8.1.3.1), so
   * its TU learns now instead of at Timer B/F.
   */
  flowClosed(flow: Endpoint, error: unknown): void {
    for (const tx of [...this.clients.values()]) {
      if (sameFlow(tx.destination, flow)) tx.connectionLost(error);
    }
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /**
   * A request from the transport (§17.2.3). `responseDestination` is where responses go
   * (computed per §18.2.2 by the caller; default: the source). Throws SipParseError if
   * the request lacks a readable Via, CSeq, Call-ID, From or To (the parser checks them).
   */
  receiveRequest(
    request: SipRequest,
    source: Source,
    responseDestination: Source = source,
  ): ReceiveRequestResult {
    this.assertOpen();
    const existing = this.matchServer(request);
    if (request.method === 'ACK') {
      // §17.2.3: an ACK for a non-2xx carries the INVITE's branch; one for a 2xx does not
      // and is the dialog layer's (RFC 6026: also when it matches an Accepted INVITE).
      if (existing === undefined || existing.method !== 'INVITE') return { kind: 'ack-for-2xx' };
      return existing.receiveAck() ? { kind: 'ack-for-2xx' } : { kind: 'ack-absorbed' };
    }
    if (existing !== undefined) {
      existing.receiveRetransmission();
      return { kind: 'retransmission' };
    }
    const tx = new ServerTransaction(this.host, {
      // The key lives as long as the transaction lingers (64·T1): not a slice of the request.
      id: detached(serverKey(request)),
      request,
      // Held as long as the transaction lingers: one shared object per peer.
      destination: this.destinations.shared(responseDestination),
      timers: this.timersFor(source),
    });
    this.servers.set(tx.id, tx);
    this.observer.emit('transactionCreated', tx);
    tx.start();
    return { kind: 'new', tx };
  }

  /** Whether a request matches an active server transaction (§17.2.3): a retransmission. */
  matchesServerTransaction(request: SipRequest): boolean {
    this.assertOpen();
    return this.matchServer(request) !== undefined;
  }

  /**
   * §9.2: the INVITE server transaction a CANCEL refers to — the transaction the CANCEL
   * would match if its method were INVITE (§17.2.3). The TU answers the CANCEL itself
   * (200, or 481 when this returns undefined) and sends 487 on the INVITE.
   */
  findInviteServerTransactionFor(cancel: SipRequest): ServerTransaction | undefined {
    this.assertOpen();
    return this.servers.get(serverKey(cancel, { method: 'INVITE' }));
  }

  /**
   * A response from the transport (§17.1.3). True when a client transaction took it;
   * false otherwise — notably a 2xx retransmission after the INVITE transaction ended,
   * which the dialog layer must ACK again (§13.2.2.4).
   */
  receiveResponse(response: SipResponse, source: Source): boolean {
    this.assertOpen();
    const key = responseKey(response);
    const tx = key === undefined ? undefined : this.clients.get(key);
    if (tx === undefined) {
      this.host.logger?.debug({ status: response.status, source, key }, 'stray response');
      return false;
    }
    tx.receiveResponse(response);
    return true;
  }

  /**
   * Starts a client transaction (§17.1). The request must already carry its top Via with
   * a branch (see addVia()). Sending a CANCEL also tells the INVITE it cancels (§9.1).
   * A synchronous transport failure calls the handler before this returns.
   */
  sendRequest(
    request: SipRequest,
    destination: Endpoint,
    handlers: ClientTransactionHandlers,
  ): ClientTransaction {
    this.assertOpen();
    if (request.method === 'ACK') {
      throw new TransactionError('ERR_ACK_NOT_A_TRANSACTION', 'send ACKs for 2xx directly');
    }
    const branch = topBranch(request);
    if (branch === undefined) {
      throw new TransactionError('ERR_NO_BRANCH', 'the request needs a top Via with a branch');
    }
    const id = clientKey(branch, request.method);
    if (this.clients.has(id)) {
      throw new TransactionError('ERR_DUPLICATE_TRANSACTION', `transaction ${id} is active`);
    }
    const tx = new ClientTransaction(
      this.host,
      { id, request, destination, timers: this.timersFor(destination) },
      handlers,
    );
    this.clients.set(id, tx);
    this.observer.emit('transactionCreated', tx);
    if (request.method === 'CANCEL') this.clients.get(clientKey(branch, 'INVITE'))?.cancelSent();
    tx.start();
    return tx;
  }

  /** Cancels every timer and drops every transaction. Idempotent; later calls throw. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    const all: Transaction[] = [...this.clients.values(), ...this.servers.values()];
    this.clients.clear();
    this.servers.clear();
    this.lingers.close();
    for (const tx of all) tx.abort();
  }

  private timersFor(destination: Endpoint): TimerValues {
    return this.isReliable(destination) ? this.reliableTimers : this.unreliableTimers;
  }

  /**
   * §17.2.3 matching. RFC 3261 branches: one lookup. RFC 2543 requests: one lookup, and
   * for an ACK of an initial INVITE (whose To had no tag) a second one without the tag,
   * accepted only if the ACK's To tag is the one of the response the transaction sent.
   */
  private matchServer(request: SipRequest): ServerTransaction | undefined {
    const direct = this.servers.get(serverKey(request));
    if (direct !== undefined || request.method !== 'ACK' || isRfc3261Branch(topBranch(request))) {
      return direct;
    }
    const tx = this.servers.get(serverKey(request, { toTag: undefined }));
    const sent = tx?.lastResponse;
    return sent !== undefined && toTag(sent) === toTag(request) ? tx : undefined;
  }

  private assertOpen(): void {
    if (this.closed) throw new InvalidStateError('the transaction layer is closed');
  }
}
