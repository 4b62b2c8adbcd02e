/**
 * UDP transport (RFC 3261 §18): one socket, one datagram per message. A thin adapter:
 * it only moves bytes; parsing and routing live above it. The socket underneath is
 * node:dgram or the native addon (datagramSocket.ts): native when given the addon.
 */
import type { DatagramSocket, SipUdpIo } from './datagramSocket.js';
import { DgramSipSocket } from './dgramSipSocket.js';
import { NativeSipSocket, type NativeSipAddon } from './nativeSipSocket.js';
import type { Endpoint, Source } from './types.js';

export interface UdpTransportOptions {
  address: string;
  port: number;
  /** Kernel receive/send buffer sizes; large bursts of REGISTERs need room. */
  socketBufferBytes?: number;
  /** The native addon to run the socket on (src/server.ts passes it for sip.io: native); node:dgram without. */
  native?: NativeSipAddon;
}

export interface TransportHandler {
  onMessage(data: Buffer, source: Source): void;
  /** A datagram or frame that was dropped before parsing (size, framing). */
  onDiscard?(reason: string, source: Source): void;
}

export class UdpTransport {
  readonly protocol = 'udp' as const;
  readonly address: string;
  readonly port: number;
  private closed = false;

  private constructor(private readonly socket: DatagramSocket) {
    this.address = socket.address;
    this.port = socket.port;
  }

  static async bind(
    options: UdpTransportOptions,
    handler: TransportHandler,
  ): Promise<UdpTransport> {
    const socketOptions = {
      address: options.address,
      port: options.port,
      socketBufferBytes: options.socketBufferBytes ?? 4 * 1024 * 1024,
    };
    const onDatagram = (data: Buffer, source: Source) => handler.onMessage(data, source);
    const socket =
      options.native !== undefined
        ? await NativeSipSocket.bind(options.native, socketOptions, onDatagram)
        : await DgramSipSocket.bind(socketOptions, onDatagram);
    return new UdpTransport(socket);
  }

  /** Which socket implementation runs. */
  get io(): SipUdpIo {
    return this.socket.io;
  }

  /** Datagrams the kernel refused (unreachable, full buffer) or bad destinations. */
  get sendErrors(): number {
    return this.socket.sendErrors;
  }

  send(data: Buffer, dest: Endpoint): void {
    if (this.closed) return;
    this.socket.send(data, dest.port, dest.address);
  }

  /** Idempotent. */
  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.closed = true;
    return this.socket.close();
  }
}
