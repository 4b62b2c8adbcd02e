/**
 * The transport layer (RFC 3261 §18): owns the UDP, TCP and WebSocket transports, turns
 * bytes into messages and messages into bytes. WebSocket connections (RFC 7118) are
 * accepted by the HTTP server and handed in through acceptWebSocket() (ws.ts).
 *
 * Inbound requests get `received`/`rport` stamped on their top Via (§18.2.1, RFC 3581).
 * A request that fails to parse but can be answered gets its error status (400, 505,
 * 513, …) right here, statelessly; anything else unparseable is dropped and reported.
 * Inbound responses go up to the transaction layer, which drops those that match no
 * client transaction (§18.1.2, §17.1.3). Outbound responses follow §18.2.2 (see
 * responseRouting.ts). A WebSocket peer that sends something unanswerable is
 * disconnected; a WebSocket flow that ends is reported (`flowClosed`).
 */
import type { Clock } from '../clock.js';
import { parseVia, formatVia } from '../message/via.js';
import { parseMessage } from '../message/parse.js';
import { topVia } from '../message/accessors.js';
import { serializeMessage } from '../message/serialize.js';
import { buildResponse } from '../message/response.js';
import {
  reasonPhrase,
  type SipMessage,
  type SipRequest,
  type SipResponse,
} from '../message/message.js';
import { TypedEmitter } from '../util/typedEmitter.js';
import { needsReceivedStamp, responseDestination, stampReceived } from './responseRouting.js';
import { QueueProbe } from './queueProbe.js';
import { TcpTransport } from './tcp.js';
import { UdpTransport } from './udp.js';
import { isWebSocket, type Endpoint, type Source, type TransportProtocol } from './types.js';
import {
  WsTransport,
  type WebSocketPeer,
  type WebSocketStream,
  type WebSocketStreamEvents,
} from './ws.js';
import { WS_CLOSE } from './wsFrame.js';
import type { SipUdpIo } from './datagramSocket.js';
import type { NativeSipAddon } from './nativeSipSocket.js';

export interface TransportLayerOptions {
  address: string;
  udpPort: number | null;
  tcpPort: number | null;
  /** Host written in Via/Contact; defaults to the bound address. */
  advertisedHost?: string;
  maxMessageBytes: number;
  tcpIdleTimeoutMs: number;
  clock: Clock;
  /** Measure the UDP receive queue's delay with a probe datagram (queueProbe.ts). */
  queueProbe?: boolean;
  /** The native addon for the UDP socket (udp.ts); node:dgram without. */
  udpNative?: NativeSipAddon;
  /** SIP over WebSocket (ws.ts); without it acceptWebSocket() refuses every connection. */
  webSocket?: { maxConnections: number; pingIntervalMs: number; idleTimeoutMs: number };
}

export type TransportLayerEvents = {
  request: [request: SipRequest, source: Source];
  response: [response: SipResponse, source: Source];
  /** A message that could not be used; `answered` when an error response was sent. */
  invalid: [reason: string, source: Source, answered: number | undefined];
  /** A message sent (for metrics). */
  sent: [message: SipMessage, destination: Endpoint];
  /** A WebSocket flow ended (peer closed, dropped, idle): nothing more goes down it. */
  flowClosed: [flow: Source, reason: string];
};

export class TransportLayer extends TypedEmitter<TransportLayerEvents> {
  private udp: UdpTransport | undefined;
  private tcp: TcpTransport | undefined;
  private ws: WsTransport | undefined;
  private webSocketPort: number | undefined;
  private probe: QueueProbe | undefined;
  private closed = false;

  private constructor(private readonly options: TransportLayerOptions) {
    super();
  }

  static async open(options: TransportLayerOptions): Promise<TransportLayer> {
    const layer = new TransportLayer(options);
    const handler = {
      onMessage: (data: Buffer, source: Source) => layer.receive(data, source),
      onDiscard: (reason: string, source: Source) =>
        layer.emit('invalid', reason, source, undefined),
    };
    try {
      if (options.webSocket !== undefined) {
        layer.ws = new WsTransport(
          {
            ...options.webSocket,
            maxMessageBytes: options.maxMessageBytes,
            clock: options.clock,
          },
          {
            ...handler,
            onFlowClosed: (flow, reason) => layer.emit('flowClosed', flow, reason),
          },
        );
      }
      if (options.udpPort !== null) {
        layer.udp = await UdpTransport.bind(
          {
            address: options.address,
            port: options.udpPort,
            ...(options.udpNative !== undefined ? { native: options.udpNative } : {}),
          },
          handler,
        );
        if (options.queueProbe) {
          layer.probe = await QueueProbe.open(
            { address: options.address, port: layer.udp.port },
            options.clock,
          );
        }
      }
      if (options.tcpPort !== null) {
        // Port 0 for both: let TCP share the port UDP got, as phones expect.
        const port = options.tcpPort === 0 && layer.udp ? layer.udp.port : options.tcpPort;
        layer.tcp = await TcpTransport.listen(
          {
            address: options.address,
            port,
            maxMessageBytes: options.maxMessageBytes,
            idleTimeoutMs: options.tcpIdleTimeoutMs,
            clock: options.clock,
          },
          handler,
        );
      }
    } catch (err) {
      await layer.close();
      throw err;
    }
    return layer;
  }

  /** The bound ports (useful with port 0). */
  get ports(): { udp: number | undefined; tcp: number | undefined } {
    return { udp: this.udp?.port, tcp: this.tcp?.port };
  }

  /** The host and port to put in a Via sent-by or a Contact for a transport. */
  sentBy(protocol: TransportProtocol): { host: string; port: number } {
    const port =
      (isWebSocket(protocol)
        ? this.webSocketPort
        : protocol === 'tcp'
          ? this.tcp?.port
          : this.udp?.port) ?? 5060;
    const host = this.options.advertisedHost ?? this.options.address;
    return { host: host.includes(':') && !host.startsWith('[') ? `[${host}]` : host, port };
  }

  /**
   * The worst delay (ms) datagrams waited in the UDP receive queue since the last call,
   * or undefined without a probe (queueProbe.ts). Sends the next probe.
   */
  sampleQueueDelay(): number | undefined {
    return this.probe?.sample();
  }

  /** The UDP socket implementation that runs, or undefined without UDP. */
  get udpIo(): SipUdpIo | undefined {
    return this.udp?.io;
  }

  get tcpConnections(): number {
    return this.tcp?.connectionCount ?? 0;
  }

  get webSocketConnections(): number {
    return this.ws?.connectionCount ?? 0;
  }

  /** The HTTP server serving `/sip` listens on `port`: our Via and Contact for ws/wss. */
  webSocketListening(port: number): void {
    this.webSocketPort = port;
  }

  /** False when another WebSocket connection would be refused (off, closed or full). */
  get webSocketAccepting(): boolean {
    return this.ws !== undefined && !this.closed && !this.ws.full;
  }

  /**
   * Takes a WebSocket connection the HTTP server upgraded at `/sip` with subprotocol
   * `sip`; returns the callbacks for its traffic, or undefined when refused (closed here).
   */
  acceptWebSocket(stream: WebSocketStream, peer: WebSocketPeer): WebSocketStreamEvents | undefined {
    if (this.ws === undefined || this.closed) {
      stream.close(WS_CLOSE.tryAgainLater, 'SIP over WebSocket is not available');
      return undefined;
    }
    return this.ws.accept(stream, peer);
  }

  /**
   * Sends a message to a destination over the destination's transport. False when it
   * could not be handed to one: no such transport, closed, or a WebSocket flow that is
   * gone (a browser cannot be reached any other way). `bytes`, when given, are `message`
   * already serialized (a transaction that keeps them for retransmissions).
   */
  send(message: SipMessage, destination: Endpoint | Source, bytes?: Buffer): boolean {
    if (this.closed) return false;
    const data = bytes ?? serializeMessage(message);
    if (isWebSocket(destination.protocol)) {
      if (this.ws === undefined || !this.ws.send(data, destination)) return false;
    } else {
      const transport = destination.protocol === 'tcp' ? this.tcp : this.udp;
      if (!transport) return false;
      transport.send(data, destination);
    }
    this.emit('sent', message, destination);
    return true;
  }

  /** Sends a response where §18.2.2 says, given the source of its request. */
  sendResponse(response: SipResponse, requestSource: Source): void {
    const via = response.headers.get('Via');
    if (via === undefined) return;
    this.send(response, responseDestination(parseVia(via), requestSource));
  }

  private receive(data: Buffer, source: Source): void {
    if (this.closed) return;
    if (this.probe?.isFrom(source)) {
      this.probe.arrived();
      return;
    }
    if (data.length > this.options.maxMessageBytes) {
      this.reject(data, source, 513, 'message too large');
      return;
    }
    // A datagram of CRLFs is a keep-alive (RFC 5626 §4.4.1): nothing to do.
    if (data.length <= 4 && data.every((b) => b === 0x0d || b === 0x0a)) return;
    const result = parseMessage(data);
    if (!result.ok) {
      if (result.request) {
        this.answerInvalid(result.request, source, result.error.status, result.error.message);
      } else {
        this.emit('invalid', result.error.message, source, undefined);
        this.dropWebSocket(source, result.error.message);
      }
      return;
    }
    const message = result.message;
    if (message.kind === 'request') {
      // The parser's own parse of the top Via is shared (read-only): a copy to stamp.
      if (needsReceivedStamp(topVia(message), source)) {
        const via = parseVia(message.headers.get('Via') as string);
        stampReceived(via, source);
        message.headers.replaceFirst('Via', formatVia(via));
      }
      this.emit('request', message, source);
    } else {
      this.emit('response', message, source);
    }
  }

  private reject(data: Buffer, source: Source, status: number, detail: string): void {
    const result = parseMessage(data);
    const request = result.ok
      ? result.message.kind === 'request'
        ? result.message
        : undefined
      : result.request;
    if (request) this.answerInvalid(request, source, status, detail);
    else {
      this.emit('invalid', detail, source, undefined);
      this.dropWebSocket(source, detail);
    }
  }

  /** RFC 7118 §5: a WebSocket peer that sends an unanswerable non-message is cut off. */
  private dropWebSocket(source: Source, detail: string): void {
    if (!isWebSocket(source.protocol)) return;
    const printable = detail.replace(/[^\x20-\x7e]/g, '?').slice(0, 80);
    this.ws?.drop(source, WS_CLOSE.protocolError, `not a SIP message (${printable})`);
  }

  private answerInvalid(request: SipRequest, source: Source, status: number, detail: string): void {
    this.emit('invalid', detail, source, status);
    // RFC 3261 §17.1.1.3 / §17.2.1: an ACK is never answered.
    if (request.method === 'ACK') return;
    const via = parseVia(request.headers.get('Via') as string);
    if (stampReceived(via, source)) request.headers.replaceFirst('Via', formatVia(via));
    const printable = detail.replace(/[^\x20-\x7e]/g, '?').slice(0, 80);
    const response = buildResponse(request, status, {
      reason: `${reasonPhrase(status)} (${printable})`,
    });
    this.sendResponse(response, source);
  }

  /** Closes every socket. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.ws?.close();
    await Promise.all([this.udp?.close(), this.tcp?.close(), this.probe?.close()]);
    this.removeAllListeners();
  }
}
