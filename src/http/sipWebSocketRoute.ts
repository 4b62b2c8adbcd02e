/**
 * `GET /sip`: SIP over WebSocket (RFC 7118) on the HTTP server. This file is the thin
 * adapter between a `ws` socket and the SIP transport (sip/transport/ws.ts), which sees a
 * stream of text messages, pings and a close and never imports fastify or `ws`.
 *
 * The upgrade is refused before it happens (an HTTP error, no WebSocket) when the client
 * did not offer the `sip` subprotocol (400, RFC 7118 §4.1: the server must not complete
 * the handshake without it) or when the transport takes no more connections (503). A
 * plain GET without an upgrade gets 426. The route is public: digest authentication of
 * each REGISTER and INVITE is the access check, as for any phone. With `?ticket=` (a
 * browser ticket, sipTickets.ts) the ticket is redeemed first: a wrong, used or expired
 * one refuses the upgrade with 401; a valid one binds the connection to its extension
 * until it closes.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { WebSocket } from 'ws';
import type {
  WebSocketPeer,
  WebSocketStream,
  WebSocketStreamEvents,
} from '../../sip/transport/ws.js';
import { ApiError } from './api/errors.js';
import type { FlowIdentities, SipTickets } from './sipTickets.js';

export const SIP_WEBSOCKET_PATH = '/sip';
export const SIP_SUBPROTOCOL = 'sip';
/**
 * A peer whose unsent messages pass this is cut off (1013) rather than buffered without
 * bound: SIP to one phone is a few kilobytes at a time.
 */
export const MAX_BUFFERED_BYTES = 1024 * 1024;

/** The SIP side of the route (the transport layer's WebSocket entry). */
export interface SipWebSocketEntry {
  /** False when another connection would be refused (off, closing or full). */
  readonly webSocketAccepting: boolean;
  acceptWebSocket(stream: WebSocketStream, peer: WebSocketPeer): WebSocketStreamEvents | undefined;
}

export interface SipWebSocketRouteDeps {
  entry: SipWebSocketEntry;
  /** The HTTP server runs TLS: connections are `wss`. */
  secure: boolean;
  /** Browser tickets (`?ticket=`); none: a ticket is refused like a wrong one. */
  tickets?: { tickets: SipTickets; identities: FlowIdentities };
}

/** The extension a redeemed ticket named, per upgrade request. */
const ticketExtension = new WeakMap<FastifyRequest, string>();

/** The subprotocols a client offered (`Sec-WebSocket-Protocol`, RFC 6455 §4.1). */
export function offeredSubprotocols(request: FastifyRequest): string[] {
  const header = request.headers['sec-websocket-protocol'];
  const text = Array.isArray(header) ? header.join(',') : (header ?? '');
  return text
    .split(',')
    .map((p) => p.trim())
    .filter((p) => p.length > 0);
}

export function registerSipWebSocketRoute(app: FastifyInstance, deps: SipWebSocketRouteDeps): void {
  app.route({
    method: 'GET',
    url: SIP_WEBSOCKET_PATH,
    config: { public: true },
    schema: {
      summary: 'SIP over WebSocket (RFC 7118)',
      description:
        'Upgrade to a WebSocket with subprotocol "sip": one SIP message per text message. ' +
        'Register with digest like any phone; the registration ends when the connection closes.',
      tags: ['sip'],
    },
    preHandler: async (request) => {
      if ((request as FastifyRequest & { ws?: boolean }).ws !== true) {
        throw new ApiError(426, 'upgrade-required', 'GET /sip is SIP over WebSocket: upgrade');
      }
      if (!offeredSubprotocols(request).includes(SIP_SUBPROTOCOL)) {
        throw new ApiError(400, 'bad-request', 'SIP over WebSocket needs subprotocol "sip"');
      }
      if (!deps.entry.webSocketAccepting) {
        throw new ApiError(503, 'unavailable', 'no room for another SIP WebSocket connection');
      }
      const ticket = (request.query as Record<string, unknown> | undefined)?.ticket;
      if (ticket !== undefined) {
        const extension =
          typeof ticket === 'string' ? deps.tickets?.tickets.redeem(ticket) : undefined;
        if (extension === undefined) {
          request.log.info('SIP WebSocket upgrade refused: unknown, used or expired ticket');
          throw new ApiError(401, 'unauthorized', 'the SIP ticket is unknown, used or expired');
        }
        ticketExtension.set(request, extension);
      }
    },
    handler: async () => {
      throw new ApiError(426, 'upgrade-required', 'GET /sip is SIP over WebSocket: upgrade');
    },
    wsHandler: (socket, request) => {
      attach(socket, request, deps);
    },
  });
}

function attach(socket: WebSocket, request: FastifyRequest, deps: SipWebSocketRouteDeps): void {
  const flow = {
    protocol: deps.secure ? ('wss' as const) : ('ws' as const),
    address: request.socket.remoteAddress ?? '',
    port: request.socket.remotePort ?? 0,
  };
  const extension = ticketExtension.get(request);
  const identities = deps.tickets?.identities;
  // Bound before the first message is read; unbound when the connection goes.
  if (extension !== undefined && identities !== undefined) {
    identities.bind(flow, extension);
    socket.on('close', () => identities.unbind(flow));
  }
  const stream: WebSocketStream = {
    sendText: (data) => {
      if (socket.readyState !== socket.OPEN) return;
      if (socket.bufferedAmount > MAX_BUFFERED_BYTES) {
        socket.close(1013, 'the peer reads too slowly');
        return;
      }
      socket.send(data, { binary: false });
    },
    ping: () => {
      if (socket.readyState === socket.OPEN) socket.ping();
    },
    close: (code, reason) => {
      if (socket.readyState === socket.OPEN || socket.readyState === socket.CONNECTING) {
        socket.close(code, reason);
      }
    },
  };
  const events = deps.entry.acceptWebSocket(stream, {
    address: flow.address,
    port: flow.port,
    secure: deps.secure,
  });
  if (events === undefined) {
    identities?.unbind(flow);
    return;
  }
  socket.on('message', (data: Buffer | ArrayBuffer | Buffer[], isBinary: boolean) => {
    const buffer = Buffer.isBuffer(data)
      ? data
      : Array.isArray(data)
        ? Buffer.concat(data)
        : Buffer.from(data);
    events.message(buffer, isBinary);
  });
  socket.on('pong', () => events.pong());
  socket.on('close', () => events.closed());
}
