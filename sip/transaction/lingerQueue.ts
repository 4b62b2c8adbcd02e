/**
 * The wait timers that end a transaction in its last state (RFC 3261 §17: D, I, J, K)
 * on one clock timer per duration instead of one each.
 *
 * A non-INVITE server transaction over UDP lingers 64·T1 (32 s) in Completed only to
 * absorb retransmissions (§17.2.2). Under load that is hundreds of thousands of
 * transactions, and a clock timer each (a Node `Timeout`, a handle and two closures)
 * were the larger part of what the garbage collector copied and marked for every one of
 * them. These timers are never cancelled in normal operation and all of one layer and
 * one duration expire in the order they were armed (the clock is monotonic), so a FIFO
 * per duration with the clock armed for its head does the same job: three array slots
 * per waiting transaction and no object.
 */
import type { Clock, TimerHandle } from '../clock.js';

/** What waits in a queue: told when its wait is over, with the token `add()` gave. */
export interface Lingering {
  lingerExpired(token: number): void;
}

/** A queue's consumed front is cut off once it is this long and at least half the arrays
 * (so each entry is moved a bounded number of times). */
const COMPACT_AFTER = 1024;

class Queue {
  private readonly targets: (Lingering | undefined)[] = [];
  private readonly tokens: number[] = [];
  private readonly due: number[] = [];
  private head = 0;
  private timer: TimerHandle | undefined;
  /** In expire(): it arms the clock itself when done, for what a callback added too. */
  private expiring = false;

  constructor(private readonly clock: Clock) {}

  get size(): number {
    return this.targets.length - this.head;
  }

  add(target: Lingering, token: number, due: number): void {
    this.targets.push(target);
    this.tokens.push(token);
    this.due.push(due);
    if (this.timer === undefined && !this.expiring) this.arm();
  }

  close(): void {
    this.timer?.cancel();
    this.timer = undefined;
    this.targets.length = 0;
    this.tokens.length = 0;
    this.due.length = 0;
    this.head = 0;
  }

  private arm(): void {
    const delay = Math.max(0, (this.due[this.head] as number) - this.clock.now());
    this.timer = this.clock.setTimer(delay, () => this.expire());
  }

  private expire(): void {
    this.timer = undefined;
    const now = this.clock.now();
    this.expiring = true;
    try {
      while (this.head < this.targets.length && (this.due[this.head] as number) <= now) {
        const target = this.targets[this.head] as Lingering;
        const token = this.tokens[this.head] as number;
        this.targets[this.head] = undefined;
        this.head++;
        target.lingerExpired(token);
      }
    } finally {
      this.expiring = false;
      this.settle();
    }
  }

  /** After an expiry: start over when empty, compact a long-consumed front, re-arm. */
  private settle(): void {
    if (this.head === this.targets.length) {
      this.targets.length = 0;
      this.tokens.length = 0;
      this.due.length = 0;
      this.head = 0;
      return;
    }
    if (this.head >= COMPACT_AFTER && this.head * 2 >= this.targets.length) {
      this.targets.splice(0, this.head);
      this.tokens.splice(0, this.head);
      this.due.splice(0, this.head);
      this.head = 0;
    }
    this.arm();
  }
}

export class LingerQueues {
  private readonly queues = new Map<number, Queue>();
  private nextToken = 1;
  private closed = false;

  constructor(private readonly clock: Clock) {}

  /**
   * Calls `target.lingerExpired(token)` after `ms`; returns the token. Cancelling is the
   * target's business: it ignores a token it no longer waits for (the queue keeps the
   * target until then, which is why only waits that are never cancelled belong here).
   */
  add(target: Lingering, ms: number): number {
    const token = this.nextToken++;
    if (this.closed) return token;
    let queue = this.queues.get(ms);
    if (queue === undefined) {
      queue = new Queue(this.clock);
      this.queues.set(ms, queue);
    }
    queue.add(target, token, this.clock.now() + ms);
    return token;
  }

  /** Entries waiting, over every duration. */
  get size(): number {
    let n = 0;
    for (const q of this.queues.values()) n += q.size;
    return n;
  }

  /** Drops every entry and clock timer; later adds are ignored. Idempotent. */
  close(): void {
    this.closed = true;
    for (const q of this.queues.values()) q.close();
    this.queues.clear();
  }
}
