/**
 * The recording writer thread runs a little nicer than the rest of the process
 * (docs/architecture.md §7.6): on a busy machine the SIP thread and the media workers go
 * first. On Linux a nice value belongs to a thread: setpriority(2) with a thread id changes
 * that thread alone. Raising a nice value needs no privilege; nothing here ever lowers one.
 *
 * Only a little: the media workers' memory waits for the writer. A worker reuses a batch's
 * buffer, and its recordings their blocks, only once the writer has answered for them
 * (writer/client.ts, wavRecorder.ts); a writer that falls behind makes every later batch and
 * block fresh memory, whose pages the workers then fault in, which takes more of the CPU the
 * writer lacked. At nice 5 (a third of a nice-0 thread's weight) the writer fell dozens of
 * batches behind on a saturated machine and the process took about a quarter more page
 * faults per recorded call than at nice 0 or 1 (bench/RESULTS.md, "Recording's cost per
 * call set-up: the writer's nice value and the workers' page faults").
 */
import { readlinkSync } from 'node:fs';
import { getPriority, setPriority } from 'node:os';

/** How much nicer than the process the writer thread runs (nice 0 → 1: 0.8 of the weight). */
export const WRITER_NICE = 1;

/** The highest nice value (the lowest priority). */
const NICE_MAX = 19;

/** The calling thread's kernel id (Linux: /proc/thread-self is "PID/task/TID"), or null. */
export function kernelThreadId(): number | null {
  try {
    const tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
    return Number.isInteger(tid) && tid > 0 ? tid : null;
  } catch {
    return null; // not Linux, or /proc not mounted
  }
}

/** The calling thread's nice value, or null where the kernel does not give one per thread. */
export function threadNice(): number | null {
  const tid = kernelThreadId();
  if (tid === null) return null;
  try {
    return getPriority(tid);
  } catch {
    return null;
  }
}

/**
 * Makes the calling thread `by` nicer than the process (at most 19); its new nice value,
 * or null where it cannot (not Linux, refused): the thread then runs as before.
 */
export function niceThisThread(by: number): number | null {
  const tid = kernelThreadId();
  if (tid === null) return null;
  try {
    const nice = Math.min(NICE_MAX, getPriority(process.pid) + by);
    if (nice > getPriority(tid)) setPriority(tid, nice);
    return getPriority(tid);
  } catch {
    return null;
  }
}
