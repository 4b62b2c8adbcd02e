/**
 * CPU time of the calling thread. Node 20 has no per-thread CPU clock (process.cpuUsage
 * counts every thread of the process; threadCpuUsage arrived in Node 23.9), so on Linux it
 * is read from /proc/thread-self/schedstat, whose first field is the thread's time on CPU
 * in nanoseconds. Called once per stats report, never per packet.
 */
import { readFileSync } from 'node:fs';

const SCHEDSTAT = '/proc/thread-self/schedstat';

/** `own` plus the CPU of the io's own threads (media/io/packetIo.ts threadCpuMs). */
export function addIoCpu(own: number | null, io: { threadCpuMs?(): number }): number | null {
  return own === null ? null : own + (io.threadCpuMs?.() ?? 0);
}

/** Milliseconds of CPU this thread has used, or null where the kernel doesn't say. */
export function threadCpuMs(): number | null {
  try {
    const ns = Number(readFileSync(SCHEDSTAT, 'latin1').split(' ', 1)[0]);
    return Number.isFinite(ns) ? ns / 1e6 : null;
  } catch {
    return null; // not Linux, or /proc not mounted
  }
}
