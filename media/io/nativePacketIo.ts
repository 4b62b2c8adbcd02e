/**
 * The packet I/O seam (packetIo.ts) on the native addon (native/): one event thread per
 * io waits on epoll over all its sockets, reads with recvmmsg into a receive arena
 * allocated here, and wakes this thread once per batch (uv_async). `drain` then hands
 * each run of datagrams of one socket to its pair's receiver as one PacketBatch, with
 * the kernel's arrival time of each datagram (SO_TIMESTAMPNS) on performance.now()'s
 * clock and one string per recurring source address.
 *
 * Buffer ownership: the arena slots are the batch buffers. They belong to the receiver
 * during its call; the event thread does not write the half of the arena being drained
 * (it reads into the other half meanwhile) until `drain` returns. Sends are staged: `send` copies the datagram into a staging buffer at once, and
 * everything staged during one callback (a receive batch, a mixer tick, a command) goes
 * out when it returns (a microtask, and at the end of each drain) with one io_uring
 * submission across all the sockets involved (native/send_ring.h; sendto each without
 * io_uring). So no caller buffer is ever pending: `holds` is always false and a receive
 * buffer rewritten and sent in place is safe. A datagram the kernel refuses (full socket
 * buffer, unreachable) is dropped and counted in sendErrors when the batch goes out.
 * CALLWATCH_SEND_BATCH=0 sends each datagram at once with its own sendto, and
 * CALLWATCH_SEND_RING=0 (or the option sendRing: false) sends a batch with one sendto
 * per datagram (A/B benches).
 *
 * Receiving: when an epoll round finds two or more sockets ready, the event thread reads
 * one datagram from each with one io_uring submission (native/recv_batch.h RecvRing);
 * CALLWATCH_RECV_RING=0 (or recvRing: false) keeps one recvmmsg per socket.
 *
 * Relayed datagrams (the relay fast path, PortPair.relay) stay in the event thread: the
 * route counts them, they leave with one io_uring submission per round
 * (CALLWATCH_RELAY_SEND_RING=0: sendmsg each), and a round the relay carried in full wakes
 * nobody; `takeRelayCounts` and `unrelay` hand the counts over (native/event_thread.h).
 *
 * Datagrams larger than a slot (SLOT_BYTES) are counted (datagramsIn, receiveErrors)
 * and dropped: RTP and RTCP here are far smaller.
 */
import { isIPv4, isIPv6 } from 'node:net';
import { constants } from 'node:os';
import { performance } from 'node:perf_hooks';
import { MediaError } from '../engine/errors.js';
import {
  CHANNEL_RTCP,
  CHANNEL_RTP,
  IoCounters,
  RC_BYTES,
  RC_LAST_MS,
  RC_PACKETS,
  RC_RECEPTION,
  RC_SEND_FAILED,
  RELAY_COUNT_FIELDS,
  RELAY_STATE_FIELDS,
} from './packetIo.js';
import type {
  Channel,
  PacketBatch,
  PacketIo,
  PacketIoCounters,
  PairReceiver,
  PortPair,
  RelayRoute,
} from './packetIo.js';
import { loadNativeAddon } from './nativeBinding.js';
import type { NativeAddon, NativeIoHandle } from './nativeBinding.js';
import { NativeIoRecorders } from './nativeRecorders.js';

/**
 * Arena geometry: datagrams in the arena (two halves of SLOTS / 2: at most that many per
 * wake-up), bytes per datagram. Keep in sync with native/arena.h's users.
 */
export const SLOTS = 256;
export const SLOT_BYTES = 4096;
// native/arena.h: per-slot int32 fields.
const META_INTS = 8;
const META_TOKEN = 0;
const META_LENGTH = 1;
const META_PORT = 2;
const META_FLAGS = 3;
const META_ADDR = 4;
const FLAG_V6 = 1;
const FLAG_TRUNCATED = 2;
const FLAG_ERROR = 4;
const FLAG_RELAYED = 8;
// native/fast_relay.h: the state fields on CLOCK_MONOTONIC (the rest are clock-free).
const STATE_IN_REF_MS = 5;
const STATE_OUT_REF_MS = 8;
// native/fast_relay.h CountField: the count fields on CLOCK_MONOTONIC.
const COUNT_LAST_MS = RC_LAST_MS;
const COUNT_LAST_ARRIVAL_MS = RC_RECEPTION + 5;
/** Routes per takeRelayCounts call (the buffer is reused). */
const TAKE_ROUTES = 256;
// native/fast_relay.h: the tap's capacity and its entries' header (TapField).
const TAP_CAPACITY = 4 << 20;
const TAP_HEADER_BYTES = 16;
/** A route without a native recording (the addon reads no law then). */
const NO_RECORD_LAW = new Uint8Array(128);
// native/send_ring.h: per staged datagram, int32 fields.
const SEND_INTS = 6;
const SEND_FD = 0;
const SEND_OFFSET = 1;
const SEND_LENGTH = 2;
const SEND_PORT = 3;
const SEND_ADDR = 4;
const SEND_RESULT = 5;
/** Datagrams staged before a flush is forced, and the staging bytes they share. */
const SEND_QUEUE_MAX = 256;
const SEND_DATA_BYTES = 256 * 1024;
/** Larger datagrams (not RTP or RTCP) skip the staging and go out at once. */
const SEND_STAGE_MAX = 4096;
const SEND_BATCH = process.env.CALLWATCH_SEND_BATCH !== '0';
const SEND_RING = process.env.CALLWATCH_SEND_RING !== '0';
const RECV_RING = process.env.CALLWATCH_RECV_RING !== '0';
const RELAY_SEND_RING = process.env.CALLWATCH_RELAY_SEND_RING !== '0';

export interface NativePacketIoOptions {
  /** Staged sends go out through io_uring where the kernel allows it (default true). */
  readonly sendRing?: boolean;
  /** The event thread reads many ready sockets through io_uring (default true). */
  readonly recvRing?: boolean;
  /** The event thread sends a round's relayed datagrams through io_uring (default true). */
  readonly relaySendRing?: boolean;
}
/** Address strings kept per io before the caches start over (bounds memory under a scan). */
const ADDRESS_CACHE_MAX = 4096;

const ERRNO_NAMES = new Map<number, string>(
  Object.entries(constants.errno).map(([name, n]) => [n, name]),
);
const errnoName = (errno: number): string => ERRNO_NAMES.get(errno) ?? `errno ${errno}`;

/** The batch an io hands out: entries copied from a run of arena slots of one socket. */
class ArenaBatch implements PacketBatch {
  count = 0;
  readonly buffers: Buffer[] = new Array<Buffer>(SLOTS);
  readonly lengths = new Int32Array(SLOTS);
  readonly addresses: string[] = new Array<string>(SLOTS).fill('');
  readonly ports = new Int32Array(SLOTS);
  readonly arrivalMs = new Float64Array(SLOTS);
}

const NO_RECEIVER: PairReceiver = {
  rtp: () => {},
  rtcp: () => {},
  error: () => {},
};

interface Socket {
  readonly pair: NativePortPair;
  readonly channel: Channel;
}

class NativePortPair implements PortPair {
  readonly counters = new IoCounters();
  receiver: PairReceiver = NO_RECEIVER;
  /** The pair this one's route sends from, while it has one. */
  relayTo: NativePortPair | null = null;
  private closed = false;
  private readonly v6: boolean;

  constructor(
    readonly address: string,
    readonly port: number,
    private readonly io: NativePacketIo,
    private readonly handle: NativeIoHandle,
    /** [rtp, rtcp] tokens and fds. */
    readonly tokens: readonly [number, number],
    private readonly fds: readonly [number, number],
  ) {
    this.v6 = io.isV6(address);
  }

  receive(receiver: PairReceiver): void {
    if (!this.closed) this.receiver = receiver;
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
    if (this.closed) {
      c.sendErrors++;
      this.io.closedCounters.sendErrors++;
      return;
    }
    c.datagramsOut++;
    c.bytesOut += length;
    if (!(port > 0 && port < 65536 && offset >= 0 && length >= 0)) {
      c.sendErrors++; // what dgram refuses with a throw
      return;
    }
    let error: number;
    if (this.v6) {
      error = this.handle.send6(this.fds[channel], buf, offset, length, port | 0, address);
    } else {
      const addr4 = this.io.addressKey(address);
      if (addr4 === undefined) {
        error = constants.errno.EINVAL;
      } else if (SEND_BATCH && length <= SEND_STAGE_MAX) {
        error = this.io.stage(this, this.fds[channel], buf, offset, length, port | 0, addr4);
      } else {
        error = this.handle.send4(this.fds[channel], buf, offset, length, port | 0, addr4);
      }
    }
    if (error !== 0) c.sendErrors++;
  }

  relay(to: PortPair, route: RelayRoute, state: Float64Array, reception: Float64Array): boolean {
    if (this.closed || this.v6 || !(to instanceof NativePortPair) || to.closed) return false;
    const dst = this.io.addressKey(route.address);
    const src = this.io.addressKey(route.sourceAddress);
    if (dst === undefined || src === undefined) return false;
    const native = this.io.stateScratch;
    native.set(state.subarray(0, RELAY_STATE_FIELDS));
    native[STATE_IN_REF_MS]! -= this.io.clockOffset;
    native[STATE_OUT_REF_MS]! -= this.io.clockOffset;
    const counts = this.io.countScratch;
    counts.set(reception.subarray(0, RELAY_COUNT_FIELDS));
    counts[COUNT_LAST_ARRIVAL_MS]! -= this.io.clockOffset;
    if (route.tap === true) this.io.tapBuffer(); // takeTapped's copy, before anything is tapped
    // What JavaScript staged (this source's last packet, relayed by the JavaScript path)
    // leaves before the route's first: the event thread may relay the next one at once,
    // from the arena's other half (RFC 3550 order kept at the listener).
    this.io.flush();
    const ok = this.handle.relay(
      this.tokens[0],
      to.tokens[0],
      dst,
      route.port,
      src,
      route.sourcePort,
      route.payloadTypes,
      native,
      counts,
      route.tap === true,
      route.recorder?.id ?? 0,
      route.recorder?.slot ?? -1,
      route.recorder?.law ?? NO_RECORD_LAW,
    );
    // A route replaced while it counted: nothing is lost, its counts stay in the route.
    if (ok) this.relayTo = to;
    return ok;
  }

  unrelay(state: Float64Array, counts: Float64Array): boolean {
    const to = this.relayTo;
    this.relayTo = null;
    if (!this.handle.unrelay(this.tokens[0], state, counts)) return false;
    state[STATE_IN_REF_MS]! += this.io.clockOffset;
    state[STATE_OUT_REF_MS]! += this.io.clockOffset;
    this.io.countRelayed(this, to, counts);
    return true;
  }

  holds(_buf: Buffer): boolean {
    return false; // sends are synchronous: nothing of the caller's is ever pending
  }

  close(): Promise<void> {
    if (!this.closed) {
      this.closed = true;
      this.receiver = NO_RECEIVER;
      this.io.retire(this);
    }
    return Promise.resolve();
  }
}

export class NativePacketIo implements PacketIo {
  readonly name = 'native';
  /** Counters of closed pairs (and send attempts on them). */
  readonly closedCounters = new IoCounters();
  private readonly handle: NativeIoHandle;
  private readonly meta: Int32Array;
  private readonly metaBytes: Uint8Array;
  private readonly arrival: Float64Array;
  private readonly slotBuffers: Buffer[] = [];
  private readonly batch = new ArenaBatch();
  /** performance.now() minus the addon's CLOCK_MONOTONIC ms. */
  readonly clockOffset: number;
  /** The state handed to the addon (its clock fields shifted to CLOCK_MONOTONIC). */
  readonly stateScratch = new Float64Array(RELAY_STATE_FIELDS);
  /** The reception statistics handed to the addon, the same way. */
  readonly countScratch = new Float64Array(RELAY_COUNT_FIELDS);
  private readonly takeRows = new Float64Array(TAKE_ROUTES * (1 + RELAY_COUNT_FIELDS));
  /** Recordings the event thread keeps (docs/architecture.md §3.7). */
  readonly recorders: NativeIoRecorders;
  /** Where takeTapped copies the tap, and each datagram of it in turn. */
  private tap: Buffer | null = null;
  private readonly tapPacket = Buffer.alloc(SLOT_BYTES);
  private readonly takeRow = new Float64Array(RELAY_COUNT_FIELDS);
  private readonly sockets = new Map<number, Socket>();
  private readonly open = new Set<NativePortPair>();
  private readonly sourceNames = new Map<number, string>();
  private readonly sourceNames6 = new Map<string, string>();
  private readonly sendKeys = new Map<string, number>();
  private readonly keyBytes = new Uint8Array(4);
  private readonly keyInt = new Int32Array(this.keyBytes.buffer);
  /** Staged sends (see the header): their bytes, entries, pairs, and how many. */
  private readonly sendData = Buffer.alloc(SEND_DATA_BYTES);
  private readonly sendQueue = new Int32Array(SEND_QUEUE_MAX * SEND_INTS);
  private readonly sendPairs: (NativePortPair | null)[] = new Array<NativePortPair | null>(
    SEND_QUEUE_MAX,
  ).fill(null);
  private staged = 0;
  private stagedBytes = 0;
  private flushQueued = false;
  private readonly flushTask = (): void => {
    this.flushQueued = false;
    this.flush();
  };
  private closed = false;
  private lastAddress = '';
  private lastV6 = false;

  /** Throws when the addon is not available (see nativeBinding.ts; callers fall back to dgram). */
  constructor(addon: NativeAddon = requireAddon(), options: NativePacketIoOptions = {}) {
    const data = new ArrayBuffer(SLOTS * SLOT_BYTES);
    const meta = new ArrayBuffer(SLOTS * META_INTS * 4);
    const arrival = new ArrayBuffer(SLOTS * 8);
    this.meta = new Int32Array(meta);
    this.metaBytes = new Uint8Array(meta);
    this.arrival = new Float64Array(arrival);
    for (let i = 0; i < SLOTS; i++) {
      this.slotBuffers.push(Buffer.from(data, i * SLOT_BYTES, SLOT_BYTES));
    }
    this.clockOffset = performance.now() - addon.monotonicMs();
    this.handle = new addon.NativeIo(data, meta, arrival, SLOTS, SLOT_BYTES, (first, count) =>
      this.drain(first, count),
    );
    this.recorders = new NativeIoRecorders(this.handle, this.clockOffset);
    if (!(options.sendRing ?? SEND_RING)) this.handle.noSendRing();
    if (!(options.recvRing ?? RECV_RING)) this.handle.noRecvRing();
    if (!(options.relaySendRing ?? RELAY_SEND_RING)) this.handle.noRelaySendRing();
  }

  async bindPair(address: string, rtpPort: number): Promise<PortPair> {
    if (!Number.isInteger(rtpPort) || rtpPort % 2 !== 0 || rtpPort < 2 || rtpPort > 65534) {
      throw new MediaError('ERR_INVALID_ARGUMENT', `RTP port ${rtpPort} is not an even port`);
    }
    if (this.closed) throw new MediaError('ERR_BIND', 'the packet io is closed');
    const rtp = this.bindOne(address, rtpPort);
    let rtcp: [number, number];
    try {
      rtcp = this.bindOne(address, rtpPort + 1);
    } catch (error) {
      this.handle.closeSocket(rtp[0]);
      throw error;
    }
    const pair = new NativePortPair(
      address,
      rtpPort,
      this,
      this.handle,
      [rtp[0], rtcp[0]],
      [rtp[1], rtcp[1]],
    );
    this.sockets.set(rtp[0], { pair, channel: CHANNEL_RTP });
    this.sockets.set(rtcp[0], { pair, channel: CHANNEL_RTCP });
    if (this.open.size === 0) this.handle.ref(); // open sockets keep the loop alive, as dgram's do
    this.open.add(pair);
    return pair;
  }

  /** Whether `address` is IPv6 (a worker binds every pair on one address: asked once). */
  isV6(address: string): boolean {
    if (address !== this.lastAddress) {
      this.lastV6 = isIPv6(address);
      this.lastAddress = address;
    }
    return this.lastV6;
  }

  /** The event thread's CPU time (ms): the worker adds it to its own in its stats. */
  threadCpuMs(): number {
    return this.handle.cpuMs();
  }

  counters(): PacketIoCounters {
    const totals = new IoCounters().add(this.closedCounters);
    for (const pair of this.open) totals.add(pair.counters);
    return totals.snapshot();
  }

  close(): Promise<void> {
    if (!this.closed) {
      this.closed = true;
      this.flush();
      for (const pair of [...this.open]) void pair.close();
      this.handle.close(); // joins the event thread; every port is free after this
    }
    return Promise.resolve();
  }

  /** A pair is closing: its sockets close now and its counters move to the closed totals. */
  retire(pair: NativePortPair): void {
    if (!this.open.delete(pair)) return;
    this.flush(); // its staged datagrams leave before its fds close (and may be reused)
    for (const token of pair.tokens) {
      this.sockets.delete(token);
      this.handle.closeSocket(token);
    }
    this.closedCounters.add(pair.counters);
    if (this.open.size === 0) this.handle.unref();
  }

  /** One bound socket as [token, fd]; throws MediaError ERR_PORT_IN_USE / ERR_BIND. */
  private bindOne(address: string, port: number): [number, number] {
    const result = this.handle.bind(address, port);
    if (typeof result !== 'number') return result;
    const code = -result === constants.errno.EADDRINUSE ? 'ERR_PORT_IN_USE' : 'ERR_BIND';
    throw new MediaError(code, `cannot bind ${address}:${port}: ${errnoName(-result)}`);
  }

  /**
   * Stages bytes [offset, offset + length) of `buf` to go out of `fd` with the current
   * batch (flushed when the callback that sent it returns). 0, or EINVAL for a slice
   * outside `buf` (as the addon answers a direct send).
   */
  stage(
    pair: NativePortPair,
    fd: number,
    buf: Buffer,
    offset: number,
    length: number,
    port: number,
    addr4: number,
  ): number {
    if (offset + length > buf.length) return constants.errno.EINVAL;
    if (this.staged === SEND_QUEUE_MAX || this.stagedBytes + length > SEND_DATA_BYTES) {
      this.flush();
    }
    const n = this.staged;
    const at = this.stagedBytes;
    buf.copy(this.sendData, at, offset, offset + length);
    const q = this.sendQueue;
    const e = n * SEND_INTS;
    q[e + SEND_FD] = fd;
    q[e + SEND_OFFSET] = at;
    q[e + SEND_LENGTH] = length;
    q[e + SEND_PORT] = port;
    q[e + SEND_ADDR] = addr4;
    q[e + SEND_RESULT] = 0;
    this.sendPairs[n] = pair;
    this.staged = n + 1;
    this.stagedBytes = at + length;
    if (!this.flushQueued) {
      this.flushQueued = true;
      queueMicrotask(this.flushTask);
    }
    return 0;
  }

  /** Sends what is staged (one native call); counts each refused datagram on its pair. */
  flush(): void {
    const n = this.staged;
    if (n === 0) return;
    this.staged = 0;
    this.stagedBytes = 0;
    const failed = this.handle.sendQueue(this.sendData, this.sendQueue, n);
    const pairs = this.sendPairs;
    if (failed > 0) {
      const q = this.sendQueue;
      for (let i = 0; i < n; i++) {
        if (q[i * SEND_INTS + SEND_RESULT] !== 0) pairs[i]!.counters.sendErrors++;
      }
    }
    pairs.fill(null, 0, n);
  }

  /** Whether staged sends have gone out through io_uring (else sendto each). */
  sendsUseRing(): boolean {
    return this.handle.sendsUseRing();
  }

  /** Whether the event thread reads through io_uring (else recvmmsg per socket). */
  recvUsesRing(): boolean {
    return this.handle.recvUsesRing();
  }

  /** An IPv4 literal as the int32 the addon sends to, or undefined when it is not one. */
  addressKey(address: string): number | undefined {
    let key = this.sendKeys.get(address);
    if (key !== undefined) return key;
    if (!isIPv4(address)) return undefined;
    const parts = address.split('.');
    for (let i = 0; i < 4; i++) this.keyBytes[i] = Number(parts[i]);
    key = this.keyInt[0]!;
    if (this.sendKeys.size >= ADDRESS_CACHE_MAX) this.sendKeys.clear();
    this.sendKeys.set(address, key);
    return key;
  }

  /**
   * The addon's wake-up: slots first..first+count-1 are filled (one half of the arena,
   * native/event_thread.h). Delivers them per socket run.
   */
  private drain(first: number, count: number): void {
    const meta = this.meta;
    const last = first + count;
    let start = first;
    while (start < last) {
      const token = meta[start * META_INTS + META_TOKEN]!;
      let end = start + 1;
      while (end < last && meta[end * META_INTS + META_TOKEN] === token) end++;
      const socket = this.sockets.get(token);
      if (socket !== undefined) this.deliver(socket, start, end);
      start = end;
    }
    this.flush(); // what the receivers sent, before the event thread reads again
  }

  takeTapped(
    visit: (source: PortPair, packet: Buffer, length: number, arrivalMs: number) => void,
  ): void {
    const tap = this.tap;
    if (tap === null) return; // no route was ever tapped
    const bytes = this.handle.takeTapped(tap);
    const packet = this.tapPacket;
    for (let at = 0; at + TAP_HEADER_BYTES <= bytes;) {
      const token = tap.readUInt32LE(at);
      const length = tap.readUInt32LE(at + 4);
      const arrivalMs = tap.readDoubleLE(at + 8) + this.clockOffset;
      const start = at + TAP_HEADER_BYTES;
      at = start + ((length + 7) & ~7);
      const socket = this.sockets.get(token);
      if (socket === undefined || length > packet.length) continue; // closed since
      tap.copy(packet, 0, start, start + length); // a Buffer of its own, no view allocated
      visit(socket.pair, packet, length, arrivalMs);
    }
  }

  /** The tap's copy, once a route is tapped (TAP_CAPACITY bytes). */
  tapBuffer(): Buffer {
    this.tap ??= Buffer.alloc(TAP_CAPACITY);
    return this.tap;
  }

  takeRelayCounts(visit: (source: PortPair, counts: Float64Array) => void): void {
    const rows = this.takeRows;
    const row = this.takeRow;
    const width = 1 + RELAY_COUNT_FIELDS;
    for (;;) {
      const n = this.handle.takeRelayCounts(rows);
      for (let r = 0; r < n; r++) {
        const socket = this.sockets.get(rows[r * width]!);
        if (socket === undefined) continue; // closed since: its counts went with it
        row.set(rows.subarray(r * width + 1, (r + 1) * width));
        this.countRelayed(socket.pair, socket.pair.relayTo, row);
        visit(socket.pair, row);
      }
      if (n < TAKE_ROUTES) return;
    }
  }

  /**
   * A route's counts, taken: into the io counters of its source pair and of the pair it
   * sent from, and its times onto performance.now()'s clock.
   */
  countRelayed(source: NativePortPair, to: NativePortPair | null, counts: Float64Array): void {
    const packets = counts[RC_PACKETS]!;
    const bytes = counts[RC_BYTES]!;
    const inbound = source.counters;
    inbound.datagramsIn += packets;
    inbound.bytesIn += bytes;
    const outbound = to !== null && this.open.has(to) ? to.counters : this.closedCounters;
    outbound.datagramsOut += packets;
    outbound.bytesOut += bytes;
    outbound.sendErrors += counts[RC_SEND_FAILED]!;
    if (counts[COUNT_LAST_MS]! >= 0) counts[COUNT_LAST_MS]! += this.clockOffset;
    counts[COUNT_LAST_ARRIVAL_MS]! += this.clockOffset;
  }

  private deliver({ pair, channel }: Socket, start: number, end: number): void {
    const { meta, batch } = this;
    const c = pair.counters;
    let n = 0;
    for (let slot = start; slot < end; slot++) {
      const m = slot * META_INTS;
      const flags = meta[m + META_FLAGS]!;
      const length = meta[m + META_LENGTH]!;
      if ((flags & FLAG_ERROR) !== 0) {
        c.receiveErrors++;
        pair.receiver.error(new Error(`recvmmsg failed: ${errnoName(length)}`), channel);
        continue;
      }
      // Relayed by the event thread: its route counted it (takeRelayCounts).
      if ((flags & FLAG_RELAYED) !== 0) continue;
      c.datagramsIn++;
      c.bytesIn += length;
      if ((flags & FLAG_TRUNCATED) !== 0) {
        c.receiveErrors++; // larger than a slot: dropped
        continue;
      }
      batch.buffers[n] = this.slotBuffers[slot]!;
      batch.lengths[n] = length;
      batch.addresses[n] = this.sourceName(slot, flags & FLAG_V6);
      batch.ports[n] = meta[m + META_PORT]!;
      batch.arrivalMs[n] = this.arrival[slot]! + this.clockOffset;
      n++;
    }
    if (n === 0) return;
    batch.count = n;
    if (channel === CHANNEL_RTP) pair.receiver.rtp(batch);
    else pair.receiver.rtcp(batch);
  }

  /** The source address of `slot` as a string, the same string for a recurring source. */
  private sourceName(slot: number, flags: number): string {
    const m = slot * META_INTS + META_ADDR;
    if ((flags & FLAG_V6) === 0) {
      const key = this.meta[m]!;
      let name = this.sourceNames.get(key);
      if (name === undefined) {
        const b = this.metaBytes;
        const o = m * 4;
        name = `${b[o]}.${b[o + 1]}.${b[o + 2]}.${b[o + 3]}`;
        if (this.sourceNames.size >= ADDRESS_CACHE_MAX) this.sourceNames.clear();
        this.sourceNames.set(key, name);
      }
      return name;
    }
    const meta = this.meta;
    const key = `${meta[m]},${meta[m + 1]},${meta[m + 2]},${meta[m + 3]}`;
    let name = this.sourceNames6.get(key);
    if (name === undefined) {
      name = formatIPv6(this.metaBytes.subarray(m * 4, m * 4 + 16));
      if (this.sourceNames6.size >= ADDRESS_CACHE_MAX) this.sourceNames6.clear();
      this.sourceNames6.set(key, name);
    }
    return name;
  }
}

/** 16 address bytes as node:dgram names them (RFC 5952 text; IPv4-mapped as ::ffff:a.b.c.d). */
export function formatIPv6(b: Uint8Array): string {
  let mapped = b[10] === 0xff && b[11] === 0xff;
  for (let i = 0; i < 10 && mapped; i++) if (b[i] !== 0) mapped = false;
  if (mapped) return `::ffff:${b[12]}.${b[13]}.${b[14]}.${b[15]}`;
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((b[i]! << 8) | b[i + 1]!).toString(16));
  // WHATWG URL serialises an IPv6 host per RFC 5952 (longest zero run compressed).
  return new URL(`http://[${groups.join(':')}]/`).hostname.slice(1, -1);
}

function requireAddon(): NativeAddon {
  const load = loadNativeAddon();
  if (load.addon === undefined) throw new Error(load.error);
  return load.addon;
}
