#!/usr/bin/env node
/**
 * CPU per call of the media engine's command path alone, no SIP: paced calls doing what
 * src/calls/callMedia.ts does for a plain call (two createLeg and a createRoom; 50 ms later
 * two applyMedia and setRoutes in one turn; after the hold, closeRoom and both closeLeg),
 * on a real engine (two media workers, real sockets, the packet I/O the engine picks).
 * Prints one JSON line: the main thread's CPU per call (/proc/PID/task/PID/stat, ticks)
 * and the whole process's (process.cpuUsage), over the paced calls only.
 *
 *   node bench/engineCommands.bench.mjs [--dist DIR] [--rate N] [--secs S] [--hold MS]
 *                                       [--port-min P --port-max Q]
 *
 * A/B of two builds, interleaved (dist-base: another commit's dist copied beside dist):
 *   for r in 1 2 3 4; do for d in dist-base dist; do
 *     node bench/engineCommands.bench.mjs --dist $d --rate 200 --secs 6; done; done
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { performance } from 'node:perf_hooks';

const { values: o } = parseArgs({
  options: {
    dist: { type: 'string', default: 'dist' },
    rate: { type: 'string', default: '200' },
    secs: { type: 'string', default: '6' },
    hold: { type: 'string', default: '500' },
    'port-min': { type: 'string', default: '20000' },
    'port-max': { type: 'string', default: '39999' },
  },
});
const dist = path.resolve(o.dist);
const rate = Number(o.rate);
const calls = Math.round(rate * Number(o.secs));
const holdMs = Number(o.hold);
const { MediaEngine } = await import(path.join(dist, 'media/engine/index.js'));

/** utime + stime of one thread of this process, in µs (clock ticks of 10 ms). */
function threadCpuUs(tid) {
  const fields = readFileSync(`/proc/${process.pid}/task/${tid}/stat`, 'utf8')
    .split(') ')[1]
    .split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10_000;
}

const engine = await MediaEngine.create({
  address: '127.0.0.1',
  portRange: { min: Number(o['port-min']), max: Number(o['port-max']) },
  rtpTimeoutMs: 0,
  latchWindowMs: 2000,
  workers: 2,
  workerScript: path.join(dist, 'media/worker/main.js'),
  recordingWriterScript: path.join(dist, 'media/recording/writer/main.js'),
});
const codecs = () => [
  { name: 'PCMU', payloadType: 0 },
  { name: 'PCMA', payloadType: 8 },
  { name: 'G722', payloadType: 9 },
  { name: 'opus', payloadType: 111 },
];
let failed = 0;
try {
  async function call(i) {
    const group = `call-${i}`;
    const [a, b] = await Promise.all([
      engine.createLeg({ codecs: codecs(), group, callId: group }),
      engine.createLeg({ codecs: codecs(), group, callId: group }),
    ]);
    const room = await engine.createRoom({ group });
    await sleep(50);
    const apply = (leg, port) =>
      leg.applyMedia({
        codecs: [{ name: 'PCMA', payloadType: 8 }],
        telephoneEvent: null,
        remote: { address: '127.0.0.1', port, rtcpMux: false },
        direction: 'sendrecv',
      });
    await Promise.all([
      apply(a, 16000),
      apply(b, 17000),
      room.setRoutes({
        members: [
          { leg: a, hears: [{ leg: b, gain: 1 }] },
          { leg: b, hears: [{ leg: a, gain: 1 }] },
        ],
        recordingTracks: [[a], [b]],
      }),
    ]);
    await sleep(holdMs);
    await Promise.all([room.close(), a.close(), b.close()]);
  }
  await sleep(500); // the workers' start-up out of the window
  const main0 = threadCpuUs(process.pid);
  const all0 = process.cpuUsage();
  const start = performance.now();
  const running = [];
  for (let i = 0; i < calls; i++) {
    const wait = start + (i * 1000) / rate - performance.now();
    if (wait > 1) await sleep(wait);
    running.push(call(i).catch(() => failed++));
  }
  await Promise.all(running);
  const all = process.cpuUsage(all0);
  const line = {
    dist: o.dist,
    rate,
    calls,
    failed,
    mainUsPerCall: Math.round((threadCpuUs(process.pid) - main0) / calls),
    processUsPerCall: Math.round((all.user + all.system) / calls),
    load: readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' '),
  };
  process.stdout.write(`${JSON.stringify(line)}\n`);
} finally {
  await engine.close();
}
process.exitCode = failed > 0 ? 1 : 0;
