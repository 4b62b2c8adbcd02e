/**
 * The recording tap's hand-off from the packet path: a preallocated ring of audio
 * payloads with what the recorder needs of their RTP header (RFC 3550 §5.1: timestamp,
 * sequence number, SSRC), the source they came from, their payload kind and arrival
 * time. `push` runs once per accepted packet of a recorded leg: it copies the payload and
 * allocates nothing. The recorder empties the queue off the packet path (a worker-level
 * drain). When the ring is full the packet is dropped and counted: the recorder then
 * writes silence where its audio would have been.
 */
import { rtpSequence, rtpSsrc, rtpTimestamp } from '../rtp/rtpHeader.js';

export class PacketQueue {
  readonly source: Int16Array;
  readonly kind: Uint8Array;
  readonly timestamp: Uint32Array;
  readonly sequence: Uint16Array;
  readonly ssrc: Uint32Array;
  readonly arrivalMs: Float64Array;
  readonly offset: Int32Array;
  readonly length: Int32Array;
  /** The payload bytes of every queued packet, at `offset[i]`, `length[i]` long. */
  readonly bytes: Uint8Array;
  /** Packets dropped because the ring was full. */
  overflow = 0;
  private head = 0;
  private count = 0;
  /** Next free byte of `bytes` (the ring wraps when a payload does not fit the tail). */
  private byteTail = 0;
  private byteHead = 0;

  constructor(
    readonly capacity = 256,
    byteCapacity = 32768,
  ) {
    this.source = new Int16Array(capacity);
    this.kind = new Uint8Array(capacity);
    this.timestamp = new Uint32Array(capacity);
    this.sequence = new Uint16Array(capacity);
    this.ssrc = new Uint32Array(capacity);
    this.arrivalMs = new Float64Array(capacity);
    this.offset = new Int32Array(capacity);
    this.length = new Int32Array(capacity);
    this.bytes = new Uint8Array(byteCapacity);
  }

  get size(): number {
    return this.count;
  }

  /** Queues the payload `msg[from, to)` of an RTP packet. Hot path: no allocation. */
  push(source: number, kind: number, msg: Buffer, from: number, to: number, nowMs: number): void {
    const n = to - from;
    if (this.count === this.capacity || n <= 0 || n > this.bytes.length >> 2) {
      this.overflow++;
      return;
    }
    let at = this.byteTail;
    const used =
      this.count === 0
        ? 0
        : (this.byteTail - this.byteHead + this.bytes.length) % this.bytes.length;
    if (at + n > this.bytes.length) at = 0; // the tail is too short: wrap
    const wasted = at === 0 && this.byteTail !== 0 ? this.bytes.length - this.byteTail : 0;
    if (used + wasted + n > this.bytes.length - 1) {
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
}
