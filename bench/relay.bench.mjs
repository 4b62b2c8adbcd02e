#!/usr/bin/env node
/**
 * Relayed two-party G.711 calls through callwatch's media engine (dist/media), driven by
 * the project's own RTP load generator (bench/lib/rtpLoad.mjs, a separate process), side
 * by side with the rtpengine peer (../shared/peers/run_media.sh).
 *
 *   node bench/relay.bench.mjs [options]
 *
 *   --calls "100 250 500"   concurrent calls to try, ascending (default below); a series
 *                           stops at the first count where most runs exceed 0.1 % loss
 *   --workers "1 2"         media worker threads, one series each (default "1 2")
 *   --repeat N              runs per count (default 3, as the peers)
 *   --secs S                measured window per run (default 20), after a 1 s warm-up
 *   --peer                  also run rtpengine: ../shared/peers/run_media.sh at each of
 *                           --peer-calls (installs rtpengine-daemon if missing)
 *   --peer-calls "100 250 500"  (default)
 *   --port-min P --port-max Q   the engine's RTP port range (default 33000-39999: clear of
 *                           the test suites' 23000-32767 blocks and rtpengine's 40000-59999;
 *                           it is in the kernel's ephemeral range, so a pair taken by some
 *                           ephemeral socket is skipped by the engine's bind retry)
 *   --probe P               calls whose packets the generator reads as they arrive
 *                           (sequence gaps, latency); the others' sockets are never read
 *                           and their delivered packets come from kernel counters (default
 *                           100; reading every packet costs the generator as much CPU as
 *                           the relaying costs the engine, more than 2 cores hold)
 *   --max-minutes M         start no new run after M minutes (default 30)
 *   --no-build              do not run `npm run build` first
 *   --results FILE          append a markdown block to FILE (nothing is written otherwise)
 *   --smoke                 10 calls, 1 worker, one 2 s run, no peer, nothing written
 *                           (npm run bench:smoke)
 *
 * Recording is off, always: legs are connected pairwise, with no room and no recording
 * tap (mixer.bench.mjs measures those).
 *
 * One run: a fresh MediaEngine (workers W, statsIntervalMs 2000 as the server), N
 * calls = 2N legs (PCMU, one group per call, remote = the generator's sockets),
 * engine.connect(a, b); the generator (forked) sends 50 pps of 172-byte PCMU from each of
 * its 2N sockets for 1 s warm-up + SECS, then stops and drains 0.5 s. It counts what the
 * engine relays back per direction and per call (loss = sent − received, sequence gaps
 * from a frame number in the payload) and the one-way latency (receive − send time written
 * in the payload, same process clock: includes the generator's own receive scheduling, so
 * it is an upper bound of the engine's added latency). Over the SECS window the bench reads
 * the workers' thread CPU (schedstat) and counters: µs of worker CPU per relayed packet =
 * ΔcpuMs / ΔpacketsOut; process CPU (all threads) from process.cpuUsage; RSS per call =
 * (RSS at the end of the window − RSS just before the legs were created) / N.
 * PASS = loss ≤ 0.1 % and the generator held ≥ 97 % of the nominal rate.
 * Every child process is stopped by its PID on exit; every wait is bounded.
 */
import { performance } from 'node:perf_hooks';
import {
  applySmoke,
  commandLine,
  commonFlags,
  emitResult,
  f1,
  f3,
  intList,
  loadavg,
  machine,
  mediaIoPath,
  parseFlags,
  sleep,
} from './lib/benchRuntime.mjs';
import {
  appendResults,
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
import { ensureRtpengine, runMediaPeer } from './lib/mediaPeer.mjs';

const DEFAULT_CALLS = '100 250 500 750 1000 1200';
const WARMUP_MS = 1000;
const DRAIN_MS = 500;
const LOSS_LIMIT_PCT = 0.1;
const BACKLOG_P50_US = 20000; // a run with p50 one-way latency above 20 ms is marked 'behind'
const RTPENGINE_MAX = 1200; // ../shared/peers/README.md, find_media_max.sh, 3/3 PASS
const REC_FACT =
  'recording: off (always in this bench: legs connected pairwise, no room, no recording tap)';

// ---------------------------------------------------------------- arguments

function parseArgs(argv) {
  const o = parseFlags(
    argv,
    {
      calls: DEFAULT_CALLS,
      workers: '1 2',
      repeat: 3,
      secs: 20,
      peer: false,
      peerCalls: '100 250 500',
      portMin: 33000,
      portMax: 39999,
      maxMinutes: 30,
      probe: 100,
      build: true,
      results: null,
    },
    {
      ...commonFlags,
      '--calls': 'calls',
      '--workers': 'workers',
      '--repeat': ['repeat', Number],
      '--secs': ['secs', Number],
      '--peer': { peer: true },
      '--peer-calls': 'peerCalls',
      '--port-min': ['portMin', Number],
      '--port-max': ['portMax', Number],
      '--probe': ['probe', Number],
    },
    import.meta.url,
  );
  applySmoke(argv, o, {
    calls: '10',
    workers: '1',
    repeat: 1,
    secs: 2,
    probe: 10,
    peer: false,
    maxMinutes: 2,
  });
  o.callList = intList(o.calls, '--calls').sort((x, y) => x - y);
  o.workerList = intList(o.workers, '--workers');
  o.peerList = intList(o.peerCalls, '--peer-calls');
  for (const [k, v] of Object.entries({ repeat: o.repeat, secs: o.secs, maxMinutes: o.maxMinutes }))
    if (!(v > 0)) throw new Error(`--${k} must be > 0`);
  const pairs = Math.floor((o.portMax - o.portMin + 1) / 2);
  if (2 * Math.max(...o.callList) > pairs)
    throw new Error(`port range ${o.portMin}-${o.portMax} holds ${pairs} legs, too few`);
  return o;
}

// ---------------------------------------------------------------- one run

// skb truesize of one 172-byte datagram on loopback (../shared/peers/README.md calibration)
const TRUESIZE = 832;

/** Generator socket pairs that bypass the engine (its own latency share): ~2 % extra load. */
const controlPairs = (calls) => Math.max(2, Math.ceil(calls / 50));

async function runOnce(MediaEngine, o, calls, workers) {
  let gen = null;
  let engine = null;
  try {
    let ports;
    ({ gen, ports } = await forkGenerator('bench/lib/rtpLoad.mjs', {
      calls,
      control: controlPairs(calls),
      probe: o.probe,
    }));
    engine = await createEngine(MediaEngine, o, workers);
    await sleep(200);
    const rss0 = process.memoryUsage().rss;
    const targets = new Array(2 * calls);
    const legPorts = new Set();
    // The A legs one at a time: the engine puts a group's first leg on the worker with the
    // fewest legs, counted when createLeg resolves, so concurrent first legs would all land
    // on one worker. The B legs join their call's group (same worker) and are connected
    // in parallel batches.
    const aLegs = new Array(calls);
    const group = (c) => `call-${c}`;
    const mk = (c, port) =>
      engine.createLeg({
        codecs: [{ name: 'PCMU', payloadType: 0 }],
        remote: { address: '127.0.0.1', port, rtcpMux: true },
        group: group(c),
        callId: group(c),
      });
    for (let c = 0; c < calls; c++) aLegs[c] = await mk(c, ports[2 * c]);
    const BATCH = 50;
    for (let c0 = 0; c0 < calls; c0 += BATCH) {
      const batch = [];
      for (let c = c0; c < Math.min(calls, c0 + BATCH); c++) {
        batch.push(
          (async () => {
            const a = aLegs[c];
            const b = await mk(c, ports[2 * c + 1]);
            await engine.connect(a, b);
            targets[2 * c] = a.localPort;
            targets[2 * c + 1] = b.localPort;
            legPorts.add(a.localPort).add(b.localPort);
          })(),
        );
      }
      await Promise.all(batch);
    }
    const rssSetup = process.memoryUsage().rss;
    const sock0 = engineSockets(legPorts);
    await startGenerator(gen, targets, WARMUP_MS);
    const s0 = sumWorkers(await engine.getStats({ legs: false }));
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    await sleep(o.secs * 1000);
    const reports = await engine.getStats({ legs: false });
    const s1 = sumWorkers(reports);
    const cpu = process.cpuUsage(c0);
    const wallMs = performance.now() - t0;
    const rssEnd = process.memoryUsage().rss;
    const g = await stopGenerator(gen, { drainMs: DRAIN_MS });
    const sock1 = engineSockets(legPorts);
    const relayed = s1.out - s0.out;
    const workerCpuMs = s1.cpuMs - s0.cpuMs;
    const procCpuMs = (cpu.user + cpu.system) / 1000;
    const r = {
      calls,
      workers,
      io: mediaIoPath(reports),
      g,
      relayed,
      relayedPps: relayed / (wallMs / 1000),
      workerCpuPct: (100 * workerCpuMs) / wallMs,
      legsPerWorker: s1.perWorker.map((w) => w.legs),
      workerPct: s1.perWorker.map((w, i) => (100 * (w.cpuMs - s0.perWorker[i].cpuMs)) / wallMs),
      usPerPkt: (workerCpuMs * 1000) / relayed,
      procCpuPct: (100 * procCpuMs) / wallMs,
      procUsPerPkt: (procCpuMs * 1000) / relayed,
      rssPerCallKb: (rssEnd - rss0) / calls / 1024,
      rssSetupPerCallKb: (rssSetup - rss0) / calls / 1024,
      engineDrops: s1.drops,
      engineSocketDrops: sock0 === null || sock1 === null ? null : sock1.drops - sock0.drops,
      // still queued on the engine's sockets after the generator's drain: late, not dropped
      engineBacklog: sock1 === null ? null : Math.round(sock1.queued / TRUESIZE),
    };
    r.offeredPct = (100 * g.sendPps) / g.nominalPps;
    r.pass = g.lossPct <= LOSS_LIMIT_PCT && r.offeredPct >= 97;
    // Passed on loss but the relay ran behind: packets waited in the kernel's socket queues.
    r.backlogged = g.latencyUs.p50 !== null && g.latencyUs.p50 > BACKLOG_P50_US;
    return r;
  } finally {
    if (engine) await Promise.race([engine.close(), sleep(10000)]);
    if (gen) await endGenerator(gen);
  }
}

// The generator's histograms end at 200 ms (latency) and 100 ms (send lag).
const ms = (us) =>
  us === null || us === undefined ? '?' : us > 200000 ? '>200' : (us / 1000).toFixed(2);
const lagMs = (x) => (x === null || x === undefined ? '?' : x > 100 ? '>100' : x.toFixed(1));

const verdict = (r) => (r.pass ? 'PASS' : 'FAIL') + (r.backlogged ? ' (behind)' : '');

function fmtRun(r) {
  const g = r.g;
  return (
    `${verdict(r)} | loss ${f3(g.lossPct)}% (A→B ${f3(g.lossPctAB)}, B→A ${f3(g.lossPctBA)}; ` +
    `${g.lost} of ${g.sent}, gaps ${g.gaps}, calls with loss ${g.callsWithLoss}) | ` +
    `latency ms p50 ${ms(g.latencyUs.p50)} p99 ${ms(g.latencyUs.p99)} max ${ms(g.latencyUs.max)} ` +
    `(direct, no engine: p50 ${ms(g.controlLatencyUs.p50)} p99 ${ms(g.controlLatencyUs.p99)}) | ` +
    `relayed ${Math.round(r.relayedPps)} pps | worker CPU ${f1(r.workerCpuPct)}% ` +
    `(${r.workerPct.map(f1).join('+')}; legs ${r.legsPerWorker.join('+')}) = ${f1(r.usPerPkt)} µs/pkt | process ${f1(r.procCpuPct)}% ` +
    `= ${f1(r.procUsPerPkt)} µs/pkt | RSS/call ${f1(r.rssPerCallKb)} KB | ` +
    `generator CPU ${f1(g.cpuPct)}%, sent ${f1(r.offeredPct)}% of nominal, lag p99 ${lagMs(g.sendLagP99Ms)} ms | ` +
    `engine socket queue at end ≈ ${r.engineBacklog ?? '?'} pkts | ` +
    `drops: engine sockets ${r.engineSocketDrops ?? '?'}, generator probe sockets ${g.genSocketDrops?.drops ?? '?'}, engine counters ${r.engineDrops}; ` +
    `read ${g.probeCalls} calls, ${g.calls - g.probeCalls} from kernel counters; non-RTP ${g.other}`
  );
}

// ---------------------------------------------------------------- main

async function main() {
  const o = parseArgs(process.argv.slice(2));
  const MediaEngine = await loadMediaEngine(o);
  const mach = machine();
  const command = commandLine('relay.bench.mjs');
  console.log(
    `machine: ${mach.nproc} CPU (${mach.cpu}), kernel ${mach.kernel}, ${mach.memGb} GB; node ${mach.node}; load average at start ${mach.load}`,
  );
  console.log(REC_FACT);
  console.log(`media I/O: ${mediaIoPath()}`);
  if (o.smoke) console.log('smoke: 10 calls, 1 worker, one 2 s run, no peer, no results written');
  console.log(
    `loss, sequence gaps and latency are measured by the project's own generator (bench/lib/rtpLoad.mjs, a separate process on the same 2 cores); ` +
      `${o.secs} s window after ${WARMUP_MS / 1000} s warm-up; PASS = loss ≤ ${LOSS_LIMIT_PCT} % and ≥ 97 % of the nominal send rate`,
  );
  const t0 = Date.now();
  const rows = [];
  const series = [];
  for (const workers of o.workerList) {
    let best = null;
    let bestOnTime = null; // also not behind (p50 latency ≤ BACKLOG_P50_US) in most runs
    let onTimeSoFar = true;
    let why = '';
    outer: for (const calls of o.callList) {
      let pass = 0;
      let onTime = 0;
      let done = 0;
      for (let i = 1; i <= o.repeat; i++) {
        if (Date.now() - t0 > o.maxMinutes * 60000) {
          why = `time limit of ${o.maxMinutes} min reached`;
          break outer;
        }
        let r;
        try {
          r = await runOnce(MediaEngine, o, calls, workers);
        } catch (error) {
          console.log(`workers=${workers} calls=${calls} run=${i} | ERROR ${error.message}`);
          r = { calls, workers, error: error.message, pass: false };
        }
        r.i = i;
        rows.push(r);
        done++;
        if (!r.error) console.log(`workers=${workers} calls=${calls} run=${i} | ${fmtRun(r)}`);
        if (r.pass) pass++;
        if (r.pass && !r.backlogged) onTime++;
        await sleep(500);
      }
      if (onTimeSoFar && 2 * onTime > done) bestOnTime = calls;
      else onTimeSoFar = false;
      if (2 * pass > done) best = calls;
      else {
        why = `most runs failed at ${calls} calls`;
        break;
      }
    }
    if (!why) why = 'every count tried passed: the limit is higher';
    const at = rows.filter((r) => r.workers === workers && r.calls === best && !r.error);
    const med = (xs) => {
      const s = xs.filter((x) => x !== null && !Number.isNaN(x)).sort((a, b) => a - b);
      return s.length ? s[Math.floor((s.length - 1) / 2)] : null;
    };
    series.push({
      workers,
      best,
      bestOnTime,
      why,
      usPerPkt: med(at.map((r) => r.usPerPkt)),
      procUsPerPkt: med(at.map((r) => r.procUsPerPkt)),
      rssPerCallKb: med(at.map((r) => r.rssPerCallKb)),
      p99us: med(at.map((r) => r.g.latencyUs.p99)),
      directP99us: med(at.map((r) => r.g.controlLatencyUs.p99)),
      genCpu: med(at.map((r) => r.g.cpuPct)),
      workerCpu: med(at.map((r) => r.workerCpuPct)),
    });
  }

  const peers = [];
  if (o.peer) {
    if (!ensureRtpengine()) console.log('rtpengine could not be installed: no peer runs');
    else
      for (const n of o.peerList) {
        const p = await runMediaPeer(n);
        peers.push({ calls: n, ...p });
        console.log(
          `rtpengine calls=${n} | verdict ${p.verdict} | loss ${f3(p.lossPct)}% (SIPp socket counters) | ` +
            `${p.ppsPerPct ?? '?'} pps per % CPU = ${p.usPerPkt ?? '?'} µs/pkt | cpu ${p.cpu} | ${p.run ?? `exit ${p.exit}`}`,
        );
        if (p.verdict === '?') console.log(p.raw.split('\n').slice(-15).join('\n'));
      }
  }

  // ------------------------------------------------------------ summary
  const summary = [];
  for (const s of series) {
    summary.push(
      `workers=${s.workers}: largest count with ≤ ${LOSS_LIMIT_PCT} % loss: ${s.best ?? 'none'} calls (${s.why}); and not behind (p50 ≤ ${BACKLOG_P50_US / 1000} ms) in most runs: ${s.bestOnTime ?? 'none'}; ` +
        (s.best === null
          ? ''
          : `at ${s.best}: worker CPU ${f1(s.usPerPkt)} µs per relayed packet (process ${f1(s.procUsPerPkt)} µs), ` +
            `RSS ${f1(s.rssPerCallKb)} KB per call, latency p99 ${ms(s.p99us)} ms (direct path without the engine ${ms(s.directP99us)} ms), worker CPU ${f1(s.workerCpu)} %, generator CPU ${f1(s.genCpu)} %; ` +
            `vs rtpengine's recorded ${RTPENGINE_MAX} calls: ${((100 * s.best) / RTPENGINE_MAX).toFixed(0)} %` +
            (s.why.startsWith('every') ? ' (lower bound)' : '')),
    );
  }
  for (const p of peers) {
    const ours = rows.filter((r) => !r.error && r.calls === p.calls);
    const line = [1, 2]
      .map((w) => {
        const m = ours.filter((r) => r.workers === w).map((r) => r.usPerPkt);
        if (!m.length || !p.usPerPkt) return null;
        const u = m.sort((a, b) => a - b)[Math.floor((m.length - 1) / 2)];
        return `workers=${w} ${f1(u)} µs/pkt = ${(u / p.usPerPkt).toFixed(2)}× rtpengine`;
      })
      .filter(Boolean)
      .join(', ');
    summary.push(
      `rtpengine at ${p.calls} calls (same session): ${p.verdict}, ${p.usPerPkt ?? '?'} µs/pkt` +
        (line ? `; callwatch at ${p.calls}: ${line}` : ''),
    );
  }
  if (peers.length)
    summary.push(
      'note: rtpengine loss comes from SIPp socket counters (run_media.sh); callwatch loss from our own generator (read packets for the probe calls, kernel drop counters for the rest)',
    );
  printSummary(summary);

  const ran = rows.filter((r) => !r.error);
  const ios = [...new Set(ran.map((r) => r.io))];
  const mediaIo = ios.length ? ios.join('; ') : mediaIoPath();
  const bad = rows.filter((r) => r.error).map((r) => `${r.calls} calls: ${r.error}`);
  if (!ran.some((r) => r.relayed > 0)) bad.push('no packet was relayed');
  emitResult({
    bench: 'relay',
    produced: bad.length === 0,
    problems: bad,
    runs: rows.length,
    relayed: ran.reduce((a, r) => a + r.relayed, 0),
    pass: ran.filter((r) => r.pass).length,
    recording: ['off'],
    mediaIo,
  });

  if (o.results) {
    const md = [];
    md.push(
      `\n## Relayed two-party G.711 calls (own RTP generator) — ${new Date().toISOString()}\n`,
    );
    md.push(
      `- machine: ${mach.nproc} CPU (${mach.cpu}), kernel ${mach.kernel}, ${mach.memGb} GB RAM; node ${mach.node}; load average at start ${mach.load}, at end ${loadavg()}`,
    );
    md.push(`- command: \`${command}\``);
    md.push(`- ${REC_FACT}`);
    md.push(`- media I/O: ${mediaIo}`);
    md.push(
      `- setup: N calls = 2N PCMU legs, engine.connect(a, b); bench/lib/rtpLoad.mjs (separate process) sends 172-byte packets at 50 pps from each of 2N sockets, ` +
        `drift-free 20 ms clock in 1 ms slices; the first ${o.probe} calls are read as they arrive (gaps, latency), the others' sockets are never read and their deliveries = kernel drops + queue (as the peers count SIPp's); ${WARMUP_MS / 1000} s warm-up + ${o.secs} s window, ${o.repeat} run(s) per count. ` +
        `Loss = sent − delivered per direction, counted by the generator; latency = receive − send time carried in the payload ` +
        `(same process clock, includes the generator's own send/receive scheduling; "direct" = the generator's control socket pairs that bypass the engine, max(2, N/50) pairs on the same schedule, i.e. that share). "(behind)" = PASS on loss but p50 latency above ${BACKLOG_P50_US / 1000} ms: the relay ran behind and packets waited in kernel socket queues; loss counts what was not delivered ${DRAIN_MS / 1000} s after the last send, so a longer backlog shows as loss. µs/pkt = workers' thread CPU (schedstat) / relayed packets; ` +
        `process = all threads of the bench process (main + workers). RSS/call = (RSS at window end − RSS before the legs) / N. The generator shares the 2 cores.`,
    );
    md.push('');
    md.push(
      '| workers | calls | run | verdict | loss % | latency p50 / p99 / max (ms) | direct p50 / p99 (ms) | relayed pps | worker CPU % | µs/pkt (worker) | µs/pkt (process) | RSS/call KB | generator CPU % | sent % nominal | socket drops engine / gen |',
    );
    md.push('|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|');
    for (const r of rows) {
      if (r.error) {
        md.push(`| ${r.workers} | ${r.calls} | ${r.i} | ERROR | ${r.error} | | | | | | | | | | |`);
        continue;
      }
      const g = r.g;
      md.push(
        `| ${r.workers} | ${r.calls} | ${r.i} | ${verdict(r)} | ${f3(g.lossPct)} | ${ms(g.latencyUs.p50)} / ${ms(g.latencyUs.p99)} / ${ms(g.latencyUs.max)} | ${ms(g.controlLatencyUs.p50)} / ${ms(g.controlLatencyUs.p99)} | ` +
          `${Math.round(r.relayedPps)} | ${f1(r.workerCpuPct)} | ${f1(r.usPerPkt)} | ${f1(r.procUsPerPkt)} | ${f1(r.rssPerCallKb)} | ${f1(g.cpuPct)} | ${f1(r.offeredPct)} | ` +
          `${r.engineSocketDrops ?? '?'} / ${g.genSocketDrops?.drops ?? '?'} |`,
      );
    }
    if (peers.length) {
      md.push('');
      md.push(
        'rtpengine peer in the same session (`../shared/peers/run_media.sh N`; loss from SIPp socket counters):',
      );
      md.push('');
      md.push('| calls | verdict | loss % | pps per % CPU | µs/pkt | CPU % (one core) | raw |');
      md.push('|---|---|---|---|---|---|---|');
      for (const p of peers)
        md.push(
          `| ${p.calls} | ${p.verdict} | ${f3(p.lossPct)} | ${p.ppsPerPct ?? '?'} | ${p.usPerPkt ?? '?'} | ${p.cpu} | ${p.run ?? '?'} |`,
        );
    }
    appendResults(o.results, md, summary);
  }
}

runMain(main);
