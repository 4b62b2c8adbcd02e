/**
 * One side of the call warm-up's synthetic traffic (docs/architecture.md §8.5): a UDP
 * socket on 127.0.0.1 that parses what it receives with our own parser and sends SIP
 * text. The warm-up's trunk and phone each hold one; it is closed with them.
 */
import { createSocket, type Socket } from 'node:dgram';
import { parseMessage, type SipMessage } from '../../sip/message/index.js';

export const LOOPBACK = '127.0.0.1';

export class LoopbackPeer {
  private handler: ((message: SipMessage, fromPort: number) => void) | undefined;

  private constructor(
    private readonly socket: Socket,
    readonly port: number,
  ) {
    socket.on('message', (data, rinfo) => {
      const parsed = parseMessage(data);
      // Only the warm-up's own stack sends here: anything unparsable is ignored.
      if (parsed.ok) this.handler?.(parsed.message, rinfo.port);
    });
  }

  /** Binds an ephemeral port on 127.0.0.1. */
  static async open(): Promise<LoopbackPeer> {
    const socket = createSocket('udp4');
    try {
      await new Promise<void>((resolve, reject) => {
        socket.once('error', reject);
        socket.bind(0, LOOPBACK, () => {
          socket.off('error', reject);
          resolve();
        });
      });
    } catch (err) {
      socket.close();
      throw err;
    }
    // A send refused by the kernel later (the stack gone first) is no warm-up failure.
    socket.on('error', () => undefined);
    return new LoopbackPeer(socket, socket.address().port);
  }

  onMessage(handler: (message: SipMessage, fromPort: number) => void): void {
    this.handler = handler;
  }

  send(text: string, port: number): void {
    this.socket.send(Buffer.from(text), port, LOOPBACK);
  }

  close(): Promise<void> {
    this.handler = undefined;
    return new Promise((resolve) => this.socket.close(() => resolve()));
  }
}
