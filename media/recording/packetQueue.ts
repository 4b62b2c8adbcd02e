/**
 * The recording tap's hand-off from the packet path: a preallocated ring of audio
 * payloads with what the recorder needs of their RTP header (RFC 3550 §5.1: timestamp,
 * sequence number, SSRC), the source they came from, their payload kind and arrival
 * time. `push` runs once per accepted packet of a recorded leg: it copies the payload and
 * allocates nothing. The recorder empties the queue off the packet path (a worker-level
 * drain). When the ring is full the packet is dropped and counted: the recorder then
 * writes silence where its audio would have been.
 *
 * The ring's arrays (about 40 KB) are taken when the first packet comes, from the rings of
 * this thread's ended recordings when there is one, and given back by `release`: a
 * recorded call allocates and zeroes none of it, and leaves nothing to the collector. A
 * released queue drops (and counts) whatever is still pushed into it, so a leg still
 * holding it can never write into another recording's ring.
 */
import { rtpSequence, rtpSsrc, rtpTimestamp } from '../rtp/rtpHeader.js';

/** The arrays of one queue's ring. */
interface Ring {
  readonly capacity: number;
  readonly source: Int16Array;
  readonly kind: Uint8Array;
  readonly timestamp: Uint32Array;
  readonly sequence: Uint16Array;
  readonly ssrc: Uint32Array;
  readonly arrivalMs: Float64Array;
  readonly offset: Int32Array;
  readonly length: Int32Array;
  readonly bytes: Uint8Array;
}

/** Rings of released queues, for the next recordings of this thread (bounded). */
const freeRings: Ring[] = [];
const MAX_FREE_RINGS = 64;

function takeRing(capacity: number, byteCapacity: number): Ring {
  for (let i = freeRings.length - 1; i >= 0; i--) {
    const ring = freeRings[i]!;
    if (ring.capacity === capacity && ring.bytes.length === byteCapacity) {
      freeRings[i] = freeRings[freeRings.length - 1]!;
      freeRings.pop();
      return ring;
    }
  }
  return {
    capacity,
    source: new Int16Array(capacity),
    kind: new Uint8Array(capacity),
    timestamp: new Uint32Array(capacity),
    sequence: new Uint16Array(capacity),
    ssrc: new Uint32Array(capacity),
    arrivalMs: new Float64Array(capacity),
    offset: new Int32Array(capacity),
    length: new Int32Array(capacity),
    bytes: new Uint8Array(byteCapacity),
  };
}

/** Queue rings waiting for reuse in this thread (for tests). */
export function freeQueueRingCount(): number {
  return freeRings.length;
}

const EMPTY: Ring = takeRing(0, 0);

export class PacketQueue {
  // The ring's arrays: EMPTY's (length 0) until the first packet, and after `release`.
  source = EMPTY.source;
  kind = EMPTY.kind;
  timestamp = EMPTY.timestamp;
  sequence = EMPTY.sequence;
  ssrc = EMPTY.ssrc;
  arrivalMs = EMPTY.arrivalMs;
  offset = EMPTY.offset;
  length = EMPTY.length;
  /** The payload bytes of every queued packet, at `offset[i]`, `length[i]` long. */
  bytes = EMPTY.bytes;
  /** Packets dropped because the ring was full (or the queue released). */
  overflow = 0;
  private ring: Ring | null = null;
  private released = false;
  private head = 0;
  private count = 0;
  /** Next free byte of `bytes` (the ring wraps when a payload does not fit the tail). */
  private byteTail = 0;
  private byteHead = 0;

  constructor(
    readonly capacity = 256,
    private readonly byteCapacity = 32768,
  ) {}

  get size(): number {
    return this.count;
  }

  /** The largest payload taken (a quarter of the byte ring); a larger one is refused. */
  get maxPayload(): number {
    return this.byteCapacity >> 2;
  }

  /** Queues the payload `msg[from, to)` of an RTP packet. Hot path: no allocation. */
  push(source: number, kind: number, msg: Buffer, from: number, to: number, nowMs: number): void {
    if (this.ring === null && !this.acquire()) {
      this.overflow++;
      return;
    }
    const n = to - from;
    const size = this.byteCapacity;
    if (this.count === this.capacity || n <= 0 || n > this.maxPayload) {
      this.overflow++;
      return;
    }
    let at = this.byteTail;
    const used = this.count === 0 ? 0 : (this.byteTail - this.byteHead + size) % size;
    if (at + n > size) at = 0; // the tail is too short: wrap
    const wasted = at === 0 && this.byteTail !== 0 ? size - this.byteTail : 0;
    if (used + wasted + n > size - 1) {
      this.overflow++;
      return;
    }
    if (this.count === 0) this.byteHead = at;
    msg.copy(this.bytes, at, from, to); // no view allocated per packet
    const i = (this.head + this.count) % this.capacity;
    this.source[i] = source;
    this.kind[i] = kind;
    this.timestamp[i] = rtpTimestamp(msg);
    this.sequence[i] = rtpSequence(msg);
    this.ssrc[i] = rtpSsrc(msg);
    this.arrivalMs[i] = nowMs;
    this.offset[i] = at;
    this.length[i] = n;
    this.count++;
    this.byteTail = at + n;
  }

  /** Index of the oldest packet (read its fields, then `pop`), or -1 when empty. */
  peek(): number {
    return this.count === 0 ? -1 : this.head;
  }

  pop(): void {
    if (this.count === 0) return;
    this.head = (this.head + 1) % this.capacity;
    this.count--;
    if (this.count === 0) {
      this.byteHead = 0;
      this.byteTail = 0;
    } else {
      this.byteHead = this.offset[this.head]!;
    }
  }

  clear(): void {
    this.head = 0;
    this.count = 0;
    this.byteHead = 0;
    this.byteTail = 0;
  }

  /**
   * Empties the queue and gives its ring back for the next recording of the thread; what
   * is pushed afterwards is dropped and counted. Idempotent.
   */
  release(): void {
    this.clear();
    this.released = true;
    const ring = this.ring;
    if (ring === null) return;
    this.ring = null;
    this.use(EMPTY);
    if (freeRings.length < MAX_FREE_RINGS) freeRings.push(ring);
  }

  /** Takes a ring at the first packet; false once released. */
  private acquire(): boolean {
    if (this.released) return false;
    this.ring = takeRing(this.capacity, this.byteCapacity);
    this.use(this.ring);
    return true;
  }

  private use(ring: Ring): void {
    this.source = ring.source;
    this.kind = ring.kind;
    this.timestamp = ring.timestamp;
    this.sequence = ring.sequence;
    this.ssrc = ring.ssrc;
    this.arrivalMs = ring.arrivalMs;
    this.offset = ring.offset;
    this.length = ring.length;
    this.bytes = ring.bytes;
  }
}
