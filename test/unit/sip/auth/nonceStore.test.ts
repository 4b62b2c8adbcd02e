import { describe, expect, it } from '@jest/globals';
import { isToken } from '../../../../sip/auth/authParams.js';
import { NonceStore, type NonceStoreOptions } from '../../../../sip/auth/nonceStore.js';
import { FakeClock } from './helpers.js';

const LIFETIME = 30_000;
const SECRET = new Uint8Array(32).fill(7);

function store(clock: FakeClock, extra: Partial<NonceStoreOptions> = {}): NonceStore {
  return new NonceStore({ clock, lifetimeMs: LIFETIME, secret: SECRET, ...extra });
}

/** Flips one character of the nonce body, keeping it base64url. */
function tamper(nonce: string, at: number): string {
  const c = nonce[at] === 'A' ? 'B' : 'A';
  return nonce.slice(0, at) + c + nonce.slice(at + 1);
}

describe('NonceStore: issuing and recognising nonces', () => {
  it('issues 46-character unguessable tokens and stores nothing', () => {
    const s = store(new FakeClock());
    const a = s.issue();
    const b = s.issue();
    expect(a).toHaveLength(46);
    expect(isToken(a)).toBe(true);
    expect(a).not.toBe(b);
    expect(s.trackedCount).toBe(0);
  });

  it('is deterministic with a pinned random source', () => {
    const clock = new FakeClock();
    const pinned = (size: number): Uint8Array => new Uint8Array(size).fill(1);
    expect(store(clock, { randomBytes: pinned }).issue()).toBe(
      store(clock, { randomBytes: pinned }).issue(),
    );
  });

  it('is fresh for its lifetime, then expired', () => {
    const clock = new FakeClock();
    const s = store(clock);
    const n = s.issue();
    expect(s.inspect(n)).toBe('fresh');
    clock.advance(LIFETIME - 1);
    expect(s.inspect(n)).toBe('fresh');
    clock.advance(1);
    expect(s.inspect(n)).toBe('expired');
  });

  it('treats a nonce from the future (clock stepped back) as expired', () => {
    const clock = new FakeClock();
    const s = store(clock);
    const n = s.issue();
    clock.advance(-1);
    expect(s.inspect(n)).toBe('expired');
  });

  it('refuses tampered, foreign and malformed nonces', () => {
    const clock = new FakeClock();
    const s = store(clock);
    const n = s.issue();
    for (const at of [0, 10, 30, 44]) expect(s.inspect(tamper(n, at))).toBe('invalid');
    // The last character carries 4 unused bits; another spelling of the same bytes is refused.
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const last = alphabet.indexOf(n.slice(-1));
    expect(s.inspect(n.slice(0, -1) + alphabet[last + 1])).toBe('invalid');
    const other = new NonceStore({ clock, lifetimeMs: LIFETIME }); // its own random secret
    expect(s.inspect(other.issue())).toBe('invalid');
    for (const junk of ['', 'x', `${n}=`, n.slice(1), `${n.slice(0, 45)}+`, 'dcd98b71']) {
      expect(s.inspect(junk)).toBe('invalid');
      expect(s.use(junk, 1)).toBe('invalid');
    }
  });

  it('accepts nonces of another instance sharing the secret', () => {
    const clock = new FakeClock();
    const a = store(clock);
    const b = store(clock);
    expect(b.inspect(a.issue())).toBe('fresh');
  });

  it('validates its options', () => {
    const clock = new FakeClock();
    expect(() => new NonceStore({ clock, lifetimeMs: 0 })).toThrow(RangeError);
    expect(() => store(clock, { ncWindow: 33 })).toThrow(RangeError);
    expect(() => store(clock, { ncWindow: 0 })).toThrow(RangeError);
    expect(() => store(clock, { maxTracked: 0 })).toThrow(RangeError);
    expect(() => store(clock, { secret: new Uint8Array(8) })).toThrow(RangeError);
  });
});

describe('NonceStore: nonce-count replay protection', () => {
  it('accepts each nc once, increasing', () => {
    const s = store(new FakeClock());
    const n = s.issue();
    expect(s.use(n, 1)).toBe('accepted');
    expect(s.use(n, 1)).toBe('replayed');
    expect(s.use(n, 2)).toBe('accepted');
    expect(s.use(n, 3)).toBe('accepted');
    expect(s.use(n, 2)).toBe('replayed');
    expect(s.use(n, 0xffffffff)).toBe('accepted');
    expect(s.use(n, 0xffffffff)).toBe('replayed');
    expect(s.trackedCount).toBe(1);
  });

  it('refuses nc values outside 1..0xffffffff', () => {
    const s = store(new FakeClock());
    const n = s.issue();
    expect(s.use(n, 0)).toBe('replayed');
    expect(s.use(n, 0x100000000)).toBe('replayed');
    expect(s.use(n, 1.5)).toBe('replayed');
  });

  it('accepts out-of-order nc values inside the window, once each', () => {
    const s = store(new FakeClock(), { ncWindow: 32 });
    const n = s.issue();
    expect(s.use(n, 5)).toBe('accepted');
    expect(s.use(n, 3)).toBe('accepted');
    expect(s.use(n, 4)).toBe('accepted');
    expect(s.use(n, 3)).toBe('replayed');
    expect(s.use(n, 40)).toBe('accepted');
    expect(s.use(n, 9)).toBe('accepted'); // 40 - 9 = 31 < 32
    expect(s.use(n, 8)).toBe('replayed'); // fell out of the window
    expect(s.use(n, 9)).toBe('replayed');
    expect(s.use(n, 41)).toBe('accepted'); // shifting keeps what was seen
    expect(s.use(n, 40)).toBe('replayed');
    expect(s.use(n, 9)).toBe('replayed');
  });

  it('with a window of 1, nc must strictly increase', () => {
    const s = store(new FakeClock(), { ncWindow: 1 });
    const n = s.issue();
    expect(s.use(n, 2)).toBe('accepted');
    expect(s.use(n, 1)).toBe('replayed');
    expect(s.use(n, 2)).toBe('replayed');
    expect(s.use(n, 3)).toBe('accepted');
  });

  it('reports expiry on use and forgets the expired nonce', () => {
    const clock = new FakeClock();
    const s = store(clock);
    const n = s.issue();
    expect(s.use(n, 1)).toBe('accepted');
    clock.advance(LIFETIME);
    expect(s.use(n, 2)).toBe('expired');
    expect(s.trackedCount).toBe(0);
  });

  it('answers forgotten for a signed nonce issued before the store existed', () => {
    const clock = new FakeClock();
    const before = store(clock).issue();
    clock.advance(1);
    const restarted = store(clock); // same secret: e.g. after a restart
    expect(restarted.inspect(before)).toBe('fresh');
    expect(restarted.use(before, 1)).toBe('forgotten');
    expect(restarted.use(restarted.issue(), 1)).toBe('accepted');
  });
});

describe('NonceStore: bounded memory', () => {
  it('caps tracked nonces, evicting the oldest, and never re-admits an evicted one', () => {
    const clock = new FakeClock();
    const s = store(clock, { maxTracked: 3 });
    const nonces: string[] = [];
    for (let i = 0; i < 5; i++) {
      clock.advance(10);
      nonces.push(s.issue());
    }
    const [n0, n1, n2, n3, n4] = nonces as [string, string, string, string, string];
    for (const n of [n0, n1, n2, n3]) expect(s.use(n, 1)).toBe('accepted');
    expect(s.trackedCount).toBe(3);
    // n0 was evicted: without its state a replay cannot be ruled out.
    expect(s.use(n0, 1)).toBe('forgotten');
    expect(s.use(n0, 2)).toBe('forgotten');
    // n1..n3 are still tracked; n4 is newer than anything evicted, so its first use is safe.
    expect(s.use(n3, 1)).toBe('replayed');
    expect(s.use(n4, 1)).toBe('accepted');
    expect(s.trackedCount).toBe(3);
    expect(s.use(n1, 2)).toBe('forgotten'); // evicted by n4
  });

  it('keeps evicting in creation order past expiries, sweeps and a full table', () => {
    // Creation order is kept beside the map (trackOrder.ts); nonces that left the map by
    // expiry or sweep must not be evicted again nor shift the order of the live ones.
    const clock = new FakeClock();
    const s = store(clock, { maxTracked: 50 });
    const used: string[] = [];
    let sinceSweep = 0;
    for (let round = 0; round < 6; round++) {
      for (let i = 0; i < 40; i++) {
        clock.advance(1);
        const n = s.issue();
        expect(s.use(n, 1)).toBe('accepted');
        used.push(n);
        sinceSweep++;
      }
      expect(s.trackedCount).toBe(Math.min(50, sinceSweep));
      if (round === 2) {
        clock.advance(LIFETIME);
        expect(s.sweep()).toBe(50);
        sinceSweep = 0;
      }
    }
    // The last 50 are tracked (a second use is a replay check, not 'forgotten'); the 70
    // before them since the sweep were evicted; the ones before the sweep expired.
    for (const n of used.slice(-50)) expect(s.use(n, 1)).toBe('replayed');
    for (const n of used.slice(120, -50)) expect(s.use(n, 1)).toBe('forgotten');
    for (const n of used.slice(0, 120)) expect(s.use(n, 2)).toBe('expired');
  });

  it('sweep() stops at the oldest live entry; one used late waits behind it', () => {
    // Entries are queued by first use, not by issue: the sweep walks only the expired
    // front (O(expired)), and an entry issued earlier but used later is dropped once the
    // one queued before it expires. Its age is read from the nonce, so it is never
    // accepted meanwhile.
    const clock = new FakeClock();
    const s = store(clock);
    const early = s.issue();
    clock.advance(LIFETIME / 2);
    const late = s.issue();
    expect(s.use(late, 1)).toBe('accepted');
    expect(s.use(early, 1)).toBe('accepted');
    clock.advance(LIFETIME / 2);
    expect(s.inspect(early)).toBe('expired');
    expect(s.sweep()).toBe(0);
    expect(s.trackedCount).toBe(2);
    clock.advance(LIFETIME / 2);
    expect(s.sweep()).toBe(2);
    expect(s.trackedCount).toBe(0);
  });

  it('sweep() drops expired entries; use() purges a few lazily', () => {
    const clock = new FakeClock();
    const s = store(clock);
    for (let i = 0; i < 10; i++) s.use(s.issue(), 1);
    clock.advance(LIFETIME / 2);
    const young = s.issue();
    expect(s.use(young, 1)).toBe('accepted');
    clock.advance(LIFETIME / 2);
    s.use(s.issue(), 1); // purges 2 of the 10 expired ones on the way
    expect(s.trackedCount).toBe(10);
    expect(s.sweep()).toBe(8);
    expect(s.trackedCount).toBe(2);
    expect(s.use(young, 2)).toBe('accepted');
  });
});
