/**
 * RTP/RTCP port pairs from a configured range: even RTP port p, RTCP p + 1 (RFC 3550
 * §11: RTP on an even port, RTCP on the next odd one). Pure bookkeeping, no sockets:
 * binding can still fail (another process), and the engine then tries the next pair.
 *
 * Allocation is round-robin: the search starts after the pair handed out last, so a pair
 * just released is reused as late as possible and stray packets of an ended call don't
 * land on a new one.
 */
export class PortAllocator {
  /** First RTP port (even). */
  readonly first: number;
  /** Number of pairs in the range. */
  readonly capacity: number;

  private readonly used: Uint8Array;
  private cursor = 0;
  private count = 0;

  /** `min`…`max` inclusive; both ports of a pair must fit. Throws RangeError if no pair does. */
  constructor(min: number, max: number) {
    if (!Number.isInteger(min) || !Number.isInteger(max) || min < 1 || max > 65535) {
      throw new RangeError(`port range ${min}–${max} must be integers within 1–65535`);
    }
    this.first = min % 2 === 0 ? min : min + 1;
    this.capacity = max >= this.first + 1 ? Math.floor((max - this.first + 1) / 2) : 0;
    if (this.capacity === 0)
      throw new RangeError(`port range ${min}–${max} holds no even/odd pair`);
    this.used = new Uint8Array(this.capacity);
  }

  /** Pairs handed out and not released. */
  get inUse(): number {
    return this.count;
  }

  /** The RTP port of a free pair, or undefined when the range is exhausted. */
  allocate(): number | undefined {
    if (this.count === this.capacity) return undefined;
    for (let i = 0; i < this.capacity; i++) {
      const slot = (this.cursor + i) % this.capacity;
      if (this.used[slot] === 0) {
        this.used[slot] = 1;
        this.count++;
        this.cursor = (slot + 1) % this.capacity;
        return this.first + slot * 2;
      }
    }
    return undefined;
  }

  /** Returns a pair (by its RTP port). Releasing a free or foreign port throws RangeError. */
  release(port: number): void {
    const slot = this.slotOf(port);
    if (this.used[slot] === 0) throw new RangeError(`port ${port} is not allocated`);
    this.used[slot] = 0;
    this.count--;
  }

  isAllocated(port: number): boolean {
    const offset = port - this.first;
    if (!Number.isInteger(port) || offset < 0 || offset % 2 !== 0) return false;
    const slot = offset / 2;
    return slot < this.capacity && this.used[slot] === 1;
  }

  private slotOf(port: number): number {
    const offset = port - this.first;
    if (!Number.isInteger(port) || offset < 0 || offset % 2 !== 0 || offset / 2 >= this.capacity) {
      throw new RangeError(`port ${port} is not an RTP port of this range`);
    }
    return offset / 2;
  }
}
