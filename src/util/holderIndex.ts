/**
 * Which keys each holder holds, and whether anyone holds a key, answered in O(1): the
 * extensions that are parties of each live call, the supervisor of each monitor session.
 * The owner of the holders calls set() when a holder's keys change and delete() when it
 * goes; a question then costs one lookup instead of a scan of every holder. Pure.
 */
export class HolderIndex<H, K> {
  private readonly byHolder = new Map<H, readonly K[]>();
  /** How many holders hold each key (absent: none). */
  private readonly counts = new Map<K, number>();

  /** `holder` now holds `keys` (what it held before is forgotten). */
  set(holder: H, keys: readonly K[]): void {
    this.delete(holder);
    if (keys.length === 0) return;
    this.byHolder.set(holder, [...keys]);
    for (const k of keys) this.counts.set(k, (this.counts.get(k) ?? 0) + 1);
  }

  /** `holder` holds nothing any more. */
  delete(holder: H): void {
    const keys = this.byHolder.get(holder);
    if (keys === undefined) return;
    this.byHolder.delete(holder);
    for (const k of keys) {
      const n = (this.counts.get(k) ?? 0) - 1;
      if (n > 0) this.counts.set(k, n);
      else this.counts.delete(k);
    }
  }

  /** Whether any holder holds `key`. */
  has(key: K): boolean {
    return this.counts.has(key);
  }

  /** Every holder holding something (a snapshot). */
  holders(): H[] {
    return [...this.byHolder.keys()];
  }

  /** Every key held, each once (a snapshot). */
  keys(): Set<K> {
    return new Set(this.counts.keys());
  }
}
