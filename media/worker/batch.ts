/**
 * Messages between the engine and a media worker travel in batches: every command (or
 * reply and event) made during one turn of the event loop goes in one postMessage, not one
 * each. A postMessage costs a structured clone plus a wake-up of the other thread, and a
 * call setup makes several commands per leg in the same turn, so this is most of the cost
 * of the control path. Order is kept; a lone message travels unwrapped.
 *
 * The flush runs on setImmediate, i.e. after the I/O callbacks of the current turn, so the
 * commands of every SIP datagram read in that turn share one message.
 *
 * A message nobody waits for in a hurry (the replies to a call's closes: the call has
 * ended, its ports are released a little later) can be deferred: it waits up to
 * `deferMs` for the next message of the normal kind and travels in that one's batch, so
 * at any call rate above a few per second it costs no post and no wake-up of its own.
 * Deferred or not, messages go out in the order they were made.
 */

/** The envelope: `messages` in the order they were made. */
export interface Batch {
  type: 'batch';
  messages: unknown[];
}

export function isBatch(message: unknown): message is Batch {
  return (
    typeof message === 'object' &&
    message !== null &&
    (message as { type?: unknown }).type === 'batch' &&
    Array.isArray((message as { messages?: unknown }).messages)
  );
}

/** Calls `each` for every message a postMessage carried (one, or a batch's in order). */
export function unbatch(message: unknown, each: (message: unknown) => void): void {
  if (!isBatch(message)) {
    each(message);
    return;
  }
  for (const m of message.messages) each(m);
}

export interface Scheduler {
  /** Runs `run` at the end of this turn. */
  schedule(run: () => void): unknown;
  cancel(handle: unknown): void;
  /** Runs `run` once, `ms` from now. */
  delay(run: () => void, ms: number): unknown;
  cancelDelay(handle: unknown): void;
}

const immediate: Scheduler = {
  schedule: (run) => setImmediate(run),
  cancel: (handle) => clearImmediate(handle as NodeJS.Immediate),
  // Unref'd: a deferred message never keeps the process alive by itself.
  delay: (run, ms) => setTimeout(run, ms).unref(),
  cancelDelay: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

/** How long a deferred message waits for company at most (see the header). */
export const DEFER_MS = 20;

/**
 * The commands whose replies travel deferred: a call's closes. Nothing on a call's path
 * waits for those replies (docs/architecture.md §5.1). The commands themselves go in the
 * turn's batch: until a leg's close reaches the worker it keeps sending the phone RTP,
 * and a phone that takes its next call on the same port would get the old stream first.
 */
export const DEFERRED_REPLIES: ReadonlySet<string> = new Set(['closeLeg', 'closeRoom']);

/** Collects messages and posts them once per turn (see the header). */
export class Batcher {
  private queue: unknown[] = [];
  private pending: unknown;
  /** The flush of a queue of deferred messages only. */
  private delayed: unknown;
  private closed = false;

  constructor(
    private readonly post: (message: unknown) => void,
    private readonly scheduler: Scheduler = immediate,
    private readonly deferMs = DEFER_MS,
  ) {}

  push(message: unknown): void {
    if (this.closed) return;
    this.queue.push(message);
    this.pending ??= this.scheduler.schedule(() => {
      this.pending = undefined;
      this.flush();
    });
  }

  /** Queues `message` to go with the next pushed one, or on its own after `deferMs`. */
  defer(message: unknown): void {
    if (this.closed) return;
    this.queue.push(message);
    if (this.pending !== undefined) return; // goes at the end of this turn anyway
    this.delayed ??= this.scheduler.delay(() => {
      this.delayed = undefined;
      this.flush();
    }, this.deferMs);
  }

  /** Posts what is queued now. */
  flush(): void {
    this.cancelPending();
    const queue = this.queue;
    if (queue.length === 0) return;
    this.queue = [];
    this.post(queue.length === 1 ? queue[0] : ({ type: 'batch', messages: queue } satisfies Batch));
  }

  /** Drops what is queued and stops the pending flush; later pushes are ignored. */
  close(): void {
    this.closed = true;
    this.cancelPending();
    this.queue = [];
  }

  private cancelPending(): void {
    if (this.pending !== undefined) {
      this.scheduler.cancel(this.pending);
      this.pending = undefined;
    }
    if (this.delayed !== undefined) {
      this.scheduler.cancelDelay(this.delayed);
      this.delayed = undefined;
    }
  }
}
