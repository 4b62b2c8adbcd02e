/**
 * What the media-engine benchmarks (relay, mixer, recording) share: loading the built
 * engine (dist/media), a fresh engine per run, its calls' legs, the forked RTP generator's lifecycle (its IPC
 * protocol: bench/lib/rtpLoad.mjs, bench/lib/roomLoad.mjs), kernel counters of the
 * engine's sockets, and the summary block.
 */
import { fork } from 'node:child_process';
import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { REPO, build, nextMessage, sleep, stop, track, waitExit } from './benchRuntime.mjs';

/** Builds (unless `o.build` is false) and imports dist/media's MediaEngine. */
export async function loadMediaEngine(o) {
  if (o.build) build();
  const entry = path.join(REPO, 'dist/media/engine/index.js');
  if (!existsSync(entry)) throw new Error(`${entry} missing: run npm run build`);
  return (await import(pathToFileURL(entry).href)).MediaEngine;
}

let engineWarnings = 0; // e.g. a port pair in use by another process (retried)
const silent = {
  child() {
    return this;
  },
  debug() {},
  info() {},
  warn: (o, m) => {
    if (++engineWarnings <= 3) console.error('  engine WARN', m, JSON.stringify(o));
  },
  error: (o, m) => console.error('  engine ERROR', m, o),
};

/**
 * A fresh engine on o.portMin-o.portMax: no RTP timeout; periodic stats every 2 s as the
 * server runs it (src/server.ts), so their cost is inside the window.
 */
export function createEngine(MediaEngine, o, workers) {
  return MediaEngine.create({
    address: '127.0.0.1',
    portRange: { min: o.portMin, max: o.portMax },
    rtpTimeoutMs: 0,
    latchWindowMs: 5000,
    workers,
    statsIntervalMs: 2000,
    // No RTCP during the run: the unread sockets' counts are datagrams, RTP only.
    rtcpIntervalMs: 3600000,
    logger: silent,
    // media.io for an A/B run: CALLWATCH_MEDIA_IO=dgram|native (default: the engine's, native).
    ...(process.env.CALLWATCH_MEDIA_IO ? { io: process.env.CALLWATCH_MEDIA_IO } : {}),
  });
}

/** Forks the generator `file` (bench/lib/…) and sets it up; resolves its socket ports. */
export async function forkGenerator(file, setup) {
  const gen = track(
    fork(path.join(REPO, file), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }),
  );
  try {
    const genPorts = nextMessage(gen, 'ports', 60000);
    gen.send({ type: 'setup', ...setup });
    const { ports } = await genPorts;
    return { gen, ports };
  } catch (error) {
    await endGenerator(gen);
    throw error;
  }
}

/** Starts the generator's schedule toward `targets` and waits out the warm-up. */
export async function startGenerator(gen, targets, warmupMs) {
  const startedMsg = nextMessage(gen, 'started', 30000);
  gen.send({ type: 'start', targets, warmupMs });
  await startedMsg;
  await sleep(warmupMs);
}

/** Stops the generator's schedule; resolves its result. */
export async function stopGenerator(gen, msg = {}) {
  const resultMsg = nextMessage(gen, 'result', 30000);
  gen.send({ type: 'stop', ...msg });
  return resultMsg;
}

/** Lets the generator exit after its result (3 s), else stops that PID. */
export async function endGenerator(gen) {
  if (!(await waitExit(gen, 3000))) await stop(gen, 'SIGTERM', 5000);
}

/**
 * CPU ms of the engine's recording writer thread (0 for a build without one): recording's
 * file I/O runs there, so what recording costs is the workers' CPU plus this.
 */
export async function writerCpuMs(engine) {
  if (typeof engine.getRecordingWriterStats !== 'function') return 0;
  const s = await engine.getRecordingWriterStats();
  return s?.cpuMs ?? NaN;
}

/** Worker CPU and packet counters summed over engine.getStats()'s reports, and per worker. */
export function sumWorkers(reports) {
  let cpuMs = 0;
  let out = 0;
  let inn = 0;
  let drops = 0;
  const perWorker = [];
  for (const r of reports) {
    const w = r.worker;
    cpuMs += w.cpuMs ?? NaN;
    out += w.counters.packetsOut;
    inn += w.counters.packetsIn;
    for (const [k, v] of Object.entries(w.counters))
      if (k.startsWith('drop') || k === 'internalErrors') drops += v;
    perWorker.push({ cpuMs: w.cpuMs ?? NaN, out: w.counters.packetsOut, legs: w.legs });
  }
  return { cpuMs, out, inn, drops, perWorker };
}

/**
 * `calls` calls of `legs` PCMU legs each (group and call id `call-<c>`, remote = the
 * generator's sockets `ports[legs * c + r]`), set up 50 calls at a time; `setup(group,
 * callLegs)` then does the call's own part (its room, its recording). Resolves the engine
 * ports the generator sends to (in the same order as `ports`) and their set.
 */
export async function createCalls(engine, calls, legs, ports, setup) {
  const targets = new Array(legs * calls);
  const legPorts = new Set();
  const BATCH = 50;
  for (let c0 = 0; c0 < calls; c0 += BATCH) {
    const batch = [];
    for (let c = c0; c < Math.min(calls, c0 + BATCH); c++) {
      batch.push(
        (async () => {
          const group = `call-${c}`;
          const ls = [];
          for (let r = 0; r < legs; r++) {
            ls.push(
              await engine.createLeg({
                codecs: [{ name: 'PCMU', payloadType: 0 }],
                remote: { address: '127.0.0.1', port: ports[legs * c + r], rtcpMux: true },
                group,
                callId: group,
              }),
            );
          }
          await setup(group, ls);
          ls.forEach((leg, r) => {
            targets[legs * c + r] = leg.localPort;
            legPorts.add(leg.localPort);
          });
        })(),
      );
    }
    await Promise.all(batch);
  }
  return { targets, legPorts };
}

/** Kernel drops and queued bytes on the engine's leg sockets (/proc/net/udp, by port). */
export function engineSockets(ports) {
  let drops = 0;
  let queued = 0;
  try {
    for (const line of readFileSync('/proc/net/udp', 'utf8').split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length < 13) continue;
      if (!ports.has(parseInt(f[1].split(':')[1], 16))) continue;
      drops += Number(f[f.length - 1]);
      queued += parseInt(f[4].split(':')[1], 16);
    }
  } catch {
    return null;
  }
  return { drops, queued };
}

export function printSummary(summary) {
  console.log('\nsummary');
  for (const l of summary) console.log(`  ${l}`);
}

/** Appends the markdown lines `md`, then the summary as a list, to `file`. */
export function appendResults(file, md, summary) {
  md.push('');
  md.push('Summary:');
  md.push('');
  for (const l of summary) md.push(`- ${l}`);
  md.push('');
  appendFileSync(file, md.join('\n'));
  console.log(`appended to ${file}`);
}

/** Runs main, then exits 0; on an error prints its stack and exits 1. */
export function runMain(main) {
  main().then(
    () => process.exit(0),
    (error) => {
      console.error(error?.stack ?? error);
      process.exit(1);
    },
  );
}
