/**
 * Spreads the periodic per-leg reports over the sweeps of one stats interval
 * (docs/architecture.md §5.3). A report of every leg at once is one task of 8-17 ms at
 * 300-600 legs (building each leg's object and cloning them all into one message): the
 * packets queued behind it wait that long. One slice per sweep is a fraction of a
 * millisecond, and each leg is still reported once per interval.
 *
 * Items come in groups that are never split across slices (the worker's groups are a
 * room's members or legs relayed to each other: one call's legs, whose reports an
 * observer compares within one message). Pure: the worker gives it the groups at each
 * interval's start and posts what each sweep takes.
 */
export class StatsSpread<T> {
  private pending: ReadonlyArray<readonly T[]> = [];
  private next = 0;
  private perSweep = 0;
  private readonly sweeps: number;

  /** `sweepsPerInterval`: how many sweeps the interval's reports are spread over. */
  constructor(sweepsPerInterval: number) {
    this.sweeps = Math.max(1, Math.floor(sweepsPerInterval));
  }

  /** A new interval: every group of `groups` is handed out over the next sweeps. */
  start(groups: ReadonlyArray<readonly T[]>): void {
    this.pending = groups;
    this.next = 0;
    let items = 0;
    for (const g of groups) items += g.length;
    this.perSweep = Math.max(1, Math.ceil(items / this.sweeps));
  }

  /**
   * This sweep's share: whole groups, at least one, until about an even share of the
   * interval's items; empty once every group was handed out.
   */
  take(): T[] {
    const slice: T[] = [];
    while (this.next < this.pending.length && slice.length < this.perSweep) {
      for (const item of this.pending[this.next]!) slice.push(item);
      this.next++;
    }
    if (this.next >= this.pending.length) {
      this.pending = [];
      this.next = 0;
    }
    return slice;
  }
}
