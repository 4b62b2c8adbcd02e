/**
 * Diagnostic preload for finding event-loop stalls in the benches (not loaded by default).
 *
 *   CALLWATCH_STALL_DIR=/tmp/stalls node -r ./bench/lib/stallProbe.cjs bench/mixer.bench.mjs …
 *
 * `-r` runs in every thread (worker threads inherit the parent's execArgv) and in forked
 * children (fork inherits execArgv), so every isolate of the bench, the engine's media
 * workers, the recording writer and the RTP generator writes its own
 * `<dir>/<pid>-<threadId>.jsonl`: a first line naming the thread (its kernel tid from
 * /proc/thread-self, its label from workerData), then events with wall-clock times
 * (performance.timeOrigin + startTime, ms since the epoch, so threads and processes line
 * up):
 *   { t, e: 'gc', ms, kind }   every collection (PerformanceObserver 'gc'; kind 1 minor
 *                              scavenge, 2 major mark-compact, 4 incremental, 8 weak cb)
 *   { t, e: 'lag', ms }        a 5 ms interval timer that ran more than LAG_MS late (the
 *                              loop was busy or the thread was not scheduled)
 *   { t, e: 'cpu', tasks }     main thread only, every 50 ms: per kernel thread (tid) of
 *                              the process, [ms run, ms runnable but waiting for a CPU]
 *                              since the last sample (/proc/self/task/<tid>/schedstat)
 * bench/stallReport.mjs lines them up against the generator's late packets.
 */
'use strict';
/* global require, setInterval */
/* eslint-disable @typescript-eslint/no-require-imports -- CommonJS on purpose: Node 20 runs a
   -r preload in every worker thread, an --import one only in the main thread */
const dir = process.env.CALLWATCH_STALL_DIR;
if (dir) {
  const fs = require('node:fs');
  const path = require('node:path');
  const { performance, PerformanceObserver } = require('node:perf_hooks');
  const wt = require('node:worker_threads');
  const LAG_MS = Number(process.env.CALLWATCH_STALL_LAG_MS ?? 10);
  const TICK_MS = 5;
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${process.pid}-${wt.threadId}.jsonl`);
  let tid = -1;
  try {
    tid = Number(fs.readlinkSync('/proc/thread-self').split('/').pop());
  } catch {
    /* not Linux */
  }
  const wd = wt.workerData;
  const label = wt.isMainThread
    ? `main ${path.basename(process.argv[1] ?? '?')}`
    : wd && typeof wd === 'object' && typeof wd.index === 'number' && 'sweepIntervalMs' in wd
      ? `media worker ${wd.index}`
      : `thread ${wt.threadId}`;
  const origin = performance.timeOrigin;
  let out = [JSON.stringify({ e: 'thread', pid: process.pid, threadId: wt.threadId, tid, label })];
  const flush = () => {
    if (out.length === 0) return;
    try {
      fs.appendFileSync(file, out.join('\n') + '\n');
    } catch {
      /* the directory went away */
    }
    out = [];
  };
  const obs = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      out.push(
        JSON.stringify({
          t: origin + entry.startTime,
          e: 'gc',
          ms: entry.duration,
          kind: entry.detail?.kind ?? entry.kind,
        }),
      );
    }
  });
  obs.observe({ entryTypes: ['gc'] });
  let last = performance.now();
  const tick = setInterval(() => {
    const now = performance.now();
    const late = now - last - TICK_MS;
    last = now;
    if (late > LAG_MS) out.push(JSON.stringify({ t: origin + now, e: 'lag', ms: late }));
  }, TICK_MS);
  tick.unref();
  const writer = setInterval(flush, 1000);
  writer.unref();
  if (wt.isMainThread) {
    // schedstat: ns on a CPU, ns waiting on a run queue (runnable but not running), slices.
    let prev = new Map();
    const sample = setInterval(() => {
      const tasks = {};
      const next = new Map();
      try {
        for (const t of fs.readdirSync('/proc/self/task')) {
          const [run, wait] = fs
            .readFileSync(`/proc/self/task/${t}/schedstat`, 'utf8')
            .split(' ')
            .map(Number);
          next.set(t, [run, wait]);
          const p = prev.get(t);
          if (p === undefined) {
            const name = fs.readFileSync(`/proc/self/task/${t}/comm`, 'utf8').trim();
            out.push(JSON.stringify({ e: 'task', tid: Number(t), name }));
            continue;
          }
          const dRun = (run - p[0]) / 1e6;
          const dWait = (wait - p[1]) / 1e6;
          if (dRun >= 0.5 || dWait >= 0.5) tasks[t] = [+dRun.toFixed(2), +dWait.toFixed(2)];
        }
      } catch {
        return;
      }
      prev = next;
      out.push(JSON.stringify({ t: origin + performance.now(), e: 'cpu', tasks }));
    }, 50);
    sample.unref();
  }
  process.on('exit', flush);
}
