/**
 * Random bytes for the values RFC 3550 §5.1 and §8 want random (SSRC, first sequence
 * number, first timestamp) and RFC 7022 §4.2's per-session CNAME, drawn from a pool.
 *
 * `crypto.randomBytes(12)` or `getRandomValues` per leg costs a trip into the CSPRNG (a
 * system call and a job object) for a dozen bytes: about 0.1 ms per call set up. The pool
 * takes 4 KB from the same CSPRNG at a time and hands each byte out once (never twice), so
 * the values are exactly as random, and one refill serves ~170 legs. A module is loaded
 * once per thread, so each worker thread has its own pool; nothing here is shared.
 *
 * Not for secrets that must not outlive their use in memory (keys): pooled bytes wait
 * in the buffer until drawn.
 */
import { randomFillSync } from 'node:crypto';

export class RandomPool {
  private readonly pool: Buffer;
  /** Next byte not handed out; `pool.length` when the pool is spent. */
  private at: number;

  /**
   * `size`: bytes taken from `fill` at a time. `fill` fills a buffer with random bytes
   * (node:crypto's randomFillSync; injectable to count refills in tests).
   */
  constructor(
    size = 4096,
    private readonly fill: (buf: Buffer) => void = (buf) => {
      randomFillSync(buf);
    },
  ) {
    if (!Number.isInteger(size) || size < 16) throw new RangeError(`pool size ${size}`);
    this.pool = Buffer.allocUnsafeSlow(size);
    this.at = size;
  }

  /** Copies `n` fresh random bytes into `out` at `offset` (n ≤ the pool's size). */
  fillBytes(out: Uint8Array, offset: number, n: number): void {
    if (n > this.pool.length) throw new RangeError(`${n} bytes from a pool of ${this.pool.length}`);
    if (this.at + n > this.pool.length) this.refill();
    this.pool.copy(out, offset, this.at, this.at + n);
    this.at += n;
  }

  /** A uniformly random unsigned 32-bit integer. */
  uint32(): number {
    if (this.at + 4 > this.pool.length) this.refill();
    const v = this.pool.readUInt32LE(this.at);
    this.at += 4;
    return v;
  }

  /** `n` fresh random bytes, base64 (RFC 4648 §4) encoded. */
  base64(n: number): string {
    if (n > this.pool.length) throw new RangeError(`${n} bytes from a pool of ${this.pool.length}`);
    if (this.at + n > this.pool.length) this.refill();
    const s = this.pool.toString('base64', this.at, this.at + n);
    this.at += n;
    return s;
  }

  private refill(): void {
    this.fill(this.pool);
    this.at = 0;
  }
}

/** This thread's pool. */
export const randomPool = new RandomPool();
