/**
 * UDP transport (RFC 3261 §18): one socket, one datagram per message. A thin adapter:
 * it only moves bytes; parsing and routing live above it.
 */
import dgram from 'node:dgram';
import dns, { type LookupOneOptions } from 'node:dns';
import { isIP } from 'node:net';
import type { Endpoint, Source } from './types.js';

export interface UdpTransportOptions {
  address: string;
  port: number;
  /** Kernel receive/send buffer sizes; large bursts of REGISTERs need room. */
  socketBufferBytes?: number;
}

export interface TransportHandler {
  onMessage(data: Buffer, source: Source): void;
  /** A datagram or frame that was dropped before parsing (size, framing). */
  onDiscard?(reason: string, source: Source): void;
}

/**
 * Node's default lookup (dns.lookup) defers every send() to the next tick, even for an
 * IP literal; nearly every SIP destination here is one (received addresses, binding
 * sources, trunk hosts), so answer those at once and ask DNS only for host names.
 */
function literalFirstLookup(
  hostname: string,
  options: LookupOneOptions,
  callback: (err: NodeJS.ErrnoException | null, address: string, family: number) => void,
): void {
  const family = isIP(hostname);
  if (family !== 0) callback(null, hostname, family);
  else dns.lookup(hostname, options, callback);
}

export class UdpTransport {
  readonly protocol = 'udp' as const;
  private closed = false;

  private constructor(
    private readonly socket: dgram.Socket,
    readonly address: string,
    readonly port: number,
  ) {}

  static bind(options: UdpTransportOptions, handler: TransportHandler): Promise<UdpTransport> {
    const type = options.address.includes(':') ? 'udp6' : 'udp4';
    const socket = dgram.createSocket({ type, reuseAddr: false, lookup: literalFirstLookup });
    return new Promise((resolve, reject) => {
      const onError = (err: Error) => {
        socket.close();
        reject(err);
      };
      socket.once('error', onError);
      socket.bind(options.port, options.address, () => {
        socket.off('error', onError);
        // Errors after bind (ICMP unreachable on send, …) must never crash the process.
        socket.on('error', () => undefined);
        const buffer = options.socketBufferBytes ?? 4 * 1024 * 1024;
        try {
          socket.setRecvBufferSize(buffer);
          socket.setSendBufferSize(buffer);
        } catch {
          // The kernel caps the size (net.core.rmem_max); the default still works.
        }
        const local = socket.address();
        const transport = new UdpTransport(socket, local.address, local.port);
        socket.on('message', (data, rinfo) => {
          handler.onMessage(data, { protocol: 'udp', address: rinfo.address, port: rinfo.port });
        });
        resolve(transport);
      });
    });
  }

  send(data: Buffer, dest: Endpoint): void {
    if (this.closed) return;
    this.socket.send(data, dest.port, dest.address);
  }

  /** Idempotent. */
  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.closed = true;
    return new Promise((resolve) => this.socket.close(() => resolve()));
  }
}
