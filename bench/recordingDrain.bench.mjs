#!/usr/bin/env node
/**
 * The recording path without sockets, in-process on a fake clock: what the packet path's
 * tap (PacketQueue.push) and the worker's drain (PacketRecorder → TrackBuffer → decode →
 * WavRecorder) cost per recorded packet, and what a recorded call costs to set up and
 * end. A fixed trace, so `valgrind --tool=callgrind` counts the same work every run: run
 * it at two lengths and divide the difference in instructions by the difference in
 * packets for a load-independent cost per packet (startup and JIT warm-up cancel out).
 *
 *   node bench/recordingDrain.bench.mjs [options]
 *
 *   --mode packets|setup  packets (default): --calls calls of 2 PCMU legs, 50 pps each, for
 *                         --secs seconds, drained every 100 ms; setup: --calls recordings
 *                         of 1 s that get no packet (set-up, silence, stop)
 *   --calls N             (default 200)
 *   --secs S              trace length in packets mode (default 10; the first second is
 *                         not measured: rings taken, code compiled)
 *   --dist DIR            the build to measure (default: this checkout's dist/; pass an
 *                         older build's dist for an A/B in the same run)
 *
 * The trace: per leg, 20 ms PCMU packets of a tone, arriving 0-3 ms late in a fixed
 * pattern; every 100th packet lost and every 50th swapped with the next (reordered). The
 * file sink is a WavRecorder over a file that keeps nothing (its blocks and header writes
 * complete at once). Prints one JSON line: packets, CPU µs (process.cpuUsage, user +
 * system) per packet or per call. Nothing is written to disk; nothing listens.
 */
import path from 'node:path';
import { setImmediate } from 'node:timers';
import { fileURLToPath, pathToFileURL } from 'node:url';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const opt = { mode: 'packets', calls: 200, secs: 10, dist: path.join(REPO, 'dist') };
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i++) {
  const a = argv[i];
  if (a === '--mode') opt.mode = argv[++i];
  else if (a === '--calls') opt.calls = Number(argv[++i]);
  else if (a === '--secs') opt.secs = Number(argv[++i]);
  else if (a === '--dist') opt.dist = path.resolve(argv[++i]);
  else throw new Error(`unknown option ${a}`);
}
if (!['packets', 'setup'].includes(opt.mode)) throw new Error(`unknown mode ${opt.mode}`);

const load = (rel) => import(pathToFileURL(path.join(opt.dist, rel)).href);
const { PacketRecorder } = await load('media/recording/packetRecorder.js');
const { WavRecorder } = await load('media/recording/wavRecorder.js');
const { PCMU } = await load('media/codecs/g711Codec.js');
const { encodeUlawInto } = await load('media/codecs/g711.js');

const KIND_PCMU = 1;

/** A file that accepts every write at once and keeps nothing. */
const nullFile = {
  write: (_buf, _off, length) => Promise.resolve({ bytesWritten: length }),
  close: () => Promise.resolve(),
};

async function newRecording(startMs) {
  const sink = await WavRecorder.create(nullFile, { channels: 2, sampleRate: 8000 });
  const r = new PacketRecorder({
    sink,
    startMs,
    codecOfKind: (kind) => (kind === KIND_PCMU ? PCMU : null),
  });
  r.setTracks([0, 1]);
  return r;
}

function rtpPacket(seq, ts, ssrc, payload) {
  const b = Buffer.alloc(12 + payload.length);
  b[0] = 0x80;
  b.writeUInt16BE(seq & 0xffff, 2);
  b.writeUInt32BE(ts >>> 0, 4);
  b.writeUInt32BE(ssrc >>> 0, 8);
  payload.copy(b, 12);
  return b;
}

const tone = new Int16Array(160);
for (let i = 0; i < 160; i++) tone[i] = Math.round(4000 * Math.sin((2 * Math.PI * 400 * i) / 8000));
const payload = Buffer.alloc(160);
encodeUlawInto(tone, payload);

const cpu = () => {
  const u = process.cpuUsage();
  return u.user + u.system;
};
const tick = () => new Promise((resolve) => setImmediate(resolve));

if (opt.mode === 'packets') {
  const T0 = 1000;
  const recs = [];
  for (let c = 0; c < opt.calls; c++) recs.push(await newRecording(T0));
  // Each leg's packets, made once: [seq][leg] per call share the bytes (the tap copies).
  const packets = opt.secs * 50;
  const legPackets = [0, 1].map((leg) =>
    Array.from({ length: packets + 1 }, (_, n) => rtpPacket(n, n * 160, 1000 + leg, payload)),
  );
  // Measured after the first second: the recorders' rings are taken and the code is
  // compiled by then (set-up is --mode setup's business).
  let pushed = 0;
  let started = 0;
  for (let ms = 100; ms <= opt.secs * 1000; ms += 100) {
    if (ms === 1100) {
      pushed = 0;
      started = cpu();
    }
    // The five 20 ms packets of each leg that arrived in (ms − 100, ms].
    for (let c = 0; c < opt.calls; c++) {
      const q = recs[c].queue;
      for (let k = 0; k < 5; k++) {
        let n = (ms - 100) / 20 + k + 1;
        if (n % 100 === 0) continue; // lost
        if (n % 50 === 49)
          n++; // reordered: 49 ↔ 50 (50 is lost on every other round)
        else if (n % 50 === 0) n--;
        if (n > packets) continue;
        const at = T0 + n * 20 + ((n * 7 + c) % 4);
        for (let leg = 0; leg < 2; leg++) {
          const msg = legPackets[leg][n];
          q.push(leg, KIND_PCMU, msg, 12, msg.length, at);
          pushed++;
        }
      }
    }
    for (let c = 0; c < opt.calls; c++) recs[c].drain(T0 + ms);
    await tick(); // the sink's writes complete
  }
  for (const r of recs) await r.stop(T0 + opt.secs * 1000);
  const used = cpu() - started;
  const stats = recs[0].stats;
  console.log(
    JSON.stringify({
      mode: 'packets',
      dist: opt.dist,
      calls: opt.calls,
      secs: opt.secs,
      packets: pushed,
      cpuUsPerPacket: +(used / pushed).toFixed(3),
      cpuUsPerCallSecond: +(used / (opt.calls * (opt.secs - 1))).toFixed(1),
      written: recs[0].written,
      overflow: stats.overflow,
      late: stats.late,
    }),
  );
} else {
  // Set-up cost: recordings of 1 s that get no packet, 20 at a time (as calls overlap),
  // drained every 100 ms, then stopped.
  const started = cpu();
  let t = 1000;
  for (let done = 0; done < opt.calls; done += 20) {
    const recs = [];
    for (let c = 0; c < 20; c++) recs.push(await newRecording(t));
    for (let ms = 100; ms <= 1000; ms += 100) for (const r of recs) r.drain(t + ms);
    for (const r of recs) await r.stop(t + 1000);
    t += 1000;
    await tick();
  }
  const used = cpu() - started;
  console.log(
    JSON.stringify({
      mode: 'setup',
      dist: opt.dist,
      calls: opt.calls,
      cpuUsPerCall: +(used / opt.calls).toFixed(1),
    }),
  );
}
