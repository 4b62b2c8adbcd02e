/** mulberry32: a small seeded PRNG (same seed, same sequences), for tests that must repeat. */
export function prng(seed: number): {
  next(): number;
  int(n: number): number;
  pick<T>(a: readonly T[]): T;
} {
  let s = seed >>> 0;
  const next = (): number => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number): number => Math.floor(next() * n);
  return { next, int, pick: (a) => a[int(a.length)]! };
}
