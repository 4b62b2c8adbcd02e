#!/usr/bin/env node
/**
 * Whole call set-ups through the server's real layers, in one process: the server
 * (src/server.ts startServer: SIP transport, transactions, dialogs, the B2BUA, the media
 * engine and its workers, events, metrics, logging at `--log-level`) runs on this
 * process's main thread; a SIPp-like UAC and UAS (bench/lib/sipCallPeer.mjs, the peers'
 * uac_cps.xml and uas_cps.xml messages) run in a worker thread and talk to it over UDP on
 * 127.0.0.1. Extension 1001 is put in the location service directly (no REGISTER).
 *
 * Reported: the main thread's CPU per call (/proc/self/task/PID/stat, utime+stime, from the
 * first INVITE of the measured calls to the last call's end), the process's, calls ok /
 * failed, INVITE→200 p50/p99, each other thread's per call by who started it (V8's platform
 * workers: GC helpers; the server's: media workers, their io threads, the writer; the
 * peer's: other); with --cpu-prof, the main thread's self time by function and
 * by source area (V8's sampling profiler, in-process); with --alloc, KB allocated on the
 * main thread per call by file (V8's sampling heap profiler, collected objects included).
 *
 *   node bench/callSetupInProcess.mjs [--rate 100] [--calls 1000] [--warm 500] [--hold 200]
 *        [--rounds 1] [--dist DIR] [--cpu-prof] [--alloc] [--top 40] [--by-function] [--log-level warn]
 *        [--sip-port 52060] [--heap-after MS] [--json]
 *
 * --heap-after MS: MS after the last measured call, a heap snapshot of the main thread
 * (V8 collects first: only what is still reachable) summed by constructor, per call set
 * up: what ended calls leave behind (lingering transactions, and what they reach).
 *
 * Ports: SIP --sip-port, the UAC at +10, the UAS at +30, media --sip-port+100 .. +939.
 * A/B: --dist points at another build's dist; run A and B interleaved and read medians.
 */
import { readFileSync, readdirSync, mkdtempSync, rmSync } from 'node:fs';
import inspector from 'node:inspector/promises';
import os from 'node:os';
import path from 'node:path';
import { URL, pathToFileURL } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { Worker } from 'node:worker_threads';
import { pino } from 'pino';
import { REPO, parseFlags } from './lib/benchRuntime.mjs';

const o = parseFlags(
  process.argv.slice(2),
  {
    rate: 100,
    calls: 1000,
    warm: 500,
    hold: 200,
    rounds: 1,
    top: 40,
    sipPort: 52060,
    logLevel: 'warn',
    dist: path.join(REPO, 'dist'),
    cpuProf: false,
    alloc: false,
    json: false,
    byFunction: false,
    heapAfter: -1,
  },
  {
    '--rate': ['rate', Number],
    '--calls': ['calls', Number],
    '--warm': ['warm', Number],
    '--hold': ['hold', Number],
    '--rounds': ['rounds', Number],
    '--top': ['top', Number],
    '--sip-port': ['sipPort', Number],
    '--log-level': 'logLevel',
    '--dist': ['dist', (v) => path.resolve(v)],
    '--cpu-prof': { cpuProf: true },
    '--alloc': { alloc: true },
    '--json': { json: true },
    '--by-function': { byFunction: true },
    '--heap-after': ['heapAfter', Number],
  },
  import.meta.url,
);
const RATE = o.rate;
const CALLS = o.calls;
const WARM = o.warm;
const HOLD = o.hold;
const ROUNDS = o.rounds;
const TOP = o.top;
const SIP_PORT = o.sipPort;
const LOG_LEVEL = o.logLevel;
const DIST = o.dist;
const CPU_PROF = o.cpuProf;
const ALLOC = o.alloc;
const JSON_OUT = o.json;
const BY_FUNCTION = o.byFunction;
const HEAP_AFTER = o.heapAfter;
const DID = '5550100';

const load = (p) => import(pathToFileURL(path.join(DIST, p)).href);
const { parseConfig } = await load('src/config/load.js');
const { startServer } = await load('src/server.js');

const run = mkdtempSync(path.join(os.tmpdir(), 'cps17-insetup-'));
const config = parseConfig(
  {
    sip: { listen: { address: '127.0.0.1', udpPort: SIP_PORT, tcpPort: SIP_PORT } },
    http: { address: '127.0.0.1', port: null },
    log: { level: LOG_LEVEL },
    auth: { algorithms: ['MD5'] },
    api: { tokens: [] },
    audit: { file: path.join(run, 'audit', 'monitoring.jsonl') },
    media: { address: '127.0.0.1', portRange: { min: SIP_PORT + 100, max: SIP_PORT + 939 } },
    trunks: [
      {
        name: 'carrier',
        host: '127.0.0.1',
        port: SIP_PORT + 10,
        transport: 'udp',
        sourcePort: SIP_PORT + 10,
        prefixes: [],
        dids: { [DID]: '1001' },
      },
    ],
    extensions: [{ number: '1001', password: 'pw1001', displayName: 'Bench 1001', role: 'agent' }],
    monitoring: { enabled: false, groups: [] },
    recording: { enabled: false, format: 'stereo', directory: path.join(run, 'recordings') },
  },
  'callSetupInProcess',
);

// Messages to the media workers (not to the peer's worker): posts and the commands in them.
const posts = { messages: 0, commands: 0, byType: new Map() };
const peerWorkers = new WeakSet();
const realPost = Worker.prototype.postMessage;
Worker.prototype.postMessage = function (message, transfer) {
  if (!peerWorkers.has(this)) {
    posts.messages++;
    const list = message?.type === 'batch' ? message.messages : [message];
    for (const m of list) {
      posts.commands++;
      posts.byType.set(m?.type, (posts.byType.get(m?.type) ?? 0) + 1);
    }
  }
  return realPost.call(this, message, transfer);
};
// As src/logging.ts's logger, on standard error: standard output carries the result.
const logger = pino(
  { level: LOG_LEVEL, base: { name: 'callwatch' }, timestamp: pino.stdTimeFunctions.isoTime },
  pino.destination(2),
);
// Threads by who started them (Node 20 names them all "node"): the process's own before
// the server starts (main, V8's platform workers: GC helpers, compilers), the server's
// (media workers and their native io threads, the recording writer), the rest (the peer).
const taskIds = () => new Set(readdirSync('/proc/self/task'));
const preThreads = taskIds();
const server = await startServer(config, { logger });
const serverThreads = new Set([...taskIds()].filter((t) => !preThreads.has(t)));
const UAS_PORT = SIP_PORT + 30;
server.location.upsert({
  extension: '1001',
  contact: `<sip:1001@127.0.0.1:${UAS_PORT}>`,
  uri: `sip:1001@127.0.0.1:${UAS_PORT}`,
  key: `sip:1001@127.0.0.1:${UAS_PORT}`,
  callId: 'bench-registration',
  cseq: 1,
  expiresAt: Date.now() + 3_600_000,
  registeredAt: Date.now(),
  source: { protocol: 'udp', address: '127.0.0.1', port: UAS_PORT },
});

const TICKS = 100; // USER_HZ on Linux
const threadTicks = (tid) => {
  const f = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
  const rest = f.slice(f.lastIndexOf(')') + 2).split(' ');
  return Number(rest[11]) + Number(rest[12]);
};
const allTicks = () => {
  const ticks = new Map();
  for (const tid of taskIds()) {
    try {
      ticks.set(tid, threadTicks(tid));
    } catch {
      // ended meanwhile
    }
  }
  return ticks;
};
/** µs per call of each thread group (see preThreads), the server's threads one by one. */
function threadsPerCall(before, after, calls) {
  const us = (ticks) => Math.round((ticks * 1e6) / TICKS / calls);
  const groups = { v8Platform: 0, server: [], other: 0 };
  for (const [tid, t] of after) {
    if (tid === String(process.pid)) continue;
    const d = t - (before.get(tid) ?? 0);
    if (preThreads.has(tid)) groups.v8Platform += d;
    else if (serverThreads.has(tid)) groups.server.push(d);
    else groups.other += d;
  }
  return {
    v8Platform: us(groups.v8Platform),
    serverThreads: groups.server.sort((a, b) => b - a).map(us),
    other: us(groups.other),
  };
}
const cpu = () => ({
  threads: allTicks(),
  main: threadTicks(process.pid),
  all: (() => {
    const u = process.cpuUsage();
    return (u.user + u.system) / 1000; // ms
  })(),
});

let tagSeq = 0;
function phase(calls, rate) {
  return new Promise((resolve, reject) => {
    const w = new Worker(new URL('./lib/sipCallPeer.mjs', import.meta.url), {
      workerData: {
        server: { host: '127.0.0.1', port: SIP_PORT },
        uacPort: SIP_PORT + 10,
        uasPort: UAS_PORT,
        did: DID,
        rate,
        calls,
        hold: HOLD,
        timeoutMs: 10_000 + HOLD,
        tag: `${process.pid}p${++tagSeq}`,
      },
    });
    peerWorkers.add(w);
    let before;
    let posted;
    w.on('message', (m) => {
      if (m.ready) {
        before = cpu();
        posted = {
          messages: posts.messages,
          commands: posts.commands,
          byType: new Map(posts.byType),
        };
        w.postMessage('go');
        return;
      }
      const after = cpu();
      const s = [...m.setupMs].sort((a, b) => a - b);
      const q = (p) => Math.round(s[Math.min(s.length - 1, Math.floor(p * s.length))] * 10) / 10;
      resolve({
        ok: m.ok,
        failed: m.failed,
        mainUsPerCall: Math.round((((after.main - before.main) * 1e6) / TICKS / calls) * 1) / 1,
        processUsPerCall: Math.round(((after.all - before.all) * 1000) / calls),
        threadsUsPerCall: threadsPerCall(before.threads, after.threads, calls),
        setupP50P99Ms: [q(0.5), q(0.99)],
        toWorkersPerCall: {
          posts: Math.round(((posts.messages - posted.messages) / calls) * 100) / 100,
          commands: Math.round(((posts.commands - posted.commands) / calls) * 100) / 100,
          ...Object.fromEntries(
            [...posts.byType].map(([t, n]) => [
              t,
              Math.round(((n - (posted.byType.get(t) ?? 0)) / calls) * 100) / 100,
            ]),
          ),
        },
      });
      void w.terminate();
    });
    w.on('error', reject);
  });
}

/** The main thread's reachable heap (a snapshot) in KB per call, and its largest kinds. */
async function heapByConstructor(calls) {
  const { getHeapSnapshot } = await import('node:v8');
  let text = '';
  for await (const chunk of getHeapSnapshot()) text += chunk;
  const { snapshot, nodes, strings } = JSON.parse(text);
  const fields = snapshot.meta.node_fields;
  const [T, N, S] = ['type', 'name', 'self_size'].map((f) => fields.indexOf(f));
  const types = snapshot.meta.node_types[0];
  const kinds = new Map();
  let total = 0;
  for (let i = 0; i < nodes.length; i += fields.length) {
    const type = types[nodes[i + T]];
    const key = type === 'object' ? strings[nodes[i + N]] : `(${type})`;
    const k = kinds.get(key) ?? { n: 0, bytes: 0 };
    k.n++;
    k.bytes += nodes[i + S];
    kinds.set(key, k);
    total += nodes[i + S];
  }
  return {
    totalKB: Math.round(total / 1024),
    kbPerCall: Math.round((total / 1024 / calls) * 10) / 10,
    top: [...kinds]
      .sort((a, b) => b[1].bytes - a[1].bytes)
      .slice(0, TOP)
      .map(
        ([k, { n, bytes }]) =>
          `${Math.round(bytes / 1024)} KB ${k} (${Math.round((n / calls) * 100) / 100} per call)`,
      ),
  };
}

const out = { dist: path.relative(REPO, DIST) || DIST, node: process.version, rate: RATE };
try {
  if (WARM > 0) out.warm = await phase(WARM, RATE);
  out.rounds = [];
  for (let r = 0; r < ROUNDS; r++) out.rounds.push(await phase(CALLS, RATE));
  const mains = out.rounds.map((r) => r.mainUsPerCall).sort((a, b) => a - b);
  out.medianMainUsPerCall = mains[Math.floor(mains.length / 2)];

  if (CPU_PROF || ALLOC) {
    const session = new inspector.Session();
    session.connect();
    if (CPU_PROF) {
      await session.post('Profiler.enable');
      await session.post('Profiler.setSamplingInterval', { interval: 200 });
      await session.post('Profiler.start');
    }
    if (ALLOC) {
      await session.post('HeapProfiler.enable');
      await session.post('HeapProfiler.startSampling', {
        samplingInterval: 1024,
        includeObjectsCollectedByMajorGC: true,
        includeObjectsCollectedByMinorGC: true,
      });
    }
    out.profiled = await phase(CALLS, RATE);
    const short = (url) =>
      url.replace(pathToFileURL(DIST).href + '/', '').replace(/^.*node_modules\//, '');
    if (CPU_PROF) {
      const { profile } = await session.post('Profiler.stop');
      const self = new Map();
      const byId = new Map(profile.nodes.map((n) => [n.id, n]));
      const counts = new Map();
      for (const id of profile.samples) counts.set(id, (counts.get(id) ?? 0) + 1);
      let busy = 0;
      const byArea = new Map();
      for (const [id, c] of counts) {
        const f = byId.get(id).callFrame;
        if (f.functionName === '(idle)' || f.functionName === '(program)') continue;
        busy += c;
        const key = `${f.functionName || '(anon)'} ${short(f.url)}:${f.lineNumber + 1}`;
        self.set(key, (self.get(key) ?? 0) + c);
        const area = f.url ? short(f.url).split('/').slice(0, 2).join('/') : f.functionName;
        byArea.set(area, (byArea.get(area) ?? 0) + c);
      }
      const pct = (c) => Math.round((c / busy) * 1000) / 10;
      // Native frames (no script) are charged to their JavaScript caller as well.
      const parent = new Map();
      for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n);
      const viaCaller = new Map();
      for (const [id, c] of counts) {
        const f = byId.get(id).callFrame;
        if (f.url || f.functionName === '(idle)' || f.functionName === '(program)') continue;
        const p = parent.get(id)?.callFrame;
        const key = `${f.functionName || '(anon)'} ← ${p ? `${p.functionName || '(anon)'} ${short(p.url)}:${p.lineNumber + 1}` : '?'}`;
        viaCaller.set(key, (viaCaller.get(key) ?? 0) + c);
      }
      // Inclusive time: each sample counts once for every distinct function on its stack.
      const total = new Map();
      const nameOf = (f) => `${f.functionName || '(anon)'} ${short(f.url)}:${f.lineNumber + 1}`;
      for (const [id, c] of counts) {
        const leaf = byId.get(id).callFrame.functionName;
        if (leaf === '(idle)' || leaf === '(program)') continue;
        const seen = new Set();
        for (let n = byId.get(id); n !== undefined; n = parent.get(n.id)) {
          if (!n.callFrame.url) continue;
          const k = nameOf(n.callFrame);
          if (seen.has(k)) continue;
          seen.add(k);
          total.set(k, (total.get(k) ?? 0) + c);
        }
      }
      out.inclusiveTop = [...total]
        .sort((a, b) => b[1] - a[1])
        .slice(0, TOP)
        .map(([k, c]) => `${pct(c)}% ${k}`);
      out.nativeByCaller = [...viaCaller]
        .sort((a, b) => b[1] - a[1])
        .slice(0, 20)
        .map(([k, c]) => `${pct(c)}% ${k}`);
      out.busySamples = busy;
      out.selfByArea = [...byArea].sort((a, b) => b[1] - a[1]).map(([k, c]) => `${pct(c)}% ${k}`);
      out.selfTop = [...self]
        .sort((a, b) => b[1] - a[1])
        .slice(0, TOP)
        .map(([k, c]) => `${pct(c)}% ${k}`);
    }
    if (ALLOC) {
      const { profile } = await session.post('HeapProfiler.stopSampling');
      let total = 0;
      const byFile = new Map();
      const walk = (node, file) => {
        const url = node.callFrame.url;
        const here = BY_FUNCTION
          ? `${short(url)}:${node.callFrame.functionName || '(anon)'}:${node.callFrame.lineNumber + 1}`
          : short(url);
        const own = url && !url.startsWith('node:') ? here : file;
        total += node.selfSize;
        if (node.selfSize > 0) byFile.set(own, (byFile.get(own) ?? 0) + node.selfSize);
        for (const child of node.children) walk(child, own);
      };
      walk(profile.head, '(root)');
      out.kbAllocatedPerCall = Math.round((total / CALLS / 1024) * 10) / 10;
      out.kbByFile = [...byFile]
        .map(([f, b]) => [f, Math.round((b / CALLS / 1024) * 10) / 10])
        .filter(([, kb]) => kb >= 0.2)
        .sort((a, b) => b[1] - a[1])
        .map(([f, kb]) => `${kb} ${f}`);
    }
    session.disconnect();
  }
  if (HEAP_AFTER >= 0) {
    await sleep(HEAP_AFTER);
    out.heapAfter = await heapByConstructor((WARM > 0 ? WARM : 0) + CALLS * ROUNDS);
  }
} finally {
  await sleep(200); // the last calls' closes, deferred up to 20 ms (docs/architecture.md §5.5)
  await server.close();
  rmSync(run, { recursive: true, force: true });
}
if (JSON_OUT) process.stdout.write(JSON.stringify(out) + '\n');
else console.dir(out, { depth: 5, maxArrayLength: 200 });
