#!/usr/bin/env node
/**
 * Lines up what bench/lib/stallProbe.cjs recorded (per thread: GC pauses, event-loop lag,
 * per-kernel-thread run and run-queue wait) with the generator's late packets
 * (bench/lib/roomLoad.mjs writes generator-late.jsonl when CALLWATCH_STALL_DIR is set).
 *
 *   CALLWATCH_STALL_DIR=/tmp/stalls node -r ./bench/lib/stallProbe.cjs \
 *     bench/mixer.bench.mjs --parts e2e --calls 200 --kinds monitored --no-build
 *   node bench/stallReport.mjs /tmp/stalls
 *
 * Prints, for the measured window: per thread its collections (minor / major, total and
 * longest pause) and loop lags; the late packets grouped into bursts (packets less than
 * 40 ms apart), and for each burst what every thread did in the 300 ms before it and
 * during it (GC pauses, lags, run-queue waits of 20 ms or more in a 50 ms sample).
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

const dir = process.argv[2];
if (!dir) {
  console.error('usage: node bench/stallReport.mjs DIR');
  process.exit(2);
}

const threads = [];
const tasks = new Map(); // tid → name
let late = [];
let window = null;
for (const f of readdirSync(dir)) {
  const lines = readFileSync(path.join(dir, f), 'utf8').split('\n').filter(Boolean);
  const rows = lines.map((l) => JSON.parse(l));
  if (f === 'generator-late.jsonl') {
    for (const r of rows) {
      if (r.e === 'window') window = r;
      else late.push(r);
    }
    continue;
  }
  const head = rows.find((r) => r.e === 'thread');
  if (head === undefined) continue; // not a probe's file
  const events = rows.filter((r) => r.e !== 'thread');
  for (const r of events) if (r.e === 'task') tasks.set(r.tid, r.name);
  threads.push({ ...head, events });
}
if (window === null) {
  console.error(`${dir}: no generator-late.jsonl window (was the generator run with the probe?)`);
  process.exit(1);
}
const inWin = (t) => t >= window.from && t <= window.to;
const rel = (t) => (t - window.from).toFixed(0);
const f1 = (x) => x.toFixed(1);
const nameOf = (th) => `${th.label} [pid ${th.pid} tid ${th.tid}]`;
const byTid = new Map(threads.map((th) => [th.tid, th]));
const taskName = (tid) => byTid.get(Number(tid))?.label ?? tasks.get(Number(tid)) ?? '?';

console.log(`window ${f1((window.to - window.from) / 1000)} s; ${late.length} late packets`);
const roles = {};
for (const l of late) roles[l.role] = (roles[l.role] ?? 0) + 1;
console.log(`late by role: ${JSON.stringify(roles)}`);

console.log('\nper thread, in the window:');
for (const th of threads.sort((a, b) => a.pid - b.pid || a.threadId - b.threadId)) {
  const ev = th.events.filter((e) => inWin(e.t));
  const gc = ev.filter((e) => e.e === 'gc');
  const kinds = {};
  for (const g of gc) {
    const k = g.kind === 1 ? 'minor' : g.kind === 2 ? 'major' : `kind${g.kind}`;
    const s = (kinds[k] ??= { n: 0, ms: 0, max: 0 });
    s.n++;
    s.ms += g.ms;
    if (g.ms > s.max) s.max = g.ms;
  }
  const lags = ev.filter((e) => e.e === 'lag');
  const lagMax = lags.reduce((m, e) => Math.max(m, e.ms), 0);
  const gcs = Object.entries(kinds)
    .map(([k, s]) => `${k} ${s.n} × (total ${f1(s.ms)} ms, max ${f1(s.max)})`)
    .join(', ');
  console.log(
    `  ${nameOf(th)}: GC ${gcs || 'none'}; lags > probe threshold ${lags.length} (max ${f1(lagMax)} ms)`,
  );
}

// Run-queue waits per kernel thread over the window (the main threads sample their process).
console.log('\nper kernel thread, run / run-queue wait in the window (ms):');
for (const th of threads.filter((t) => t.threadId === 0)) {
  const sums = new Map();
  for (const e of th.events) {
    if (e.e !== 'cpu' || !inWin(e.t)) continue;
    for (const [tid, [run, wait]] of Object.entries(e.tasks)) {
      const s = sums.get(tid) ?? { run: 0, wait: 0, maxWait: 0 };
      s.run += run;
      s.wait += wait;
      if (wait > s.maxWait) s.maxWait = wait;
      sums.set(tid, s);
    }
  }
  const rows = [...sums.entries()].sort((a, b) => b[1].run - a[1].run).slice(0, 12);
  console.log(`  process ${th.pid} (${th.label}):`);
  for (const [tid, s] of rows) {
    console.log(
      `    ${tid} ${taskName(tid)}: run ${f1(s.run)}, wait ${f1(s.wait)} (max ${f1(s.maxWait)} per 50 ms)`,
    );
  }
}

// Bursts of late packets.
late = late.filter((l) => inWin(l.t)).sort((a, b) => a.t - b.t);
const bursts = [];
for (const l of late) {
  const b = bursts.at(-1);
  if (b && l.t - b.end < 40) {
    b.end = l.t;
    b.n++;
    b.max = Math.max(b.max, l.ms);
    b.roles[l.role] = (b.roles[l.role] ?? 0) + 1;
  } else bursts.push({ start: l.t, end: l.t, n: 1, max: l.ms, roles: { [l.role]: 1 } });
}
console.log(`\n${bursts.length} bursts of late packets (window-relative ms):`);
for (const b of bursts) {
  console.log(
    `  @${rel(b.start)}..${rel(b.end)}: ${b.n} late, max ${f1(b.max)} ms ${JSON.stringify(b.roles)}`,
  );
  const from = b.start - b.max - 300;
  for (const th of threads) {
    const ev = th.events.filter((e) =>
      (e.e === 'gc' && e.ms >= 2) || e.e === 'lag' ? e.t >= from && e.t <= b.end : false,
    );
    if (ev.length === 0) continue;
    const txt = ev
      .map((e) => `${e.e}${e.e === 'gc' ? e.kind : ''} @${rel(e.t)} ${f1(e.ms)}ms`)
      .join(', ');
    console.log(`     ${th.label}: ${txt}`);
  }
  for (const th of threads.filter((t) => t.threadId === 0)) {
    const waits = [];
    for (const e of th.events) {
      if (e.e !== 'cpu' || e.t < from || e.t > b.end + 50) continue;
      for (const [tid, [run, wait]] of Object.entries(e.tasks)) {
        if (wait >= 20) waits.push(`${taskName(tid)}(${tid}) @${rel(e.t)} run ${run} wait ${wait}`);
      }
    }
    if (waits.length)
      console.log(`     run-queue waits ≥ 20 ms/50 ms in ${th.pid}: ${waits.join('; ')}`);
  }
}
