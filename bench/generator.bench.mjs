#!/usr/bin/env node
/**
 * The monitored-calls bench's own RTP generator (bench/lib/roomLoad.mjs) alone, without
 * the engine: can it hold N calls of 3 legs on time, and what does a datagram cost it?
 * bench/mixer.bench.mjs judges the engine only where its generator is on time; this says
 * up to which count that holds on this machine.
 *
 *   node bench/generator.bench.mjs [--calls "400 500"] [--secs 8] [--repeat 2]
 *                                  [--send "batched dgram"] [--results FILE]
 *
 * One run: roomLoad.mjs forked as mixer.bench.mjs forks it (calls × 3 legs, 50 probe
 * calls, 2 control pairs), every leg sending to a socket of this process that is never
 * read (receiving stopped at the handle: the kernel drops what it cannot queue, so the
 * sink costs nothing), 1 s warm-up, then the window. Reported per run: the generator's
 * CPU per datagram sent and in % of a core, the rate it held, its send lag p99 (how late
 * a slot's frames went out) and its control pairs' latency (socket to socket inside the
 * generator, no engine: its own share of any latency mixer.bench.mjs measures). `--send`
 * picks the send path per run, interleaved: `batched` (bench/lib/batchSend.mjs, the
 * default) and `dgram` (CALLWATCH_BENCH_BATCH_SEND=0, one dgram send per datagram).
 * Bounded: every run stops itself; the child is waited for and stopped by its PID.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import path from 'node:path';
import {
  commandLine,
  emitResult,
  f1,
  f2,
  intList,
  loadavg,
  machine,
  parseFlags,
} from './lib/benchRuntime.mjs';
import { appendLines } from './lib/sippBench.mjs';
import { endGenerator, forkGenerator, startGenerator, stopGenerator } from './lib/mediaBench.mjs';
import { openSockets } from './lib/rtpPackets.mjs';

const o = parseFlags(
  process.argv.slice(2),
  { calls: '400 500', secs: 8, repeat: 2, send: 'batched dgram', results: null },
  {
    '--results': ['results', (v) => path.resolve(v)],
    '--calls': 'calls',
    '--secs': ['secs', Number],
    '--repeat': ['repeat', Number],
    '--send': 'send',
  },
  import.meta.url,
);
const counts = intList(o.calls, '--calls');
const sends = o.send.split(/\s+/).filter(Boolean);
for (const s of sends) if (s !== 'batched' && s !== 'dgram') throw new Error(`--send: ${s}?`);
if (!(o.secs > 0 && o.secs <= 60)) throw new Error('--secs: 1..60');
if (!(o.repeat >= 1 && o.repeat <= 5)) throw new Error('--repeat: 1..5');

const ms = (us) => (us === null ? '–' : f1(us / 1000));

async function run(calls, send) {
  const sink = await openSockets(
    new Uint8Array(3 * calls),
    () => {},
    () => {},
  );
  const before = process.env.CALLWATCH_BENCH_BATCH_SEND;
  process.env.CALLWATCH_BENCH_BATCH_SEND = send === 'dgram' ? '0' : '1';
  let gen = null;
  try {
    ({ gen } = await forkGenerator('bench/lib/roomLoad.mjs', {
      calls,
      legs: 3,
      probe: 50,
      control: 2,
      burstEvery: 50,
      maxSecs: o.secs + 10,
    }));
    await startGenerator(
      gen,
      sink.map((s) => s.address().port),
      1000,
    );
    await sleep(o.secs * 1000);
    const g = await stopGenerator(gen);
    return {
      calls,
      send,
      usPerDatagram: (1000 * g.cpuMs) / Math.max(1, g.sent),
      cpuPct: g.cpuPct,
      heldPct: (100 * g.sendPps) / g.nominalPps,
      lagP99: g.sendLagP99Ms,
      control: g.controlLatencyUs,
      path: g.sendPath,
      sendErrors: g.sendErrors,
      load: loadavg(),
    };
  } finally {
    if (before === undefined) delete process.env.CALLWATCH_BENCH_BATCH_SEND;
    else process.env.CALLWATCH_BENCH_BATCH_SEND = before;
    if (gen !== null) await endGenerator(gen);
    for (const s of sink) s.close();
  }
}

const m = machine();
const lines = [
  `## The monitored-calls generator alone (bench/lib/roomLoad.mjs, no engine) — ${new Date().toISOString()}`,
  '',
  `- machine: ${m.nproc} CPU (${m.cpu}), kernel ${m.kernel}; node ${m.node}; load average at start ${m.load}`,
  `- command: \`${commandLine('generator.bench.mjs')}\``,
  `- setup: calls × 3 legs, 50 probe calls, 2 control pairs, every leg sending 172-byte PCMU at 50 pps to an unread socket of the bench; 1 s warm-up, ${o.secs} s window; send paths interleaved`,
  '',
  '| calls | send path | µs CPU per datagram | CPU % of a core | rate held % | send lag p99 (ms) | control pairs p50 / p99 / max (ms) | send errors | load |',
  '|---|---|---|---|---|---|---|---|---|',
];
for (const line of lines) console.log(line);
const rows = [];
for (let r = 0; r < o.repeat; r++) {
  for (const calls of counts) {
    for (const send of sends) {
      const x = await run(calls, send);
      rows.push(x);
      const line = `| ${x.calls} | ${x.path} | ${f2(x.usPerDatagram)} | ${f1(x.cpuPct)} | ${f1(x.heldPct)} | ${f1(x.lagP99)} | ${ms(x.control.p50)} / ${ms(x.control.p99)} / ${ms(x.control.max)} | ${x.sendErrors} | ${x.load} |`;
      lines.push(line);
      console.log(line);
      await sleep(300);
    }
  }
}
if (o.results) appendLines(o.results, [...lines, '']);
emitResult({ bench: 'generator', produced: rows.some((x) => x.heldPct > 0), runs: rows.length });
