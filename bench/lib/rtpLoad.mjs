/**
 * RTP load generator for bench/relay.bench.mjs, run as a separate process
 * (child_process.fork) so its CPU is not the server's and can be reported on its own.
 *
 * Protocol (IPC, plain objects):
 *   parent → { type: 'setup', calls }            child → { type: 'ports', ports: [2·calls] }
 *   parent → { type: 'start', targets, warmupMs } child → { type: 'started' }
 *   parent → { type: 'stop', drainMs }            child → { type: 'result', … } and exits
 *
 * Call i is two sockets, phone A = socket 2i and phone B = socket 2i+1, each connected to
 * its engine leg's RTP port (targets[2i], targets[2i+1]). Every socket sends a 172-byte
 * PCMU packet (12-byte RTP header + 160 bytes) every 20 ms on a drift-free schedule:
 * frame n of socket s is due at t0 + n·20 ms + (s mod 20) ms, so the load is spread over
 * the 20 ms period in 1 ms slices; a late timer sends every overdue frame at once (catch
 * up), so the count sent always matches the elapsed time. The frames of one slot leave
 * together through batchSend.mjs (one call into the native addon), not one dgram send each.
 *
 * The engine rewrites SSRC, sequence number and timestamp of what it relays (one
 * continuous stream per leg), so the generator's own frame number and send time ride in
 * the payload: bytes 12–15 frame number (u32), 16–23 performance.now() at send (float64).
 * Sender and receiver are this same process, so receive − send is on one clock.
 *
 * Reading costs the generator about as much CPU as the engine's relaying, which a 2-core
 * machine cannot give at 1000+ calls, so only the first `probe` calls (setup's `probe`,
 * default all) are read as packets arrive. The others' sockets are never read (receiving
 * stopped on their handle, 8 KB buffers, like SIPp's media sockets in the peers' runs):
 * what the engine delivered to them = the kernel's drop count for the socket
 * (/proc/net/udp) + what is still queued at the end, which is then read and counted.
 * Per probe socket: packets, frame gaps (skipped frame numbers), late/reordered
 * frames, and a latency histogram (10 µs bins up to 200 ms) over the packets sent after
 * the warm-up. Loss per direction = frames sent by the peer phone − frames received.
 * Control pairs (setup's `control`, default 0): extra socket pairs sending to each other
 * directly on the same schedule, whose latency is the generator's own share (send and
 * receive scheduling in this process under the same load), reported apart.
 * Kernel drops of the generator's own sockets (/proc/net/udp) are reported separately:
 * those are packets the engine delivered but this process did not read in time.
 */
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

const BIN_US = 10;
const BINS = 20000; // 200 ms

let socks = [];
let calls = 0;
let sent; // Float64Array per socket
let rx; // per socket: packets received
let nextFrame; // per socket: next expected frame number
let gaps;
let late;
let other = 0; // datagrams that are not our 172-byte PT 0 RTP (e.g. RTCP): not counted
let probeCalls = 0; // calls 0..probeCalls-1 are read as they arrive; the rest are not
let probe; // Uint8Array per socket: 1 = read as it arrives
let sendErrors = 0;
const lat = new Histogram(BIN_US, BINS);
// Control pairs: sockets of this process sending to each other directly (no engine), on
// the same schedule: their latency is the generator's own share (its send and receive
// scheduling under the same load), to set against the relayed latency.
let control = 0;
const clat = new Histogram(BIN_US, BINS);
let warmEnd = Infinity;
let pacer = null;
let cpuStart = null;
let wallStart = 0;
let bufs = [];
let sender = null; // batchSend.mjs

function onMessage(i, msg) {
  const now = performance.now();
  if (msg.length !== PACKET || (msg[1] & 0x7f) !== 0) {
    other++;
    return;
  }
  rx[i]++;
  if (probe[i] === 0) return; // an unread socket being drained at the end: count only
  const frame = msg.readUInt32BE(12);
  const exp = nextFrame[i];
  if (frame === exp) nextFrame[i] = exp + 1;
  else if (frame > exp) {
    gaps[i] += frame - exp;
    nextFrame[i] = frame + 1;
  } else late[i]++;
  const ts = msg.readDoubleBE(16);
  if (ts >= warmEnd) (i >= 2 * calls ? clat : lat).add((now - ts) * 1000);
}

async function setup(n, controlPairs, probeN) {
  calls = n;
  control = controlPairs;
  probeCalls = Math.min(n, probeN);
  const total = 2 * n + 2 * control;
  probe = new Uint8Array(total).fill(1);
  for (let i = 2 * probeCalls; i < 2 * n; i++) probe[i] = 0;
  sent = new Float64Array(total);
  rx = new Float64Array(total);
  nextFrame = new Float64Array(total);
  gaps = new Float64Array(total);
  late = new Float64Array(total);
  socks = await openSockets(probe, onMessage, () => sendErrors++);
  return socks.slice(0, 2 * n).map((s) => s.address().port);
}

async function start(callTargets, warmupMs) {
  const targets = await connectSockets(socks, callTargets, 2 * calls, control);
  sender = createBatchSender(socks, targets, PACKET, () => sendErrors++);
  bufs = packetBuffers(socks.length, 0x10000).map((b, i) => {
    const view = sender.packet(i);
    b.copy(view);
    return view;
  });
  cpuStart = process.cpuUsage();
  wallStart = performance.now();
  pacer = startPacer(
    socks.length,
    (i, f) => {
      const b = bufs[i];
      stampFrame(b, f);
      b.writeUInt32BE(f >>> 0, 12);
      b.writeDoubleBE(performance.now(), 16);
      sender.stage(i);
      sent[i]++;
    },
    sender.flush,
  );
  warmEnd = pacer.t0 + warmupMs;
}

async function stop(drainMs) {
  pacer.stop();
  sender.close();
  const cpu = process.cpuUsage(cpuStart);
  const wallMs = performance.now() - wallStart;
  await new Promise((r) => setTimeout(r, drainMs));
  // Unread sockets: delivered = kernel drops + what is still queued (read now, counted).
  const byPort = dropsByPort();
  let probeDrops = 0;
  let unreadDrops = 0;
  for (let i = 0; i < socks.length; i++) {
    const d = byPort.get(socks[i].address().port) ?? 0;
    if (probe[i]) probeDrops += d;
    else {
      unreadDrops += d;
      rx[i] += d;
      udpHandle(socks[i]).recvStart();
    }
  }
  if (probeCalls < calls) await new Promise((r) => setTimeout(r, 300));
  const drops = { drops: probeDrops, unreadDelivered: unreadDrops };
  let sentAB = 0;
  let sentBA = 0;
  let rxAB = 0;
  let rxBA = 0;
  let gapSum = 0;
  let lateSum = 0;
  let worstCall = 0;
  let callsWithLoss = 0;
  for (let c = 0; c < calls; c++) {
    const a = 2 * c;
    const b = a + 1;
    sentAB += sent[a];
    sentBA += sent[b];
    rxAB += rx[b]; // B receives what A sent
    rxBA += rx[a];
    gapSum += gaps[a] + gaps[b];
    lateSum += late[a] + late[b];
    const lost = Math.max(0, sent[a] - rx[b]) + Math.max(0, sent[b] - rx[a]);
    const frac = lost / Math.max(1, sent[a] + sent[b]);
    if (lost > 0) callsWithLoss++;
    if (frac > worstCall) worstCall = frac;
  }
  const sentAll = sentAB + sentBA;
  const lostAB = Math.max(0, sentAB - rxAB);
  const lostBA = Math.max(0, sentBA - rxBA);
  return {
    type: 'result',
    calls,
    wallMs,
    sent: sentAll,
    received: rxAB + rxBA,
    lost: lostAB + lostBA,
    lossPct: (100 * (lostAB + lostBA)) / Math.max(1, sentAll),
    lossPctAB: (100 * lostAB) / Math.max(1, sentAB),
    lossPctBA: (100 * lostBA) / Math.max(1, sentBA),
    gaps: gapSum,
    late: lateSum,
    other,
    probeCalls,
    sendErrors,
    callsWithLoss,
    worstCallLossPct: 100 * worstCall,
    sendPps: sentAll / (wallMs / 1000),
    nominalPps: calls * 2 * (1000 / FRAME_MS),
    sendLagP99Ms: pacer.lagP99Ms(),
    sendLagMaxMs: pacer.lagMaxMs(),
    sendPath: sender.kind(),
    latencyUs: {
      n: lat.n,
      p50: lat.pct(0.5),
      p99: lat.pct(0.99),
      p999: lat.pct(0.999),
      max: lat.max,
    },
    cpuMs: (cpu.user + cpu.system) / 1000,
    cpuPct: (100 * (cpu.user + cpu.system)) / 1000 / wallMs,
    genSocketDrops: drops,
    controlPairs: control,
    controlLatencyUs: { n: clat.n, p50: clat.pct(0.5), p99: clat.pct(0.99), max: clat.max },
  };
}

serve({
  setup: (m) => setup(m.calls, m.control ?? 0, m.probe ?? Infinity),
  start: (m) => start(m.targets, m.warmupMs ?? 1000),
  stop: (m) => stop(m.drainMs ?? 500),
  sockets: () => socks,
});
