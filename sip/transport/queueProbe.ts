/**
 * How long datagrams wait in the SIP UDP socket's receive queue before the stack reads
 * them: the delay overload protection acts on (sip/core/overload.ts). Node cannot ask the
 * kernel for a datagram's arrival time or the queue's length, so a second socket sends a
 * tiny probe datagram to the SIP socket; the queue is first in, first out, so the probe
 * is read after everything that arrived before it, and its age when read is the queueing
 * delay of that moment. One probe is in flight at a time; one that has not come back yet
 * counts with its age so far.
 *
 * The probe is four CRLF bytes (a keep-alive to anyone else, RFC 5626 §4.4.1) and is
 * recognised by its source address and port before any parsing.
 */
import dgram from 'node:dgram';
import type { Clock } from '../clock.js';
import type { Source } from './types.js';

const PING = Buffer.from('\r\n\r\n', 'latin1');

/** The loopback address to reach a socket bound to `address` from the same host. */
function reachable(address: string): string {
  if (address === '0.0.0.0') return '127.0.0.1';
  if (address === '::') return '::1';
  return address;
}

export class QueueProbe {
  private sentAt: number | undefined;
  private worst = 0;
  private closed = false;

  private constructor(
    private readonly socket: dgram.Socket,
    private readonly clock: Clock,
    private readonly target: { address: string; port: number },
    private readonly own: { address: string; port: number },
  ) {}

  /** Opens the probe socket next to the SIP UDP socket bound to `target`. */
  static open(target: { address: string; port: number }, clock: Clock): Promise<QueueProbe> {
    const address = reachable(target.address);
    const socket = dgram.createSocket(address.includes(':') ? 'udp6' : 'udp4');
    return new Promise((resolve, reject) => {
      const onError = (err: Error) => {
        socket.close();
        reject(err);
      };
      socket.once('error', onError);
      socket.bind(0, address, () => {
        socket.off('error', onError);
        socket.on('error', () => undefined); // a lost probe just reads as a late one
        const own = socket.address();
        resolve(
          new QueueProbe(
            socket,
            clock,
            { address, port: target.port },
            {
              address: own.address,
              port: own.port,
            },
          ),
        );
      });
    });
  }

  /** Whether a datagram the SIP socket read is our probe. */
  isFrom(source: Source): boolean {
    return source.port === this.own.port && source.address === this.own.address;
  }

  /** The SIP socket read the probe. */
  arrived(): void {
    if (this.sentAt === undefined) return;
    this.worst = Math.max(this.worst, this.clock.now() - this.sentAt);
    this.sentAt = undefined;
  }

  /**
   * The worst queueing delay seen since the last call (ms), counting a probe still in
   * flight with its age; sends the next probe when none is in flight.
   */
  sample(): number {
    let delay = this.worst;
    this.worst = 0;
    if (this.sentAt !== undefined) {
      delay = Math.max(delay, this.clock.now() - this.sentAt);
    } else if (!this.closed) {
      this.sentAt = this.clock.now();
      this.socket.send(PING, this.target.port, this.target.address);
    }
    return delay;
  }

  /** Idempotent. */
  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.closed = true;
    return new Promise((resolve) => this.socket.close(() => resolve()));
  }
}
