/**
 * SIP over WebSocket (RFC 7118): each WebSocket connection the HTTP server accepted at
 * `/sip` is a flow (RFC 5626 §3) of this transport. The HTTP side owns the sockets and
 * adapts each to a `WebSocketStream` (text messages in and out, ping, close); this file
 * never imports an HTTP or WebSocket library, so `sip/` stays free of the server's.
 *
 * - Messages from a flow go up with a Source naming the flow (`ws`/`wss`, the peer's
 *   address and port, a connection id), so responses go back down the same connection
 *   (RFC 3261 §18.2.2), and requests to a browser registered over it (its Contact host is
 *   `….invalid`, unreachable any other way, RFC 7118 §5) go down it too: the registrar
 *   stores that Source with the binding.
 * - There is no way to open a connection toward a browser: a send to a flow that is gone
 *   returns false, which the stack turns into a transport error (RFC 3261 §8.1.3.1).
 * - When a flow ends (peer closed, garbage, idle, no pong) `onFlowClosed` tells the layer
 *   above, which removes its bindings and fails what was in flight on it.
 * - Keep-alives: a WebSocket ping every `pingIntervalMs`; a flow that has not answered
 *   the previous one by then is dropped. RFC 5626 CRLF pings are answered (wsFrame.ts).
 *   A flow with no SIP traffic (messages or CRLF pings) for `idleTimeoutMs` is closed.
 */
import type { Clock, TimerHandle } from '../clock.js';
import type { TransportHandler } from './udp.js';
import type { Endpoint, Source } from './types.js';
import { classifyFrame, WS_CLOSE } from './wsFrame.js';

/** One accepted WebSocket connection, as the HTTP side hands it over. */
export interface WebSocketStream {
  /** Sends one text message (a whole SIP message). */
  sendText(data: Buffer): void;
  /** Sends a WebSocket ping (RFC 6455 §5.5.2). */
  ping(): void;
  /** Starts the closing handshake (RFC 6455 §7.4); the socket must not be used after. */
  close(code: number, reason: string): void;
}

/** What the HTTP side reports about a stream it handed over. */
export interface WebSocketStreamEvents {
  message(data: Buffer, isBinary: boolean): void;
  pong(): void;
  /** The connection is gone (closed by either side, or broken). */
  closed(): void;
}

/** Who connected: the TCP peer and whether the HTTP server runs TLS (wss). */
export interface WebSocketPeer {
  address: string;
  port: number;
  secure: boolean;
}

export interface WsTransportOptions {
  maxMessageBytes: number;
  /** Connections beyond this are refused before the upgrade (`full`). */
  maxConnections: number;
  pingIntervalMs: number;
  idleTimeoutMs: number;
  clock: Clock;
}

export interface WsTransportHandler extends TransportHandler {
  /** A flow ended; nothing can be sent on it any more. */
  onFlowClosed(flow: Source, reason: string): void;
}

interface Flow {
  id: number;
  stream: WebSocketStream;
  remote: Source;
  lastActivity: number;
  lastPing: number;
  awaitingPong: boolean;
}

const remoteKey = (e: Endpoint) => `${e.protocol}:${e.address}:${e.port}`;

export class WsTransport {
  private readonly flows = new Map<number, Flow>();
  private readonly byRemote = new Map<string, number>();
  private nextId = 1;
  private closed = false;
  private ticker: TimerHandle | undefined;

  constructor(
    private readonly options: WsTransportOptions,
    private readonly handler: WsTransportHandler,
  ) {
    this.arm();
  }

  get connectionCount(): number {
    return this.flows.size;
  }

  /** No room for another connection (the HTTP side refuses the upgrade with 503). */
  get full(): boolean {
    return this.closed || this.flows.size >= this.options.maxConnections;
  }

  /**
   * Takes an upgraded connection; returns what the HTTP side calls as things happen on
   * it, or undefined when the transport is closed or full (the stream is closed here).
   */
  accept(stream: WebSocketStream, peer: WebSocketPeer): WebSocketStreamEvents | undefined {
    if (this.full) {
      stream.close(WS_CLOSE.tryAgainLater, 'too many SIP WebSocket connections');
      return undefined;
    }
    const id = this.nextId++;
    const remote: Source = {
      protocol: peer.secure ? 'wss' : 'ws',
      address: peer.address,
      port: peer.port,
      connectionId: id,
    };
    const now = this.options.clock.now();
    const flow: Flow = {
      id,
      stream,
      remote,
      lastActivity: now,
      lastPing: now,
      awaitingPong: false,
    };
    this.flows.set(id, flow);
    this.byRemote.set(remoteKey(remote), id);
    return {
      message: (data, isBinary) => this.onMessage(flow, data, isBinary),
      pong: () => {
        flow.awaitingPong = false;
      },
      closed: () => this.forget(flow, 'closed by the peer'),
    };
  }

  /**
   * Sends one message down the flow `dest` names (by connection id, else by the peer's
   * address and port). False when that flow is gone: a browser cannot be reached otherwise.
   */
  send(data: Buffer, dest: Source | Endpoint): boolean {
    if (this.closed) return false;
    const flow = this.find(dest);
    if (flow === undefined) return false;
    flow.stream.sendText(data);
    return true;
  }

  /** Whether a flow to `dest` is open. */
  has(dest: Source | Endpoint): boolean {
    return this.find(dest) !== undefined;
  }

  /** Closes a flow that sent something unusable (the reason goes to the peer and the log). */
  drop(source: Source, code: number, reason: string): void {
    const flow = this.find(source);
    if (flow !== undefined) this.shut(flow, code, reason);
  }

  /** Closes every flow (1001, going away). Idempotent. */
  close(): void {
    if (this.closed) return;
    // Closed first: flows ended by the shutdown are not reported one by one.
    this.closed = true;
    this.ticker?.cancel();
    for (const flow of [...this.flows.values()]) {
      this.shut(flow, WS_CLOSE.goingAway, 'server shutting down');
    }
  }

  private find(dest: Source | Endpoint): Flow | undefined {
    const byId =
      'connectionId' in dest && dest.connectionId !== undefined
        ? this.flows.get(dest.connectionId)
        : undefined;
    if (byId !== undefined) return byId.remote.protocol === dest.protocol ? byId : undefined;
    const id = this.byRemote.get(remoteKey(dest));
    return id !== undefined ? this.flows.get(id) : undefined;
  }

  private onMessage(flow: Flow, data: Buffer, isBinary: boolean): void {
    if (!this.flows.has(flow.id)) return;
    const verdict = classifyFrame(data, isBinary, this.options.maxMessageBytes);
    switch (verdict.kind) {
      case 'close':
        this.handler.onDiscard?.(verdict.reason, flow.remote);
        this.shut(flow, verdict.code, verdict.reason);
        return;
      case 'ping':
        flow.lastActivity = this.options.clock.now();
        flow.stream.sendText(Buffer.from('\r\n'));
        return;
      case 'ignore':
        flow.lastActivity = this.options.clock.now();
        return;
      case 'message':
        flow.lastActivity = this.options.clock.now();
        this.handler.onMessage(verdict.data, flow.remote);
        return;
    }
  }

  /** Closes a flow we gave up on; the layer above hears of it at once. */
  private shut(flow: Flow, code: number, reason: string): void {
    if (!this.forget(flow, reason)) return;
    flow.stream.close(code, reason.slice(0, 120));
  }

  /** Forgets a flow and reports it; false when it was already gone. */
  private forget(flow: Flow, reason: string): boolean {
    if (this.flows.get(flow.id) !== flow) return false;
    this.flows.delete(flow.id);
    const key = remoteKey(flow.remote);
    if (this.byRemote.get(key) === flow.id) this.byRemote.delete(key);
    if (!this.closed) this.handler.onFlowClosed(flow.remote, reason);
    return true;
  }

  private arm(): void {
    const { pingIntervalMs, idleTimeoutMs } = this.options;
    const period = Math.max(100, Math.min(pingIntervalMs, idleTimeoutMs / 4, 30_000));
    this.ticker = this.options.clock.setTimer(period, () => {
      if (this.closed) return;
      this.tick();
      this.arm();
    });
  }

  private tick(): void {
    const now = this.options.clock.now();
    for (const flow of [...this.flows.values()]) {
      if (now - flow.lastActivity >= this.options.idleTimeoutMs) {
        this.shut(flow, WS_CLOSE.normal, 'idle timeout');
      } else if (now - flow.lastPing >= this.options.pingIntervalMs) {
        if (flow.awaitingPong) {
          this.shut(flow, WS_CLOSE.goingAway, 'no answer to a WebSocket ping');
          continue;
        }
        flow.lastPing = now;
        flow.awaitingPong = true;
        flow.stream.ping();
      }
    }
  }
}
