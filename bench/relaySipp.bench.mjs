#!/usr/bin/env node
/**
 * Relayed G.711 calls through the whole server (SIP B2BUA + anchored media), driven by SIPp
 * exactly like the rtpengine peer (the peers' run_media.sh, PEERS in bench/lib/benchRuntime.mjs: SIPp UAC → Kamailio →
 * SIPp UAS, media anchored on rtpengine): the same scenarios, the same 30 s A-law stream
 * each way per call, the same socket sampler, CPU sampler and analysis
 * (analyze_media.py). Only the box in the middle differs, so capacity and CPU per relayed
 * packet compare directly, and the load generator (SIPp, one media socket per side) costs
 * the same in both runs. relay.bench.mjs measures the media engine alone with the project's
 * own generator, which on 2 cores cannot send more than about 1000 calls' worth.
 *
 *   node bench/relaySipp.bench.mjs [options]
 *
 *   --calls "500 1000 1200"  concurrent calls per run, ascending (default below); a series
 *                            stops at the first count where most runs FAIL
 *   --repeat N               runs per count (default 1; the peers use 3)
 *   --peer                   also run the peer (run_media.sh N) after callwatch at each count
 *   --hold MS                ACK to BYE (default 33000: the 30 s stream + 3 s, as the peer)
 *   --log-level LEVEL        callwatch log level during the runs (default warn)
 *   --port-min P --port-max Q  callwatch's media.portRange (default 20000-39999: clear of
 *                            SIPp's 16000/17000 and rtpengine's 40000-59999)
 *   --no-build               do not run `npm run build` first
 *   --results FILE           append a markdown block to FILE (nothing written otherwise)
 *   --max-minutes M          start no new run after M minutes (default 30)
 *   --smoke                  4 calls held 4 s, no peer, nothing written (npm run bench:smoke)
 *
 * One run: a fresh server on a config this bench states in full (configure() below: trunk
 * "carrier" = SIPp UAC at 127.0.0.1:15080 with DID 5550100 → extension 1001, registered
 * once from the UAS's port 15090; monitoring and recording off; media workers = cores, as
 * rtpengine's num-threads). SIPp UAS (uas_media.xml, media port 17000) and UAC
 * (uac_media.xml, media port 16000) start N calls at N/8 per second (at least 10/s), as
 * run_media.sh does; each side streams tone.alaw (30 s) once the call is up. cpumon.py
 * samples callwatch's whole process (SIP thread and media workers) and both SIPps;
 * socksampler.py records the drops and queue of every UDP socket (SIPp never reads its
 * media sockets, so what reached them is their drops + queued packets). analyze_media.py
 * then gives the same verdict as for the peer: PASS = loss < 0.1 % end to end, every call
 * completed, no media bypassing the server. CPU per relayed packet = callwatch's CPU over
 * the seconds when every call is up / (N · 100 packets per second in).
 * Raw files stay in /tmp/peers/callwatch-media-nN-TIME-I/. Every process started here is
 * stopped by its PID; everything is bounded in count and time.
 */
import { mkdirSync, readdirSync, renameSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  PEERS,
  SCRATCH,
  applySmoke,
  commandLine,
  commonFlags,
  emitResult,
  freePort,
  canBind,
  f1,
  mediaIoPath,
  numList,
  parseFlags,
  sh,
  stamp,
  stop,
  track,
  udpStats,
  waitExit,
} from './lib/benchRuntime.mjs';
import { ensureRtpengine, parseMediaSummary, runMediaPeer } from './lib/mediaPeer.mjs';
import {
  appendLines,
  prepare,
  registerOnce,
  resultsHead,
  runSippMain,
  startCallwatch,
  startCpumon,
  startSippCalls,
  trunkCallConfig,
} from './lib/sippBench.mjs';
import { spawn } from 'node:child_process';

const DEFAULT_CALLS = '500 1000 1200';
const UAC_PORT = 15080; // the trunk's address (sourcePort)
const UAS_PORT = 15090; // extension 1001's registered contact
const DID = '5550100';
const PACKETS_PER_STREAM = 1500; // 30 s at 50 pps: analyze_media.py's expectation

function parseArgs(argv) {
  const o = parseFlags(
    argv,
    {
      calls: DEFAULT_CALLS,
      repeat: 1,
      peer: false,
      hold: 33000,
      logLevel: 'warn',
      portMin: 20000,
      portMax: 39999,
      build: true,
      results: null,
      maxMinutes: 30,
    },
    {
      ...commonFlags,
      '--calls': 'calls',
      '--repeat': ['repeat', Number],
      '--peer': { peer: true },
      '--hold': ['hold', Number],
      '--log-level': 'logLevel',
      '--port-min': ['portMin', Number],
      '--port-max': ['portMax', Number],
    },
    import.meta.url,
  );
  applySmoke(argv, o, { calls: '4', repeat: 1, peer: false, hold: 4000, maxMinutes: 2 });
  o.callList = numList(o.calls);
  if (!o.callList.length || o.callList.some((n) => !(Number.isInteger(n) && n >= 1 && n <= 3000)))
    throw new Error(`--calls: counts of 1..3000 expected, not ${o.calls}`);
  if (!(o.repeat >= 1 && o.repeat <= 5)) throw new Error('--repeat must be 1..5');
  if (o.callList.length * o.repeat > 20) throw new Error('at most 20 runs per invocation');
  if (!(o.hold >= 1000 && o.hold <= 40000)) throw new Error('--hold must be 1000..40000 ms');
  if (!(o.portMin % 2 === 0 && o.portMin >= 1024 && o.portMax > o.portMin + 100))
    throw new Error('--port-min must be even, and --port-max above it');
  if (o.portMax >= 40000 || (o.portMin <= 17001 && o.portMax >= 16000))
    throw new Error('--port-min/--port-max must stay clear of 16000-17001 and 40000-59999');
  return o;
}

/** The server's config sections for this bench (the rest: sippBench.mjs's benchConfig). */
function configure(portRange) {
  const media = { portRange, workers: os.availableParallelism() };
  return trunkCallConfig({ uacPort: UAC_PORT, did: DID, media, recording: false });
}

/** One callwatch run of `calls` calls; resolves the parsed analysis and the raw summary. */
async function runCallwatch(o, calls, index) {
  const run = path.join(SCRATCH, `callwatch-media-n${calls}-${stamp()}-${index}`);
  mkdirSync(run, { recursive: true });
  for (const p of [UAC_PORT, UAS_PORT, 16000, 17000])
    if (!(await canBind(p))) throw new Error(`UDP/TCP port ${p} is taken`);
  // The peer's stream: 30 s of a 1 kHz tone in A-law, in SIPp's working directory.
  const sox = sh(
    'sox',
    [
      '-n',
      '-r',
      '8000',
      '-c',
      '1',
      '-e',
      'a-law',
      '-t',
      'raw',
      'tone.alaw',
      'synth',
      '30',
      'sine',
      '1000',
    ],
    { cwd: run },
  );
  if (sox.status !== 0) throw new Error(`sox could not make the tone: ${sox.stderr}`);
  // As run_media.sh: calls start at N/8 per second (at least 10/s).
  const rate = Math.max(10, Math.ceil(calls / 8));
  const ramp = Math.ceil(calls / rate);
  const limit = Math.ceil(o.hold / 1000) + ramp + 60;
  const ports = { sip: await freePort(15160), http: await freePort(15180) };
  const { child: server } = await startCallwatch(
    run,
    ports,
    o.logLevel,
    configure({ min: o.portMin, max: o.portMax }),
  );
  let sampler = null;
  let cpumon = null;
  try {
    await registerOnce(run, ports.sip, { user: '1001', password: 'pw1001', port: UAS_PORT });
    udpStats(path.join(run, 'udp_before.txt'));
    const { uas, uac } = await startSippCalls(run, {
      sipPort: ports.sip,
      uasPort: UAS_PORT,
      uacPort: UAC_PORT,
      uasScenario: 'uas_media.xml',
      uacScenario: 'uac_media.xml',
      did: DID,
      calls,
      rate,
      limit: calls,
      hold: o.hold,
      limitS: limit,
      rttFreq: 50,
    });
    cpumon = startCpumon(run, {
      callwatch: server.pid,
      sipp_uac: uac.child.pid,
      sipp_uas: uas.child.pid,
    });
    sampler = track(
      spawn(
        '/usr/bin/python3',
        [
          path.join(PEERS, 'socksampler.py'),
          path.join(run, 'socks.json'),
          String(uac.child.pid),
          '0.5',
        ],
        { stdio: 'ignore' },
      ),
    );
    await uac.done;
    if (!(await waitExit(uas.child, 10000))) await stop(uas.child, 'SIGUSR1', 5000);
    await uas.done;
    // The sampler stops by itself when the UAC is gone and writes socks.json.
    if (!(await waitExit(sampler, 5000))) await stop(sampler, 'SIGTERM', 3000);
    udpStats(path.join(run, 'udp_after.txt'));
  } finally {
    if (cpumon) await stop(cpumon, 'SIGTERM', 3000);
    if (sampler) await stop(sampler, 'SIGTERM', 3000);
  }
  const srv = await stop(server, 'SIGTERM', 10000);
  // analyze_media.py reads rtpengine's log for its own counts (none here: an empty file)
  // and SIPp's round trips from rtt.csv, as run_media.sh leaves them.
  writeFileSync(path.join(run, 'rtpengine.log'), '');
  const rtt = readdirSync(run).find((f) => /^uac_media_\d+_rtt\.csv$/.test(f));
  if (rtt) renameSync(path.join(run, rtt), path.join(run, 'rtt.csv'));
  const a = sh('/usr/bin/python3', [
    path.join(PEERS, 'analyze_media.py'),
    run,
    '--calls',
    String(calls),
    '--hold',
    String(o.hold),
    '--ramp',
    String(ramp),
  ]);
  const summary = `${a.stdout}${a.stderr}callwatch exit on SIGTERM: ${srv.killed ? 'killed after 10 s' : srv.code}\n`;
  writeFileSync(path.join(run, 'summary.txt'), summary);
  const s = parseMediaSummary(summary);
  const cpu = Number(/\bcallwatch=([\d.]+)/.exec(s.cpu)?.[1] ?? NaN);
  const usPerPkt = (cpu * 1e4) / (calls * 100);
  const ok = Number(/^UAC calls ok=(\d+)/m.exec(summary)?.[1] ?? 0);
  const delivered = Number(/^rtp delivered to SIPp=(\d+)/m.exec(summary)?.[1] ?? 0);
  return { run, calls, summary, s, cpu, usPerPkt, ok, delivered, serverExit: srv };
}

const line = (who, r) =>
  `${who} calls=${r.calls} | verdict ${r.s.verdict} | loss ${r.s.lossPct ?? '?'} % | ` +
  `${who === 'callwatch' ? `callwatch CPU ${f1(r.cpu)} % = ${f1(r.usPerPkt)} µs/pkt` : `rtpengine ${r.s.usPerPkt ?? '?'} µs/pkt`} | cpu ${r.s.cpu} | ${r.run ?? r.s.run ?? '?'}`;

async function main() {
  const argv = process.argv.slice(2);
  const o = parseArgs(argv);
  const mach = prepare(o);
  const command = commandLine('relaySipp.bench.mjs');
  const mediaIo = mediaIoPath();
  console.log(`media I/O: ${mediaIo}; recording off; workers ${os.availableParallelism()}`);
  if (o.peer && !ensureRtpengine()) {
    console.log('rtpengine could not be installed: no peer runs');
    o.peer = false;
  }
  const t0 = Date.now();
  const rows = [];
  const peers = [];
  let best = null;
  let stoppedEarly = '';
  outer: for (const n of o.callList) {
    let pass = 0;
    for (let i = 1; i <= o.repeat; i += 1) {
      if (Date.now() - t0 > o.maxMinutes * 60000) {
        stoppedEarly = `time limit of ${o.maxMinutes} min reached`;
        break outer;
      }
      const r = await runCallwatch(o, n, i);
      rows.push(r);
      console.log(line('callwatch', r));
      if (r.s.verdict === 'PASS') pass += 1;
      if (o.peer) {
        const p = { calls: n, ...(await runMediaPeer(n)) };
        peers.push(p);
        console.log(line('rtpengine', { ...p, s: p, run: p.run }));
      }
    }
    if (2 * pass > o.repeat) best = n;
    else {
      stoppedEarly = `most runs failed at ${n} calls`;
      break;
    }
  }
  const peerBest = Math.max(0, ...peers.filter((p) => p.verdict === 'PASS').map((p) => p.calls));
  const summary = [
    `callwatch: largest count where most runs PASS: ${best ?? 'none'}${stoppedEarly ? ` (${stoppedEarly})` : ''}`,
    ...(o.peer ? [`rtpengine: largest count that passed: ${peerBest || 'none'}`] : []),
    ...o.callList
      .map((n) => {
        const mine = rows.filter((r) => r.calls === n && Number.isFinite(r.usPerPkt));
        const theirs = peers.filter((p) => p.calls === n && p.usPerPkt !== null);
        if (!mine.length || !theirs.length) return null;
        const med = (xs) => [...xs].sort((x, y) => x - y)[Math.floor((xs.length - 1) / 2)];
        const us = med(mine.map((r) => r.usPerPkt));
        const them = med(theirs.map((p) => p.usPerPkt));
        return `at ${n} calls: callwatch ${f1(us)} µs CPU per relayed packet, rtpengine ${f1(them)} (callwatch/rtpengine ${(us / them).toFixed(2)}×)`;
      })
      .filter(Boolean),
  ];
  for (const l of summary) console.log(l);
  emitResult({
    bench: 'relaySipp',
    produced: rows.some((r) => r.ok > 0 && r.delivered > 0),
    runs: rows.length,
    best,
    peerBest: o.peer ? peerBest : null,
  });
  if (o.results) {
    appendLines(o.results, [
      ...resultsHead(
        o,
        'Relayed calls through the whole server, driven by SIPp as the rtpengine peer',
        mach,
        command,
        [
          `media I/O: ${mediaIo}; media workers ${os.availableParallelism()} (rtpengine num-threads 2); recording and monitoring off`,
          `both sides: SIPp uac_media.xml/uas_media.xml from the peers' scenarios, 30 s of A-law each way per call (${PACKETS_PER_STREAM} packets per stream), calls started at N/8 per second; verdict and loss from analyze_media.py (SIPp socket counters) for both`,
        ],
      ),
      '',
      '| who | calls | verdict | loss % | CPU % (one core) | µs CPU per relayed packet | raw |',
      '|---|---|---|---|---|---|---|',
      ...rows.map(
        (r) =>
          `| callwatch | ${r.calls} | ${r.s.verdict} | ${r.s.lossPct ?? '?'} | ${f1(r.cpu)} | ${f1(r.usPerPkt)} | ${r.run} |`,
      ),
      ...peers.map(
        (p) =>
          `| rtpengine | ${p.calls} | ${p.verdict} | ${p.lossPct ?? '?'} | ${p.cpu} | ${p.usPerPkt ?? '?'} | ${p.run ?? '?'} |`,
      ),
      '',
      ...summary.map((l) => `- ${l}`),
    ]);
  }
}

runSippMain(main);
