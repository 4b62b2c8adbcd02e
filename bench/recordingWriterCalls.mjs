#!/usr/bin/env node
/**
 * What recorded calls cost the recording writer thread and its clients, in process and
 * without SIP or sockets: the build's own writer thread (RecordingWriter), and its clients
 * as the server holds them (docs/architecture.md §7.6): --workers threads, each a media
 * worker's share of the calls with its own WriterClient (WORKER_WRITER_BATCH_MS) and a
 * 100 ms sweep that feeds each recording its silence (bench/cps.bench.mjs's calls carry no
 * RTP), and this thread as the engine's main thread: it sends each worker a command per
 * call start and end, and writes each call's sidecar through its own client (50 ms) when
 * the worker answers the start (`writeSmallFile`) and the end (`updateSmallFile`). A
 * recording is a stereo 8 kHz WAV opened with `beginSink`, as roomRecording.ts does.
 *
 *   node bench/recordingWriterCalls.mjs [--calls 2000] [--rate 400] [--hold 1000]
 *        [--workers 2] [--dir DIR] [--deleted N] [--rounds 2] [--dist DIR]...
 *
 *   --dir DIR     where the recordings go (default: a new folder under /var/tmp); each
 *                 round writes a new sub-folder; all are deleted at the end
 *   --deleted N   before each round, create and delete N empty files beside the round's
 *                 folder (what a retention sweep or the last run's clean-up leaves): on an
 *                 ext4 without a journal a create then reads every inode freed in its block
 *                 group in the last minutes (docs/architecture.md §7.5)
 *   --dist DIR    a build to measure; repeat for an A/B (rounds alternate; default ./dist)
 *
 * Prints one JSON line per round, µs of CPU per call: the whole process (every thread),
 * the writer thread (its own stats), the workers and the main thread (schedstat); the
 * writer's batches per call; voluntary context switches per call (about the wake-ups).
 */
import {
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { clearInterval, setInterval, setTimeout } from 'node:timers';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';

const SELF = fileURLToPath(import.meta.url);
const REPO = path.resolve(path.dirname(SELF), '..');
const load = (dist, rel) => import(pathToFileURL(path.join(dist, rel)).href);
/** This thread's CPU, ms (Linux schedstat: ns on CPU). */
const threadCpuMs = () =>
  Number(readFileSync('/proc/thread-self/schedstat', 'utf8').split(' ')[0]) / 1e6;

if (!isMainThread) {
  // A media worker's share: recordings opened, fed by a 100 ms sweep, closed on command.
  const { dist, port, hold } = workerData;
  const { WriterClient, WORKER_WRITER_BATCH_MS } = await load(
    dist,
    'media/recording/writer/client.js',
  );
  const { beginSink } = await load(dist, 'media/recording/openSink.js');
  const writer = new WriterClient(port, WORKER_WRITER_BATCH_MS);
  const live = new Map();
  const sweep = setInterval(() => {
    const now = performance.now();
    for (const r of live.values()) {
      const frames = Math.floor((now - r.start) / 20) - r.frames;
      if (frames > 0) {
        r.sink.writeSilence(frames);
        r.frames += frames;
      }
    }
  }, 100);
  parentPort.on('message', async (m) => {
    if (m.type === 'start') {
      const { sink, written } = await beginSink({
        path: m.path,
        channels: 2,
        format: 'wav',
        sampleRate: 8000,
        law: 'alaw',
        createFile: (p, mode) => Promise.resolve(writer.open(p, mode)),
      });
      const r = { sink, start: performance.now(), frames: 0 };
      live.set(m.i, r);
      written.then(
        () => parentPort.postMessage({ type: 'started', i: m.i }),
        (err) => parentPort.postMessage({ type: 'started', i: m.i, error: String(err) }),
      );
    } else if (m.type === 'end') {
      const r = live.get(m.i);
      live.delete(m.i);
      const frames = Math.round(hold / 20) - r.frames;
      if (frames > 0) r.sink.writeSilence(frames);
      r.sink.close().then(
        () => parentPort.postMessage({ type: 'ended', i: m.i, bytes: r.sink.bytesWritten }),
        (err) => parentPort.postMessage({ type: 'ended', i: m.i, error: String(err) }),
      );
    } else if (m.type === 'cpu') {
      parentPort.postMessage({ type: 'cpu', ms: threadCpuMs() });
    } else if (m.type === 'close') {
      clearInterval(sweep);
      writer.close();
      parentPort.close();
    }
  });
} else {
  const opt = {
    calls: 2000,
    rate: 400,
    hold: 1000,
    workers: 2,
    dir: null,
    deleted: 0,
    dists: [],
    rounds: 2,
  };
  const argv = process.argv.slice(2);
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const v = () => argv[++i];
    if (a === '--calls') opt.calls = Number(v());
    else if (a === '--rate') opt.rate = Number(v());
    else if (a === '--hold') opt.hold = Number(v());
    else if (a === '--workers') opt.workers = Number(v());
    else if (a === '--dir') opt.dir = path.resolve(v());
    else if (a === '--deleted') opt.deleted = Number(v());
    else if (a === '--dist') opt.dists.push(path.resolve(v()));
    else if (a === '--rounds') opt.rounds = Number(v());
    else throw new Error(`unknown option ${a}`);
  }
  if (opt.dists.length === 0) opt.dists.push(path.join(REPO, 'dist'));
  const root = opt.dir ?? mkdtempSync('/var/tmp/writer-calls-');
  mkdirSync(root, { recursive: true });
  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
  const switches = () => {
    let n = 0;
    for (const t of readdirSync('/proc/self/task')) {
      const m = /voluntary_ctxt_switches:\s+(\d+)/.exec(
        readFileSync(`/proc/self/task/${t}/status`, 'utf8'),
      );
      if (m) n += Number(m[1]);
    }
    return n;
  };
  const cpuOf = (w) =>
    new Promise((resolve) => {
      const on = (m) => {
        if (m.type !== 'cpu') return;
        w.off('message', on);
        resolve(m.ms);
      };
      w.on('message', on);
      w.postMessage({ type: 'cpu' });
    });
  const sidecar = (i, end) =>
    `${JSON.stringify({ callId: `call-${i}`, file: `call-${i}.wav`, start: Date.now(), end: end ? Date.now() : null, audioBytes: end ? 32000 : 0 }, null, 2)}\n`;

  async function round(dist, dir) {
    const { RecordingWriter } = await load(dist, 'media/recording/writer/recordingWriter.js');
    const { WriterClient } = await load(dist, 'media/recording/writer/client.js');
    const writer = await RecordingWriter.start(
      path.join(dist, 'media/recording/writer/main.js'),
      () => undefined,
    );
    const main = new WriterClient(writer.channel('main'), 50);
    const workers = [];
    for (let k = 0; k < opt.workers; k++) {
      const port = writer.channel(`worker${k}`);
      const w = new Worker(SELF, {
        workerData: { dist, port, hold: opt.hold },
        transferList: [port],
      });
      await new Promise((r) => w.once('online', r));
      workers.push(w);
    }
    await sleep(300); // modules loaded
    let errors = 0;
    let pendingEnds = opt.calls;
    let allEnded;
    const ended = new Promise((r) => (allEnded = r));
    const sides = new Map();
    for (const w of workers) {
      w.on('message', (m) => {
        if (m.error) errors++;
        if (m.type === 'started') {
          sides.set(
            m.i,
            main
              .writeSmallFile(path.join(dir, `call-${m.i}.json`), sidecar(m.i, false), 0o640)
              .catch(() => errors++),
          );
        } else if (m.type === 'ended') {
          const json = path.join(dir, `call-${m.i}.json`);
          Promise.resolve(sides.get(m.i))
            .then(() => main.updateSmallFile(json, sidecar(m.i, true), 0o640))
            .catch(() => errors++)
            .finally(() => {
              if (--pendingEnds === 0) allEnded();
            });
        }
      });
    }
    const s0 = await writer.stats();
    const wc0 = await Promise.all(workers.map(cpuOf));
    const c0 = process.cpuUsage();
    const m0 = threadCpuMs();
    const x0 = switches();
    const t0 = performance.now();
    for (let i = 0; i < opt.calls; i++) {
      const wait = t0 + (i * 1000) / opt.rate - performance.now();
      if (wait > 1) await sleep(wait);
      const w = workers[i % workers.length];
      w.postMessage({ type: 'start', i, path: path.join(dir, `call-${i}.wav`) });
      setTimeout(() => w.postMessage({ type: 'end', i }), opt.hold);
    }
    await ended;
    const c1 = process.cpuUsage(c0);
    const m1 = threadCpuMs();
    const x1 = switches();
    const wc1 = await Promise.all(workers.map(cpuOf));
    const s1 = await writer.stats();
    for (const w of workers) w.postMessage({ type: 'close' });
    await Promise.all(workers.map((w) => new Promise((r) => w.once('exit', r))));
    main.close();
    await writer.close();
    const n = opt.calls;
    const us = (ms) => Math.round((ms * 1000) / n);
    return {
      build: path.relative(REPO, dist) || dist,
      processUs: Math.round((c1.user + c1.system) / n),
      writerUs: us(s1.cpuMs - s0.cpuMs),
      workersUs: us(wc1.reduce((a, b) => a + b, 0) - wc0.reduce((a, b) => a + b, 0)),
      mainUs: us(m1 - m0),
      writerBatches: Math.round(((s1.batches - s0.batches) / n) * 1000) / 1000,
      switches: Math.round(((x1 - x0) / n) * 10) / 10,
      errors: errors + s1.errors - s0.errors,
    };
  }

  function deleteFiles(n) {
    if (n <= 0) return;
    const d = path.join(root, `deleted-${Date.now()}`);
    mkdirSync(d);
    for (let i = 0; i < n; i++) writeFileSync(path.join(d, String(i)), '');
    for (let i = 0; i < n; i++) unlinkSync(path.join(d, String(i)));
    rmSync(d, { recursive: true });
  }

  console.log(
    `${opt.calls} calls at ${opt.rate}/s, ${opt.hold} ms each, ${opt.workers} workers, in ${root}; ${opt.deleted} files deleted before each round`,
  );
  let k = 0;
  try {
    for (let r = 0; r < opt.rounds; r++) {
      for (const dist of opt.dists) {
        const dir = path.join(root, `r${k++}`);
        deleteFiles(opt.deleted);
        mkdirSync(dir);
        console.log(JSON.stringify(await round(dist, dir)));
      }
    }
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}
