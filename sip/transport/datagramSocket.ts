/**
 * The seam under the SIP UDP transport (udp.ts): one bound datagram socket, either
 * node:dgram (dgramSipSocket.ts, the reference) or the native addon (nativeSipSocket.ts:
 * an event thread reading with recvmmsg, sendto from JavaScript). Both behave the same:
 * each datagram reaches `onDatagram` as a Buffer the receiver owns, sends never throw
 * and never block (a datagram the kernel refuses is dropped), close frees the port.
 */
import type { Source } from './types.js';

export type SipUdpIo = 'native' | 'dgram';

export interface DatagramSocketOptions {
  address: string;
  port: number;
  /** Kernel receive/send buffer sizes; large bursts of REGISTERs need room. */
  socketBufferBytes: number;
}

export type OnDatagram = (data: Buffer, source: Source) => void;

export interface DatagramSocket {
  readonly io: SipUdpIo;
  /** The bound local address and port. */
  readonly address: string;
  readonly port: number;
  /** Sends one datagram; errors (unreachable, full buffer) are counted, never thrown. */
  send(data: Buffer, port: number, address: string): void;
  /** Sends refused by the kernel or by argument checks. */
  readonly sendErrors: number;
  /** Idempotent; the port is free once it resolves. */
  close(): Promise<void>;
}
