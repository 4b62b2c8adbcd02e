/**
 * The packet I/O seam (packetIo.ts) on node:dgram: two sockets per pair, batches of one
 * datagram (Node delivers them one 'message' event at a time), one batch object reused
 * for every delivery.
 *
 * Addresses here are always IP literals (validate.ts), so each socket gets a lookup that
 * answers synchronously: Node's default (dns.lookup) defers every unconnected send() to
 * the next tick even for a literal, a cost paid per packet.
 *
 * Sends: Node sends at once when it can, and otherwise queues the send (socket buffer
 * full) holding a reference to the caller's buffer. The pair notes which caller buffer
 * the first queued send of a port holds (`holds`), and while that port's queue is not
 * empty it copies what it is given — so a caller's buffer is never read late unless
 * `holds` says so, and the copies (allocations) happen only while the socket is
 * congested. The check is one call into libuv's queue count per send (about 10 ns).
 */
import { createSocket } from 'node:dgram';
import type { RemoteInfo, Socket } from 'node:dgram';
import type { LookupOneOptions } from 'node:dns';
import { isIP } from 'node:net';
import { performance } from 'node:perf_hooks';
import { MediaError } from '../engine/errors.js';
import { CHANNEL_RTCP, CHANNEL_RTP, IoCounters } from './packetIo.js';
import type {
  Channel,
  PacketBatch,
  PacketIo,
  PacketIoCounters,
  PairReceiver,
  PortPair,
} from './packetIo.js';

type LookupCallback = (
  error: NodeJS.ErrnoException | null,
  address: string,
  family: number,
) => void;

function literalLookup(family: 4 | 6) {
  return (address: string, _options: LookupOneOptions, callback: LookupCallback): void => {
    callback(null, address, family);
  };
}

/**
 * A socket bound to `address`:`port`. Rejects with MediaError 'ERR_PORT_IN_USE' when the
 * port is taken or 'ERR_BIND' for anything else; nothing stays open then.
 */
function bindSocket(address: string, port: number): Promise<Socket> {
  const family = isIP(address) === 6 ? 6 : 4;
  const socket = createSocket({
    type: family === 6 ? 'udp6' : 'udp4',
    lookup: literalLookup(family),
  });
  return new Promise((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException): void => {
      socket.close();
      const code = error.code === 'EADDRINUSE' ? 'ERR_PORT_IN_USE' : 'ERR_BIND';
      reject(new MediaError(code, `cannot bind ${address}:${port}: ${error.message}`));
    };
    socket.once('error', onError);
    socket.bind({ port, address, exclusive: true }, () => {
      socket.off('error', onError);
      resolve(socket);
    });
  });
}

/** Closes `socket`; resolves once it is closed (the port is free by then). Never rejects. */
function closeSocket(socket: Socket): Promise<void> {
  return new Promise((resolve) => {
    try {
      socket.close(() => resolve());
    } catch {
      resolve(); // ERR_SOCKET_DGRAM_NOT_RUNNING: already closed
    }
  });
}

/** The one batch an io hands out: a single datagram, rewritten before each delivery. */
class SingleBatch implements PacketBatch {
  readonly count = 1;
  readonly buffers: Buffer[] = [Buffer.alloc(0)];
  readonly lengths: number[] = [0];
  readonly addresses: string[] = [''];
  readonly ports: number[] = [0];
  readonly arrivalMs: number[] = [0];
}

const NO_RECEIVER: PairReceiver = {
  rtp: () => {},
  rtcp: () => {},
  error: () => {},
};

/** One socket of a pair and the caller buffer its first queued send holds. */
class DgramPort {
  held: Buffer | null = null;
  constructor(readonly socket: Socket) {}
}

class DgramPortPair implements PortPair {
  readonly counters = new IoCounters();
  private receiver: PairReceiver = NO_RECEIVER;
  private readonly ports: [DgramPort, DgramPort];
  private closing: Promise<void> | undefined;
  /** Completion of a send copied behind a queue: the only failures dgram reports. */
  private readonly afterQueuedSend = (error: Error | null): void => {
    if (error === null) return;
    this.counters.sendErrors++;
    if (this.closing !== undefined) this.io.closedCounters.sendErrors++; // ECANCELED at close
  };

  constructor(
    readonly address: string,
    readonly port: number,
    rtp: Socket,
    rtcp: Socket,
    private readonly io: DgramPacketIo,
  ) {
    this.ports = [new DgramPort(rtp), new DgramPort(rtcp)];
    const batch = io.batch;
    rtp.on('message', (msg: Buffer, rinfo: RemoteInfo) => {
      this.fill(batch, msg, rinfo);
      this.receiver.rtp(batch);
    });
    rtcp.on('message', (msg: Buffer, rinfo: RemoteInfo) => {
      this.fill(batch, msg, rinfo);
      this.receiver.rtcp(batch);
    });
    rtp.on('error', (error: Error) => this.onError(error, CHANNEL_RTP));
    rtcp.on('error', (error: Error) => this.onError(error, CHANNEL_RTCP));
  }

  receive(receiver: PairReceiver): void {
    this.receiver = receiver;
  }

  send(
    channel: Channel,
    buf: Buffer,
    offset: number,
    length: number,
    port: number,
    address: string,
  ): void {
    const c = this.counters;
    if (this.closing !== undefined) {
      c.sendErrors++;
      this.io.closedCounters.sendErrors++;
      return;
    }
    c.datagramsOut++;
    c.bytesOut += length;
    const p = this.ports[channel];
    const socket = p.socket;
    try {
      if (p.held !== null) {
        if (socket.getSendQueueCount() !== 0) {
          // Queued behind a pending send: copied, so the caller's buffer is free now.
          const copy = Buffer.allocUnsafe(length);
          buf.copy(copy, 0, offset, offset + length);
          socket.send(copy, 0, length, port, address, this.afterQueuedSend);
          return;
        }
        p.held = null;
      }
      // The whole buffer: dgram then makes no view of it.
      if (offset === 0 && length === buf.length) socket.send(buf, port, address);
      else socket.send(buf, offset, length, port, address);
      if (socket.getSendQueueCount() !== 0) p.held = buf;
    } catch {
      c.sendErrors++; // an argument dgram refused (no reply could tell the caller)
    }
  }

  holds(buf: Buffer): boolean {
    return this.isHeld(this.ports[0], buf) || this.isHeld(this.ports[1], buf);
  }

  close(): Promise<void> {
    if (this.closing === undefined) {
      const [rtp, rtcp] = this.ports;
      rtp.held = null; // closing cancels the queued sends and releases their buffers
      rtcp.held = null;
      this.receiver = NO_RECEIVER;
      this.io.retire(this);
      this.closing = Promise.all([closeSocket(rtp.socket), closeSocket(rtcp.socket)]).then(
        () => undefined,
      );
    }
    return this.closing;
  }

  private fill(batch: SingleBatch, msg: Buffer, rinfo: RemoteInfo): void {
    const c = this.counters;
    c.datagramsIn++;
    c.bytesIn += msg.length;
    batch.buffers[0] = msg;
    batch.lengths[0] = msg.length;
    batch.addresses[0] = rinfo.address;
    batch.ports[0] = rinfo.port;
    batch.arrivalMs[0] = performance.now();
  }

  private isHeld(p: DgramPort, buf: Buffer): boolean {
    if (p.held !== buf) return false;
    if (p.socket.getSendQueueCount() !== 0) return true;
    p.held = null;
    return false;
  }

  private onError(error: Error, channel: Channel): void {
    this.counters.receiveErrors++;
    this.receiver.error(error, channel);
  }
}

export class DgramPacketIo implements PacketIo {
  readonly name = 'dgram';
  /** The batch every pair of this io delivers (deliveries never nest). */
  readonly batch = new SingleBatch();
  /** Counters of closed pairs (and send attempts on them). */
  readonly closedCounters = new IoCounters();
  private readonly open = new Set<DgramPortPair>();
  private closing: Promise<void> | undefined;

  async bindPair(address: string, rtpPort: number): Promise<PortPair> {
    if (!Number.isInteger(rtpPort) || rtpPort % 2 !== 0 || rtpPort < 2 || rtpPort > 65534) {
      throw new MediaError('ERR_INVALID_ARGUMENT', `RTP port ${rtpPort} is not an even port`);
    }
    if (this.closing !== undefined) throw new MediaError('ERR_BIND', 'the packet io is closed');
    const rtp = await bindSocket(address, rtpPort);
    let rtcp: Socket;
    try {
      rtcp = await bindSocket(address, rtpPort + 1);
    } catch (error) {
      await closeSocket(rtp);
      throw error;
    }
    if (this.closing !== undefined) {
      await Promise.all([closeSocket(rtp), closeSocket(rtcp)]);
      throw new MediaError('ERR_BIND', 'the packet io is closed');
    }
    const pair = new DgramPortPair(address, rtpPort, rtp, rtcp, this);
    this.open.add(pair);
    return pair;
  }

  counters(): PacketIoCounters {
    const totals = new IoCounters().add(this.closedCounters);
    for (const pair of this.open) totals.add(pair.counters);
    return totals.snapshot();
  }

  close(): Promise<void> {
    if (this.closing === undefined) {
      this.closing = Promise.all([...this.open].map((pair) => pair.close())).then(() => undefined);
    }
    return this.closing;
  }

  /** A pair is closing: its counters move to the io's closed totals. */
  retire(pair: DgramPortPair): void {
    if (this.open.delete(pair)) this.closedCounters.add(pair.counters);
  }
}
