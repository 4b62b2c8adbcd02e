/**
 * How a call sends its requests: through the stack's transaction layer (with our Via on
 * top), or straight to the transport for an ACK to a 2xx (not a transaction, RFC 3261
 * §17.1.1.3). One per server, shared by its calls.
 */
import type { SipRequest, SipResponse } from '../../sip/message/index.js';
import { FlowClosedError, type SipStack } from '../../sip/stack.js';
import { addVia, type SentBy } from '../../sip/transaction/via.js';
import type { Endpoint } from '../../sip/transport/types.js';

export interface RequestHandlers {
  onResponse(response: SipResponse): void;
  /**
   * Timeout or transport failure (RFC 3261 §8.1.3.1: like a 408 / 503); 480 when the
   * connection the destination was reachable on closed (a browser's WebSocket): it is
   * not there any more, which a caller should hear as Temporarily Unavailable.
   */
  onFailure(status: 408 | 480 | 503): void;
}

export class SipOut {
  constructor(private readonly stack: SipStack) {}

  /** Our sent-by for a transport (Via, Contact). */
  sentBy(endpoint: Endpoint): SentBy {
    const { host, port } = this.stack.transport.sentBy(endpoint.protocol);
    return { transport: endpoint.protocol.toUpperCase(), host, port };
  }

  /**
   * Our Contact URI for requests and responses toward `endpoint`. Over WebSocket the
   * transport parameter is `ws` for WS and WSS alike (RFC 7118 §5.2).
   */
  contact(endpoint: Endpoint): string {
    const { host, port } = this.sentBy(endpoint);
    const transport =
      endpoint.protocol === 'udp' ? '' : `;transport=${endpoint.protocol === 'tcp' ? 'tcp' : 'ws'}`;
    return `sip:callwatch@${host}:${port}${transport}`;
  }

  /** Adds our Via unless the request has one already; returns the branch. */
  withVia(request: SipRequest, destination: Endpoint): SipRequest {
    if (request.headers.get('Via') === undefined) addVia(request, this.sentBy(destination));
    return request;
  }

  /** Starts a client transaction; handler exceptions never reach the stack. */
  send(request: SipRequest, destination: Endpoint, handlers: RequestHandlers): void {
    this.withVia(request, destination);
    this.stack.transactions.sendRequest(request, destination, {
      onResponse: (r) => handlers.onResponse(r),
      onTimeout: () => handlers.onFailure(408),
      onTransportError: (err) => handlers.onFailure(err instanceof FlowClosedError ? 480 : 503),
    });
  }

  /** An ACK for a 2xx, or any message outside transactions. */
  sendDirect(request: SipRequest, destination: Endpoint): void {
    this.withVia(request, destination);
    this.stack.transport.send(request, destination);
  }
}
