/**
 * The packet I/O seam: everything the media worker does with sockets goes through these
 * few types, so an implementation other than node:dgram (dgramPacketIo.ts) — the native
 * batched one on epoll + recvmmsg (nativePacketIo.ts), or a leg whose transport is
 * SRTP/DTLS/ICE — plugs in without touching the packet path (relay.ts, rtcpSession.ts)
 * or the mixer (workerRoom.ts).
 *
 * A leg owns one PortPair: RTP on an even port, RTCP on port + 1 (RFC 3550 §11). The
 * worker receives through a PairReceiver (batches of datagrams, one socket per batch)
 * and sends one datagram at a time (a batched implementation may coalesce the sends made
 * during one receive callback or timer tick and flush them with one system call).
 *
 * Buffer ownership (the contract both sides keep):
 *
 * - Received buffers belong to the io. `batch.buffers[i]` (bytes 0..lengths[i]) is valid
 *   only during the receiver call that delivered the batch; the receiver must copy what
 *   it keeps (jitter buffers decode, the recording tap copies). During that call it may
 *   rewrite a received buffer in place and pass it to `send` — the relay does exactly
 *   that — and the io guarantees that such a send still goes out with the bytes as they
 *   were at `send` time: it must not recycle a receive buffer while a send of it is
 *   pending. (dgram: every datagram is a fresh Buffer Node never reuses. A native io that
 *   recycles a receive arena sends synchronously — sendmmsg copies into the kernel — and
 *   copies, or drops and counts, what the kernel cannot take at once.)
 * - Buffers the caller owns and passes to `send` may be read after `send` returns (dgram
 *   queues a send behind a full socket buffer, holding a reference). The caller must not
 *   change those bytes while `holds(buf)` is true. The io keeps this cheap to honour: at
 *   most ONE caller buffer per port is held at a time (while a send of a port is queued,
 *   later sends of that port are copied), so a caller that rotates through two or more
 *   buffers and skips the one `holds` names never overwrites a pending send (see
 *   WorkerLeg.ringBuffer).
 *
 * Relay fast path (native io only: `PortPair.relay`). Most media is a plain relay: one
 * source, one listener, same codec, only the RTP header rewritten (rtp/outboundStream.ts:
 * SSRC, sequence, timestamp, marker) and the payload type renumbered. The native io does
 * that on its event thread without JavaScript (native/fast_relay.cc), for the in-order
 * packets of the listener's current OutboundStream segment from the latched source
 * address. Such a datagram never reaches the receiver: the route counts it and continues
 * the source's reception statistics (RFC 3550 A.1, A.8) exactly as the JavaScript path
 * does, and the worker takes those counts when it reads them (`takeRelayCounts`,
 * `unrelay`; media/worker/fastRelay.ts decides when). Everything else comes through to
 * the receiver: RTCP, the first packet from a source
 * (latching, RFC 4961), telephone-events (DTMF detection), payload types that need
 * transcoding, anything that starts a new segment, and anything from a foreign address.
 */
/** Which port of a pair: the even RTP port or the RTCP port (RTP port + 1). */
export type Channel = 0 | 1;
export const CHANNEL_RTP: Channel = 0;
export const CHANNEL_RTCP: Channel = 1;

/** Monotonic counters of one pair, or of a whole io (open and closed pairs). */
export interface PacketIoCounters {
  /** Datagrams received on either port (delivered to the receiver or not). */
  datagramsIn: number;
  bytesIn: number;
  /** Datagrams handed to `send` on an open pair (including those that then failed). */
  datagramsOut: number;
  bytesOut: number;
  /**
   * Sends the io knows failed, or refused because the pair was closed. dgram cannot see
   * the failure of a send made without a completion callback, and a callback costs a
   * deferred call per datagram, so it counts the failures of queued sends only.
   */
  sendErrors: number;
  /** Receive errors reported by the socket (the pair stays open). */
  receiveErrors: number;
}

/** The counters as a class, so every pair's object has one shape (see counters.ts). */
export class IoCounters implements PacketIoCounters {
  datagramsIn = 0;
  bytesIn = 0;
  datagramsOut = 0;
  bytesOut = 0;
  sendErrors = 0;
  receiveErrors = 0;

  add(other: PacketIoCounters): this {
    this.datagramsIn += other.datagramsIn;
    this.bytesIn += other.bytesIn;
    this.datagramsOut += other.datagramsOut;
    this.bytesOut += other.bytesOut;
    this.sendErrors += other.sendErrors;
    this.receiveErrors += other.receiveErrors;
    return this;
  }

  snapshot(): PacketIoCounters {
    return { ...this };
  }
}

/**
 * Datagrams received on one port of one pair, entries 0..count-1. The io reuses the
 * object and its arrays from one call to the next: read it during the call only (see
 * the buffer ownership rules above).
 */
export interface PacketBatch {
  /** How many entries are valid (≥ 1). */
  readonly count: number;
  /** The datagram bytes are buffers[i][0 .. lengths[i]); a buffer may be longer. */
  readonly buffers: readonly Buffer[];
  readonly lengths: ArrayLike<number>;
  /**
   * Source IP literals. The packet path compares them with a latched address on every
   * datagram, so an io should hand out the same string for a recurring source.
   */
  readonly addresses: readonly string[];
  readonly ports: ArrayLike<number>;
  /**
   * Arrival times, monotonic ms on performance.now()'s clock. Interarrival jitter
   * (RFC 3550 A.8) and the latch window read them, so a batched io gives each datagram
   * its own time (the kernel's receive timestamp), not the time the batch was read.
   */
  readonly arrivalMs: ArrayLike<number>;
}

/** Fields of a relay route's segment state (RelayState), as native/fast_relay.h names them. */
export const RELAY_STATE_FIELDS = 17;

/**
 * A relay route's counts (native/fast_relay.h CountField): what it relayed since they were
 * last taken, then the source's reception statistics (ReceiverStats.exportRelay). Times
 * on performance.now()'s clock.
 */
export const RELAY_COUNT_FIELDS = 13;
export const RC_PACKETS = 0;
export const RC_BYTES = 1;
export const RC_PAYLOAD_BYTES = 2;
export const RC_SEND_FAILED = 3;
/** Arrival time of the last one relayed, -1: none. */
export const RC_LAST_MS = 4;
/** The first of ReceiverStats' fields (RC_RECEPTION .. RELAY_COUNT_FIELDS - 1). */
export const RC_RECEPTION = 5;

/** What `PortPair.relay` needs besides the state: where to, from where, which payload types. */
export interface RelayRoute {
  /** The listener's endpoint (IPv4 literal) and RTP port. */
  readonly address: string;
  readonly port: number;
  /** The source's latched address and port: anything else is not relayed. */
  readonly sourceAddress: string;
  readonly sourcePort: number;
  /** Input payload type → output payload type, -1: not relayed by the io (128 entries). */
  readonly payloadTypes: Int16Array;
  /**
   * The source is recorded by JavaScript, or a room's mix hears it: the io also keeps each
   * datagram it relays, as received, for `PacketIo.takeTapped` (an io without
   * `takeTapped` refuses such a route).
   */
  readonly tap?: boolean;
  /**
   * The source is recorded by the io itself (PacketIo.recorders): the io places what it
   * relays into recording `id` as source `slot`, each payload type as `law` says
   * (RecordLaw, 128 entries). With `tap` too when a mix hears the source.
   */
  readonly recorder?: { readonly id: number; readonly slot: number; readonly law: Uint8Array };
}

/** How a recording the io keeps takes a payload type (native/tap_recorder.h RecordLaw). */
export const RECORD_NONE = 0;
export const RECORD_ULAW = 1;
export const RECORD_ALAW = 2;
/** Audio the io cannot decode: left to JavaScript, which records it. */
export const RECORD_JS = 3;

/** NativeRecorders.stats fields (native/tap_recorder.h RecorderStat). */
export const RECORDER_STAT_FIELDS = 6;
export const RS_PACKETS = 0;
export const RS_DUPLICATES = 1;
export const RS_LATE = 2;
export const RS_REANCHORS = 3;
export const RS_OVERFLOW = 4;
export const RS_WRITTEN = 5;

/**
 * Recordings an io keeps itself (the native io, docs/architecture.md §3.7): 16-bit PCM
 * tracks fed by the routes that relay their sources and by JavaScript for what it handles,
 * placed by RTP timestamp as media/recording/trackAligner.ts does. Times are
 * performance.now()'s. Ids are the io's; 0 is none.
 */
export interface IoRecorders {
  open(
    rate: number,
    frameSamples: number,
    channels: 1 | 2,
    startMs: number,
    seconds: number,
  ): number;
  close(id: number): void;
  tracks(id: number, trackOfSlot: Int32Array): boolean;
  /** The G.711 payload `packet[from, to)` of an RTP packet (its header from `packet[0]`). */
  placeLaw(
    id: number,
    slot: number,
    law: number,
    packet: Uint8Array,
    from: number,
    to: number,
    arrivalMs: number,
  ): boolean;
  placePcm(
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
  /** Whole frames up to sample `target` into `out[at…]` (interleaved), at most `maxFrames`. */
  take(id: number, target: number, out: Int16Array, at: number, maxFrames: number): number;
  stats(id: number, out: Float64Array): boolean;
}

/**
 * Who a pair delivers to. Calls are synchronous and must not throw (an io may treat a
 * throw as fatal): the worker catches per datagram.
 */
export interface PairReceiver {
  /** Datagrams that arrived on the RTP port. */
  rtp(batch: PacketBatch): void;
  /** Datagrams that arrived on the RTCP port. */
  rtcp(batch: PacketBatch): void;
  /** A socket error on `channel`; the pair stays open (the error is also counted). */
  error(error: Error, channel: Channel): void;
}

/** One leg's two ports. */
export interface PortPair {
  /** The local address both ports are bound to (an IP literal). */
  readonly address: string;
  /** The RTP port (even); RTCP is on port + 1. */
  readonly port: number;
  /** This pair's live counters (read them, never write). */
  readonly counters: PacketIoCounters;
  /**
   * Sets who receives this pair's datagrams (replacing the previous receiver). Until the
   * first call, datagrams are counted and dropped.
   */
  receive(receiver: PairReceiver): void;
  /**
   * Sends bytes [offset, offset + length) of `buf` from `channel`'s port to
   * `address`:`port` (an IP literal: nothing is resolved). Never throws and reports
   * nothing (failures are counted); after `close` it only counts a send error.
   */
  send(
    channel: Channel,
    buf: Buffer,
    offset: number,
    length: number,
    port: number,
    address: string,
  ): void;
  /** Whether a pending send may still read `buf` (see the ownership rules above). */
  holds(buf: Buffer): boolean;
  /**
   * The relay fast path (an io may lack it): RTP arriving on this pair from
   * `route.sourceAddress` is rewritten along `state` (RELAY_STATE_FIELDS numbers, see
   * OutboundStream.exportSegment), sent from `to`'s RTP port and counted by the io itself,
   * which continues the source's reception statistics from `reception` (RELAY_COUNT_FIELDS
   * numbers; its RC_RECEPTION.. fields are read). False when it cannot (then nothing
   * changed). Replaces any previous route of this pair.
   */
  relay?(to: PortPair, route: RelayRoute, state: Float64Array, reception: Float64Array): boolean;
  /**
   * Ends this pair's route; writes its final state into `state` and what it counted since
   * the counts were last taken into `counts` (RELAY_COUNT_FIELDS), and returns true when
   * there was one (the caller continues the stream and the statistics from them). The
   * io's own counters of both pairs already include those counts.
   */
  unrelay?(state: Float64Array, counts: Float64Array): boolean;
  /** Closes both ports; resolves once they are free. Idempotent, never rejects. */
  close(): Promise<void>;
}

/** A source of port pairs: one per worker thread. */
export interface PacketIo {
  /** A short name for logs and stats ('dgram', ...). */
  readonly name: string;
  /**
   * Binds `rtpPort` (even) and `rtpPort + 1` on `address`. Rejects with a MediaError —
   * 'ERR_PORT_IN_USE' when either port is taken (the engine then tries another pair),
   * 'ERR_BIND' for any other bind failure or a closed io, 'ERR_INVALID_ARGUMENT' for a
   * port that is odd or out of range — and then leaves nothing bound.
   */
  bindPair(address: string, rtpPort: number): Promise<PortPair>;
  /** Totals over the io's life: its open pairs and the ones closed. */
  counters(): PacketIoCounters;
  /**
   * CPU time (ms) of threads the io runs besides the worker's own (a native io's event
   * thread), which the worker's stats add to its cpuMs. Absent: the io has none.
   */
  threadCpuMs?(): number;
  /**
   * With a relay fast path: calls `visit` for each route that relayed anything since its
   * counts were last taken, with its source pair and its counts (RELAY_COUNT_FIELDS, valid
   * during the call), and starts them from zero. The io's own counters of both pairs
   * include them once this returns.
   */
  takeRelayCounts?(visit: (source: PortPair, counts: Float64Array) => void): void;
  /**
   * With a relay fast path: calls `visit` for each datagram a tapped route relayed since
   * the last take, in the order they arrived per source, with its source pair, the
   * datagram as received (`packet[0, length)`, valid during the call) and its arrival
   * time (performance.now()), and forgets them.
   */
  /** Recordings the io keeps itself (absent: the worker's recorders do it all). */
  readonly recorders?: IoRecorders;
  takeTapped?(
    visit: (source: PortPair, packet: Buffer, length: number, arrivalMs: number) => void,
  ): void;
  /** Closes every open pair and the io itself; resolves once all ports are free. Idempotent. */
  close(): Promise<void>;
}
