/**
 * The SIP stack a server application talks to: transports, the transaction layer and
 * the UAS core checks of RFC 3261 §8.2, put together. It hands the application one
 * `IncomingRequest` per new server transaction, answers CANCELs that match nothing
 * (481), rejects requests the core checks refuse, and absorbs retransmissions.
 *
 * Knows nothing about calls, registrations or media.
 */
import type { Clock } from './clock.js';
import { isSheddable } from './core/overload.js';
import type { SipRequest, SipResponse } from './message/message.js';
import { buildResponse } from './message/response.js';
import { topVia } from './message/accessors.js';
import { newTag } from './ids.js';
import { TransactionLayer } from './transaction/layer.js';
import type { TransactionLogger } from './transaction/logger.js';
import type { ServerTransaction } from './transaction/serverTransaction.js';
import { responseDestination } from './transport/responseRouting.js';
import { TransportLayer, type TransportLayerOptions } from './transport/transportLayer.js';
import { isWebSocket, type Endpoint, type Source } from './transport/types.js';
import { TypedEmitter } from './util/typedEmitter.js';

export interface StackLogger extends TransactionLogger {
  warn(obj: object, msg?: string): void;
}

export interface SipStackOptions {
  transport: TransportLayerOptions;
  timers: { t1: number; t2: number; t4: number };
  clock: Clock;
  logger: StackLogger;
  /**
   * The UAS core checks (RFC 3261 §8.2.1-§8.2.3, see core/requestChecks.ts): a refusal
   * is sent as the response and the application never sees the request.
   */
  checkRequest?: (request: SipRequest) => RequestRefusal | undefined;
  /**
   * Overload protection (core/overload.ts): while `overloaded()` says so, a new request
   * outside a dialog is answered 503 with Retry-After (RFC 3261 §21.5.4), statelessly,
   * and the application never sees it.
   */
  overload?: { overloaded(): boolean; retryAfterSec: number };
}

/** A message for a connection (a WebSocket flow) that is no longer open. */
export class FlowClosedError extends Error {
  readonly code = 'ERR_FLOW_CLOSED';
  constructor(readonly flow: Endpoint) {
    super(`no open ${flow.protocol} connection to ${flow.address}:${flow.port}`);
    this.name = 'FlowClosedError';
  }
}

export interface RequestRefusal {
  status: number;
  reason?: string;
  headers?: Array<[string, string]>;
}

/** A request that opened a new server transaction, for the application to answer. */
export interface IncomingRequest {
  readonly request: SipRequest;
  readonly source: Source;
  readonly transaction: ServerTransaction;
  /** Sends a response through the transaction (retransmissions are handled). */
  respond(response: SipResponse): void;
}

export type SipStackEvents = {
  /** An ACK for a 2xx: it belongs to a dialog, not a transaction (§17.2.1, RFC 6026). */
  ackFor2xx: [request: SipRequest, source: Source];
  /** A response that matched no client transaction (2xx retransmissions, strays). */
  strayResponse: [response: SipResponse, source: Source];
  /** A new request refused with 503 because the thread is overloaded. */
  shed: [request: SipRequest, source: Source];
};

export class SipStack extends TypedEmitter<SipStackEvents> {
  private handler: ((incoming: IncomingRequest) => void) | undefined;
  private closed = false;

  private constructor(
    readonly transport: TransportLayer,
    readonly transactions: TransactionLayer,
    private readonly options: SipStackOptions,
  ) {
    super((err, event) => options.logger.error({ err, event }, 'stack listener failed'));
  }

  static async open(options: SipStackOptions): Promise<SipStack> {
    const transport = await TransportLayer.open(options.transport);
    const transactions = new TransactionLayer({
      clock: options.clock,
      timers: options.timers,
      send: (message, destination, bytes) => {
        // A WebSocket flow that is gone cannot be reopened toward a browser: a transport
        // error for the transaction (RFC 3261 §8.1.3.1), so a call on it ends.
        if (!transport.send(message, destination, bytes) && isWebSocket(destination.protocol)) {
          throw new FlowClosedError(destination);
        }
      },
      logger: options.logger,
    });
    const stack = new SipStack(transport, transactions, options);
    transport.on('flowClosed', (flow) => transactions.flowClosed(flow, new FlowClosedError(flow)));
    transport.on('request', (request, source) => stack.onTransportRequest(request, source));
    transport.on('response', (response, source) => {
      if (!transactions.receiveResponse(response, source)) {
        stack.emit('strayResponse', response, source);
      }
    });
    return stack;
  }

  get ports(): { udp?: number; tcp?: number } {
    const { udp, tcp } = this.transport.ports;
    return { ...(udp !== undefined ? { udp } : {}), ...(tcp !== undefined ? { tcp } : {}) };
  }

  transactionCounts(): { client: number; server: number } {
    return this.transactions.counts;
  }

  /** Sets the application's handler for new requests. */
  onRequest(handler: (incoming: IncomingRequest) => void): void {
    this.handler = handler;
  }

  private onTransportRequest(request: SipRequest, source: Source): void {
    if (this.closed) return;
    const destination = responseDestination(topVia(request), source);
    if (this.options.overload?.overloaded() && this.shed(request, source, destination)) return;
    const received = this.transactions.receiveRequest(request, source, destination);
    if (received.kind === 'ack-for-2xx') {
      this.emit('ackFor2xx', request, source);
      return;
    }
    if (received.kind !== 'new') return;
    const tx = received.tx;
    const reply = (status: number, headers: Array<[string, string]> = []) =>
      tx.respond(buildResponse(request, status, { toTag: newTag(), headers }));

    const refusal = this.options.checkRequest?.(request);
    if (refusal) {
      tx.respond(
        buildResponse(request, refusal.status, {
          toTag: newTag(),
          headers: refusal.headers ?? [],
          ...(refusal.reason !== undefined ? { reason: refusal.reason } : {}),
        }),
      );
      return;
    }
    if (request.method === 'CANCEL') {
      // §9.2: a CANCEL matching no INVITE transaction is answered 481. Matching INVITEs
      // are cancelled by the application, which owns their sessions.
      if (!this.transactions.findInviteServerTransactionFor(request)) {
        reply(481);
        return;
      }
    }
    const incoming: IncomingRequest = {
      request,
      source,
      transaction: tx,
      respond: (response) => {
        tx.respond(response);
        if (response.status >= 200) request.headers.dropParsed();
      },
    };
    try {
      if (!this.handler) throw new Error('no request handler');
      this.handler(incoming);
    } catch (err) {
      this.options.logger.error({ err, method: request.method }, 'request handler failed');
      if (tx.state !== 'terminated' && (tx.lastResponse?.status ?? 0) < 200) reply(500);
    }
  }

  /**
   * Refuses a new request with a stateless 503 + Retry-After; false (nothing done) for a
   * request that is never shed or that matches a transaction (a retransmission, absorbed
   * as usual).
   */
  private shed(request: SipRequest, source: Source, destination: Source): boolean {
    if (!isSheddable(request) || this.transactions.matchesServerTransaction(request)) return false;
    const retryAfter = String(this.options.overload?.retryAfterSec ?? 1);
    const response = buildResponse(request, 503, {
      toTag: newTag(),
      headers: [['Retry-After', retryAfter]],
    });
    this.transport.send(response, destination);
    this.emit('shed', request, source);
    return true;
  }

  /** Closes the transaction layer and every socket. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.transactions.close();
    await this.transport.close();
    this.removeAllListeners();
  }
}
