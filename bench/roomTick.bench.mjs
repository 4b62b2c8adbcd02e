/**
 * The media worker's JavaScript cost per monitored room tick, in process and without
 * sockets: N rooms as bench/mixer.bench.mjs part 2 sets them up (customer, agent and a
 * supervisor in listen mode, PCMU, one room per call, a stereo WAV recording) inside one
 * WorkerCore (dist/media/worker/workerCore.js) whose packet io is a stand-in that keeps
 * the receivers and only counts sends. Each simulated 20 ms tick delivers one 160-byte
 * µ-law packet per leg (as the native io delivers them: one batch per socket), runs the
 * rooms' frames, and every 5 ticks drains the recordings as the worker's sweep does.
 *
 * What it measures is this thread's CPU time (/proc/thread-self/schedstat, as the worker's
 * own stats read it: media/worker/threadCpu.ts; not GC helper threads), divided by rooms ×
 * ticks: little changed by the machine's other load, apart from cache and SMT effects.
 * It does NOT include the kernel's sends (the io is a stand-in) nor the writer thread.
 *
 *   node bench/roomTick.bench.mjs [--rooms 200] [--ticks 3000] [--rounds 5] [--dist DIR]...
 *                                 [--talk on|off]
 * --dist: a build to measure (default ./dist). Given twice (e.g. a copy of main's build,
 *   then ./dist), both are set up in this process and the rounds alternate between them
 *   (A/B interleaved); the per-round ratio cancels the machine's drift.
 * --talk on: customer and agent send a 400 Hz / 1 kHz tone (default), off: µ-law silence.
 * --turns: instead of the cost per room tick, the longest stretches the packet path waits
 *   behind room work: the core's own frame (WorkerCore.frame, every room) and, every 5
 *   ticks, its sweep (the recordings' drains) run as the worker runs them, and each turn
 *   of the event loop that does room work is timed (process CPU, µs; a build that slices
 *   the rooms, media/worker/slicedRun.ts, takes several short turns). Percentiles per
 *   build, builds one after the other (--ticks ticks each).
 * Add --cpu-prof to node to profile.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { setImmediate } from 'node:timers';
import { pathToFileURL } from 'node:url';

const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : dflt;
};
const ROOMS = Number(opt('--rooms', '200'));
const TICKS = Number(opt('--ticks', '3000'));
const ROUNDS = Number(opt('--rounds', '5'));
const TALK = opt('--talk', 'on') === 'on';
const DISTS = args.flatMap((a, i) => (a === '--dist' ? [path.resolve(args[i + 1])] : []));
if (DISTS.length === 0) DISTS.push(path.resolve('dist'));

// µ-law payloads: a tone per speaker (or silence), 20 ms each, a second's worth cycled.
const MU_SILENCE = 0xff;
function muLaw(sample) {
  const BIAS = 0x84;
  let sign = 0;
  let s = sample;
  if (s < 0) {
    sign = 0x80;
    s = -s;
  }
  if (s > 32635) s = 32635;
  s += BIAS;
  let exp = 7;
  for (let mask = 0x4000; (s & mask) === 0 && exp > 0; mask >>= 1) exp--;
  const mant = (s >> (exp + 3)) & 0x0f;
  return ~(sign | (exp << 4) | mant) & 0xff;
}
const tone = (hz) =>
  Array.from({ length: 50 }, (_, f) => {
    const b = Buffer.alloc(160);
    for (let i = 0; i < 160; i++)
      b[i] = muLaw(Math.round(8000 * Math.sin((2 * Math.PI * hz * (f * 160 + i)) / 8000)));
    return b;
  });
const silence = Array.from({ length: 50 }, () => Buffer.alloc(160, MU_SILENCE));
const payloads = TALK ? [tone(400), tone(1000), silence] : [silence, silence, silence];

/** One build's worker with its rooms set up, ready to run ticks. */
async function bed(DIST) {
  const load = (p) => import(pathToFileURL(path.join(DIST, p)).href);
  const { WorkerCore } = await load('media/worker/workerCore.js');
  const { roomRoutes } = await load('src/monitoring/routeMatrix.js');

  /** A pair that keeps its receiver and counts what is sent. */
  class StubPair {
    constructor(port) {
      this.address = '127.0.0.1';
      this.port = port;
      this.counters = {
        datagramsIn: 0,
        bytesIn: 0,
        datagramsOut: 0,
        bytesOut: 0,
        sendErrors: 0,
        receiveErrors: 0,
      };
      this.receiver = null;
    }
    receive(r) {
      this.receiver = r;
    }
    send(channel, buf, offset, length) {
      this.counters.datagramsOut++;
      this.counters.bytesOut += length;
    }
    holds() {
      return false;
    }
    async close() {}
  }
  const pairs = new Map();
  const io = {
    name: 'stub',
    async bindPair(address, port) {
      const p = new StubPair(port);
      pairs.set(port, p);
      return p;
    },
    counters() {
      return {
        datagramsIn: 0,
        bytesIn: 0,
        datagramsOut: 0,
        bytesOut: 0,
        sendErrors: 0,
        receiveErrors: 0,
      };
    },
    async close() {},
  };
  /** A recording file that discards (the writer thread is not what is measured). */
  const nullFile = async () => ({
    async write(buf, offset, length) {
      return { bytesWritten: length };
    },
    async writeParts(parts) {
      return parts.reduce((n, p) => n + p.length, 0);
    },
    async close() {},
  });

  const posted = [];
  const config = {
    index: 0,
    address: '127.0.0.1',
    rtpTimeoutMs: 0,
    latchWindowMs: 5000,
    statsIntervalMs: 0,
    rtcpIntervalMs: 5000,
    sweepIntervalMs: 100,
    jitter: { minDepthMs: 40, maxDepthMs: 200 },
  };
  const core = new WorkerCore(config, { post: (e) => posted.push(e) }, io, nullFile);
  // The harness drives the frames itself: the core's clock must not run them too.
  core.clock.start = () => {};
  core.clock.stop();

  let nextId = 1;
  const run = (cmd) =>
    new Promise((resolve, reject) => {
      const id = nextId++;
      const before = posted.length;
      core.handle({ ...cmd, id });
      const poll = () => {
        const reply = posted.slice(before).find((e) => e.type === 'reply' && e.id === id);
        if (!reply) return setImmediate(poll);
        if (reply.ok) resolve(reply.result);
        else reject(new Error(JSON.stringify(reply.error)));
      };
      poll();
    });

  const dir = mkdtempSync(path.join(tmpdir(), 'callwatch-roomtick-'));
  const legs = []; // per room: [customer, agent, supervisor] { pair, ssrc, seq, ts, peerPort }
  let port = 20000;
  for (let r = 1; r <= ROOMS; r++) {
    const ls = [];
    for (let k = 0; k < 3; k++) {
      const legId = r * 10 + k;
      const p = port;
      port += 2;
      const peerPort = 40000 + ((p - 20000) % 20000);
      await run({
        type: 'createLeg',
        leg: {
          legId,
          port: p,
          codecs: [{ name: 'PCMU', payloadType: 0 }],
          telephoneEvent: { payloadType: 101, clockRate: 8000 },
          remote: { address: '127.0.0.1', port: peerPort, rtcpPort: peerPort + 1 },
          direction: 'sendrecv',
          forwardDtmf: k !== 2,
          label: null,
        },
      });
      ls.push({ legId, pair: pairs.get(p), ssrc: (0x1000 + legId) >>> 0, seq: 0, ts: 0, peerPort });
    }
    await run({ type: 'createRoom', roomId: r });
    const routes = roomRoutes([
      { id: ls[0].legId, role: 'customer' },
      { id: ls[1].legId, role: 'agent' },
      { id: ls[2].legId, role: 'supervisor', mode: 'listen' },
    ]);
    await run({
      type: 'setRoutes',
      roomId: r,
      members: routes.members.map((m) => ({
        legId: m.leg,
        hears: m.hears.map((h) => ({ legId: h.leg, gain: h.gain })),
      })),
      recordingTracks: routes.recordingTracks,
    });
    await run({
      type: 'startRecording',
      roomId: r,
      recording: { path: path.join(dir, `${r}.wav`), channels: 2 },
    });
    legs.push(ls);
  }
  const rooms = [...core.rooms.values()];

  // One batch object per delivery (the io reuses its own; so does the stand-in).
  const buf = Buffer.alloc(2048);
  const batch = {
    count: 1,
    buffers: [buf],
    lengths: new Int32Array(1),
    addresses: ['127.0.0.1'],
    ports: new Int32Array(1),
    arrivalMs: new Float64Array(1),
  };
  function deliver(leg, payload, nowMs) {
    buf[0] = 0x80;
    buf[1] = 0;
    buf.writeUInt16BE(leg.seq & 0xffff, 2);
    buf.writeUInt32BE(leg.ts >>> 0, 4);
    buf.writeUInt32BE(leg.ssrc, 8);
    payload.copy(buf, 12);
    leg.seq++;
    leg.ts += 160;
    batch.lengths[0] = 172;
    batch.ports[0] = leg.peerPort;
    batch.arrivalMs[0] = nowMs;
    leg.pair.receiver.rtp(batch);
  }

  const { threadCpuMs } = await load('media/worker/threadCpu.js');
  /** This thread's CPU time in µs. */
  const cpuNow = () => threadCpuMs() * 1000;
  let simMs = performance.now();
  let tick = 0;
  /** Process CPU in µs (fine-grained, unlike schedstat; no other busy thread here). */
  const cpuFine = () => {
    const u = process.cpuUsage();
    return u.user + u.system;
  };
  const turn = () => new Promise((resolve) => setImmediate(resolve));
  const queued = () => (core.roomFrames?.pending ?? 0) + (core.recordingDrains?.pending ?? 0);
  /** The next tick's packets, one per leg, arrivals spread over it as from independent phones. */
  function arrive() {
    simMs += 20;
    const f = tick % 50;
    for (let r = 0; r < legs.length; r++) {
      const ls = legs[r];
      deliver(ls[0], payloads[0][f], simMs - 7);
      deliver(ls[1], payloads[1][f], simMs - 5);
      deliver(ls[2], payloads[2][f], simMs - 3);
    }
  }
  /** --turns: `n` ticks through the core's frame and sweep; the CPU µs of each turn. */
  async function runTurns(n) {
    const turns = [];
    for (let t = 0; t < n; t++, tick++) {
      arrive();
      const work = [() => core.frame(tick + 1, simMs, simMs)];
      if (tick % 5 === 4) work.push(() => core.sweep());
      for (const w of work) {
        let c0 = cpuFine();
        w();
        turns.push(cpuFine() - c0);
        // The rest of a sliced run: one slice per turn (ours is queued behind it).
        while (queued() > 0) {
          c0 = cpuFine();
          await turn();
          turns.push(cpuFine() - c0);
        }
      }
    }
    return turns;
  }
  function runTicks(n) {
    for (let t = 0; t < n; t++, tick++) {
      arrive();
      for (let r = 0; r < rooms.length; r++) rooms[r].frame(tick, simMs);
      if (tick % 5 === 4) for (let r = 0; r < rooms.length; r++) rooms[r].drainRecording(simMs);
    }
  }

  const close = async () => {
    await core.close();
    rmSync(dir, { recursive: true, force: true });
  };
  const sent = () => [...pairs.values()].reduce((n, p) => n + p.counters.datagramsOut, 0);
  return { dist: DIST, runTicks, runTurns, close, sent, ticks: () => tick, cpuNow };
}

if (args.includes('--turns')) {
  for (const dist of DISTS) {
    const b = await bed(dist);
    await b.runTurns(200); // warm-up
    const t = (await b.runTurns(TICKS)).sort((x, y) => x - y);
    const q = (p) => t[Math.min(t.length - 1, Math.floor(p * t.length))].toFixed(0);
    console.log(
      `turns ${dist}: ${ROOMS} rooms, ${TICKS} ticks: ${t.length} turns with room work, CPU µs per turn p50 ${q(0.5)} p90 ${q(0.9)} p99 ${q(0.99)} max ${t[t.length - 1].toFixed(0)}`,
    );
    await b.close();
  }
  process.exit(0);
}

const beds = [];
for (const dist of DISTS) {
  const b = await bed(dist);
  b.runTicks(500); // warm-up: JIT, jitter buffers anchored, rings taken
  b.results = [];
  beds.push(b);
}
// Rounds alternate between the builds, so both see the same machine (A/B interleaved).
for (let round = 0; round < ROUNDS; round++) {
  for (const b of beds) {
    const c0 = b.cpuNow();
    b.runTicks(TICKS);
    b.results.push((b.cpuNow() - c0) / (ROOMS * TICKS));
  }
  console.log(
    `round ${round + 1}: ${beds.map((b) => b.results[round].toFixed(2)).join(' / ')} µs per room tick`,
  );
}
for (const b of beds) {
  const r = [...b.results].sort((x, y) => x - y);
  console.log(
    `roomTick ${b.dist}: ${ROOMS} rooms, ${TICKS} ticks × ${ROUNDS}, talk ${TALK ? 'on' : 'off'}: median ${r[Math.floor(ROUNDS / 2)].toFixed(2)} µs per room tick (min ${r[0].toFixed(2)}), ${(b.sent() / (ROOMS * b.ticks())).toFixed(2)} sends per room tick`,
  );
}
if (beds.length === 2) {
  // Per round ratio second / first: the machine's drift cancels within a round.
  const ratios = beds[0].results.map((x, i) => beds[1].results[i] / x).sort((x, y) => x - y);
  console.log(
    `ratio ${path.basename(path.dirname(beds[1].dist))} / ${path.basename(path.dirname(beds[0].dist))} per round: median ${ratios[Math.floor(ROUNDS / 2)].toFixed(3)} (range ${ratios[0].toFixed(3)}–${ratios[ROUNDS - 1].toFixed(3)})`,
  );
}
for (const b of beds) await b.close();
process.exit(0);
