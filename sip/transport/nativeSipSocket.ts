/**
 * The SIP UDP socket on the native addon (native/: one NativeIo, so one event thread
 * that waits on epoll and reads with recvmmsg into a receive arena, waking this thread
 * once per batch). Each datagram is copied out of its arena slot into a Buffer of its
 * own (the SIP parser keeps slices of it) before the arena goes back to the thread.
 * Sends are copied into a staging buffer and go out with sendmmsg(MSG_DONTWAIT) once the
 * current callback is done (a microtask): no callback, no lookup, no request object per
 * datagram; a datagram the kernel refuses is dropped and counted.
 *
 * Slots are 64 KiB, so every UDP datagram fits whole, as with node:dgram.
 */
import { isIPv4 } from 'node:net';
import { constants } from 'node:os';
import type { DatagramSocket, DatagramSocketOptions, OnDatagram } from './datagramSocket.js';

/**
 * The part of the addon's NativeIo this socket uses (media/io/nativeBinding.ts has the
 * whole binding; sip/ never imports media/, so src/server.ts loads the addon and hands
 * it over).
 */
export interface NativeSipIoHandle {
  bind(address: string, port: number): [number, number] | number;
  send4(
    fd: number,
    buf: Buffer,
    offset: number,
    length: number,
    port: number,
    addr4: number,
  ): number;
  send6(
    fd: number,
    buf: Buffer,
    offset: number,
    length: number,
    port: number,
    address: string,
  ): number;
  ref(): void;
  close(): void;
}

/** The addon's exports this socket uses. */
export interface NativeSipAddon {
  NativeIo: new (
    data: ArrayBuffer,
    meta: ArrayBuffer,
    arrival: ArrayBuffer,
    slots: number,
    slotBytes: number,
    onReady: (first: number, count: number) => void,
  ) => NativeSipIoHandle;
  setSocketBuffers(fd: number, bytes: number): number;
  localPort(fd: number): number;
  sendBatch4(fd: number, data: Uint8Array, queue: Int32Array, count: number): number;
}

/** Datagrams per wake-up and bytes per datagram (the largest UDP payload fits). */
const SLOTS = 64;
const SLOT_BYTES = 65536;
// native/arena.h: per-slot int32 fields.
const META_INTS = 8;
const META_LENGTH = 1;
const META_PORT = 2;
const META_FLAGS = 3;
const META_ADDR = 4;
const FLAG_V6 = 1;
const FLAG_TRUNCATED = 2;
const FLAG_ERROR = 4;
/**
 * Sends are queued and go out together with one sendmmsg per 64 when the current
 * callback's microtasks run (a batch of received requests answers in one go): on loopback
 * a sendmmsg of 32 costs about a third of 32 sendto calls per datagram.
 */
const QUEUE_MAX = 64;
const STAGING_BYTES = 256 * 1024;
/** Address strings kept before the caches start over (bounds memory under a scan). */
const ADDRESS_CACHE_MAX = 4096;

/**
 * Why the native SIP socket cannot run on an addon load (media/io/nativeBinding.ts's
 * loadNativeAddon()), or undefined when it can.
 */
export function nativeSipUnavailable(load: {
  readonly addon?: object;
  readonly error?: string;
}): string | undefined {
  if (load.addon === undefined) return load.error ?? 'the native addon is not loaded';
  if (typeof (load.addon as Partial<NativeSipAddon>).sendBatch4 !== 'function') {
    return 'the addon build predates the SIP socket (run `node scripts/build-native.mjs`)';
  }
  return undefined;
}

export class NativeSipSocket implements DatagramSocket {
  readonly io = 'native' as const;
  sendErrors = 0;
  /** Receive errors and datagrams dropped by the thread (counted, as dgram hides them). */
  receiveErrors = 0;
  private closed = false;
  private v6 = false;
  private readonly meta: Int32Array;
  private readonly metaBytes: Uint8Array;
  private readonly data: Uint8Array;
  private readonly sourceNames = new Map<number, string>();
  private readonly sourceNames6 = new Map<string, string>();
  private readonly sendKeys = new Map<string, number>();
  private readonly keyBytes = new Uint8Array(4);
  private readonly keyInt = new Int32Array(this.keyBytes.buffer);
  private handle!: NativeSipIoHandle;
  private sendBatch4!: NativeSipAddon['sendBatch4'];
  /** Sends of this turn, copied here and sent together (see flush). */
  private readonly staging = new Uint8Array(STAGING_BYTES);
  private readonly queue = new Int32Array(QUEUE_MAX * 4);
  private queued = 0;
  private stagedBytes = 0;
  private readonly flushLater = (): void => this.flush();
  private fd = -1;
  address = '';
  port = 0;

  private constructor(private readonly onDatagram: OnDatagram) {
    const data = new ArrayBuffer(SLOTS * SLOT_BYTES);
    const meta = new ArrayBuffer(SLOTS * META_INTS * 4);
    this.data = new Uint8Array(data);
    this.meta = new Int32Array(meta);
    this.metaBytes = new Uint8Array(meta);
  }

  /** Binds; rejects (and leaves nothing open) when the port is taken or the thread fails. */
  static bind(
    addon: NativeSipAddon,
    options: DatagramSocketOptions,
    onDatagram: OnDatagram,
  ): Promise<NativeSipSocket> {
    try {
      return Promise.resolve(NativeSipSocket.open(addon, options, onDatagram));
    } catch (error) {
      return Promise.reject(error as Error);
    }
  }

  private static open(
    addon: NativeSipAddon,
    options: DatagramSocketOptions,
    onDatagram: OnDatagram,
  ): NativeSipSocket {
    const socket = new NativeSipSocket(onDatagram);
    const data = socket.data.buffer as ArrayBuffer;
    const meta = socket.meta.buffer as ArrayBuffer;
    const arrival = new ArrayBuffer(SLOTS * 8);
    const handle = new addon.NativeIo(data, meta, arrival, SLOTS, SLOT_BYTES, (first, count) =>
      socket.drain(first, count),
    );
    socket.handle = handle;
    socket.sendBatch4 = addon.sendBatch4.bind(addon);
    const result = handle.bind(options.address, options.port);
    if (typeof result === 'number') {
      handle.close();
      throw bindError(options, -result);
    }
    socket.fd = result[1];
    const port = addon.localPort(socket.fd);
    if (port < 0) {
      handle.close();
      throw bindError(options, -port);
    }
    // The kernel caps the size (net.core.rmem_max); the default still works.
    addon.setSocketBuffers(socket.fd, options.socketBufferBytes);
    socket.address = options.address;
    socket.port = port;
    socket.v6 = !isIPv4(options.address);
    handle.ref(); // an open socket keeps the event loop alive, as dgram's does
    return socket;
  }

  send(data: Buffer, port: number, address: string): void {
    if (this.closed) return;
    if (!(port > 0 && port < 65536)) {
      this.sendErrors++;
      return;
    }
    if (this.v6) {
      if (this.handle.send6(this.fd, data, 0, data.length, port, address) !== 0) {
        this.sendErrors++;
      }
      return;
    }
    const key = this.addressKey(address);
    if (key === undefined) {
      this.sendErrors++;
      return;
    }
    if (data.length > STAGING_BYTES) {
      this.flush(); // keep the order
      if (this.handle.send4(this.fd, data, 0, data.length, port, key) !== 0) this.sendErrors++;
      return;
    }
    if (this.queued === QUEUE_MAX || this.stagedBytes + data.length > STAGING_BYTES) this.flush();
    const q = this.queued * 4;
    this.queue[q] = this.stagedBytes;
    this.queue[q + 1] = data.length;
    this.queue[q + 2] = port;
    this.queue[q + 3] = key;
    this.staging.set(data, this.stagedBytes);
    this.stagedBytes += data.length;
    if (this.queued++ === 0) queueMicrotask(this.flushLater);
  }

  /** Sends what is queued now (sendmmsg); also run as a microtask after the first send of a turn. */
  flush(): void {
    if (this.queued === 0) return;
    const count = this.queued;
    this.queued = 0;
    this.stagedBytes = 0;
    if (!this.closed) this.sendErrors += this.sendBatch4(this.fd, this.staging, this.queue, count);
  }

  close(): Promise<void> {
    if (!this.closed) {
      this.flush(); // what was sent before close goes out, as with dgram
      this.closed = true;
      this.handle.close(); // joins the event thread and closes the fd: the port is free
    }
    return Promise.resolve();
  }

  /** The addon's wake-up: slots first..first+count-1 are filled. */
  private drain(first: number, count: number): void {
    const meta = this.meta;
    for (let slot = first; slot < first + count && !this.closed; slot++) {
      const m = slot * META_INTS;
      const flags = meta[m + META_FLAGS]!;
      if ((flags & (FLAG_ERROR | FLAG_TRUNCATED)) !== 0) {
        this.receiveErrors++;
        continue;
      }
      const length = meta[m + META_LENGTH]!;
      const start = slot * SLOT_BYTES;
      const copy = Buffer.allocUnsafe(length);
      copy.set(this.data.subarray(start, start + length));
      this.onDatagram(copy, {
        protocol: 'udp',
        address: this.sourceName(slot, flags),
        port: meta[m + META_PORT]!,
      });
    }
  }

  /** An IPv4 literal as the int32 the addon sends to, or undefined when it is not one. */
  private addressKey(address: string): number | undefined {
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

  /** The source address of `slot` as node:dgram names it, one string per recurring source. */
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

function bindError(options: DatagramSocketOptions, errno: number): NodeJS.ErrnoException {
  const name =
    Object.entries(constants.errno).find(([, n]) => n === errno)?.[0] ?? `errno ${errno}`;
  const error: NodeJS.ErrnoException = new Error(`bind ${name} ${options.address}:${options.port}`);
  error.code = name;
  error.errno = -errno;
  error.syscall = 'bind';
  return error;
}

/** 16 address bytes as node:dgram names them (RFC 5952 text; IPv4-mapped as ::ffff:a.b.c.d). */
function formatIPv6(b: Uint8Array): string {
  let mapped = b[10] === 0xff && b[11] === 0xff;
  for (let i = 0; i < 10 && mapped; i++) if (b[i] !== 0) mapped = false;
  if (mapped) return `::ffff:${b[12]}.${b[13]}.${b[14]}.${b[15]}`;
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((b[i]! << 8) | b[i + 1]!).toString(16));
  // WHATWG URL serialises an IPv6 host per RFC 5952 (longest zero run compressed).
  return new URL(`http://[${groups.join(':')}]/`).hostname.slice(1, -1);
}
