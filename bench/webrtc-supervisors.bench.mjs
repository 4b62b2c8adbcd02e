#!/usr/bin/env node
/**
 * Browser supervisors on one core: calls monitored in listen mode, each by a supervisor
 * whose leg is a browser's (WebRTC: ICE-lite, DTLS-SRTP, Opus; docs/architecture.md
 * §3.2.2) or, for comparison in the same run, a desk phone's (plain PCMU). One media
 * worker (one core), the built engine (dist/media), driven by bench/lib/supervisorLoad.mjs
 * (a separate process; a browser there is the server's own SecurePair in the DTLS client
 * role, so no browser's cost is in the figures, and its SRTP is encrypted ahead).
 *
 *   node bench/webrtc-supervisors.bench.mjs [options]
 *
 *   --calls "10 50 100 …"   concurrent monitored calls per run, ascending (default below);
 *                           each count runs with browser supervisors, then desk ones
 *   --kinds "webrtc plain"  which supervisor kinds (default both)
 *   --reps R                runs per (count, kind), interleaved (default 1)
 *   --secs S                measured window (default 10), after a 2 s warm-up
 *   --keep-going            do not stop at the first count whose browser run fails
 *   --max-minutes M         start no new run after M minutes (default 10)
 *   --port-min P --port-max Q   engine RTP ports (default 41000-44999)
 *   --no-build              do not run `npm run build` first
 *   --results FILE          append a markdown block to FILE (nothing is written otherwise)
 *   --smoke                 5 calls, both kinds, 2 s windows, nothing written
 *
 * Per call: customer and agent legs (PCMU, the generator sends a 440 Hz tone and silence
 * at 50 pps), the supervisor's leg and a room with customer ↔ agent relayed and the
 * supervisor in listen mode: it hears both, so the room mixes every 20 ms and encodes the
 * mix for it (Opus for a browser, PCMU for a desk phone); a browser's leg also
 * protects every packet it is sent and unprotects the 50 pps the browser sends (SRTP,
 * werift). Figures: the worker thread's CPU (engine stats, schedstat) over the window,
 * per supervisor-second (CPU ms per second per call, the whole call: relay of customer
 * and agent, the mix, the supervisor's encode and SRTP); the difference browser − desk at
 * the same count is what a browser supervisor adds. PASS for a count = lost + late ≤
 * 0.1 % of the frames expected at the supervisors (late: transit > 60 ms above the
 * socket's lowest), every supervisor heard something, and the generator held ≥ 97 % of
 * its nominal rate. "One core holds" = the largest count that passed; its worker CPU says
 * how close to the core's limit it ran.
 */
import { fork } from 'node:child_process';
import { appendFileSync } from 'node:fs';
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  REPO,
  applySmoke,
  commandLine,
  commonFlags,
  emitResult,
  f1,
  f2,
  intList,
  loadavg,
  machine,
  mediaIoPath,
  nextMessage,
  parseFlags,
  sleep,
  track,
} from './lib/benchRuntime.mjs';
import {
  createEngine,
  endGenerator,
  loadMediaEngine,
  stopGenerator,
  sumWorkers,
} from './lib/mediaBench.mjs';

const WARMUP_MS = 2000;
const argv = process.argv.slice(2);
const o = parseFlags(
  argv,
  {
    calls: [10, 50, 100, 150, 200],
    kinds: ['webrtc', 'plain'],
    reps: 1,
    secs: 10,
    keepGoing: false,
    maxMinutes: 10,
    portMin: 41000,
    portMax: 44999,
    build: true,
    results: null,
    smoke: false,
  },
  {
    ...commonFlags,
    '--calls': ['calls', (v) => intList(v, '--calls')],
    '--kinds': ['kinds', (v) => v.split(/[\s,]+/).filter(Boolean)],
    '--reps': ['reps', Number],
    '--secs': ['secs', Number],
    '--keep-going': { keepGoing: true },
    '--port-min': ['portMin', Number],
    '--port-max': ['portMax', Number],
  },
  import.meta.url,
);
applySmoke(argv, o, { calls: [5], kinds: ['webrtc', 'plain'], reps: 1, secs: 2 });
for (const k of o.kinds) if (k !== 'webrtc' && k !== 'plain') throw new Error(`unknown kind ${k}`);

const MediaEngine = await loadMediaEngine(o);
const { roomRoutes } = await import(
  pathToFileURL(path.join(REPO, 'dist/src/monitoring/routeMatrix.js')).href
);
const { newIceCredentials } = await import(
  pathToFileURL(path.join(REPO, 'dist/media/engine/index.js')).href
);

/** One run: `calls` monitored calls whose supervisors are of `kind`; the measured figures. */
async function runOnce(calls, kind) {
  const engine = await createEngine(MediaEngine, o, 1);
  let gen;
  try {
    gen = track(
      fork(path.join(REPO, 'bench/lib/supervisorLoad.mjs'), [], {
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      }),
    );
    const portsMsg = nextMessage(gen, 'ports', 60000);
    gen.send({ type: 'setup', calls, kind });
    // The generator's sockets, and (browsers) its ICE credentials and certificate fingerprint.
    const hello = await portsMsg;
    const { ports } = hello;
    const identity = kind === 'webrtc' ? await engine.dtlsIdentity() : null;
    const targets = new Array(3 * calls);
    const ices = [];
    for (let c = 0; c < calls; c++) {
      const group = `call-${c}`;
      const leg = (port, codecs) =>
        engine.createLeg({
          codecs,
          ...(port === null ? {} : { remote: { address: '127.0.0.1', port, rtcpMux: true } }),
          group,
          callId: group,
        });
      const pcmu = [{ name: 'PCMU', payloadType: 0 }];
      const customer = await leg(ports[3 * c], pcmu);
      const agent = await leg(ports[3 * c + 1], pcmu);
      let supervisor;
      if (kind === 'webrtc') {
        supervisor = await leg(null, [{ name: 'opus', payloadType: 111 }]);
        const ice = newIceCredentials();
        ices.push(ice);
        await supervisor.secure(
          ice,
          { ice: hello.ice, fingerprints: [hello.fingerprint], dtlsRole: 'server' },
          identity.certificate,
        );
      } else {
        supervisor = await leg(ports[3 * c + 2], pcmu);
      }
      const room = await engine.createRoom({ group });
      await room.setRoutes(
        roomRoutes([
          { id: customer, role: 'customer' },
          { id: agent, role: 'agent' },
          { id: supervisor, role: 'supervisor', mode: 'listen' },
        ]),
      );
      targets[3 * c] = customer.localPort;
      targets[3 * c + 1] = agent.localPort;
      targets[3 * c + 2] = supervisor.localPort;
    }
    const frames = Math.ceil((WARMUP_MS + o.secs * 1000 + 5000) / 20);
    const connected = nextMessage(gen, 'connected', 120000);
    gen.send({
      type: 'connect',
      targets,
      ice: ices,
      ourIce: hello.ice,
      fingerprint: identity?.fingerprint ?? null,
      frames,
    });
    // A browser whose DTLS did not complete (a starved machine) is counted, and its
    // supervisor is silent: the run fails rather than stops.
    const { failed } = await connected;
    if (failed > 0) console.error(`  ${failed} of ${calls} browser supervisors did not connect`);
    const startedMsg = nextMessage(gen, 'started', 30000);
    gen.send({ type: 'start', warmupMs: WARMUP_MS });
    await startedMsg;
    await sleep(WARMUP_MS);
    const s0 = sumWorkers(await engine.getStats({ legs: false }));
    const t0 = performance.now();
    const load0 = loadavg();
    await sleep(o.secs * 1000);
    const reports = await engine.getStats({ legs: false });
    const s1 = sumWorkers(reports);
    const wallMs = performance.now() - t0;
    const g = await stopGenerator(gen);
    const workerCpuMs = s1.cpuMs - s0.cpuMs;
    const lossPct = g.expected > 0 ? (100 * (g.lost + g.late)) / g.expected : 100;
    const held = g.sent / g.nominal;
    return {
      calls,
      kind,
      workerPct: (100 * workerCpuMs) / wallMs,
      msPerCallSecond: workerCpuMs / (calls * (wallMs / 1000)),
      pktIn: ((s1.inn - s0.inn) * 1000) / wallMs,
      pktOut: ((s1.out - s0.out) * 1000) / wallMs,
      received: g.received,
      expected: g.expected,
      lost: g.lost,
      late: g.late,
      silent: g.silent,
      unconnected: failed,
      lossPct,
      held,
      genCpuMs: g.genCpuMs,
      pass: lossPct <= 0.1 && g.silent === 0 && failed === 0 && held >= 0.97,
      load: `${load0} → ${loadavg()}`,
      mediaIo: mediaIoPath(reports),
    };
  } finally {
    if (gen !== undefined) await endGenerator(gen);
    await Promise.race([engine.close(), sleep(15000)]);
  }
}

const startedAt = Date.now();
const rows = [];
outer: for (const calls of o.calls) {
  for (let rep = 0; rep < o.reps; rep++) {
    for (const kind of o.kinds) {
      if (Date.now() - startedAt > o.maxMinutes * 60000) break outer;
      const r = await runOnce(calls, kind);
      rows.push(r);
      console.log(
        `${calls} calls, ${kind} supervisors: worker ${f1(r.workerPct)} % of a core, ` +
          `${f2(r.msPerCallSecond)} ms CPU per call-second, supervisors got ${r.received}/${r.expected} ` +
          `(lost ${r.lost}, late ${r.late}, silent ${r.silent}), generator held ${f1(100 * r.held)} % ` +
          `→ ${r.pass ? 'PASS' : 'FAIL'}`,
      );
    }
  }
  const failed = rows.some((r) => r.calls === calls && r.kind === 'webrtc' && !r.pass);
  if (failed && !o.keepGoing) break;
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s[Math.floor((s.length - 1) / 2)];
};
const summary = [];
for (const calls of o.calls) {
  const at = (kind) => rows.filter((r) => r.calls === calls && r.kind === kind);
  const web = at('webrtc');
  const plain = at('plain');
  if (web.length === 0 && plain.length === 0) continue;
  const mw = median(web.map((r) => r.msPerCallSecond));
  const mp = median(plain.map((r) => r.msPerCallSecond));
  summary.push({
    calls,
    webrtcMs: mw,
    plainMs: mp,
    addedMs: mw - mp,
    webrtcPct: median(web.map((r) => r.workerPct)),
    plainPct: median(plain.map((r) => r.workerPct)),
    webrtcLoss: median(web.map((r) => r.lossPct)),
    plainLoss: median(plain.map((r) => r.lossPct)),
    unconnected: Math.max(0, ...web.map((r) => r.unconnected)),
    webrtcPass: web.length > 0 && web.every((r) => r.pass),
    plainPass: plain.length > 0 && plain.every((r) => r.pass),
  });
}
const held = summary.filter((s) => s.webrtcPass).map((s) => s.calls);
const most = held.length > 0 ? Math.max(...held) : 0;
const perSup = median(summary.map((s) => s.webrtcMs).filter(Number.isFinite));
const addedPerSup = median(summary.map((s) => s.addedMs).filter(Number.isFinite));

const m = machine();
const md = [
  `## Browser supervisors on one core — ${new Date().toISOString()}`,
  '',
  `- machine: ${m.nproc} CPU (${m.cpu}), kernel ${m.kernel}; node ${m.node}; ${os.cpus().length} cores, shared with other work (figures are worker-thread CPU, which others' load does not inflate; capacity is).`,
  `- command: \`${commandLine('webrtc-supervisors.bench.mjs')}\``,
  `- one media worker; per call customer + agent (PCMU, 50 pps each, relayed to each other) and a supervisor in listen mode (mixed, encoded for it): a browser (WebRTC, Opus, SRTP both ways, 50 pps uplink) or a desk phone (PCMU); ${WARMUP_MS / 1000} s warm-up, ${o.secs} s window, ${o.reps} run(s) per count and kind, interleaved; medians.`,
  '',
  '| calls | worker CPU % (browser / desk) | ms CPU per call-second (browser / desk) | browser adds, ms per supervisor-second | lost + late % (browser / desk) | browsers not connected | PASS (browser / desk) |',
  '| ---: | ---: | ---: | ---: | ---: | ---: | :---: |',
  ...summary.map(
    (s) =>
      `| ${s.calls} | ${f1(s.webrtcPct)} / ${f1(s.plainPct)} | ${f2(s.webrtcMs)} / ${f2(s.plainMs)} | ${f2(s.addedMs)} | ${f2(s.webrtcLoss)} / ${f2(s.plainLoss)} | ${s.unconnected} | ${s.webrtcPass ? 'yes' : 'no'} / ${s.plainPass ? 'yes' : 'no'} |`,
  ),
  '',
  `One core held ${most} concurrent browser supervisors (each on its own call) with loss + late ≤ 0.1 %; a browser-monitored call costs ${f2(perSup)} ms CPU per second, of which the browser supervisor (Opus encode of the mix, SRTP protect and unprotect) adds ${f2(addedPerSup)} ms over a desk supervisor: 1000 / ${f2(perSup)} ≈ ${f1(1000 / perSup)} such calls per core at 100 %.`,
  '',
];
console.log(md.join('\n'));
emitResult({
  bench: 'webrtc-supervisors',
  produced: rows.length > 0 && rows.every((r) => r.received > 0),
  rows: rows.length,
  held: most,
  recording: 'off',
  mediaIo: rows[0]?.mediaIo,
});
if (o.results !== null) {
  appendFileSync(o.results, `\n${md.join('\n')}`);
  console.log(`appended to ${o.results}`);
}
process.exit(0);
