/**
 * Self-validating nonces with nonce-count replay protection (RFC 7616 §3.3 and §5.12,
 * RFC 2617 §4.5).
 *
 * Nonce format: base64url(issuedAt ‖ random ‖ mac), 46 characters, all token characters:
 *   issuedAt  6 bytes, big-endian milliseconds from the injected clock
 *   random   12 bytes from crypto.randomBytes (unguessable)
 *   mac      16 bytes, HMAC-SHA256(secret, issuedAt ‖ random) truncated (hmac.ts)
 * Issuing a nonce stores nothing, so unauthenticated challenge floods cost no memory.
 *
 * State is created only when a nonce is first *used* by a request whose digest was already
 * verified: the highest nc seen and a sliding window bitmap of the nc values below it (the
 * IPsec anti-replay scheme, RFC 4303 §3.4.3). Each nc is accepted once; with a window of 1
 * nc must strictly increase, with a wider window requests sent in parallel on one nonce may
 * arrive out of order.
 *
 * Bounded memory: at most `maxTracked` nonces are tracked; the least recently created entry
 * is evicted first. Creation order is kept in a queue beside the map (trackOrder.ts): taking
 * the oldest entry from the map itself (its first live entry) walks over every entry deleted
 * before it, and a map that evicts one entry per use holds tens of thousands of those, so
 * each use cost tens of microseconds once the table was full. Eviction trade-off: a correctly signed, unexpired nonce whose state was
 * evicted could be replayed if we simply restarted nc tracking. Instead we keep a watermark
 * (the newest issue time among evicted entries, and the construction time of this store) and
 * answer 'forgotten' for untracked nonces issued at or before it: the caller re-challenges
 * with stale=true, the client retries with a fresh nonce and no user prompt. The cost is an
 * extra round trip for a few clients when the table is full, never a replay window.
 *
 * Expired entries are purged a few at a time on use and from the oldest on by `sweep()`;
 * no timers.
 */
import { randomBytes as cryptoRandomBytes, timingSafeEqual } from 'node:crypto';

/** Random bytes drawn from the CSPRNG in 4 kB batches: one call per nonce costs more
 * than the HMAC that signs it. */
let randomPool = Buffer.alloc(0);
let randomOffset = 0;
function pooledRandomBytes(size: number): Uint8Array {
  if (randomOffset + size > randomPool.length) {
    randomPool = cryptoRandomBytes(Math.max(4096, size));
    randomOffset = 0;
  }
  const out = randomPool.subarray(randomOffset, randomOffset + size);
  randomOffset += size;
  return out;
}
import type { Clock } from './clock.js';
import { MAX_NC } from './digest.js';
import { hmacSha256, type Hmac } from './hmac.js';
import { detached } from '../util/detached.js';
import { TrackOrder } from './trackOrder.js';

export const DEFAULT_MAX_TRACKED_NONCES = 100_000;
export const DEFAULT_NC_WINDOW = 32;
/** The widest nc window: the bitmap is one 32-bit integer. */
export const MAX_NC_WINDOW = 32;

const TIME_BYTES = 6;
const RANDOM_BYTES = 12;
const MAC_BYTES = 16;
const NONCE_BYTES = TIME_BYTES + RANDOM_BYTES + MAC_BYTES;
const NONCE_PATTERN = /^[A-Za-z0-9_-]{46}$/;
/** Expired entries dropped per `use()` call, so purging costs O(1) per request. */
const LAZY_PURGE_STEPS = 2;

export interface NonceStoreOptions {
  readonly clock: Clock;
  /** How long an issued nonce stays fresh, ms. */
  readonly lifetimeMs: number;
  readonly maxTracked?: number;
  /** nc values accepted below the highest seen, 1..32. 1 = strictly increasing. */
  readonly ncWindow?: number;
  /** HMAC key, at least 16 bytes. Random per instance when absent. Share it to let several
   * instances (or a restarted one) accept each other's nonces. */
  readonly secret?: Uint8Array;
  /** Randomness source; tests may pin it. */
  readonly randomBytes?: (size: number) => Uint8Array;
}

/** What a nonce is, before any use: signed and young, signed and old, or not ours. */
export type NonceState = 'fresh' | 'expired' | 'invalid';

/**
 * Outcome of using a nonce with an nc: accepted; replayed (nc already seen or below the
 * window); expired or invalid (see NonceState); forgotten (signed and fresh, but its state
 * may have been evicted, so it cannot be proven unused).
 */
export type NonceUse = 'accepted' | 'replayed' | 'expired' | 'invalid' | 'forgotten';

interface Tracked {
  readonly issuedAt: number;
  highestNc: number;
  /** Bit i set = nc (highestNc - i) was seen. */
  seen: number;
}

export class NonceStore {
  readonly #clock: Clock;
  readonly #lifetimeMs: number;
  readonly #maxTracked: number;
  readonly #window: number;
  readonly #windowMask: number;
  readonly #hmac: Hmac;
  readonly #randomBytes: (size: number) => Uint8Array;
  readonly #tracked = new Map<string, Tracked>();
  /** The tracked nonces in creation order (plus some already deleted from the map). */
  readonly #order = new TrackOrder();
  /** Untracked nonces issued at or before this may have been used already. */
  #forgetWatermark: number;

  constructor(options: NonceStoreOptions) {
    const { lifetimeMs } = options;
    const maxTracked = options.maxTracked ?? DEFAULT_MAX_TRACKED_NONCES;
    const window = options.ncWindow ?? DEFAULT_NC_WINDOW;
    if (!(lifetimeMs > 0) || !Number.isFinite(lifetimeMs)) {
      throw new RangeError('lifetimeMs must be a positive number');
    }
    if (!Number.isInteger(maxTracked) || maxTracked < 1) {
      throw new RangeError('maxTracked must be a positive integer');
    }
    if (!Number.isInteger(window) || window < 1 || window > MAX_NC_WINDOW) {
      throw new RangeError(`ncWindow must be an integer in 1..${MAX_NC_WINDOW}`);
    }
    if (options.secret !== undefined && options.secret.length < 16) {
      throw new RangeError('secret must be at least 16 bytes');
    }
    this.#clock = options.clock;
    this.#lifetimeMs = lifetimeMs;
    this.#maxTracked = maxTracked;
    this.#window = window;
    this.#windowMask = window === 32 ? 0xffffffff : 2 ** window - 1;
    this.#randomBytes = options.randomBytes ?? pooledRandomBytes;
    this.#hmac = hmacSha256(options.secret ?? cryptoRandomBytes(32), TIME_BYTES + RANDOM_BYTES);
    // A nonce issued before this store existed was tracked (if at all) by someone else.
    this.#forgetWatermark = this.#clock.now() - 1;
  }

  /** Number of nonces with nc state. */
  get trackedCount(): number {
    return this.#tracked.size;
  }

  issue(): string {
    const raw = Buffer.allocUnsafe(NONCE_BYTES);
    const body = raw.subarray(0, TIME_BYTES + RANDOM_BYTES);
    body.writeUIntBE(Math.max(0, Math.floor(this.#clock.now())), 0, TIME_BYTES);
    const random = this.#randomBytes(RANDOM_BYTES);
    if (random.length !== RANDOM_BYTES) throw new RangeError('randomBytes returned wrong size');
    body.set(random, TIME_BYTES);
    raw.write(this.#hmac(body), TIME_BYTES + RANDOM_BYTES, MAC_BYTES, 'hex');
    return raw.toString('base64url');
  }

  /** Classifies a nonce without touching nc state. */
  inspect(nonce: string): NonceState {
    const issuedAt = this.#issuedAt(nonce);
    if (issuedAt === undefined) return 'invalid';
    return this.#isExpired(issuedAt, this.#clock.now()) ? 'expired' : 'fresh';
  }

  /**
   * Records one use of `nonce` with nonce-count `nc` (1..MAX_NC). Call it only after the
   * digest has been verified, so forged requests cannot burn a client's nc values.
   */
  use(nonce: string, nc: number): NonceUse {
    const issuedAt = this.#issuedAt(nonce);
    if (issuedAt === undefined) return 'invalid';
    const now = this.#clock.now();
    if (this.#isExpired(issuedAt, now)) {
      this.#tracked.delete(nonce);
      return 'expired';
    }
    if (!Number.isInteger(nc) || nc < 1 || nc > MAX_NC) return 'replayed';

    const entry = this.#tracked.get(nonce);
    if (entry === undefined) {
      if (issuedAt <= this.#forgetWatermark) return 'forgotten';
      this.#purgeOldest(now, LAZY_PURGE_STEPS);
      // Kept up to the nonce's lifetime: its own copy, not a slice of the request.
      const key = detached(nonce);
      this.#tracked.set(key, { issuedAt, highestNc: nc, seen: 1 });
      this.#order.push(key);
      this.#evictOverflow();
      return 'accepted';
    }
    return this.#advance(entry, nc) ? 'accepted' : 'replayed';
  }

  /**
   * Drops expired entries from the oldest on, stopping at the first that is not expired;
   * returns how many. Call it now and then (e.g. each second). It costs O(expired), not
   * O(tracked): a full table holds 100 000 entries, and a scan of all of them each second
   * stalls the thread for milliseconds while it rarely finds anything to drop.
   *
   * The queue is in order of first use, not of issue, so an expired entry may wait behind
   * a younger one that was issued later but used earlier; it is dropped once that one
   * expires, at most the time between its own issue and first use too late. Until then it
   * costs only memory: use() reads a nonce's age from its signature, never from the map.
   */
  sweep(): number {
    const now = this.#clock.now();
    let removed = 0;
    for (;;) {
      const oldest = this.#oldest();
      if (oldest === undefined || !this.#isExpired(oldest[1].issuedAt, now)) break;
      this.#tracked.delete(oldest[0]);
      this.#order.shift();
      removed++;
    }
    this.#order.compact(this.#tracked);
    return removed;
  }

  /** Sliding-window check and update; true if nc is new. */
  #advance(entry: Tracked, nc: number): boolean {
    if (nc > entry.highestNc) {
      const shift = nc - entry.highestNc; // < window <= 32 in the shifting branch
      entry.seen =
        shift >= this.#window ? 1 : (((entry.seen << shift) | 1) & this.#windowMask) >>> 0;
      entry.highestNc = nc;
      return true;
    }
    const age = entry.highestNc - nc;
    if (age >= this.#window || ((entry.seen >>> age) & 1) === 1) return false;
    entry.seen = (entry.seen | (1 << age)) >>> 0;
    return true;
  }

  #isExpired(issuedAt: number, now: number): boolean {
    // A nonce from the future (clock stepped back, or another node's skew) is not fresh.
    return issuedAt > now || now - issuedAt >= this.#lifetimeMs;
  }

  /** The oldest tracked entry (skipping queued nonces no longer in the map). */
  #oldest(): [string, Tracked] | undefined {
    for (;;) {
      const nonce = this.#order.peek();
      if (nonce === undefined) return undefined;
      const entry = this.#tracked.get(nonce);
      if (entry !== undefined) return [nonce, entry];
      this.#order.shift();
    }
  }

  #purgeOldest(now: number, steps: number): void {
    for (let left = steps; left > 0; left--) {
      const oldest = this.#oldest();
      if (oldest === undefined || !this.#isExpired(oldest[1].issuedAt, now)) return;
      this.#tracked.delete(oldest[0]);
      this.#order.shift();
    }
  }

  #evictOverflow(): void {
    while (this.#tracked.size > this.#maxTracked) {
      const oldest = this.#oldest();
      if (oldest === undefined) return;
      const [nonce, entry] = oldest;
      this.#tracked.delete(nonce);
      this.#order.shift();
      this.#forgetWatermark = Math.max(this.#forgetWatermark, entry.issuedAt);
    }
  }

  /** Scratch space for the MAC a nonce should carry (one thread, no re-entry). */
  readonly #expectedMac = Buffer.alloc(MAC_BYTES);

  /** The last nonce whose signature checked out: verify() inspects and then uses the same
   * nonce, and the HMAC is the dearest step of both. */
  #lastValid: { nonce: string; issuedAt: number } | undefined;

  /** The issue time of a nonce we signed, or undefined for anything else. */
  #issuedAt(nonce: string): number | undefined {
    if (this.#lastValid?.nonce === nonce) return this.#lastValid.issuedAt;
    const issuedAt = this.#verifySignature(nonce);
    if (issuedAt !== undefined) this.#lastValid = { nonce, issuedAt };
    return issuedAt;
  }

  #verifySignature(nonce: string): number | undefined {
    if (typeof nonce !== 'string' || !NONCE_PATTERN.test(nonce)) return undefined;
    const raw = Buffer.from(nonce, 'base64url');
    // The decoder ignores the unused low bits of the last character: insist on the one
    // canonical spelling so a nonce has exactly one string form (nc state is keyed by it).
    if (raw.length !== NONCE_BYTES || raw.toString('base64url') !== nonce) return undefined;
    const body = raw.subarray(0, TIME_BYTES + RANDOM_BYTES);
    this.#expectedMac.write(this.#hmac(body), 0, MAC_BYTES, 'hex');
    if (!timingSafeEqual(this.#expectedMac, raw.subarray(TIME_BYTES + RANDOM_BYTES))) {
      return undefined;
    }
    return body.readUIntBE(0, TIME_BYTES);
  }
}
