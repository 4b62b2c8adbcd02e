/**
 * The recording writer thread runs nicer than the rest of the process (docs/architecture.md
 * §7.6): its work (file creates, block writes) can wait tens of milliseconds without
 * harm, the SIP thread's and the media workers' cannot. On Linux a nice value belongs to a
 * thread: setpriority(2) with a thread id changes that thread alone, so the writer lowers
 * its own weight in the scheduler and the SIP thread is preempted less by its bursts.
 * Raising a nice value needs no privilege; nothing here ever lowers one.
 */
import { readlinkSync } from 'node:fs';
import { getPriority, setPriority } from 'node:os';

/** How much nicer than the process the writer thread runs (nice 0 → 5: ~1/3 the weight). */
export const WRITER_NICE = 5;

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
