#!/usr/bin/env node
/**
 * Monitored calls through callwatch's media engine (dist/media): the per-call mixer's
 * clock, CPU and latency (docs/architecture.md §14), driven by bench/lib/roomLoad.mjs (a separate process).
 *
 *   node bench/mixer.bench.mjs [options]
 *
 *   --parts "mixer e2e"     which parts to run (default both)
 *   --rooms "50 100 …"      part 1 (mixer): rooms of 3 in ONE worker, ascending (default
 *                           below); stops after the first count that fails
 *   --mixer-secs S          part 1 measured window (default 12), after a 1 s warm-up
 *   --calls "200 400 …"     part 2 (e2e): concurrent calls, ascending (default below);
 *                           each count runs monitored (3 legs) then unmonitored (2 legs)
 *   --kinds "monitored unmonitored"   part 2's kinds of call (default both), e.g.
 *                           `--parts e2e --calls 400 --kinds monitored` for 400 monitored
 *                           calls alone
 *   --secs S                part 2 measured window (default 8), after a 1 s warm-up
 *   --workers W             part 2 media workers (default 2 = this machine's cores)
 *   --probe P               calls whose sockets the generator reads (loss, lateness,
 *                           latency bursts); the others' sockets are not read (default
 *                           50; reading every packet costs the generator about what the
 *                           engine spends, more than 2 cores hold at 800 calls)
 *   --recording on|off      record the monitored calls and part 1's rooms (default on)
 *   --unmonitored-recording on|off   record the unmonitored calls too (default on, so the
 *                           difference between the two is the supervisor leg and its mix)
 *   --keep-going            do not stop a series at its first failing count
 *   --max-minutes M         start no new run after M minutes (default 10)
 *   --port-min P --port-max Q   engine RTP ports (default 33000-39999, as relay.bench.mjs)
 *   --no-build              do not run `npm run build` first
 *   --results FILE          append a markdown block to FILE (nothing is written otherwise)
 *   --smoke                 10 rooms / 10 calls, 1 worker, 2 s windows, every part and
 *                           kind run once, nothing written (npm run bench:smoke)
 *
 * One run: a fresh MediaEngine (statsIntervalMs 2000 as the server, no RTCP, no RTP timeout); per call the
 * legs (PCMU, group = call, remote = the generator's sockets), a room with customer,
 * agent and (monitored) a supervisor in listen mode, and (as --recording and
 * --unmonitored-recording say) a stereo WAV recording into a temporary directory (removed
 * after the run). The generator sends 50 pps of 172-byte
 * PCMU on every leg for 1 s warm-up + the window; the bench reads engine.getStats() at the
 * window's start and end. The supervisor in listen mode hears customer + agent, so it is
 * fed from the mix (one mixed frame per room per tick); customer and agent hear each
 * other by relay; the recording is written from the packets as they arrive (each leg's
 * payloads placed by RTP timestamp, docs/architecture.md §7.2), not from the clock.
 *
 * Part 1 (mixer alone, 1 worker): per room count, the worker thread's CPU (schedstat) /
 * ticks; framesMixed / ticks; tick lateness percentiles from the mixer's histogram
 * (bucket bounds 0.5, 1, 2, 5, 10, 20, 50, 100 ms: a percentile is reported as the upper
 * bound of its bucket); ticks skipped; drift = ticks run + skipped − elapsed / 20 ms.
 * PASS = p99 ≤ 2 ms bucket, no tick skipped, |drift| ≤ 1 tick.
 * Part 2 (end to end, W workers): frames received at each probe receiver, lost (holes in
 * the RTP timestamps the engine wrote) and late (> 60 ms above the socket's lowest
 * transit); PASS = lost + late ≤ 0.1 % of expected at every role and the generator held
 * ≥ 97 % of its nominal rate. The relayed legs of the calls that are not probes are
 * counted too, at the end, from the kernel's counters of their unread sockets (delivered
 * against what the other party sent; printed, not part of the verdict). Server CPU = worker threads (schedstat) and the whole
 * process; µs per packet = CPU / (packets in + out); RSS per call. Part 3 (latency) rides
 * on both: customer → agent (relayed) and customer → supervisor (mixed), by burst onset.
 * Every child process is stopped by its PID; every wait is bounded.
 */
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import {
  applySmoke,
  commandLine,
  commonFlags,
  emitResult,
  f1,
  f2,
  f3,
  intList,
  loadavg,
  machine,
  makeTmpDir,
  mediaIoPath,
  nativeIoBatching,
  parseFlags,
  removeTmpDir,
  sleep,
} from './lib/benchRuntime.mjs';
import {
  appendResults,
  createCalls,
  createEngine,
  endGenerator,
  engineSockets,
  forkGenerator,
  loadMediaEngine,
  printSummary,
  runMain,
  startGenerator,
  stopGenerator,
  sumWorkers,
} from './lib/mediaBench.mjs';

const WARMUP_MS = 1000;
const LOSS_LIMIT_PCT = 0.1;
const P99_LIMIT_MS = 2;

/** A parser for an on|off flag (anything else is an error naming the flag). */
const onOff = (flag) => (v) => {
  if (v !== 'on' && v !== 'off') throw new Error(`${flag}: on or off expected, not ${v}`);
  return v === 'on';
};

/** The recording settings of this invocation, as printed and appended. */
const recFact = (o) =>
  `recording: monitored calls and part 1's rooms ${o.rec ? 'on' : 'off'}, unmonitored calls ${o.unmonRec ? 'on' : 'off'} (--recording, --unmonitored-recording)`;

function parseArgs(argv) {
  const o = parseFlags(
    argv,
    {
      parts: 'mixer e2e',
      rooms: '50 100 200 333 500',
      mixerSecs: 12,
      calls: '200 400 600 800',
      kinds: 'monitored unmonitored',
      secs: 8,
      workers: 2,
      probe: 50,
      rec: true,
      unmonRec: true,
      keepGoing: false,
      maxMinutes: 10,
      portMin: 33000,
      portMax: 39999,
      build: true,
      results: null,
    },
    {
      ...commonFlags,
      '--parts': 'parts',
      '--rooms': 'rooms',
      '--mixer-secs': ['mixerSecs', Number],
      '--calls': 'calls',
      '--kinds': 'kinds',
      '--secs': ['secs', Number],
      '--workers': ['workers', Number],
      '--probe': ['probe', Number],
      '--recording': ['rec', onOff('--recording')],
      '--unmonitored-recording': ['unmonRec', onOff('--unmonitored-recording')],
      '--keep-going': { keepGoing: true },
      '--port-min': ['portMin', Number],
      '--port-max': ['portMax', Number],
    },
    import.meta.url,
  );
  applySmoke(argv, o, {
    parts: 'mixer e2e',
    rooms: '10',
    mixerSecs: 2,
    calls: '10',
    secs: 2,
    workers: 1,
    probe: 10,
    keepGoing: true,
    maxMinutes: 2,
  });
  o.partList = o.parts.split(/[\s,]+/).filter(Boolean);
  for (const p of o.partList) if (p !== 'mixer' && p !== 'e2e') throw new Error(`--parts: ${p}?`);
  o.roomList = intList(o.rooms, '--rooms').sort((x, y) => x - y);
  o.callList = intList(o.calls, '--calls').sort((x, y) => x - y);
  const kinds = o.kinds.split(/[\s,]+/).filter(Boolean);
  for (const k of kinds)
    if (k !== 'monitored' && k !== 'unmonitored') throw new Error(`--kinds: ${k}?`);
  if (!kinds.length) throw new Error('--kinds: monitored, unmonitored or both');
  o.kindList = [true, false].filter((m) => kinds.includes(m ? 'monitored' : 'unmonitored'));
  for (const [k, v] of Object.entries({
    mixerSecs: o.mixerSecs,
    secs: o.secs,
    workers: o.workers,
    probe: o.probe,
    maxMinutes: o.maxMinutes,
  }))
    if (!(v > 0)) throw new Error(`--${k} must be > 0`);
  const pairs = Math.floor((o.portMax - o.portMin + 1) / 2);
  const need = 3 * Math.max(...o.roomList, ...o.callList);
  if (need > pairs) throw new Error(`port range holds ${pairs} legs, ${need} needed`);
  return o;
}

// ---------------------------------------------------------------- machine

/** Busy CPU of the whole machine (all cores, in % of one core) between two reads. */
function cpuTimes() {
  const f = readFileSync('/proc/stat', 'utf8')
    .split('\n')[0]
    .trim()
    .split(/\s+/)
    .slice(1)
    .map(Number);
  const idle = f[3] + f[4];
  const total = f.reduce((a, b) => a + b, 0);
  return { idle, total, steal: f[7] ?? 0 };
}
/** Time the hypervisor gave to other guests (steal), in % of all cores' time. */
function stealPct(a, b) {
  const total = b.total - a.total;
  return total > 0 ? (100 * (b.steal - a.steal)) / total : NaN;
}
function machineBusyPct(a, b) {
  const total = b.total - a.total;
  return total > 0 ? (100 * os.availableParallelism() * (total - (b.idle - a.idle))) / total : NaN;
}

// ---------------------------------------------------------------- reference clock

/**
 * The machine's own timer lateness: a thread of this process with nothing else to do runs
 * the mixer's schedule (drift-free 20 ms, setTimeout rounded up to whole ms, lateness in
 * the mixer's buckets). What it sees is the floor the mixer's clock cannot beat on this
 * machine at this moment (other tenants, our generator, the kernel's wake-up latency).
 */
const REF_CLOCK = `
const { parentPort } = require('node:worker_threads');
const { performance } = require('node:perf_hooks');
const le = [0.5, 1, 2, 5, 10, 20, 50, 100];
const counts = new Array(le.length + 1).fill(0);
let sum = 0, n = 0, running = true, idx = 1;
const start = performance.now();
function tick() {
  if (!running) return;
  const now = performance.now();
  while (start + idx * 20 <= now) {
    const late = now - (start + idx * 20);
    let b = 0; while (b < le.length && late > le[b]) b++;
    counts[b]++; sum += late; n++; idx++;
  }
  const d = start + idx * 20 - performance.now();
  setTimeout(tick, d > 0 ? Math.ceil(d) : 0);
}
setTimeout(tick, 20);
parentPort.on('message', (m) => {
  if (m === 'snap') parentPort.postMessage({ le, counts: [...counts], sum, n });
  else { running = false; parentPort.close(); }
});`;

function startRefClock() {
  const w = new Worker(REF_CLOCK, { eval: true });
  const snap = () =>
    new Promise((resolve) => {
      w.once('message', resolve);
      w.postMessage('snap');
    });
  return { snap, stop: () => w.terminate() };
}

// ---------------------------------------------------------------- engine helpers

function sumStats(reports) {
  const { cpuMs, inn, out, drops, perWorker } = sumWorkers(reports);
  let ticks = 0;
  let skipped = 0;
  let framesMixed = 0;
  let recBytes = 0;
  let recActive = 0;
  let concealed = 0;
  let late = 0;
  let le = null;
  let counts = null;
  let latSum = 0;
  let latCount = 0;
  reports.forEach((r, i) => {
    const m = r.mixer;
    ticks += m.ticks;
    skipped += m.ticksSkipped;
    framesMixed += m.framesMixed;
    recBytes += m.recordingBytes;
    recActive += m.recordingsActive;
    concealed += m.framesConcealed;
    late += m.packetsLate;
    le = m.lateness.le;
    counts = counts ? counts.map((c, b) => c + m.lateness.counts[b]) : [...m.lateness.counts];
    latSum += m.lateness.sum;
    latCount += m.lateness.count;
    Object.assign(perWorker[i], { ticks: m.ticks, clockedRooms: m.clockedRooms, rooms: m.rooms });
  });
  return {
    cpuMs,
    inn,
    out,
    drops,
    ticks,
    skipped,
    framesMixed,
    recBytes,
    recActive,
    concealed,
    late,
    le,
    counts,
    latSum,
    latCount,
    perWorker,
  };
}

/** Percentile of a bucketed histogram: the upper bound of the bucket holding it (Infinity: +Inf bucket). */
function bucketPct(le, counts, q) {
  const n = counts.reduce((a, b) => a + b, 0);
  if (n === 0) return null;
  const want = Math.ceil(q * n);
  let acc = 0;
  for (let b = 0; b < counts.length; b++) {
    acc += counts[b];
    if (acc >= want) return b < le.length ? le[b] : Infinity;
  }
  return Infinity;
}
function bucketMax(le, counts) {
  for (let b = counts.length - 1; b >= 0; b--)
    if (counts[b] > 0) return b < le.length ? le[b] : Infinity;
  return null;
}

/**
 * One run: `calls` calls of 3 legs (monitored) or 2, each in a room, recorded if `record`.
 */
async function runOnce(MediaEngine, o, { calls, monitored, record, workers, secs, probe }) {
  const legs = monitored ? 3 : 2;
  let gen = null;
  let engine = null;
  const dir = record ? makeTmpDir('callwatch-mixbench-') : null;
  const loadStart = loadavg();
  const ref = startRefClock();
  try {
    let ports;
    ({ gen, ports } = await forkGenerator('bench/lib/roomLoad.mjs', {
      calls,
      legs,
      probe,
      control: 2,
      burstEvery: 50,
      maxSecs: secs + 10,
    }));
    engine = await createEngine(MediaEngine, o, workers);
    await sleep(200);
    const rss0 = process.memoryUsage().rss;
    const rooms = [];
    const roles = ['customer', 'agent', 'supervisor'];
    // Roles and modes become routes as the product computes them (built with the engine).
    const { roomRoutes } = await import('../dist/src/monitoring/routeMatrix.js');
    const { targets, legPorts } = await createCalls(
      engine,
      calls,
      legs,
      ports,
      async (group, ls) => {
        const room = await engine.createRoom({ group });
        await room.setRoutes(
          roomRoutes(
            ls.map((leg, r) => ({
              id: leg,
              role: roles[r],
              ...(r === 2 ? { mode: 'listen' } : {}),
            })),
          ),
        );
        if (dir) await room.startRecording({ path: path.join(dir, `${group}.wav`), channels: 2 });
        rooms.push(room);
      },
    );
    const rssSetup = process.memoryUsage().rss;
    const sock0 = engineSockets(legPorts);
    await startGenerator(gen, targets, WARMUP_MS);
    const ref0 = await ref.snap();
    const tA0 = performance.now(); // the worker builds its mixer stats first, on arrival
    const s0 = sumStats(await engine.getStats({ legs: false }));
    const c0 = process.cpuUsage();
    const m0 = cpuTimes();
    const t0 = performance.now();
    await sleep(secs * 1000);
    const tA1 = performance.now();
    const reports = await engine.getStats({ legs: false });
    const s1 = sumStats(reports);
    const ref1 = await ref.snap();
    const wallMs = performance.now() - t0;
    const cpu = process.cpuUsage(c0);
    const m1 = cpuTimes();
    const rssEnd = process.memoryUsage().rss;
    const g = await stopGenerator(gen);
    const sock1 = engineSockets(legPorts);
    const counts = s1.counts.map((c, i) => c - s0.counts[i]);
    const ticks = s1.ticks - s0.ticks;
    const skipped = s1.skipped - s0.skipped;
    const workerCpuMs = s1.cpuMs - s0.cpuMs;
    const procCpuMs = (cpu.user + cpu.system) / 1000;
    const pkts = s1.inn - s0.inn + (s1.out - s0.out);
    const ticksPerWorker = ticks / workers; // every worker with rooms runs its own clock
    const r = {
      calls,
      monitored,
      record,
      workers,
      io: mediaIoPath(reports),
      legs,
      wallMs,
      loadStart,
      loadEnd: loadavg(),
      machineBusyPct: machineBusyPct(m0, m1),
      stealPct: stealPct(m0, m1),
      g,
      ticks,
      skipped,
      drift: ticksPerWorker + skipped / workers - (tA1 - tA0) / 20,
      cpuPerTickMs: ticks > 0 ? workerCpuMs / ticksPerWorker / workers : NaN, // per worker per tick (1 worker: exact)
      workerCpuPct: (100 * workerCpuMs) / wallMs,
      workerPct: s1.perWorker.map((w, i) => (100 * (w.cpuMs - s0.perWorker[i].cpuMs)) / wallMs),
      legsPerWorker: s1.perWorker.map((w) => w.legs),
      clockInfo: `ticks since start ${s0.ticks}→${s1.ticks}, clocked rooms ${s1.perWorker.map((w) => `${w.clockedRooms}/${w.rooms}`).join('+')}`,
      procCpuPct: (100 * procCpuMs) / wallMs,
      framesMixedPerTick: (s1.framesMixed - s0.framesMixed) / ticksPerWorker,
      pktsInPps: ((s1.inn - s0.inn) * 1000) / wallMs,
      pktsOutPps: ((s1.out - s0.out) * 1000) / wallMs,
      nominalOutPps: calls * (monitored ? 150 : 100),
      usPerPkt: (workerCpuMs * 1000) / pkts,
      procUsPerPkt: (procCpuMs * 1000) / pkts,
      usPerCallSec: (workerCpuMs * 1000) / calls / (wallMs / 1000),
      lat: {
        p50: bucketPct(s1.le, counts, 0.5),
        p99: bucketPct(s1.le, counts, 0.99),
        max: bucketMax(s1.le, counts),
        mean: (s1.latSum - s0.latSum) / Math.max(1, s1.latCount - s0.latCount),
        le2Pct:
          (100 * counts.slice(0, 3).reduce((a, b) => a + b, 0)) /
          Math.max(
            1,
            counts.reduce((a, b) => a + b, 0),
          ),
      },
      recBytesPerSec: ((s1.recBytes - s0.recBytes) * 1000) / wallMs,
      recActive: s1.recActive,
      concealed: s1.concealed - s0.concealed,
      jitterLate: s1.late - s0.late,
      engineDrops: s1.drops - s0.drops,
      engineSocketDrops: sock0 && sock1 ? sock1.drops - sock0.drops : null,
      rssPerCallKb: (rssEnd - rss0) / calls / 1024,
      rssSetupPerCallKb: (rssSetup - rss0) / calls / 1024,
      rssMb: rssEnd / 2 ** 20,
    };
    const refCounts = ref1.counts.map((c, i) => c - ref0.counts[i]);
    r.ref = {
      p50: bucketPct(ref1.le, refCounts, 0.5),
      p99: bucketPct(ref1.le, refCounts, 0.99),
      max: bucketMax(ref1.le, refCounts),
      mean: (ref1.sum - ref0.sum) / Math.max(1, ref1.n - ref0.n),
    };
    // The strict target can only be judged where the machine itself keeps timers on time;
    // the floor verdict asks that the mixer add nothing over an idle thread's timer.
    r.floorPass =
      r.lat.p99 !== null &&
      r.lat.p99 <= Math.max(P99_LIMIT_MS, r.ref.p99 ?? 0) &&
      skipped === 0 &&
      Math.abs(r.drift) <= 1;
    r.offeredPct = (100 * g.sendPps) / g.nominalPps;
    r.roles = g.byRole.map((b) => ({
      ...b,
      badPct: (100 * (b.lost + b.late)) / Math.max(1, b.expected),
    }));
    r.e2ePass =
      r.roles.every((b) => b.badPct <= LOSS_LIMIT_PCT && b.expected > 0) && r.offeredPct >= 97;
    r.mixerPass =
      r.lat.p99 !== null && r.lat.p99 <= P99_LIMIT_MS && skipped === 0 && Math.abs(r.drift) <= 1;
    return r;
  } finally {
    await ref.stop();
    if (engine) await Promise.race([engine.close(), sleep(15000)]);
    if (gen) await endGenerator(gen);
    if (dir) removeTmpDir(dir);
  }
}

// ---------------------------------------------------------------- formatting

const bk = (x) => (x === null ? '?' : x === Infinity ? '>100' : `≤${x}`);
const msU = (us) =>
  us === null || us === undefined ? '?' : us >= 500000 ? '>500' : (us / 1000).toFixed(1);
const latStr = (l) => (l ? `${msU(l.p50)} / ${msU(l.p99)} / ${msU(l.max)} (n ${l.n})` : '–');
const roleStr = (r) =>
  r.roles
    .map(
      (b) =>
        `${b.role} ${b.received}/${b.expected} lost ${b.lost} late ${b.late} (of ${b.timed} timed)`,
    )
    .join('; ');

function fmtMixer(r) {
  return (
    `${r.mixerPass ? 'PASS' : 'FAIL'} (vs idle floor ${r.floorPass ? 'PASS' : 'FAIL'}) | rooms ${r.calls} (${3 * r.calls} participants) | ` +
    `worker CPU ${f1(r.workerCpuPct)}% = ${f3(r.cpuPerTickMs)} ms/tick | mixed frames/tick ${f1(r.framesMixedPerTick)} | ` +
    `lateness p50 ${bk(r.lat.p50)} p99 ${bk(r.lat.p99)} max ${bk(r.lat.max)} ms (mean ${f2(r.lat.mean)}; ≤2 ms ${f2(r.lat.le2Pct)}%) | ` +
    `idle reference clock p50 ${bk(r.ref.p50)} p99 ${bk(r.ref.p99)} max ${bk(r.ref.max)} (mean ${f2(r.ref.mean)}) | ticks ${r.ticks} skipped ${r.skipped} (${r.clockInfo}) drift ${f2(r.drift)} ticks | in ${Math.round(r.pktsInPps)} out ${Math.round(r.pktsOutPps)} pps (nominal out ${r.nominalOutPps}) = ${f1(r.usPerPkt)} µs/pkt | ` +
    `rec ${r.recActive} active, ${Math.round(r.recBytesPerSec / 1024)} KB/s | sock drops ${r.engineSocketDrops ?? '?'} | ` +
    `gen CPU ${f1(r.g.cpuPct)}% sent ${f1(r.offeredPct)}% | latency relayed ${latStr(r.g.latencyUs.agent)} mixed ${latStr(r.g.latencyUs.supervisor)} ms | ` +
    `machine busy ${f1(r.machineBusyPct)}% of 1 core, steal ${f1(r.stealPct)}% | load ${r.loadStart} → ${r.loadEnd}`
  );
}

function fmtE2e(r) {
  return (
    `${r.e2ePass ? 'PASS' : 'FAIL'} | ${r.monitored ? 'monitored' : 'unmonitored'} ${r.calls} calls | ${roleStr(r)} | ` +
    (r.g.unreadRelayed?.sockets
      ? `relayed legs of the unread calls: ${r.g.unreadRelayed.delivered}/${r.g.unreadRelayed.expected} delivered (${f3(r.g.unreadRelayed.lossPct)} % lost, kernel counters) | `
      : '') +
    `worker CPU ${f1(r.workerCpuPct)}% (${r.workerPct.map(f1).join('+')}; legs ${r.legsPerWorker.join('+')}) process ${f1(r.procCpuPct)}% | ` +
    `in ${Math.round(r.pktsInPps)} out ${Math.round(r.pktsOutPps)} pps (nominal out ${r.nominalOutPps}) = ${f1(r.usPerPkt)} µs/pkt (process ${f1(r.procUsPerPkt)}) | ` +
    `${Math.round(r.usPerCallSec)} µs CPU per call-second | RSS/call ${f1(r.rssPerCallKb)} KB (RSS ${Math.round(r.rssMb)} MB) | ` +
    `tick p99 ${bk(r.lat.p99)} (idle reference ${bk(r.ref.p99)}) skipped ${r.skipped} | sock drops ${r.engineSocketDrops ?? '?'} | ` +
    `latency relayed ${latStr(r.g.latencyUs.agent)} mixed ${latStr(r.g.latencyUs.supervisor)} direct p99 ${msU(r.g.controlLatencyUs.p99)} ms max ${msU(r.g.controlLatencyUs.max)} ms, late ${r.g.controlLate ?? '?'} of ${r.g.controlTimed ?? '?'} | ` +
    `gen CPU ${f1(r.g.cpuPct)}% = ${f2((1000 * r.g.cpuMs) / Math.max(1, r.g.sent))} µs per datagram sent, sent ${f1(r.offeredPct)}% lag p99 ${f1(r.g.sendLagP99Ms)} ms, ${r.g.sendPath} | machine busy ${f1(r.machineBusyPct)}%, steal ${f1(r.stealPct)}% | load ${r.loadStart} → ${r.loadEnd}`
  );
}

// ---------------------------------------------------------------- main

/** What a run of this bench must show to count as a result (bench/smoke.mjs). */
function problems(o, mixerRows, e2eRows) {
  const out = [];
  for (const r of [...mixerRows, ...e2eRows])
    if (r.error)
      out.push(`${r.monitored === false ? 'unmonitored' : 'monitored'} ${r.calls}: ${r.error}`);
  const ran = (rows) => rows.filter((r) => !r.error);
  if (o.partList.includes('mixer') && !ran(mixerRows).some((r) => r.framesMixedPerTick > 0))
    out.push('part 1: no frame was mixed');
  if (o.partList.includes('e2e'))
    for (const monitored of o.kindList)
      if (!ran(e2eRows).some((r) => r.monitored === monitored && r.pktsOutPps > 0))
        out.push(`part 2: no packet relayed in a${monitored ? ' monitored' : 'n unmonitored'} run`);
  for (const r of ran([...mixerRows, ...e2eRows]))
    if (r.record !== r.recBytesPerSec > 0) {
      out.push(
        `${r.monitored ? 'monitored' : 'unmonitored'} ${r.calls}: recording ${r.record ? 'on but nothing' : 'off but audio'} written`,
      );
      break;
    }
  return out;
}

async function main() {
  const o = parseArgs(process.argv.slice(2));
  const MediaEngine = await loadMediaEngine(o);
  const mach = machine();
  const command = commandLine('mixer.bench.mjs');
  const loadAtStart = mach.load;
  console.log(
    `machine: ${mach.nproc} CPU (${mach.cpu}), kernel ${mach.kernel}, ${mach.memGb} GB; node ${mach.node}; load average ${loadAtStart}`,
  );
  console.log(recFact(o));
  console.log(`media I/O: ${mediaIoPath()}`);
  const batching = await nativeIoBatching();
  if (batching !== null) console.log(`native io batching: ${batching}`);
  if (o.smoke) console.log('smoke: 10 rooms / 10 calls, 1 worker, 2 s windows, no results written');
  const tStart = Date.now();
  const timeUp = () => Date.now() - tStart > o.maxMinutes * 60000;
  const mixerRows = [];
  const e2eRows = [];
  let mixerBest = null;
  let mixerFloorBest = null;
  let mixerWhy = '';
  if (o.partList.includes('mixer')) {
    for (const n of o.roomList) {
      if (timeUp()) {
        mixerWhy = `time limit of ${o.maxMinutes} min reached`;
        break;
      }
      let r;
      try {
        r = await runOnce(MediaEngine, o, {
          calls: n,
          monitored: true,
          record: o.rec,
          workers: 1,
          secs: o.mixerSecs,
          probe: Math.min(o.probe, 20),
        });
      } catch (error) {
        console.log(`mixer rooms=${n} | ERROR ${error.message}`);
        r = { calls: n, error: error.message, mixerPass: false };
      }
      mixerRows.push(r);
      if (!r.error) console.log(`mixer | ${fmtMixer(r)}`);
      if (r.mixerPass) mixerBest = n;
      if (r.floorPass) mixerFloorBest = n;
      else if (!o.keepGoing) {
        mixerWhy = `failed at ${n} rooms`;
        break;
      }
      await sleep(500);
    }
    if (!mixerWhy)
      mixerWhy = o.keepGoing
        ? 'every count run (--keep-going)'
        : 'every count tried passed: the limit is higher';
  }
  const e2eBest = { true: null, false: null };
  if (o.partList.includes('e2e')) {
    const stillGoing = { true: true, false: true };
    for (const n of o.callList) {
      for (const monitored of o.kindList) {
        if (!stillGoing[monitored] || timeUp()) continue;
        let r;
        try {
          r = await runOnce(MediaEngine, o, {
            calls: n,
            monitored,
            record: monitored ? o.rec : o.unmonRec,
            workers: o.workers,
            secs: o.secs,
            probe: o.probe,
          });
        } catch (error) {
          console.log(`e2e calls=${n} monitored=${monitored} | ERROR ${error.message}`);
          r = { calls: n, monitored, error: error.message, e2ePass: false };
        }
        e2eRows.push(r);
        if (!r.error) console.log(`e2e | ${fmtE2e(r)}`);
        if (r.e2ePass) e2eBest[monitored] = n;
        else if (!o.keepGoing) stillGoing[monitored] = false;
        await sleep(500);
      }
    }
  }

  // ------------------------------------------------------------ summary
  const summary = [];
  if (mixerRows.length) {
    const at = mixerRows.find((r) => r.calls === (mixerBest ?? mixerFloorBest) && !r.error);
    const top = mixerRows.filter((r) => !r.error && r.floorPass).at(-1);
    summary.push(
      `mixer (1 worker): largest room count with tick p99 ≤ ${P99_LIMIT_MS} ms, no skipped tick, no drift: ${mixerBest ?? 'none'} rooms = ${mixerBest ? 3 * mixerBest : 0} participants (${mixerWhy})` +
        (at
          ? `; there the worker thread used ${f1(at.workerCpuPct)} % of a core, ${f3(at.cpuPerTickMs)} ms per tick (${f1((1000 * at.cpuPerTickMs) / at.calls)} µs per room per tick, packets included) → ≈ ${Math.round((3 * at.calls * 100) / at.workerCpuPct)} participants per fully used core at this cost; target ≥ 1000 participants per core`
          : ''),
    );
    summary.push(
      `mixer vs the machine's floor (tick p99 no worse than an idle thread's timer on the same machine, no skipped tick, no drift): ${mixerFloorBest ?? 'none'} rooms = ${mixerFloorBest ? 3 * mixerFloorBest : 0} participants` +
        (top
          ? `; at ${top.calls} rooms the worker used ${f1(top.workerCpuPct)} % of a core, ${f3(top.cpuPerTickMs)} ms per tick, ≈ ${Math.round((3 * top.calls * 100) / top.workerCpuPct)} participants per fully used core`
          : ''),
    );
  }
  const ok = (r) => !r.error;
  for (const n of o.callList) {
    const m = e2eRows.find((r) => ok(r) && r.calls === n && r.monitored);
    const u = e2eRows.find((r) => ok(r) && r.calls === n && !r.monitored);
    if (!m || !u) continue;
    summary.push(
      `${n} calls: monitored ${f1(m.workerCpuPct)} % worker CPU (${Math.round(m.usPerCallSec)} µs/call-s, ${f1(m.usPerPkt)} µs/pkt over ${Math.round(m.pktsInPps + m.pktsOutPps)} pps) vs unmonitored ${f1(u.workerCpuPct)} % (${Math.round(u.usPerCallSec)} µs/call-s, ${f1(u.usPerPkt)} µs/pkt over ${Math.round(u.pktsInPps + u.pktsOutPps)} pps): CPU ratio ${f2(m.workerCpuPct / u.workerCpuPct)} for a packet ratio of ${f2((m.pktsInPps + m.pktsOutPps) / (u.pktsInPps + u.pktsOutPps))}; per-packet ratio ${f2(m.usPerPkt / u.usPerPkt)}`,
    );
  }
  if (e2eRows.length) {
    summary.push(
      `end to end (${o.workers} workers): largest count with ≤ ${LOSS_LIMIT_PCT} % lost+late at every receiver: monitored ${e2eBest.true ?? 'none'}, unmonitored ${e2eBest.false ?? 'none'}; target 800 monitored`,
    );
    const lat = e2eRows.filter((r) => ok(r) && r.monitored);
    for (const r of lat)
      summary.push(
        `latency at ${r.calls} monitored calls: customer→agent (relayed) p50/p99 ${msU(r.g.latencyUs.agent.p50)} / ${msU(r.g.latencyUs.agent.p99)} ms, customer→supervisor (mixed) ${msU(r.g.latencyUs.supervisor.p50)} / ${msU(r.g.latencyUs.supervisor.p99)} ms (target p99 < 50 ms)`,
      );
  }
  printSummary(summary);

  const ran = [...mixerRows, ...e2eRows].filter(ok);
  const ios = [...new Set(ran.map((r) => r.io))];
  const mediaIo = ios.length ? ios.join('; ') : mediaIoPath();
  emitResult({
    bench: 'mixer',
    produced: problems(o, mixerRows, e2eRows).length === 0,
    problems: problems(o, mixerRows, e2eRows),
    runs: mixerRows.length + e2eRows.length,
    mixerPass: mixerRows.filter((r) => r.mixerPass).length,
    e2ePass: e2eRows.filter((r) => r.e2ePass).length,
    recording: { monitored: o.rec ? 'on' : 'off', unmonitored: o.unmonRec ? 'on' : 'off' },
    mediaIo,
  });

  if (o.results) {
    const md = [];
    md.push(
      `\n## Monitored calls: mixer clock, end to end, mixed-path latency (own RTP generator) — ${new Date().toISOString()}\n`,
    );
    md.push(
      `- machine: ${mach.nproc} CPU (${mach.cpu}), kernel ${mach.kernel}, ${mach.memGb} GB RAM; node ${mach.node}; load average at start ${loadAtStart}, at end ${loadavg()} (per run below)`,
    );
    md.push(`- command: \`${command}\``);
    md.push(`- ${recFact(o)}`);
    md.push(`- media I/O: ${mediaIo}`);
    if (batching !== null)
      md.push(`- native io batching (probe in the bench process): ${batching}`);
    md.push(
      `- setup: per call PCMU legs customer, agent and (monitored) supervisor in listen mode, one room per call (group = call), recorded calls as stereo WAV into a tmp dir removed after each run; bench/lib/roomLoad.mjs (separate process) sends 172-byte packets at 50 pps on every leg (each 1 ms slot's frames in one batch through the native addon, bench/lib/batchSend.mjs; CALLWATCH_BENCH_BATCH_SEND=0 sends each with dgram), μ-law silence except a full-scale burst from the customer of each probe call every 50 frames; ${WARMUP_MS / 1000} s warm-up, then the window. Tick lateness from the worker's histogram (buckets ≤0.5, 1, 2, 5, 10, 20, 50, 100 ms: a percentile is the upper bound of its bucket). Drift = ticks run + skipped − window/20 ms. Lost = holes in the engine's RTP timestamps at each probe receiver, late = transit > 60 ms above the socket's lowest; latency = burst onset arrival − burst send (same process clock; includes the generator's own scheduling, "direct" = generator socket pairs bypassing the engine). "machine busy" = /proc/stat busy time of all cores, in % of one core (ours + everyone else's); "steal" = time the hypervisor ran other guests instead of this VM, in % of all cores' time.`,
    );
    if (mixerRows.length) {
      md.push('');
      md.push(
        `Part 1, the mixer in ONE worker (rooms of 3, recording ${o.rec ? 'on' : 'off'}, every leg fed):`,
      );
      md.push('');
      md.push(
        '| rooms | participants | verdict strict / vs idle floor | worker CPU % | CPU ms/tick | mixed frames/tick | tick lateness p50 / p99 / max (ms) | mean (ms) | idle reference clock p50 / p99 / max, mean (ms) | ticks / skipped / drift | pkts in / out per s | µs/pkt | rec KB/s | gen CPU % | machine busy % / steal % | load start → end |',
      );
      md.push('|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|');
      for (const r of mixerRows) {
        if (r.error) {
          md.push(`| ${r.calls} | ${3 * r.calls} | ERROR ${r.error} | | | | | | | | | | | | | |`);
          continue;
        }
        md.push(
          `| ${r.calls} | ${3 * r.calls} | ${r.mixerPass ? 'PASS' : 'FAIL'} / ${r.floorPass ? 'PASS' : 'FAIL'} | ${f1(r.workerCpuPct)} | ${f3(r.cpuPerTickMs)} | ${f1(r.framesMixedPerTick)} | ${bk(r.lat.p50)} / ${bk(r.lat.p99)} / ${bk(r.lat.max)} | ${f2(r.lat.mean)} | ${bk(r.ref.p50)} / ${bk(r.ref.p99)} / ${bk(r.ref.max)}, ${f2(r.ref.mean)} | ${r.ticks} / ${r.skipped} / ${f2(r.drift)} | ${Math.round(r.pktsInPps)} / ${Math.round(r.pktsOutPps)} | ${f1(r.usPerPkt)} | ${Math.round(r.recBytesPerSec / 1024)} | ${f1(r.g.cpuPct)} | ${f1(r.machineBusyPct)} / ${f1(r.stealPct)} | ${r.loadStart} → ${r.loadEnd} |`,
        );
      }
    }
    if (e2eRows.length) {
      md.push('');
      md.push(
        `Part 2 and 3, end to end (${o.workers} workers, ${o.probe} probe calls read; monitored calls recording ${o.rec ? 'on' : 'off'}; unmonitored = customer + agent in a room, recording ${o.unmonRec ? 'on' : 'off'}):`,
      );
      md.push('');
      md.push(
        '| calls | kind | verdict | lost+late % customer / agent / supervisor | worker CPU % | process CPU % | pkts in+out per s | µs/pkt (worker) | µs per call-s | RSS/call KB | tick p99 (idle ref.) / skipped | latency relayed p50 / p99 (ms) | latency mixed p50 / p99 (ms) | direct p99 (late > 60 ms) | gen CPU % (µs per datagram sent) | machine busy % / steal % | load start → end |',
      );
      md.push('|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|');
      for (const r of e2eRows) {
        if (r.error) {
          md.push(
            `| ${r.calls} | ${r.monitored ? 'monitored' : 'unmonitored'} | ERROR ${r.error} | | | | | | | | | | | | | | |`,
          );
          continue;
        }
        const la = r.g.latencyUs.agent;
        const ls = r.g.latencyUs.supervisor;
        md.push(
          `| ${r.calls} | ${r.monitored ? 'monitored' : 'unmonitored'} | ${r.e2ePass ? 'PASS' : 'FAIL'} | ${r.roles.map((b) => f3(b.badPct)).join(' / ')} | ${f1(r.workerCpuPct)} | ${f1(r.procCpuPct)} | ${Math.round(r.pktsInPps + r.pktsOutPps)} | ${f1(r.usPerPkt)} | ${Math.round(r.usPerCallSec)} | ${f1(r.rssPerCallKb)} | ${bk(r.lat.p99)} (${bk(r.ref.p99)}) / ${r.skipped} | ${msU(la.p50)} / ${msU(la.p99)} | ${ls ? `${msU(ls.p50)} / ${msU(ls.p99)}` : '–'} | ${msU(r.g.controlLatencyUs.p99)} (late ${r.g.controlLate ?? '?'}) | ${f1(r.g.cpuPct)} (${f2((1000 * r.g.cpuMs) / Math.max(1, r.g.sent))}) | ${f1(r.machineBusyPct)} / ${f1(r.stealPct)} | ${r.loadStart} → ${r.loadEnd} |`,
        );
      }
    }
    appendResults(o.results, md, summary);
  }
}

runMain(main); // temporary directories left are removed on exit (benchRuntime.mjs)
