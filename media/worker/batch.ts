/**
 * Messages between the engine and a media worker travel in batches: every command (or
 * reply and event) made during one turn of the event loop goes in one postMessage, not one
 * each. A postMessage costs a structured clone plus a wake-up of the other thread, and a
 * call setup makes several commands per leg in the same turn, so this is most of the cost
 * of the control path. Order is kept; a lone message travels unwrapped.
 *
 * The flush runs on setImmediate, i.e. after the I/O callbacks of the current turn, so the
 * commands of every SIP datagram read in that turn share one message.
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
  schedule(run: () => void): unknown;
  cancel(handle: unknown): void;
}

const immediate: Scheduler = {
  schedule: (run) => setImmediate(run),
  cancel: (handle) => clearImmediate(handle as NodeJS.Immediate),
};

/** Collects messages and posts them once per turn (see the header). */
export class Batcher {
  private queue: unknown[] = [];
  private pending: unknown;
  private closed = false;

  constructor(
    private readonly post: (message: unknown) => void,
    private readonly scheduler: Scheduler = immediate,
  ) {}

  push(message: unknown): void {
    if (this.closed) return;
    this.queue.push(message);
    this.pending ??= this.scheduler.schedule(() => {
      this.pending = undefined;
      this.flush();
    });
  }

  /** Posts what is queued now. */
  flush(): void {
    if (this.pending !== undefined) {
      this.scheduler.cancel(this.pending);
      this.pending = undefined;
    }
    const queue = this.queue;
    if (queue.length === 0) return;
    this.queue = [];
    this.post(queue.length === 1 ? queue[0] : ({ type: 'batch', messages: queue } satisfies Batch));
  }

  /** Drops what is queued and stops the pending flush; later pushes are ignored. */
  close(): void {
    this.closed = true;
    if (this.pending !== undefined) this.scheduler.cancel(this.pending);
    this.pending = undefined;
    this.queue = [];
  }
}
