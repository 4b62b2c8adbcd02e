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
 * every overdue frame, so the count sent matches the elapsed time).
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
 * arrive, from the warm-up's end until 'stop'). Per receiving socket, from the RTP header
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
import dgram from 'node:dgram';
import { performance } from 'node:perf_hooks';
import { clearTimeout, setTimeout } from 'node:timers';

const PACKET = 172;
const FRAME_MS = 20;
const SLICES = 20;
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
let sendErrors = 0;
let other = 0;
let running = false;
let counting = false;
let timer = null;
let t0 = 0;
let warmEnd = Infinity;
let frameDone;
let bySlice = [];
let bufs = [];
let cpuStart = null;
let wallStart = 0;
let lagMax = 0;
const lagHist = new Uint32Array(1001); // 0.1 ms bins
let lagN = 0;

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
const latHist = { agent: new Uint32Array(BINS + 1), supervisor: new Uint32Array(BINS + 1) };
const latN = { agent: 0, supervisor: 0 };
const latMax = { agent: 0, supervisor: 0 };
const chist = new Uint32Array(BINS + 1);
let clatN = 0;
let clatMax = 0;

function isSilent(msg, off) {
  for (let i = off; i < msg.length; i++) {
    const b = msg[i];
    if (b !== 0xff && b !== 0x7f) return false;
  }
  return true;
}

function onMessage(i, msg) {
  const now = performance.now();
  if (!counting) return;
  if (i >= legs * calls) {
    // control pair: send time in the payload
    if (msg.length !== PACKET) return;
    const ts = msg.readDoubleBE(16);
    if (ts < warmEnd) return;
    const us = (now - ts) * 1000;
    if (us > clatMax) clatMax = us;
    const b = us / BIN_US;
    chist[b < BINS ? Math.floor(b) : BINS]++;
    clatN++;
    return;
  }
  if (msg.length < 12 || msg[0] >> 6 !== 2 || (msg[1] & 0x7f) !== 0) {
    other++;
    return;
  }
  const off = 12 + 4 * (msg[0] & 0x0f) + (msg[0] & 0x10 ? 4 + 4 * msg.readUInt16BE(14 + 4 * (msg[0] & 0x0f)) : 0);
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
    if (tr && transitN[i] < tr.length) tr[transitN[i]++] = now - tsExt[i] / 8 - transitBase[i];
  } else if (msg.length - off >= 32 && isSilent(msg, off)) {
    let f = 0;
    for (let k = 0; k < 32; k++) f = (f * 2 + (msg[off + k] === 0x7f ? 1 : 0)) >>> 0;
    const src = sendAt[legs * c + (1 - role)];
    if (src && f < src.length && src[f] > 0) {
      relayTimed[i]++;
      if (now - src[f] > LATE_MS) lateRelay[i]++;
    }
  }
  if (role === 0) return;
  const sentAt = burstSentAt[c];
  if (sentAt < 0) return;
  const seen = role === 1 ? burstSeenAgent : burstSeenSup;
  if (seen[c] || isSilent(msg, off)) return;
  seen[c] = 1;
  const path = role === 1 ? 'agent' : 'supervisor';
  const us = (now - sentAt) * 1000;
  if (us > latMax[path]) latMax[path] = us;
  const b = us / BIN_US;
  latHist[path][b < BINS ? Math.floor(b) : BINS]++;
  latN[path]++;
}

function udpHandle(s) {
  const sym = Object.getOwnPropertySymbols(s).find((x) => String(x) === 'Symbol(state symbol)');
  const h = sym && s[sym].handle;
  if (typeof h?.recvStop !== 'function') throw new Error('dgram handle without recvStop');
  return h;
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
  lateRelay = new Float64Array(total);
  relayTimed = new Float64Array(total);
  burstSentAt = new Float64Array(calls).fill(-1);
  burstSeenAgent = new Uint8Array(calls);
  burstSeenSup = new Uint8Array(calls);
  socks = [];
  for (let i = 0; i < total; i++) {
    const s = dgram.createSocket({ type: 'udp4', recvBufferSize: probe[i] ? 1 << 20 : 8192 });
    await new Promise((resolve, reject) => {
      s.once('error', reject);
      s.bind(0, '127.0.0.1', () => {
        s.off('error', reject);
        resolve();
      });
    });
    s.on('error', () => sendErrors++);
    if (!probe[i]) udpHandle(s).recvStop();
    const idx = i;
    s.on('message', (msg) => onMessage(idx, msg));
    socks.push(s);
  }
  return socks.slice(0, legs * calls).map((s) => s.address().port);
}

async function start(callTargets, warmupMs) {
  const targets = callTargets.slice();
  for (let k = 0; k < control; k++) {
    const a = legs * calls + 2 * k;
    targets[a] = socks[a + 1].address().port;
    targets[a + 1] = socks[a].address().port;
  }
  await Promise.all(
    socks.map((s, i) => new Promise((resolve) => s.connect(targets[i], '127.0.0.1', resolve))),
  );
  bufs = socks.map((_, i) => {
    const b = Buffer.alloc(PACKET, 0xff);
    b[0] = 0x80;
    b[1] = 0;
    b.writeUInt32BE((0x20000 + i) >>> 0, 8);
    return b;
  });
  bySlice = Array.from({ length: SLICES }, () => []);
  for (let i = 0; i < socks.length; i++) bySlice[i % SLICES].push(i);
  frameDone = new Int32Array(SLICES);
  cpuStart = process.cpuUsage();
  wallStart = performance.now();
  t0 = wallStart + 5;
  warmEnd = t0 + warmupMs;
  running = true;
  setTimeout(() => {
    counting = true;
  }, warmupMs + 5);
  pump();
}

const BURST = Buffer.alloc(160);
for (let i = 0; i < 160; i++) BURST[i] = (i >> 2) & 1 ? 0x80 : 0x00; // 1 kHz full-scale square

function pump() {
  timer = null;
  if (!running) return;
  const now = performance.now();
  const elapsed = now - t0;
  let nextDue = Infinity;
  const nCallLegs = legs * calls;
  for (let sl = 0; sl < SLICES; sl++) {
    const dueFrames = elapsed < sl ? 0 : Math.floor((elapsed - sl) / FRAME_MS) + 1;
    let f = frameDone[sl];
    if (f < dueFrames) {
      const list = bySlice[sl];
      for (; f < dueFrames; f++) {
        const lag = elapsed - (f * FRAME_MS + sl);
        if (lag > lagMax) lagMax = lag;
        lagHist[Math.min(1000, Math.floor(lag * 10))]++;
        lagN++;
        for (let k = 0; k < list.length; k++) {
          const i = list[k];
          const b = bufs[i];
          b.writeUInt16BE(f & 0xffff, 2);
          b.writeUInt32BE((f * 160) >>> 0, 4);
          if (i >= nCallLegs) {
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
              socks[i].send(b, onSendError);
              b.fill(0xff, 12);
              sent[i]++;
              continue;
            }
            for (let k = 0; k < 32; k++) b[12 + k] = (f >>> (31 - k)) & 1 ? 0x7f : 0xff;
          }
          socks[i].send(b, onSendError);
          sent[i]++;
        }
      }
      frameDone[sl] = f;
    }
    const due = t0 + f * FRAME_MS + sl;
    if (due < nextDue) nextDue = due;
  }
  timer = setTimeout(pump, Math.max(0, nextDue - performance.now()));
}

function onSendError(err) {
  if (err) sendErrors++;
}

function pct(h, n, q, binUs) {
  if (n === 0) return null;
  const want = Math.ceil(q * n);
  let acc = 0;
  for (let b = 0; b < h.length; b++) {
    acc += h[b];
    if (acc >= want) return (b + 1) * binUs;
  }
  return h.length * binUs;
}

function stop() {
  running = false;
  counting = false;
  if (timer) clearTimeout(timer);
  const cpu = process.cpuUsage(cpuStart);
  const wallMs = performance.now() - wallStart;
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
        for (let k = 0; k < n; k++) if (tr[k] - min > LATE_MS) late++;
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
  const lat = (p) => ({
    n: latN[p],
    p50: pct(latHist[p], latN[p], 0.5, BIN_US),
    p99: pct(latHist[p], latN[p], 0.99, BIN_US),
    max: latMax[p],
  });
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
    latencyUs: { agent: lat('agent'), supervisor: legs > 2 ? lat('supervisor') : null },
    controlLatencyUs: {
      n: clatN,
      p50: pct(chist, clatN, 0.5, BIN_US),
      p99: pct(chist, clatN, 0.99, BIN_US),
      max: clatMax,
    },
    sendLagP99Ms: pct(lagHist, lagN, 0.99, 0.1),
    sendLagMaxMs: lagMax,
    cpuMs: (cpu.user + cpu.system) / 1000,
    cpuPct: (100 * (cpu.user + cpu.system)) / 1000 / wallMs,
  };
}

process.on('message', async (m) => {
  try {
    if (m.type === 'setup') process.send({ type: 'ports', ports: await setup(m) });
    else if (m.type === 'start') {
      await start(m.targets, m.warmupMs ?? 1000);
      process.send({ type: 'started' });
    } else if (m.type === 'stop') {
      const result = stop();
      for (const s of socks) s.close();
      process.send(result, () => process.exit(0));
    }
  } catch (error) {
    process.send({ type: 'error', message: String(error?.stack ?? error) });
    process.exit(1);
  }
});
process.on('disconnect', () => process.exit(0));
