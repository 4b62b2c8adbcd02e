/**
 * Test helper: an in-memory PacketIo (media/io/packetIo.ts) with no socket at all. Its
 * "network" is a map of address:port; a send copies the bytes (as the kernel would) into
 * a queue, and `flush()` delivers everything queued, each destination's datagrams in ONE
 * batch (so the worker meets batches of many, as from a native recvmmsg io). Batches
 * come from one reused arena that is scribbled over after each delivery, so code keeping
 * a received buffer past the receiver call fails the test instead of passing by luck.
 * Phones (`phone()`) are plain endpoints that send into the network and record what
 * reaches them.
 */
import { MediaError } from '../../../../media/engine/errors.js';
import { CHANNEL_RTP, IoCounters } from '../../../../media/io/packetIo.js';
import type {
  Channel,
  PacketBatch,
  PacketIo,
  PacketIoCounters,
  PairReceiver,
  PortPair,
} from '../../../../media/io/packetIo.js';

const ARENA_SLOTS = 64;
const SLOT_SIZE = 2048;

interface Datagram {
  bytes: Buffer;
  fromAddress: string;
  fromPort: number;
  atMs: number;
}

class MemoryBatch implements PacketBatch {
  count = 0;
  readonly buffers: Buffer[] = Array.from({ length: ARENA_SLOTS }, () => Buffer.alloc(SLOT_SIZE));
  readonly lengths = new Int32Array(ARENA_SLOTS);
  readonly addresses: string[] = new Array<string>(ARENA_SLOTS).fill('');
  readonly ports = new Uint16Array(ARENA_SLOTS);
  readonly arrivalMs = new Float64Array(ARENA_SLOTS);
}

const NO_RECEIVER: PairReceiver = { rtp: () => {}, rtcp: () => {}, error: () => {} };

class MemoryPair implements PortPair {
  readonly counters = new IoCounters();
  receiver = NO_RECEIVER;
  closed = false;

  constructor(
    private readonly io: MemoryPacketIo,
    readonly address: string,
    readonly port: number,
  ) {}

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
    if (this.closed) {
      this.counters.sendErrors++;
      return;
    }
    this.counters.datagramsOut++;
    this.counters.bytesOut += length;
    this.io.enqueue(this.address, this.port + channel, buf, offset, length, address, port);
  }

  holds(): boolean {
    return false; // every send copies at once
  }

  close(): Promise<void> {
    if (!this.closed) {
      this.closed = true;
      this.io.unbind(this);
    }
    return Promise.resolve();
  }
}

/** An endpoint outside the worker: sends into the network, records what it gets. */
export class MemoryPhone {
  readonly received: { bytes: Buffer; fromPort: number }[] = [];
  constructor(
    private readonly io: MemoryPacketIo,
    readonly address: string,
    readonly port: number,
  ) {}

  send(bytes: Buffer, port: number, address = '127.0.0.1'): void {
    this.io.enqueue(this.address, this.port, bytes, 0, bytes.length, address, port);
  }
}

export class MemoryPacketIo implements PacketIo {
  readonly name = 'memory';
  readonly closedCounters = new IoCounters();
  /** address:port → pair (both of its ports) or phone. */
  private readonly bound = new Map<string, MemoryPair | MemoryPhone>();
  private readonly pairs = new Set<MemoryPair>();
  private readonly queue = new Map<string, Datagram[]>();
  private readonly batch = new MemoryBatch();
  /** Datagrams sent to an address nobody holds. */
  lost = 0;
  /** The largest batch delivered so far. */
  largestBatch = 0;

  constructor(private readonly now: () => number) {}

  bindPair(address: string, rtpPort: number): Promise<PortPair> {
    for (const p of [rtpPort, rtpPort + 1]) {
      if (this.bound.has(`${address}:${p}`)) {
        return Promise.reject(new MediaError('ERR_PORT_IN_USE', `${address}:${p} is taken`));
      }
    }
    const pair = new MemoryPair(this, address, rtpPort);
    this.bound.set(`${address}:${rtpPort}`, pair);
    this.bound.set(`${address}:${rtpPort + 1}`, pair);
    this.pairs.add(pair);
    return Promise.resolve(pair);
  }

  phone(address: string, port: number): MemoryPhone {
    const phone = new MemoryPhone(this, address, port);
    this.bound.set(`${address}:${port}`, phone);
    return phone;
  }

  counters(): PacketIoCounters {
    const totals = new IoCounters().add(this.closedCounters);
    for (const pair of this.pairs) totals.add(pair.counters);
    return totals.snapshot();
  }

  async close(): Promise<void> {
    await Promise.all([...this.pairs].map((pair) => pair.close()));
  }

  /** Open pairs (a leak check for tests). */
  get openPairs(): number {
    return this.pairs.size;
  }

  enqueue(
    fromAddress: string,
    fromPort: number,
    buf: Buffer,
    offset: number,
    length: number,
    address: string,
    port: number,
  ): void {
    const key = `${address}:${port}`;
    let list = this.queue.get(key);
    if (list === undefined) this.queue.set(key, (list = []));
    list.push({
      bytes: Buffer.from(buf.subarray(offset, offset + length)),
      fromAddress,
      fromPort,
      atMs: this.now(),
    });
  }

  unbind(pair: MemoryPair): void {
    this.bound.delete(`${pair.address}:${pair.port}`);
    this.bound.delete(`${pair.address}:${pair.port + 1}`);
    this.pairs.delete(pair);
    this.closedCounters.add(pair.counters);
  }

  /**
   * Delivers what is queued, one batch per destination port (≤ 64 datagrams each), until
   * nothing is left (what receivers send while being delivered to goes out too).
   */
  flush(): void {
    for (let round = 0; round < 100 && this.queue.size > 0; round++) {
      const queued = [...this.queue];
      this.queue.clear();
      for (const [key, datagrams] of queued) {
        const target = this.bound.get(key);
        if (target === undefined) {
          this.lost += datagrams.length;
          continue;
        }
        if (target instanceof MemoryPhone) {
          for (const d of datagrams) target.received.push({ bytes: d.bytes, fromPort: d.fromPort });
          continue;
        }
        const channel = (Number(key.slice(key.lastIndexOf(':') + 1)) - target.port) as Channel;
        for (let start = 0; start < datagrams.length; start += ARENA_SLOTS) {
          this.deliver(target, channel, datagrams.slice(start, start + ARENA_SLOTS));
        }
      }
    }
  }

  private deliver(pair: MemoryPair, channel: Channel, datagrams: Datagram[]): void {
    const b = this.batch;
    b.count = datagrams.length;
    for (let i = 0; i < datagrams.length; i++) {
      const d = datagrams[i]!;
      d.bytes.copy(b.buffers[i]!);
      b.lengths[i] = d.bytes.length;
      b.addresses[i] = d.fromAddress;
      b.ports[i] = d.fromPort;
      b.arrivalMs[i] = d.atMs;
      pair.counters.datagramsIn++;
      pair.counters.bytesIn += d.bytes.length;
    }
    if (b.count > this.largestBatch) this.largestBatch = b.count;
    if (channel === CHANNEL_RTP) pair.receiver.rtp(b);
    else pair.receiver.rtcp(b);
    // The batch is the io's again: anyone who kept a buffer now reads garbage.
    for (let i = 0; i < datagrams.length; i++) b.buffers[i]!.fill(0xee);
  }
}
