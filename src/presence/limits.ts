/**
 * How many subscriptions each watcher extension holds, each watched extension has and
 * each source address sent, against their bounds (`presence.maxPerWatcher`,
 * `maxPerWatched`, `maxPerSource`). A refused SUBSCRIBE is answered 503 with Retry-After
 * (RFC 3261 §21.5.4): SIP has no 429 of HTTP's meaning (its 429 is "Provide Referrer
 * Identity", RFC 3892), and 503 with Retry-After is what phones back off on. Pure.
 */
export type LimitKind = 'watcher' | 'watched' | 'source';

export interface LimitBounds {
  readonly maxPerWatcher: number;
  readonly maxPerWatched: number;
  readonly maxPerSource: number;
}

export interface Holder {
  readonly watcher: string;
  readonly watched: string;
  /** The source IP address (not the port: one phone or one attacker per address). */
  readonly source: string;
}

export class SubscriptionCounts {
  private readonly counts: Record<LimitKind, Map<string, number>> = {
    watcher: new Map(),
    watched: new Map(),
    source: new Map(),
  };

  constructor(private readonly bounds: LimitBounds) {}

  /** The first bound one more subscription of `h` would exceed, or undefined. */
  check(h: Holder): LimitKind | undefined {
    if (this.of('watcher', h.watcher) >= this.bounds.maxPerWatcher) return 'watcher';
    if (this.of('watched', h.watched) >= this.bounds.maxPerWatched) return 'watched';
    if (this.of('source', h.source) >= this.bounds.maxPerSource) return 'source';
    return undefined;
  }

  add(h: Holder): void {
    this.bump('watcher', h.watcher, 1);
    this.bump('watched', h.watched, 1);
    this.bump('source', h.source, 1);
  }

  remove(h: Holder): void {
    this.bump('watcher', h.watcher, -1);
    this.bump('watched', h.watched, -1);
    this.bump('source', h.source, -1);
  }

  of(kind: LimitKind, key: string): number {
    return this.counts[kind].get(key) ?? 0;
  }

  private bump(kind: LimitKind, key: string, by: number): void {
    const n = this.of(kind, key) + by;
    if (n <= 0) this.counts[kind].delete(key);
    else this.counts[kind].set(key, n);
  }
}
