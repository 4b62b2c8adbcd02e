/** The SIP UDP socket on node:dgram (datagramSocket.ts). */
import dgram from 'node:dgram';
import dns, { type LookupOneOptions } from 'node:dns';
import { isIP } from 'node:net';
import type { DatagramSocket, DatagramSocketOptions, OnDatagram } from './datagramSocket.js';

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

export class DgramSipSocket implements DatagramSocket {
  readonly io = 'dgram' as const;
  sendErrors = 0;
  private closed = false;

  private constructor(
    private readonly socket: dgram.Socket,
    readonly address: string,
    readonly port: number,
  ) {}

  static bind(options: DatagramSocketOptions, onDatagram: OnDatagram): Promise<DgramSipSocket> {
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
        const local = socket.address();
        const bound = new DgramSipSocket(socket, local.address, local.port);
        // Errors after bind (ICMP unreachable on send, …) must never crash the process.
        socket.on('error', () => {
          bound.sendErrors++;
        });
        try {
          socket.setRecvBufferSize(options.socketBufferBytes);
          socket.setSendBufferSize(options.socketBufferBytes);
        } catch {
          // The kernel caps the size (net.core.rmem_max); the default still works.
        }
        socket.on('message', (data, rinfo) => {
          onDatagram(data, { protocol: 'udp', address: rinfo.address, port: rinfo.port });
        });
        resolve(bound);
      });
    });
  }

  send(data: Buffer, port: number, address: string): void {
    if (this.closed) return;
    try {
      this.socket.send(data, port, address);
    } catch {
      this.sendErrors++; // a bad port or address: dgram throws at once
    }
  }

  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.closed = true;
    return new Promise((resolve) => this.socket.close(() => resolve()));
  }
}
