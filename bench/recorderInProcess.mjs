#!/usr/bin/env node
/**
 * A recorded, unmonitored call's JavaScript cost per packet on the relay fast path, in
 * process and without sockets: the media worker's side of the native recording tap
 * (docs/architecture.md §3.7) fed exactly as the worker feeds it. Per 100 ms sweep:
 *
 *   take   what `NativePacketIo.takeTapped` does on the worker's thread: the addon's
 *          memcpy of the tap into JavaScript's copy (here a Buffer copy of a tap image the
 *          bench prepared, in the addon's layout: native/fast_relay.h TAP_*), then per
 *          entry its header read, the socket looked up by token and the datagram copied
 *          (the same statements as media/io/nativePacketIo.ts), then `FastRelay`'s visit:
 *          the leg looked up by its pair and `tapRelayed` (the build's own, relay.ts) into
 *          the leg's recording queue;
 *   drain  each room's `RoomRecording.drain` (the build's own: place by RTP timestamp,
 *          frames, the WAV blocks);
 *   hand   the writer client's batch (the build's WriterClient over a MessagePort to the
 *          build's real writer thread, files in a temporary folder), measured as the
 *          next event-loop turn's CPU on this thread, and the replies that come back.
 *
 * N calls of two PCMU legs (customer, agent), 50 pps each, 172-byte datagrams of µ-law
 * silence as bench/lib/roomLoad.mjs sends, arriving 0-3 ms late in a fixed pattern,
 * recorded as a stereo 8 kHz WAV (`--format wav`) or G.711 WAV (`--format wav-g711`).
 * The first second is not measured (rings taken, code compiled).
 *
 * Measured, in µs per recorded packet: the wall time of `take` and `drain` (synchronous; a
 * thread's CPU clock, /proc/thread-self/schedstat, is only brought up to date at scheduler
 * ticks and switches, too coarse for one phase); this thread's CPU over the whole measured
 * window (schedstat, as the worker's own stats read it: every phase, the writer client's
 * turns, timers, GC on this thread; not V8's helper threads); the writer thread's
 * CPU per packet (its own stats); with --alloc, the heap's growth per packet (heap used
 * between phases, a phase that saw a scavenge skipped; the CPU figures are then not
 * comparable with a run without it: process.memoryUsage is not cheap). A/B: `--dist` twice (e.g. a copy
 * of main's build, then ./dist); both are set up in this process and rounds alternate.
 *
 *   node bench/recorderInProcess.mjs [--calls 200] [--secs 10] [--rounds 3]
 *                                    [--format wav|wav-g711] [--alloc] [--dist DIR]...
 *
 * Add --cpu-prof to node for a profile (bench/cpuProfileTop.mjs ranks it).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { setImmediate, setTimeout } from 'node:timers';
import { pathToFileURL } from 'node:url';
import { REPO, parseFlags } from './lib/benchRuntime.mjs';

const DISTS = []; // --dist, once per build (A/B)
const o = parseFlags(
  process.argv.slice(2),
  { calls: 200, secs: 10, rounds: 3, format: 'wav', alloc: false },
  {
    '--calls': ['calls', Number],
    '--secs': ['secs', Number],
    '--rounds': ['rounds', Number],
    '--format': 'format',
    '--dist': ['dist', (v) => DISTS.push(path.resolve(v))],
    '--alloc': { alloc: true },
  },
  import.meta.url,
);
const CALLS = o.calls;
const SECS = o.secs;
const ROUNDS = o.rounds;
const FORMAT = o.format;
if (DISTS.length === 0) DISTS.push(path.join(REPO, 'dist'));
if (!['wav', 'wav-g711'].includes(FORMAT)) throw new Error(`--format: wav or wav-g711`);

const SWEEP_MS = 100;
const PT_PCMU = 0;
const TAP_HEADER_BYTES = 16; // native/fast_relay.h
const DATAGRAM = 172;

const threadMs = () =>
  Number(readFileSync('/proc/thread-self/schedstat', 'latin1').split(' ', 1)[0]) / 1e6;
const ALLOC = o.alloc;
// Heap used (only with --alloc: process.memoryUsage costs more than a phase's work).
const heap = ALLOC ? () => process.memoryUsage().heapUsed : () => 0;
const tick = () => new Promise((resolve) => setImmediate(resolve));
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The tap image of one sweep: every call's two legs' datagrams that arrived in
 * (t − 100, t], in the addon's layout (token u32, length u32, arrival f64 on the addon's
 * clock, the datagram padded to 8). Arrival order: by time, calls interleaved.
 */
function tapImage(sweep, tokens, t0) {
  const entries = [];
  const first = sweep * 5;
  for (let k = 0; k < 5; k++) {
    const n = first + k;
    for (let c = 0; c < CALLS; c++) {
      for (let leg = 0; leg < 2; leg++) {
        entries.push([tokens[2 * c + leg], n, t0 + n * 20 + ((n * 7 + c + leg) % 4), leg]);
      }
    }
  }
  const entryBytes = TAP_HEADER_BYTES + ((DATAGRAM + 7) & ~7);
  const buf = Buffer.alloc(entries.length * entryBytes);
  let at = 0;
  for (const [token, n, arrival, leg] of entries) {
    buf.writeUInt32LE(token, at);
    buf.writeUInt32LE(DATAGRAM, at + 4);
    buf.writeDoubleLE(arrival, at + 8);
    const d = at + TAP_HEADER_BYTES;
    buf[d] = 0x80;
    buf[d + 1] = PT_PCMU;
    buf.writeUInt16BE(n & 0xffff, d + 2);
    buf.writeUInt32BE((n * 160) >>> 0, d + 4);
    buf.writeUInt32BE(0x1000 + token * 2 + leg, d + 8);
    buf.fill(n % 2 === 0 ? 0xff : 0x7f, d + 12, d + DATAGRAM);
    at += entryBytes;
  }
  return { buf, packets: entries.length };
}

/** One build's pipeline: its modules, its writer thread, its rooms. */
async function setUp(dist, tag) {
  const load = (rel) => import(pathToFileURL(path.join(dist, rel)).href);
  const { tapRelayed } = await load('media/worker/relay.js');
  const { RoomRecording } = await load('media/worker/roomRecording.js');
  const { PayloadMap } = await load('media/worker/payloadMap.js');
  const { RecordingWriter } = await load('media/recording/writer/recordingWriter.js');
  const { WriterClient } = await load('media/recording/writer/client.js');
  const writer = await RecordingWriter.start(
    pathToFileURL(path.join(dist, 'media/recording/writer/main.js')),
    (err) => console.error(err),
  );
  const client = new WriterClient(writer.channel(`bench-${tag}`), 20);
  const dir = mkdtempSync(path.join(tmpdir(), `rec16-${tag}-`));
  return { tag, dist, tapRelayed, RoomRecording, PayloadMap, writer, client, dir, round: 0 };
}

async function runRound(b) {
  const round = b.round++;
  const payloads = new b.PayloadMap([{ name: 'PCMU', payloadType: PT_PCMU }], null);
  // Stand-ins for the worker's legs and the io's sockets: what the tap path reads of them.
  const legs = [];
  const sockets = new Map();
  const legOfPair = new Map();
  const tokens = [];
  for (let i = 0; i < 2 * CALLS; i++) {
    const leg = { id: i + 1, payloads, recordTap: null, recordSlot: -1 };
    const pair = { token: 100 + i };
    sockets.set(100 + i, { pair });
    legOfPair.set(pair, leg);
    legs.push(leg);
    tokens.push(100 + i);
  }
  const rooms = [];
  const t0 = performance.now();
  for (let c = 0; c < CALLS; c++) {
    const config = {
      path: path.join(b.dir, `r${round}-${c}.wav`),
      channels: 2,
      format: FORMAT,
    };
    rooms.push(
      b.RoomRecording.open(
        config,
        [[legs[2 * c]], [legs[2 * c + 1]]],
        () => t0,
        (p, mode) => Promise.resolve(b.client.open(p, mode)),
      ),
    );
  }
  const recordings = await Promise.all(rooms);
  const sweeps = (SECS * 1000) / SWEEP_MS;
  const images = [];
  for (let s = 0; s < sweeps; s++) images.push(tapImage(s, tokens, t0));
  const tap = Buffer.alloc(4 << 20);
  const packet = Buffer.alloc(4096);
  const record = (pair, msg, length, at) => {
    const source = legOfPair.get(pair);
    if (source !== undefined) b.tapRelayed(source, msg, length, at);
  };
  const wall = { take: 0, drain: 0 };
  const grow = { take: 0, drain: 0, hand: 0 };
  let packets = 0;
  const w0 = (await b.writer.stats()).cpuMs;
  let measuring = false;
  let cpu0 = 0;
  for (let s = 0; s < sweeps; s++) {
    if (s === 1000 / SWEEP_MS) {
      measuring = true;
      await sleep(40); // the writer's answers to the warm-up's blocks
      cpu0 = threadMs();
    }
    const now = t0 + (s + 1) * SWEEP_MS + 1;
    const image = images[s];
    let h0 = heap();
    const m0 = performance.now();
    // take: the addon's memcpy, then nativePacketIo.takeTapped's loop and FastRelay's visit.
    image.buf.copy(tap, 0, 0, image.buf.length);
    const bytes = image.buf.length;
    for (let at = 0; at + TAP_HEADER_BYTES <= bytes;) {
      const token = tap.readUInt32LE(at);
      const length = tap.readUInt32LE(at + 4);
      const arrivalMs = tap.readDoubleLE(at + 8);
      const start = at + TAP_HEADER_BYTES;
      at = start + ((length + 7) & ~7);
      const socket = sockets.get(token);
      if (socket === undefined || length > packet.length) continue;
      tap.copy(packet, 0, start, start + length);
      record(socket.pair, packet, length, arrivalMs);
    }
    const m1 = performance.now();
    let h1 = heap();
    for (const r of recordings) r.drain(now);
    const m2 = performance.now();
    const h2 = heap();
    if (measuring) {
      wall.take += m1 - m0;
      wall.drain += m2 - m1;
      if (h1 >= h0) grow.take += h1 - h0;
      if (h2 >= h1) grow.drain += h2 - h1;
      packets += image.packets;
    }
    // hand: the writer client's batch (held up to 20 ms) and the answers, until the next sweep.
    h0 = heap();
    await sleep(SWEEP_MS / 4);
    await tick();
    h1 = heap();
    if (measuring && h1 >= h0) grow.hand += h1 - h0;
  }
  const cpu = threadMs() - cpu0;
  const w1 = (await b.writer.stats()).cpuMs;
  const stopAt = t0 + (sweeps + 1) * SWEEP_MS;
  const summaries = await Promise.all(recordings.map((r) => r.stop(stopAt)));
  const bytesPerCall = summaries.reduce((n, s) => n + s.bytes, 0) / CALLS;
  const errors = summaries.filter((s) => s.error !== null).length;
  rmSync(b.dir, { recursive: true, force: true });
  b.dir = mkdtempSync(path.join(tmpdir(), `rec16-${b.tag}-`));
  const per = (ms) => +((ms * 1000) / packets).toFixed(3);
  return {
    build: b.tag,
    round,
    packets,
    // Wall time of the synchronous phases (a thread's CPU clock is updated at scheduler
    // ticks and switches only: too coarse per phase), and this thread's CPU over the whole
    // measured window (the phases, the writer client's turns, timers, GC on this thread).
    usPerPacket: {
      take: per(wall.take),
      drain: per(wall.drain),
      threadCpu: per(cpu),
    },
    // The whole run's writer CPU (warm-up included) over the measured packets' share.
    writerUsPerPacket: +(((w1 - w0) * 1000) / (packets * (SECS / (SECS - 1)))).toFixed(3),
    youngBytesPerPacket: {
      take: Math.round(grow.take / packets),
      drain: Math.round(grow.drain / packets),
      hand: Math.round(grow.hand / packets),
    },
    wavBytesPerCall: Math.round(bytesPerCall),
    errors,
  };
}

const builds = [];
for (let i = 0; i < DISTS.length; i++)
  builds.push(await setUp(DISTS[i], DISTS.length > 1 ? 'AB'[i] : 'A'));
const results = [];
for (let r = 0; r < ROUNDS; r++) {
  for (const b of builds) {
    const res = await runRound(b);
    results.push(res);
    console.log(JSON.stringify(res));
  }
}
const median = (xs) => {
  const s = [...xs].sort((x, y) => x - y);
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
for (const b of builds) {
  const mine = results.filter((r) => r.build === b.tag);
  console.log(
    JSON.stringify({
      build: b.tag,
      dist: b.dist,
      format: FORMAT,
      calls: CALLS,
      rounds: mine.length,
      // The least of the rounds: CPU time on a shared VM is inflated by the others' load
      // (time the host takes the core counts as the thread's), never deflated.
      minUsPerPacket: {
        take: Math.min(...mine.map((r) => r.usPerPacket.take)),
        drain: Math.min(...mine.map((r) => r.usPerPacket.drain)),
        threadCpu: Math.min(...mine.map((r) => r.usPerPacket.threadCpu)),
        writer: Math.min(...mine.map((r) => r.writerUsPerPacket)),
      },
      medianUsPerPacket: {
        take: median(mine.map((r) => r.usPerPacket.take)),
        drain: median(mine.map((r) => r.usPerPacket.drain)),
        threadCpu: median(mine.map((r) => r.usPerPacket.threadCpu)),
        writer: median(mine.map((r) => r.writerUsPerPacket)),
      },
    }),
  );
  b.client.close();
  await b.writer.close();
  rmSync(b.dir, { recursive: true, force: true });
}
