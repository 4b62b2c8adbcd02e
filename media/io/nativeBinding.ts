/**
 * Loading the native packet io addon (native/, built by scripts/build-native.mjs during
 * npm install into build/Release/callwatch_native.node; CALLWATCH_NATIVE_ADDON names
 * another build, e.g. scripts/native-asan.sh's sanitizer build). Loading is tried once
 * per thread; when it fails, the reason is kept so the engine can log one warning and
 * run on node:dgram instead.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

/** The addon's NativeIo object (native/native_io.cc). */
export interface NativeIoHandle {
  /** Binds a UDP socket; [token, fd], or -errno. */
  bind(address: string, port: number): [number, number] | number;
  /** Closes the socket of `token`; the port is free when this returns. */
  closeSocket(token: number): void;
  /** sendto on an IPv4 socket; `addr4` is the address's 4 bytes as one int32. 0 or errno. */
  send4(
    fd: number,
    buf: Buffer,
    offset: number,
    length: number,
    port: number,
    addr4: number,
  ): number;
  /** sendto on an IPv6 socket with a textual address. 0 or errno. */
  send6(
    fd: number,
    buf: Buffer,
    offset: number,
    length: number,
    port: number,
    address: string,
  ): number;
  /**
   * Sends `count` staged IPv4 datagrams from their sockets with one io_uring submission
   * (sendto each without io_uring): per datagram six int32 in `queue` (fd, offset and
   * length in `data`, port, address as int32, result), native/send_ring.h. Writes each
   * result (0 or errno); returns how many failed.
   */
  sendQueue(data: Uint8Array, queue: Int32Array, count: number): number;
  /** Whether sendQueue has gone through io_uring. */
  sendsUseRing(): boolean;
  /** sendQueue sends with sendto from now on. */
  noSendRing(): void;
  /** The event thread reads with one recvmmsg per socket from its next round on. */
  noRecvRing(): void;
  /** Whether the event thread reads through io_uring. */
  recvUsesRing(): boolean;
  /** The event thread sends relayed datagrams with one sendmsg each from now on. */
  noRelaySendRing(): void;
  /**
   * Per route that counted anything since the last take: its source token and its
   * counts (1 + RELAY_COUNT_FIELDS numbers per route, native/fast_relay.h), as many as
   * `out` holds; returns how many routes it wrote (call again while `out` comes back full).
   */
  takeRelayCounts(out: Float64Array): number;
  /**
   * Relays RTP of `srcToken` from srcAddr4:srcPort to dstAddr4:dstPort out of
   * `dstToken`'s socket on the event thread (native/fast_relay.h). True when set.
   */
  relay(
    srcToken: number,
    dstToken: number,
    dstAddr4: number,
    dstPort: number,
    srcAddr4: number,
    srcPort: number,
    payloadTypes: Int16Array,
    state: Float64Array,
    reception: Float64Array,
    /** Also copies what it relays into the tap (takeTapped). */
    tap: boolean,
    /** The native recording it places what it relays into (0: none), as this source slot. */
    recorderId?: number,
    recordSlot?: number,
    /** Per payload type, RecordLaw (native/tap_recorder.h), 128 entries. */
    recordLaw?: Uint8Array,
  ): boolean;
  /** Ends `srcToken`'s route; true (and `state`, `counts` written) when it had one. */
  unrelay(srcToken: number, state: Float64Array, counts: Float64Array): boolean;
  /**
   * Copies what tapped routes relayed since the last take into `out` (at least the tap's
   * capacity, native/fast_relay.h TAP_CAPACITY) and forgets it; the bytes written.
   */
  takeTapped(out: Uint8Array): number;
  /**
   * A native recording (native/tap_recorder.h): 16-bit PCM frames of `frameSamples` at
   * `rate`, `channels` 1 or 2, from `startMs` on the event thread's clock, holding
   * `seconds` ahead of what was taken. Its id, 0 when refused.
   */
  recorderOpen(
    rate: number,
    frameSamples: number,
    channels: number,
    startMs: number,
    seconds: number,
  ): number;
  /** Forgets the recording; a route placing into it stops placing. */
  recorderClose(id: number): void;
  /** Which track (0, 1, -1: none) each source slot feeds. */
  recorderTracks(id: number, trackOfSlot: Int32Array): boolean;
  /**
   * The G.711 payload `packet[from, to)` of `slot` (law 1: µ-law, 2: A-law), an RTP
   * packet whose header (from `packet[0]`) gives its SSRC, sequence number and timestamp.
   */
  recorderPlaceLaw(
    id: number,
    slot: number,
    law: number,
    packet: Uint8Array,
    from: number,
    to: number,
    arrivalMs: number,
  ): boolean;
  /** `count` decoded samples at the recording's rate, timed by `ts` at `clockRate`. */
  recorderPlacePcm(
    id: number,
    slot: number,
    pcm: Int16Array,
    count: number,
    ssrc: number,
    seq: number,
    ts: number,
    clockRate: number,
    arrivalMs: number,
  ): boolean;
  /** Whole frames up to sample `target` into `out` from `at`, at most `maxFrames`: how many. */
  recorderTake(id: number, target: number, out: Int16Array, at: number, maxFrames: number): number;
  /** The recording's counters (NativeRecorderStats order) into `out`. */
  recorderStats(id: number, out: Float64Array): boolean;
  /** Whether the io keeps the event loop alive (while it has open sockets). */
  ref(): void;
  unref(): void;
  /** Joins the event thread and closes every socket. Idempotent. */
  close(): void;
  /** CPU time of the event thread, ms. */
  cpuMs(): number;
}

export interface NativeAddon {
  NativeIo: new (
    data: ArrayBuffer,
    meta: ArrayBuffer,
    arrival: ArrayBuffer,
    slots: number,
    slotBytes: number,
    /** Slots first..first+count-1 are filled (one half of the arena). */
    onReady: (first: number, count: number) => void,
  ) => NativeIoHandle;
  /** CLOCK_MONOTONIC in ms (the clock arrival times are on). */
  monotonicMs(): number;
  /** SO_RCVBUF and SO_SNDBUF of a bound socket's fd (the SIP socket). 0 or errno. */
  setSocketBuffers(fd: number, bytes: number): number;
  /** The local port of a bound socket's fd, or -errno. */
  localPort(fd: number): number;
  /**
   * sendmmsg of `count` queued IPv4 datagrams: per datagram four int32 in `queue`
   * (offset in `data`, length, port, address bytes). Returns how many were refused.
   */
  sendBatch4(fd: number, data: Uint8Array, queue: Int32Array, count: number): number;
}

export type NativeAddonLoad =
  | { readonly addon: NativeAddon; readonly error?: undefined }
  | { readonly addon?: undefined; readonly error: string };

const FILE = 'build/Release/callwatch_native.node';
/** The repository root seen from the sources (media/io/) and from the build (dist/media/io/). */
const ROOTS = [new URL('../../', import.meta.url), new URL('../../../', import.meta.url)];

let loaded: NativeAddonLoad | undefined;

/**
 * Every function the TypeScript side calls, by name: an addon built before a change to
 * native/ loads without error but lacks what the new code calls, which would fail at the
 * first send or bind; such a build is refused (and the io falls back to dgram) instead.
 */
const ADDON_FUNCTIONS = {
  NativeIo: true,
  monotonicMs: true,
  setSocketBuffers: true,
  localPort: true,
  sendBatch4: true,
} as const satisfies Record<keyof NativeAddon, true>;
const IO_METHODS = {
  bind: true,
  closeSocket: true,
  send4: true,
  send6: true,
  sendQueue: true,
  sendsUseRing: true,
  noSendRing: true,
  noRecvRing: true,
  recvUsesRing: true,
  noRelaySendRing: true,
  takeRelayCounts: true,
  relay: true,
  unrelay: true,
  takeTapped: true,
  recorderOpen: true,
  recorderClose: true,
  recorderTracks: true,
  recorderPlaceLaw: true,
  recorderPlacePcm: true,
  recorderTake: true,
  recorderStats: true,
  ref: true,
  unref: true,
  close: true,
  cpuMs: true,
} as const satisfies Record<keyof NativeIoHandle, true>;

/** The names of ADDON_FUNCTIONS and IO_METHODS the loaded addon does not have. */
export function missingExports(addon: NativeAddon): string[] {
  const exports = addon as unknown as Record<string, unknown>;
  const proto = (addon.NativeIo as unknown as { prototype: Record<string, unknown> }).prototype;
  return [
    ...Object.keys(ADDON_FUNCTIONS).filter((name) => typeof exports[name] !== 'function'),
    ...Object.keys(IO_METHODS)
      .filter((name) => typeof proto[name] !== 'function')
      .map((name) => `NativeIo.${name}`),
  ];
}

/** The addon, or why it cannot be used here. Never throws. */
export function loadNativeAddon(): NativeAddonLoad {
  if (loaded === undefined) loaded = tryLoad();
  return loaded;
}

function tryLoad(): NativeAddonLoad {
  if (process.platform !== 'linux') {
    return { error: `the native packet io is Linux-only (this is ${process.platform})` };
  }
  const override = process.env.CALLWATCH_NATIVE_ADDON;
  const path =
    override !== undefined && override !== ''
      ? override
      : ROOTS.map((root) => fileURLToPath(new URL(FILE, root))).find((p) => existsSync(p));
  if (path === undefined) {
    return { error: `${FILE} is not built (npm install builds it; it needs g++, make, python3)` };
  }
  try {
    const addon = createRequire(import.meta.url)(path) as NativeAddon;
    if (typeof addon.NativeIo !== 'function' || typeof addon.monotonicMs !== 'function') {
      return { error: `${path} is not the callwatch addon` };
    }
    const missing = missingExports(addon);
    if (missing.length > 0) {
      return {
        error:
          `${path} was built from older sources (it lacks ${missing.join(', ')}): ` +
          'run `node scripts/build-native.mjs`',
      };
    }
    return { addon };
  } catch (error) {
    return { error: `cannot load ${path}: ${(error as Error).message}` };
  }
}
