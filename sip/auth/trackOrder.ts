/**
 * The order in which keys entered a map, as a queue beside it, so the oldest key is found in
 * O(1). A JavaScript Map iterates in insertion order too, but V8 leaves a deleted entry in
 * place until the table is rebuilt, and finding the first live entry walks every deleted one
 * before it: a map used as a FIFO (delete the oldest, add the newest) pays for all of them on
 * every lookup of its oldest entry.
 *
 * Keys deleted from the map by other means stay queued until they reach the front (the owner
 * skips them there) or until compact() drops them.
 */

/** The consumed front is cut off once it is this long and at least half the array. */
const COMPACT_AFTER = 1024;

export class TrackOrder {
  private keys: (string | undefined)[] = [];
  private head = 0;

  /** Keys queued, live or not. */
  get length(): number {
    return this.keys.length - this.head;
  }

  push(key: string): void {
    this.keys.push(key);
  }

  /** The oldest queued key. */
  peek(): string | undefined {
    return this.head < this.keys.length ? this.keys[this.head] : undefined;
  }

  shift(): void {
    if (this.head >= this.keys.length) return;
    this.keys[this.head] = undefined;
    this.head++;
    if (this.head === this.keys.length) {
      this.keys.length = 0;
      this.head = 0;
    } else if (this.head >= COMPACT_AFTER && this.head * 2 >= this.keys.length) {
      this.keys.splice(0, this.head);
      this.head = 0;
    }
  }

  /**
   * Drops queued keys that `live` no longer has, when they are more than the live ones and
   * a few hundred (so the cost is amortized over the deletions that made them).
   */
  compact(live: { has(key: string): boolean; readonly size: number }): void {
    if (this.length <= 2 * live.size + 256) return;
    const kept: string[] = [];
    for (let i = this.head; i < this.keys.length; i++) {
      const key = this.keys[i];
      if (key !== undefined && live.has(key)) kept.push(key);
    }
    this.keys = kept;
    this.head = 0;
  }
}
