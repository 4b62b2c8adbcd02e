/**
 * RTP load generator for bench/mixer.bench.mjs: calls of 2 legs (customer, agent) or 3
 * (customer, agent, supervisor), run as a separate process (child_process.fork) so its
 * CPU is neither the engine worker's nor the bench's main thread's.
 *
 * Protocol (IPC, plain objects):
 *   parent → { type: 'setup', calls, legs, probe, control, burstEvery }
 *                                              child → { type: 'ports', ports: [legs·calls] }
 *   parent → { type: 'start', targets, warmupMs } child → { type: 'started' }
 *   parent → { type: 'stop' }                   child → { type: 'result', … } and exits
 *
 * Call c is `legs` sockets: customer = socket legs·c, agent = +1, supervisor = +2, each
 * connected to its engine leg's RTP port. Every socket sends a 172-byte PCMU packet
 * (12-byte header + 160 bytes of μ-law silence, 0xFF) every 20 ms on a drift-free
 * schedule (frame n of socket s due at t0 + n·20 ms + (s mod 20) ms; a late timer sends
 * every overdue frame, so the count sent matches the elapsed time). The frames of one
 * 1 ms slot leave together through batchSend.mjs (one call into the native addon, one
 * io_uring submission), not one dgram send each: at 400 calls the per-send cost made this
 * generator, not the engine, the limit (its own control pairs were > 300 ms late).
 *
 * Latency without payload stamps. The mixer decodes, sums and re-encodes, so bytes in the
 * payload do not survive it; the customer of every probe call instead sends a BURST (a
 * full-scale square wave, μ-law 0x80/0x00) every `burstEvery` frames and silence
 * otherwise. The agent and supervisor send silence, so the only non-silent audio the agent
 * (relayed path) and the supervisor (mixed path: customer + silent agent, summed and
 * re-encoded) ever receive is that burst. Latency = arrival of the first non-silent packet
 * after a burst − the burst's send time (one process clock). Bursts are 1 s apart, far
 * more than any delay measured. The onset sample may sit anywhere in the mixed frame that
 * carries it (the jitter buffer's playout point need not be packet-aligned), so the mixed
 * path's figure is the arrival of the frame that first carries the burst.
 *
 * Frames received, lost, late (probe calls only: their sockets are read as packets
 * arrive, from the warm-up's end until 'stop'; the other calls' relayed legs are counted
 * at the end from the kernel's drop counters, unreadRelayed()). Per receiving socket, from the RTP header
 * the engine wrote: count; timestamps unwrapped to 64-bit; expected = (highest − lowest
 * timestamp) / 160 + 1 (the engine maps a relayed stream's timestamps by a fixed offset
 * and stamps mixed frames frameIndex × 160, so a frame it never sent or a mixer tick it
 * skipped is a hole); lost = expected − received. Late: a RELAYED packet (customer ↔
 * agent) arriving more than 60 ms after its actual send time. The send time is found
 * through the frame number, which rides in the silence itself: μ-law has two zeros (0xFF
 * = +0, 0x7F = −0), so the first 32 payload bytes of a probe leg's silent packet carry the
 * frame number's bits as +0/−0 — the audio is still digital silence, so the mixer's sum
 * and the recording are unchanged, and the relayed payload arrives byte for byte. A MIXED
 * packet (to the supervisor) is late when its transit (arrival − its timestamp / 8 ms)
 * is more than 60 ms above the socket's lowest: the mixer's own clock is what is expected. Unread (non-probe) sockets stop
 * receiving at the handle (kernel drops them; cheap), as in rtpLoad.mjs.
 * Control pairs: sockets sending straight to each other on the same schedule, with the
 * send time in the payload: the generator's own share of any latency.
 */
import { appendFileSync } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout } from 'node:timers';
import {
  FRAME_MS,
  Histogram,
  PACKET,
  connectSockets,
  dropsByPort,
  openSockets,
  packetBuffers,
  serve,
  startPacer,
  stampFrame,
  udpHandle,
} from './rtpPackets.mjs';
import { createBatchSender } from './batchSend.mjs';

const BIN_US = 100;
const BINS = 5000; // 500 ms
const LATE_MS = 60;
const ROLE_NAMES = ['customer', 'agent', 'supervisor'];

let socks = [];
let calls = 0;
let legs = 3;
let control = 0;
let probeCalls = 0;
let probe; // Uint8Array per socket
let burstEvery = 50;
let sent;
let unreadRx; // per unread socket: what was still queued at the end, read then
let sendErrors = 0;
let other = 0;
let counting = false;
let pacer = null;
let warmEnd = Infinity;
let bufs = [];
let sender = null; // batchSend.mjs
let cpuStart = null;
let wallStart = 0;

// per socket receive state (probe sockets)
let rx; // packets counted (after warm-up)
let tsLast; // last raw ts
let tsExt; // unwrapped current ts (float64)
let tsMin;
let tsMax;
let transits; // Float32Array per socket: arrival − ts/8 (ms), relative to a socket base
let transitN;
let transitBase; // first transit seen (so values stay small for Float32)
let sendAt; // Float64Array per probe call leg: actual send time of frame f
let lateRelay; // Float64Array per socket: relayed packets later than LATE_MS after send
let relayTimed; // Float64Array per socket: relayed packets whose send time was known
// bursts (per call)
let burstSentAt; // Float64Array: send time of the last burst (−1: none pending)
let burstSeenAgent; // Uint8Array
let burstSeenSup;
let bursts = 0;
const lat = { agent: new Histogram(BIN_US, BINS), supervisor: new Histogram(BIN_US, BINS) };
const clat = new Histogram(BIN_US, BINS);
let controlLate = 0; // control-pair packets later than LATE_MS (p99 hides a rare stall)
let controlTimed = 0;
/**
 * Diagnostics (bench/lib/stallProbe.cjs sets CALLWATCH_STALL_DIR): every late packet's
 * arrival (ms since the epoch), lateness and role, written to <dir>/generator-late.jsonl
 * at stop, to line up with the engine threads' GC and loop stalls.
 */
const STALL_DIR = process.env.CALLWATCH_STALL_DIR;
const lateLog = [];
let arrivals = null; // per supervisor probe socket: arrival of each transit (ms, this clock)

function isSilent(msg, off) {
  for (let i = off; i < msg.length; i++) {
    const b = msg[i];
    if (b !== 0xff && b !== 0x7f) return false;
  }
  return true;
}

function onMessage(i, msg) {
  const now = performance.now();
  if (probe[i] === 0) {
    unreadRx[i]++; // an unread socket drained at the end: count only
    return;
  }
  if (!counting) return;
  if (i >= legs * calls) {
    // control pair: send time in the payload
    if (msg.length !== PACKET) return;
    const ts = msg.readDoubleBE(16);
    if (ts >= warmEnd) {
      clat.add((now - ts) * 1000);
      controlTimed++;
      if (now - ts > LATE_MS) {
        controlLate++;
        if (STALL_DIR) lateLog.push({ at: now, ms: now - ts, role: 'control', s: i });
      }
    }
    return;
  }
  if (msg.length < 12 || msg[0] >> 6 !== 2 || (msg[1] & 0x7f) !== 0) {
    other++;
    return;
  }
  const off =
    12 +
    4 * (msg[0] & 0x0f) +
    (msg[0] & 0x10 ? 4 + 4 * msg.readUInt16BE(14 + 4 * (msg[0] & 0x0f)) : 0);
  const ts = msg.readUInt32BE(4);
  if (rx[i] === 0) {
    tsExt[i] = ts;
    tsMin[i] = ts;
    tsMax[i] = ts;
    transitBase[i] = now - ts / 8;
  } else {
    const d = (ts - tsLast[i]) | 0;
    tsExt[i] += d;
    if (tsExt[i] < tsMin[i]) tsMin[i] = tsExt[i];
    if (tsExt[i] > tsMax[i]) tsMax[i] = tsExt[i];
  }
  tsLast[i] = ts;
  rx[i]++;
  const role = i % legs;
  const c = (i - role) / legs;
  if (role === 2) {
    const tr = transits[i];
    if (tr && transitN[i] < tr.length) {
      if (arrivals) arrivals[i][transitN[i]] = now;
      tr[transitN[i]++] = now - tsExt[i] / 8 - transitBase[i];
    }
  } else if (msg.length - off >= 32 && isSilent(msg, off)) {
    let f = 0;
    for (let k = 0; k < 32; k++) f = (f * 2 + (msg[off + k] === 0x7f ? 1 : 0)) >>> 0;
    const src = sendAt[legs * c + (1 - role)];
    if (src && f < src.length && src[f] > 0) {
      relayTimed[i]++;
      if (now - src[f] > LATE_MS) {
        lateRelay[i]++;
        if (STALL_DIR) lateLog.push({ at: now, ms: now - src[f], role: ROLE_NAMES[role], s: i });
      }
    }
  }
  if (role === 0) return;
  const sentAt = burstSentAt[c];
  if (sentAt < 0) return;
  const seen = role === 1 ? burstSeenAgent : burstSeenSup;
  if (seen[c] || isSilent(msg, off)) return;
  seen[c] = 1;
  lat[role === 1 ? 'agent' : 'supervisor'].add((now - sentAt) * 1000);
}

async function setup(m) {
  calls = m.calls;
  legs = m.legs;
  control = m.control ?? 0;
  probeCalls = Math.min(calls, m.probe ?? calls);
  burstEvery = m.burstEvery ?? 50;
  const total = legs * calls + 2 * control;
  probe = new Uint8Array(total).fill(1);
  for (let i = legs * probeCalls; i < legs * calls; i++) probe[i] = 0;
  sent = new Float64Array(total);
  unreadRx = new Float64Array(total);
  rx = new Float64Array(total);
  tsLast = new Float64Array(total);
  tsExt = new Float64Array(total);
  tsMin = new Float64Array(total);
  tsMax = new Float64Array(total);
  transitN = new Int32Array(total);
  transitBase = new Float64Array(total);
  const maxFrames = Math.ceil(((m.maxSecs ?? 120) * 1000) / FRAME_MS) + 500;
  transits = Array.from({ length: total }, (_, i) =>
    probe[i] && i < legs * calls ? new Float32Array(maxFrames) : null,
  );
  sendAt = Array.from({ length: total }, (_, i) =>
    probe[i] && i < legs * calls ? new Float64Array(maxFrames) : null,
  );
  if (STALL_DIR) {
    arrivals = transits.map((t) => (t ? new Float64Array(t.length) : null));
  }
  lateRelay = new Float64Array(total);
  relayTimed = new Float64Array(total);
  burstSentAt = new Float64Array(calls).fill(-1);
  burstSeenAgent = new Uint8Array(calls);
  burstSeenSup = new Uint8Array(calls);
  socks = await openSockets(probe, onMessage, () => sendErrors++);
  return socks.slice(0, legs * calls).map((s) => s.address().port);
}

const BURST = Buffer.alloc(160);
for (let i = 0; i < 160; i++) BURST[i] = (i >> 2) & 1 ? 0x80 : 0x00; // 1 kHz full-scale square

/** Sends frame f of socket i: a probe customer's burst, or silence (probe legs: carrying f). */
function sendFrame(i, f) {
  const b = bufs[i];
  stampFrame(b, f);
  if (i >= legs * calls) {
    b.writeDoubleBE(performance.now(), 16);
  } else if (probe[i]) {
    const c = (i - (i % legs)) / legs;
    const at = sendAt[i];
    if (f < at.length) at[f] = performance.now();
    if (i % legs === 0 && (f + c) % burstEvery === 0) {
      BURST.copy(b, 12);
      burstSentAt[c] = performance.now();
      burstSeenAgent[c] = 0;
      burstSeenSup[c] = 0;
      if (counting) bursts++;
      sender.stage(i); // the burst's bytes are sent before the buffer is written again
      sender.flush();
      b.fill(0xff, 12);
      sent[i]++;
      return;
    }
    for (let k = 0; k < 32; k++) b[12 + k] = (f >>> (31 - k)) & 1 ? 0x7f : 0xff;
  }
  sender.stage(i);
  sent[i]++;
}

async function start(callTargets, warmupMs) {
  const targets = await connectSockets(socks, callTargets, legs * calls, control);
  sender = createBatchSender(socks, targets, PACKET, () => sendErrors++);
  bufs = packetBuffers(socks.length, 0x20000).map((b, i) => {
    const view = sender.packet(i);
    b.copy(view);
    return view;
  });
  cpuStart = process.cpuUsage();
  wallStart = performance.now();
  pacer = startPacer(socks.length, sendFrame, sender.flush);
  warmEnd = pacer.t0 + warmupMs;
  setTimeout(() => {
    counting = true;
  }, warmupMs + 5);
}

/**
 * The relayed legs (customer, agent) of the calls whose sockets were never read: what the
 * engine delivered to them = the kernel's drop count for the socket (/proc/net/udp) +
 * what was still queued (read now), against what the other party's socket sent over the
 * whole run (warm-up included), as rtpLoad.mjs counts its unread calls.
 */
async function unreadRelayed() {
  await new Promise((r) => setTimeout(r, 300)); // what the engine still had in flight
  const byPort = dropsByPort();
  let delivered = 0;
  let expected = 0;
  let sockets = 0;
  for (let i = legs * probeCalls; i < legs * calls; i++) {
    const role = i % legs;
    if (role > 1) continue;
    delivered += byPort.get(socks[i].address().port) ?? 0;
    expected += sent[i - role + (1 - role)];
    sockets++;
    udpHandle(socks[i]).recvStart();
  }
  await new Promise((r) => setTimeout(r, 300));
  for (let i = legs * probeCalls; i < legs * calls; i++) if (i % legs < 2) delivered += unreadRx[i];
  return {
    sockets,
    expected,
    delivered,
    lossPct: expected > 0 ? (100 * Math.max(0, expected - delivered)) / expected : null,
  };
}

async function stop() {
  pacer.stop();
  sender.close();
  counting = false;
  const cpu = process.cpuUsage(cpuStart);
  const wallMs = performance.now() - wallStart;
  const unread = await unreadRelayed();
  const byRole = ROLE_NAMES.slice(0, legs).map((name) => ({
    role: name,
    received: 0,
    expected: 0,
    lost: 0,
    late: 0,
    timed: 0,
  }));
  const latePerSocket = [];
  for (let c = 0; c < probeCalls; c++) {
    for (let r = 0; r < legs; r++) {
      const i = legs * c + r;
      const agg = byRole[r];
      if (rx[i] === 0) continue;
      const expected = Math.round((tsMax[i] - tsMin[i]) / 160) + 1;
      agg.received += rx[i];
      agg.expected += expected;
      agg.lost += Math.max(0, expected - rx[i]);
      let late = 0;
      if (r === 2) {
        const tr = transits[i];
        const n = transitN[i];
        let min = Infinity;
        for (let k = 0; k < n; k++) if (tr[k] < min) min = tr[k];
        for (let k = 0; k < n; k++) {
          if (tr[k] - min <= LATE_MS) continue;
          late++;
          if (STALL_DIR) {
            lateLog.push({ at: arrivals[i][k], ms: tr[k] - min, role: 'supervisor', s: i });
          }
        }
        agg.timed += n;
      } else {
        late = lateRelay[i];
        agg.timed += relayTimed[i];
      }
      agg.late += late;
      latePerSocket.push(late);
    }
  }
  let sentTotal = 0;
  for (let i = 0; i < legs * calls; i++) sentTotal += sent[i];
  if (STALL_DIR) {
    const origin = performance.timeOrigin;
    const lines = lateLog.map((l) => JSON.stringify({ ...l, t: origin + l.at }));
    lines.push(
      JSON.stringify({ e: 'window', from: origin + warmEnd, to: origin + performance.now() }),
    );
    appendFileSync(path.join(STALL_DIR, 'generator-late.jsonl'), lines.join('\n') + '\n');
  }
  const latency = (h) => ({ n: h.n, p50: h.pct(0.5), p99: h.pct(0.99), max: h.max });
  return {
    type: 'result',
    calls,
    legs,
    probeCalls,
    wallMs,
    sent: sentTotal,
    sendPps: sentTotal / (wallMs / 1000),
    nominalPps: calls * legs * (1000 / FRAME_MS),
    byRole,
    other,
    sendErrors,
    bursts,
    latencyUs: {
      agent: latency(lat.agent),
      supervisor: legs > 2 ? latency(lat.supervisor) : null,
    },
    controlLatencyUs: latency(clat),
    controlLate,
    controlTimed,
    sendLagP99Ms: pacer.lagP99Ms(),
    sendLagMaxMs: pacer.lagMaxMs(),
    sendPath: sender.kind(),
    unreadRelayed: unread,
    cpuMs: (cpu.user + cpu.system) / 1000,
    cpuPct: (100 * (cpu.user + cpu.system)) / 1000 / wallMs,
  };
}

serve({
  setup,
  start: (m) => start(m.targets, m.warmupMs ?? 1000),
  stop,
  sockets: () => socks,
});
