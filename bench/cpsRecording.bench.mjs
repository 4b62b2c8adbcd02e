#!/usr/bin/env node
/**
 * What recording adds to a call's set-up and teardown, without SIP: CPU of the whole
 * process (main thread, media workers, recording writer) per call, recording off and on,
 * runs interleaved, optionally two builds A/B in the same session.
 *
 *   node bench/cpsRecording.bench.mjs [options]
 *
 *   --calls N        calls per run (default 300)
 *   --rate R         calls started per second (default 100)
 *   --hold MS        each call's length (default 1000, as bench/cps.bench.mjs)
 *   --repeat K       rounds (default 4); a round runs every build off, then on
 *   --dists "dist"   build folders (relative to the repository) to compare, e.g.
 *                    "dist-base dist" for an A/B against a copy of an older build
 *   --dir DIR        where the recordings go (default SCRATCH/cps-recording-<time>), one
 *                    folder per run, all removed after the last run: on an ext4 without a
 *                    journal, creating a file scans past every inode freed in the last
 *                    minutes (ext4's recently_deleted), so removing a run's files before the
 *                    next made that run's creates pay for them. The file system's cost of
 *                    creating files there is part of what is measured (docs/architecture.md
 *                    §7.5)
 *   --via server|engine  server (default): each call through the server's own code for
 *                    it, CallMedia (src/calls/callMedia.ts: two legs, the answer's codecs,
 *                    the room) and the RecordingTap (src/recording/recordingTap.ts: roles,
 *                    start, both sidecars), in the order the server calls them; engine: the
 *                    MediaEngine API called directly, each step awaited (the older figure)
 *   --no-build       do not run `npm run build` first
 *   --results FILE   append a markdown block to FILE
 *
 * One run = a fresh process (a fresh MediaEngine: 2 workers, the writer thread, no RTP):
 * per call two PCMA legs and a room where each hears the other, as the server sets up an
 * answered call; with recording on, also the room's stereo WAV and the sidecar the tap
 * writes at the start and rewrites at the end (through the engine's writer thread, as
 * the server does). 20 calls warm up first. CPU = process.cpuUsage() (every thread) over
 * the calls, per call; the workers' and the writer's own shares from their schedstat, the
 * main thread's from /proc/self/task/PID/stat; "batches" = messages to the writer thread
 * per call; "switches" = voluntary context switches of all the process's threads per call
 * (each is a thread going to sleep, so about one wake-up each: what the messages between
 * threads cost beyond their own work); "page faults" = minor page faults of the whole
 * process per call (process.resourceUsage(): fresh memory touched, e.g. a worker's batch
 * buffers and WAV blocks when the writer thread falls behind and they do not come back
 * for reuse, docs/architecture.md §7.6). Everything is bounded in count and
 * time; each run's process is waited for (at most 120 s) and killed by its PID past that.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout } from 'node:timers';
import { fileURLToPath, pathToFileURL } from 'node:url';
import {
  REPO,
  SCRATCH,
  build,
  commandLine,
  loadavg,
  machine,
  parseFlags,
  stamp,
} from './lib/benchRuntime.mjs';
import { appendLines } from './lib/sippBench.mjs';

const child = process.argv[2] === '--child';

/** CPU ms of this process's main thread (utime + stime, clock ticks of 10 ms). */
function mainThreadMs() {
  const s = readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8');
  const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) * 10;
}

/** Voluntary context switches of every thread of this process, summed. */
function switches() {
  let n = 0;
  for (const t of readdirSync('/proc/self/task')) {
    try {
      const m = /voluntary_ctxt_switches:\s+(\d+)/.exec(
        readFileSync(`/proc/self/task/${t}/status`, 'utf8'),
      );
      n += Number(m?.[1] ?? 0);
    } catch {
      // the thread ended meanwhile
    }
  }
  return n;
}

/**
 * One call the way the server makes it (src/calls/call.ts, src/monitoring/supervision.ts):
 * CallMedia's two legs; the answer applied to both and the room connected, while the tap
 * sets the roles and starts the recording (its start sidecar after); hold; the media
 * closed and the tap's end sidecar.
 */
async function serverCall(m, engine, tap, quiet, id, hold) {
  const media = await m.CallMedia.create(engine, id, ['PCMA'], quiet);
  const leg = (port) => ({
    remote: { address: '127.0.0.1', port },
    rtcpMux: false,
    codec: { name: 'PCMA', sendPayloadType: 8, receivePayloadType: 8 },
    codecs: [],
    direction: 'sendrecv',
  });
  const record = {
    id,
    caller: '5550199',
    callee: '1001',
    direction: 'inbound',
    state: 'answered',
    startedAt: performance.now(),
    answeredAt: performance.now(),
  };
  const live = { record, media, extensions: { b: '1001' } };
  // As Call.answer: the routes in the same turn as the answer's media, not after its reply.
  const connected = Promise.all([
    media.apply('a', leg(9)),
    media.apply('b', leg(11)),
    media.connect(),
  ]);
  const started = tap.answered(live);
  await Promise.all([connected, started]);
  await new Promise((r) => setTimeout(r, Number(hold)));
  record.endedAt = performance.now();
  record.endReason = 'caller-hangup';
  record.state = 'ended';
  await media.close();
  await tap.ended(live, []);
}

async function runChild([, dist, rec, dir, n, rate, hold, via = 'engine']) {
  const N = Number(n);
  const { MediaEngine } = await import(
    pathToFileURL(path.join(REPO, dist, 'media/engine/index.js')).href
  );
  const quiet = {
    child() {
      return this;
    },
    debug() {},
    info() {},
    warn() {},
    error() {},
  };
  const engine = await MediaEngine.create({
    address: '127.0.0.1',
    portRange: { min: 20000, max: 29999 },
    rtpTimeoutMs: 0,
    latchWindowMs: 5000,
    workers: 2,
    statsIntervalMs: 0,
    rtcpIntervalMs: 3600000,
    logger: quiet,
  });
  mkdirSync(dir, { recursive: true });
  const codecs = [{ name: 'PCMA', payloadType: 8 }];
  const rewrite = typeof engine.updateSmallFile === 'function';
  let tap = null;
  let server = null;
  if (via === 'server') {
    server = {
      ...(await import(pathToFileURL(path.join(REPO, dist, 'src/calls/callMedia.js')).href)),
    };
    const { RecordingTap } = await import(
      pathToFileURL(path.join(REPO, dist, 'src/recording/recordingTap.js')).href
    );
    const config = {
      recording: {
        enabled: rec === 'on',
        directory: dir,
        format: 'wav',
        channels: 'stereo',
        fileMode: 0o640,
        dirMode: 0o750,
      },
      extensions: [],
    };
    tap = new RecordingTap(config, quiet, Date.now() - performance.now(), engine);
  }
  const call = async (id) => {
    if (server !== null) return serverCall(server, engine, tap, quiet, id, hold);
    const a = await engine.createLeg({ codecs, group: id, callId: id });
    const b = await engine.createLeg({ codecs, group: id, callId: id });
    const room = await engine.createRoom({ group: id });
    await room.setRoutes({
      members: [
        { leg: a, hears: [{ leg: b, gain: 1 }] },
        { leg: b, hears: [{ leg: a, gain: 1 }] },
      ],
      recordingTracks: [[a], [b]],
    });
    const base = path.join(dir, `${new Date().toISOString().replace(/[:.]/g, '-')}_${id}`);
    const doc = {
      callId: id,
      file: `${base}.wav`,
      endedAt: null,
      audioBytes: null,
      monitoring: [],
    };
    if (rec === 'on') {
      await room.startRecording({
        path: `${base}.wav`,
        channels: 2,
        format: 'wav',
        fileMode: 0o640,
      });
      await engine.writeSmallFile(`${base}.json`, `${JSON.stringify(doc, null, 2)}\n`, 0o640);
    }
    await new Promise((r) => setTimeout(r, Number(hold)));
    const summary = await room.close();
    await Promise.all([a.close(), b.close()]);
    if (rec === 'on') {
      const text = `${JSON.stringify({ ...doc, endedAt: new Date().toISOString(), audioBytes: summary?.bytes ?? null }, null, 2)}\n`;
      if (rewrite) await engine.updateSmallFile(`${base}.json`, text, 0o640);
      else await engine.writeSmallFile(`${base}.json`, text, 0o640);
    }
  };
  const threads = async () => {
    const w = await engine.getStats();
    const r = await engine.getRecordingWriterStats();
    return {
      workers: w.reduce((s, x) => s + (x.worker.cpuMs ?? 0), 0),
      writer: r?.cpuMs ?? 0,
      batches: r?.batches ?? 0,
    };
  };
  try {
    await Promise.all(Array.from({ length: 20 }, (_, i) => call(`w${i}`)));
    const t0 = await threads();
    const m0 = mainThreadMs();
    const s0 = switches();
    const f0 = process.resourceUsage().minorPageFault;
    const c0 = process.cpuUsage();
    const start = performance.now();
    const calls = [];
    for (let i = 0; i < N; i++) {
      const wait = start + (i * 1000) / Number(rate) - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      calls.push(call(`c${i}`));
    }
    await Promise.all(calls);
    const c = process.cpuUsage(c0);
    const f1 = process.resourceUsage().minorPageFault;
    const m1 = mainThreadMs();
    const s1 = switches();
    const t1 = await threads();
    const us = (x) => Math.round(x / N);
    process.stdout.write(
      `${JSON.stringify({
        us: us(c.user + c.system),
        sys: us(c.system),
        main: us((m1 - m0) * 1000),
        switches: (s1 - s0) / N,
        faults: (f1 - f0) / N,
        workers: us((t1.workers - t0.workers) * 1000),
        writer: us((t1.writer - t0.writer) * 1000),
        batches: (t1.batches - t0.batches) / N,
        wallS: (performance.now() - start) / 1000,
      })}\n`,
    );
  } finally {
    await engine.close();
  }
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : (s[(s.length - 1) >> 1] + s[s.length >> 1]) / 2;
};

async function main() {
  const o = parseFlags(
    process.argv.slice(2),
    {
      calls: 300,
      rate: 100,
      hold: 1000,
      repeat: 4,
      dists: 'dist',
      dir: null,
      via: 'server',
      build: true,
      results: null,
    },
    {
      '--calls': ['calls', Number],
      '--rate': ['rate', Number],
      '--hold': ['hold', Number],
      '--repeat': ['repeat', Number],
      '--dists': 'dists',
      '--dir': 'dir',
      '--via': 'via',
      '--no-build': { build: false },
      '--results': 'results',
    },
    import.meta.url,
  );
  if (!(o.calls > 0 && o.calls <= 2000)) throw new Error('--calls: 1..2000');
  if (!(o.rate > 0 && o.rate <= 500)) throw new Error('--rate: 1..500');
  if (!(o.hold >= 0 && o.hold <= 10000)) throw new Error('--hold: 0..10000 ms');
  if (!(o.repeat >= 1 && o.repeat <= 10)) throw new Error('--repeat: 1..10');
  if (o.via !== 'server' && o.via !== 'engine') throw new Error('--via: server or engine');
  const dists = o.dists.split(/\s+/).filter(Boolean);
  if (o.build) build();
  const dir = o.dir ?? path.join(SCRATCH, `cps-recording-${stamp()}`);
  const m = machine();
  const rows = [];
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  for (let round = 1; round <= o.repeat; round++) {
    for (const dist of dists) {
      for (const rec of ['off', 'on']) {
        const load = loadavg();
        const r = spawnSync(
          process.execPath,
          [
            fileURLToPath(import.meta.url),
            '--child',
            dist,
            rec,
            path.join(dir, `${round}-${path.basename(dist)}-${rec}`),
            o.calls,
            o.rate,
            o.hold,
            o.via,
          ],
          { cwd: REPO, encoding: 'utf8', timeout: 120000, killSignal: 'SIGKILL' },
        );
        const line = r.stdout.trim().split('\n').pop() ?? '';
        if (r.status !== 0 || !line.startsWith('{'))
          throw new Error(`run ${dist} ${rec} failed: ${r.stderr.slice(-2000)}`);
        const m = { round, dist, rec, load, ...JSON.parse(line) };
        rows.push(m);
        console.log(JSON.stringify(m));
      }
    }
  }
  const lines = [
    `## Recording's cost per call set-up, without SIP (${o.via === 'server' ? 'CallMedia + RecordingTap' : 'media engine'}) — ${new Date().toISOString()}`,
    '',
    `- machine: ${m.nproc} CPU (${m.cpu}), kernel ${m.kernel}, ${m.memGb} GB RAM; node ${m.node}; load average at start ${m.load}, at end ${loadavg()}`,
    `- command: \`${commandLine('cpsRecording.bench.mjs')}\``,
    `- setup: ${o.calls} calls at ${o.rate}/s held ${o.hold} ms per run, 2 workers; ${o.via === 'server' ? "each call through the server's CallMedia and RecordingTap" : 'each call through the MediaEngine API, each step awaited'}; recording = stereo WAV + the sidecar written at the start and rewritten at the end; runs interleaved (per round every build off then on), ${o.repeat} round(s); CPU of the whole process per call (µs), the main thread's, the workers' and the writer's share; voluntary context switches and minor page faults per call (all threads); recordings in ${path.dirname(dir)}, a folder per run, all removed after the last run`,
    '',
    '| build | recording | runs | µs CPU/call (median) | of which sys | main thread | workers | writer | writer batches/call | switches/call | page faults/call | runs (µs/call) |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|',
  ];
  for (const dist of dists) {
    for (const rec of ['off', 'on']) {
      const rs = rows.filter((r) => r.dist === dist && r.rec === rec);
      const med = (k) => Math.round(median(rs.map((r) => r[k])));
      lines.push(
        `| ${dist} | ${rec} | ${rs.length} | ${med('us')} | ${med('sys')} | ${med('main')} | ${med('workers')} | ${med('writer')} | ${median(rs.map((r) => r.batches)).toFixed(2)} | ${median(rs.map((r) => r.switches)).toFixed(1)} | ${Math.round(median(rs.map((r) => r.faults)))} | ${rs.map((r) => r.us).join(', ')} |`,
      );
    }
  }
  lines.push('');
  for (const dist of dists) {
    const med = (rec) =>
      median(rows.filter((r) => r.dist === dist && r.rec === rec).map((r) => r.us));
    lines.push(
      `- ${dist}: recording adds ${Math.round(med('on') - med('off'))} µs CPU per call (on/off ${(med('on') / med('off')).toFixed(2)}×, medians)`,
    );
  }
  console.log(lines.join('\n'));
  if (o.results) appendLines(o.results, [...lines, '']);
}

if (child) await runChild(process.argv.slice(2));
else await main();
