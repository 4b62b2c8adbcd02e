#!/usr/bin/env node
/**
 * What recording costs the media engine: worker CPU per call of N unmonitored relayed
 * calls, recorded vs not recorded, side by side in one run (target: recorded ≤ 1.15× the
 * unrecorded CPU). Driven on callwatch's built engine (dist/media) with the RTP generator
 * of the mixer bench (bench/lib/roomLoad.mjs, 2 legs per call, a separate process).
 *
 *   node bench/recording.bench.mjs [options]
 *
 *   --calls "200 400"       concurrent calls, ascending (default below); each count runs
 *                           unrecorded and recorded, --repeat times each, interleaved
 *                           (off on on off …) so a slow drift of the machine hits both
 *   --repeat N              runs per count and setting (default 2); the ratio is of medians
 *   --secs S                measured window (default 8), after a 1 s warm-up
 *   --workers W             media workers (default 1: the worker's CPU is then exactly the
 *                           calls'; 2 spreads them as the server would)
 *   --probe P               calls whose sockets the generator reads (default 20)
 *   --max-minutes M         start no new run after M minutes (default 10)
 *   --port-min P --port-max Q   engine RTP ports (default 33000-39999, as the mixer bench)
 *   --no-build              do not run `npm run build` first
 *   --results FILE          append a markdown block to FILE (nothing is written otherwise)
 *   --smoke                 10 calls, 1 worker, 2 s windows, one run per setting, nothing
 *                           written (npm run bench:smoke)
 *
 * One run: a fresh MediaEngine (statsIntervalMs 2000 as the server, no RTCP, no RTP timeout); per call two
 * PCMU legs (group = call, remote = the generator's sockets) in a room of their own with
 * customer and agent (what the server sets up for every answered call: they hear each
 * other, relayed), and when recorded a stereo WAV recording into a temporary directory
 * (removed after the run; its size is checked first: a recorded run must have written
 * about 32 KB per call-second, an unrecorded one nothing). The generator sends 50 pps of
 * 172-byte PCMU on every leg; the bench reads engine.getStats() at the window's start and
 * end: worker CPU (schedstat of the worker threads), packets in/out, drops; and the
 * recording writer thread's CPU (engine.getRecordingWriterStats: recording's file I/O runs
 * there), which is counted in the CPU per call. PASS for a run
 * = lost + late ≤ 0.1 % at every probe receiver and the generator held ≥ 97 % of its
 * rate. Every child process is stopped by its PID; every wait is bounded.
 */
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import {
  applySmoke,
  commandLine,
  commonFlags,
  emitResult,
  f1,
  f2,
  intList,
  loadavg,
  machine,
  makeTmpDir,
  mediaIoPath,
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
  writerCpuMs,
} from './lib/mediaBench.mjs';

const WARMUP_MS = 1000;
const LOSS_LIMIT_PCT = 0.1;
const TARGET_RATIO = 1.15;
/** Stereo 16-bit at 8 kHz: what a recorded G.711 call writes per second. */
const WAV_BYTES_PER_SEC = 8000 * 2 * 2;

function parseArgs(argv) {
  const o = parseFlags(
    argv,
    {
      calls: '200 400',
      repeat: 2,
      secs: 8,
      workers: 1,
      probe: 20,
      maxMinutes: 10,
      portMin: 33000,
      portMax: 39999,
      build: true,
      results: null,
    },
    {
      ...commonFlags,
      '--calls': 'calls',
      '--repeat': ['repeat', Number],
      '--secs': ['secs', Number],
      '--workers': ['workers', Number],
      '--probe': ['probe', Number],
      '--port-min': ['portMin', Number],
      '--port-max': ['portMax', Number],
    },
    import.meta.url,
  );
  applySmoke(argv, o, { calls: '10', repeat: 1, secs: 2, workers: 1, probe: 10, maxMinutes: 2 });
  o.callList = intList(o.calls, '--calls').sort((x, y) => x - y);
  for (const k of ['repeat', 'secs', 'workers', 'probe', 'maxMinutes'])
    if (!(o[k] > 0)) throw new Error(`--${k} must be > 0`);
  if (o.callList.length * o.repeat * 2 > 40) throw new Error('at most 40 runs per invocation');
  if (o.secs > 120) throw new Error('--secs: at most 120');
  const pairs = Math.floor((o.portMax - o.portMin + 1) / 2);
  if (2 * Math.max(...o.callList) > pairs)
    throw new Error(`port range holds ${pairs} legs, ${2 * Math.max(...o.callList)} needed`);
  return o;
}

/** Bytes of the WAV files under `dir`. */
function wavBytes(dir) {
  let bytes = 0;
  for (const f of readdirSync(dir))
    if (f.endsWith('.wav')) bytes += statSync(path.join(dir, f)).size;
  return bytes;
}

/**
 * One call's media as the server sets it up: customer and agent in a room of their own
 * (they hear each other by relay), recorded into `wav` when given. The only place this
 * bench touches the room API.
 */
async function setupCall(engine, group, legs, wav) {
  const room = await engine.createRoom({ group });
  // Each hears the other; the customer is recorded left, the agent right.
  await room.setRoutes({
    members: [
      { leg: legs[0], hears: [{ leg: legs[1], gain: 1 }] },
      { leg: legs[1], hears: [{ leg: legs[0], gain: 1 }] },
    ],
    recordingTracks: [[legs[0]], [legs[1]]],
  });
  if (wav) await room.startRecording({ path: wav, channels: 2 });
  return room;
}

async function runOnce(MediaEngine, o, calls, record) {
  let gen = null;
  let engine = null;
  const dir = makeTmpDir('callwatch-recbench-');
  const loadStart = loadavg();
  try {
    let ports;
    ({ gen, ports } = await forkGenerator('bench/lib/roomLoad.mjs', {
      calls,
      legs: 2,
      probe: o.probe,
      control: 2,
      burstEvery: 50,
      maxSecs: o.secs + 10,
    }));
    engine = await createEngine(MediaEngine, o, o.workers);
    await sleep(200);
    const { targets, legPorts } = await createCalls(engine, calls, 2, ports, (group, legs) =>
      setupCall(engine, group, legs, record ? path.join(dir, `${group}.wav`) : null),
    );
    const sock0 = engineSockets(legPorts);
    await startGenerator(gen, targets, WARMUP_MS);
    const s0 = sumWorkers(await engine.getStats({ legs: false }));
    const w0 = await writerCpuMs(engine);
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    await sleep(o.secs * 1000);
    const reports = await engine.getStats({ legs: false });
    const s1 = sumWorkers(reports);
    const w1 = await writerCpuMs(engine);
    const wallMs = performance.now() - t0;
    const cpu = process.cpuUsage(c0);
    const g = await stopGenerator(gen);
    const sock1 = engineSockets(legPorts);
    // Honest accounting: the writer thread's CPU is recording's too.
    const writerMs = w1 - w0;
    const workerCpuMs = s1.cpuMs - s0.cpuMs + writerMs;
    const pkts = s1.inn - s0.inn + (s1.out - s0.out);
    const r = {
      calls,
      record,
      io: mediaIoPath(reports),
      wallMs,
      loadStart,
      workerCpuPct: (100 * workerCpuMs) / wallMs,
      procCpuPct: (100 * ((cpu.user + cpu.system) / 1000)) / wallMs,
      usPerCallSec: (workerCpuMs * 1000) / calls / (wallMs / 1000),
      writerUsPerCallSec: (writerMs * 1000) / calls / (wallMs / 1000),
      usPerPkt: (workerCpuMs * 1000) / pkts,
      pktsInPps: ((s1.inn - s0.inn) * 1000) / wallMs,
      pktsOutPps: ((s1.out - s0.out) * 1000) / wallMs,
      engineDrops: s1.drops - s0.drops,
      sockDrops: sock0 && sock1 ? sock1.drops - sock0.drops : null,
      g,
    };
    r.offeredPct = (100 * g.sendPps) / g.nominalPps;
    r.roles = g.byRole.map((b) => ({
      ...b,
      badPct: (100 * (b.lost + b.late)) / Math.max(1, b.expected),
    }));
    r.pass =
      r.roles.every((b) => b.badPct <= LOSS_LIMIT_PCT && b.expected > 0) && r.offeredPct >= 97;
    // Closing the engine completes the WAVs; then their size says whether audio was written.
    await Promise.race([engine.close(), sleep(15000)]);
    engine = null;
    r.wavBytes = wavBytes(dir);
    r.wavBytesPerCallSec = r.wavBytes / calls / ((wallMs + WARMUP_MS) / 1000);
    r.loadEnd = loadavg();
    return r;
  } finally {
    if (engine) await Promise.race([engine.close(), sleep(15000)]);
    if (gen) await endGenerator(gen);
    removeTmpDir(dir);
  }
}

const median = (xs) => {
  const v = xs.filter(Number.isFinite).sort((a, b) => a - b);
  if (!v.length) return NaN;
  const m = Math.floor(v.length / 2);
  return v.length % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
};

function fmt(r) {
  return (
    `${r.pass ? 'PASS' : 'FAIL'} | ${r.calls} calls ${r.record ? 'recorded  ' : 'unrecorded'} | worker+writer CPU ${f1(r.workerCpuPct)} % = ${Math.round(r.usPerCallSec)} µs per call-second (writer ${Math.round(r.writerUsPerCallSec)}), ${f2(r.usPerPkt)} µs/pkt | ` +
    `in ${Math.round(r.pktsInPps)} out ${Math.round(r.pktsOutPps)} pps | process ${f1(r.procCpuPct)} % | ` +
    `${r.roles.map((b) => `${b.role} lost ${b.lost} late ${b.late} of ${b.expected}`).join('; ')} | ` +
    `WAV ${Math.round(r.wavBytes / 1024)} KB (${Math.round(r.wavBytesPerCallSec)} B per call-second) | drops engine ${r.engineDrops} socket ${r.sockDrops ?? '?'} | ` +
    `gen sent ${f1(r.offeredPct)} % | load ${r.loadStart} → ${r.loadEnd}`
  );
}

/** What a run of this bench must show to count as a result (bench/smoke.mjs). */
function problems(rows) {
  const out = [];
  for (const r of rows)
    if (r.error) out.push(`${r.calls} ${r.record ? 'recorded' : 'unrecorded'}: ${r.error}`);
  const ok = rows.filter((r) => !r.error);
  for (const record of [false, true])
    if (!ok.some((r) => r.record === record && r.pktsOutPps > 0))
      out.push(`no ${record ? 'recorded' : 'unrecorded'} run relayed a packet`);
  for (const r of ok) {
    // A recorded call writes ≈ 32 KB per second; allow for the warm-up and set-up edges.
    if (r.record && r.wavBytesPerCallSec < 0.5 * WAV_BYTES_PER_SEC)
      out.push(
        `${r.calls} recorded: only ${Math.round(r.wavBytesPerCallSec)} B per call-second written`,
      );
    if (!r.record && r.wavBytes > 0) out.push(`${r.calls} unrecorded: ${r.wavBytes} bytes written`);
  }
  return out;
}

async function main() {
  const o = parseArgs(process.argv.slice(2));
  const MediaEngine = await loadMediaEngine(o);
  const mach = machine();
  const command = commandLine('recording.bench.mjs');
  console.log(
    `machine: ${mach.nproc} CPU (${mach.cpu}), kernel ${mach.kernel}, ${mach.memGb} GB; node ${mach.node}; load average ${mach.load}`,
  );
  console.log(`media I/O: ${mediaIoPath()}`);
  console.log(
    `calls ${o.callList.join(', ')}; ${o.repeat} run(s) per count and setting, interleaved; ${o.workers} worker(s); ${o.secs} s windows`,
  );
  if (o.smoke) console.log('smoke: 10 calls, 1 worker, 2 s windows, no results written');
  const tStart = Date.now();
  const rows = [];
  for (const calls of o.callList) {
    // off on on off off on …: each setting sees the same mix of early and late runs.
    const order = [];
    for (let i = 0; i < o.repeat; i++) order.push(...(i % 2 === 0 ? [false, true] : [true, false]));
    for (const record of order) {
      if (Date.now() - tStart > o.maxMinutes * 60000) break;
      let r;
      try {
        r = await runOnce(MediaEngine, o, calls, record);
        console.log(fmt(r));
      } catch (error) {
        console.log(
          `${calls} calls ${record ? 'recorded' : 'unrecorded'} | ERROR ${error.message}`,
        );
        r = { calls, record, error: error.message };
      }
      rows.push(r);
      await sleep(500);
    }
  }

  const summary = [];
  const ratios = [];
  for (const calls of o.callList) {
    const at = (record) => rows.filter((r) => !r.error && r.calls === calls && r.record === record);
    const off = at(false);
    const on = at(true);
    if (!off.length || !on.length) continue;
    const usOff = median(off.map((r) => r.usPerCallSec));
    const usOn = median(on.map((r) => r.usPerCallSec));
    const ratio = usOn / usOff;
    ratios.push({ calls, ratio });
    summary.push(
      `${calls} unmonitored calls: worker + writer CPU per call ${Math.round(usOff)} µs/s unrecorded vs ${Math.round(usOn)} µs/s recorded (medians of ${off.length} + ${on.length}) = **${f2(ratio)}×** (target ≤ ${TARGET_RATIO}×: ${ratio <= TARGET_RATIO ? 'met' : 'NOT met'}); PASS ${off.filter((r) => r.pass).length}/${off.length} unrecorded, ${on.filter((r) => r.pass).length}/${on.length} recorded`,
    );
  }
  printSummary(summary);
  const bad = problems(rows);
  const ios = [...new Set(rows.filter((r) => !r.error).map((r) => r.io))];
  emitResult({
    bench: 'recording',
    produced: bad.length === 0,
    problems: bad,
    runs: rows.length,
    pass: rows.filter((r) => r.pass).length,
    ratios,
    recording: ['off', 'on'],
    mediaIo: ios.length ? ios.join('; ') : mediaIoPath(),
  });

  if (o.results) {
    const md = [
      `\n## Recording's cost: unmonitored calls recorded vs not (own RTP generator) — ${new Date().toISOString()}\n`,
      `- machine: ${mach.nproc} CPU (${mach.cpu}), kernel ${mach.kernel}, ${mach.memGb} GB RAM; node ${mach.node}; load average at start ${mach.load}, at end ${loadavg()}`,
      `- command: \`${command}\``,
      `- media I/O: ${ios.join('; ') || mediaIoPath()}`,
      `- setup: per call two PCMU legs in a room of their own (customer, agent: relayed to each other), recorded as a stereo WAV into a tmp dir or not; bench/lib/roomLoad.mjs sends 50 pps of 172-byte packets on every leg; ${WARMUP_MS / 1000} s warm-up, ${o.secs} s window; ${o.workers} worker(s); runs interleaved unrecorded/recorded, ${o.repeat} per setting`,
      '',
      '| calls | recorded | verdict | worker + writer CPU % | µs per call-second | µs/pkt | pkts in / out per s | WAV B per call-s | drops engine / socket | load start → end |',
      '|---|---|---|---|---|---|---|---|---|---|',
    ];
    for (const r of rows) {
      if (r.error) {
        md.push(`| ${r.calls} | ${r.record ? 'yes' : 'no'} | ERROR ${r.error} | | | | | | | |`);
        continue;
      }
      md.push(
        `| ${r.calls} | ${r.record ? 'yes' : 'no'} | ${r.pass ? 'PASS' : 'FAIL'} | ${f1(r.workerCpuPct)} | ${Math.round(r.usPerCallSec)} | ${f2(r.usPerPkt)} | ${Math.round(r.pktsInPps)} / ${Math.round(r.pktsOutPps)} | ${Math.round(r.wavBytesPerCallSec)} | ${r.engineDrops} / ${r.sockDrops ?? '?'} | ${r.loadStart} → ${r.loadEnd} |`,
      );
    }
    appendResults(o.results, md, summary);
  }
}

runMain(main); // temporary directories left are removed on exit (benchRuntime.mjs)
