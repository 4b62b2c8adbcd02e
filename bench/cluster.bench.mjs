#!/usr/bin/env node
/**
 * Callwatch instances behind Kamailio (docs/architecture.md "Several instances"), against
 * the same load sent straight to one instance. Two kinds of work (--work):
 *
 * - setups: call set-ups: what the proxy costs per call, in CPU and in INVITE→200
 *   latency, and how calls spread over two instances. Driven by SIPp like
 *   bench/cps.bench.mjs (bench/lib/sippBench.mjs: config, start, SIPp runs and their
 *   verdict). Described below.
 * - held: monitored calls held (bench/lib/clusterHeld.mjs says exactly what it does): N
 *   calls trunk → DID → agent 1001, each listened to by its own supervisor (2000 + c)
 *   registered through the same entry, the monitor started by the REST API on instance a
 *   (forwarded to b for b's calls), RTP both ways and to the supervisor from the mixer
 *   bench's generator (bench/lib/roomLoad.mjs). Per count and topology: loss + late at
 *   each role over the window (PASS ≤ 0.1 %), and CPU per monitored call-second of each
 *   process tree (callwatch a + b, Kamailio, Redis). The figure is the largest count of
 *   --held-calls that passed in every round, per topology.
 *
 *   node bench/cluster.bench.mjs [options]
 *
 *   --work "setups held"    which work to run (default setups)
 *   --held-calls "10 20 …"  held: monitored call counts, ascending (default 20 50 100)
 *   --held-secs S           held: measured window (default 10), after a 1 s warm-up
 *   --held-rate R           held: calls placed per second (default 20)
 *   --held-probe P          held: calls whose sockets the generator reads (loss and
 *                           lateness; default 50, as the mixer bench: reading every
 *                           packet of hundreds of calls makes the generator the limit)
 *   --monitor-budget-ms M   held: time allowed per monitor start, for the calls' hold
 *                           (default 150)
 *   --rate R                calls/s offered in every run (default 50)
 *   --secs S                load length per run (default 10)
 *   --repeat N              rounds (default 3); each round runs every topology once, in
 *                           turn (interleaved, so a change of the machine's load hits
 *                           each topology alike); medians over the rounds
 *   --hold MS               call length, ACK to BYE (default 1000)
 *   --topologies "direct kam1 kam2"  which to run (default all three):
 *                             direct  SIPp → instance a (no proxy)
 *                             kam1    SIPp → Kamailio (dispatcher: a) → a → Kamailio → SIPp
 *                             kam2    SIPp → Kamailio (dispatcher: a, b) → a or b → …
 *   --log-level LEVEL       the instances' log level (default warn)
 *   --no-build              do not run `npm run build` first
 *   --results FILE          append a markdown block to FILE (nothing written otherwise)
 *   --max-minutes M         start no new run after M minutes (default 15)
 *   --smoke                 5 calls/s for 3 s, one round, no warm-up, nothing written
 *                           (npm run bench:smoke); with --work held: 3 monitored calls
 *                           for 2 s
 *
 * Set-up, started once and kept for every run: a Redis of its own, callwatch instances a
 * and b sharing it (cluster.redis, trustedProxies = 127.0.0.1; the rest as cps.bench.mjs:
 * MD5, monitoring and recording off, extension 1001, DID 5550100 → 1001), and two
 * Kamailios on deploy/kamailio/kamailio.cfg, one dispatching to a only (kam1) and one to
 * a and b (kam2). Each Kamailio is a trunk of the instances (its address and port), as
 * SIPp's own address is for direct calls. Before each run SIPp registers 1001 from its UAS
 * port through that run's entry (so the instances' INVITEs to 1001 go back through the
 * same Kamailio, or straight to SIPp), then bench/sipp/uac_cluster.xml (the peers'
 * uac_cps.xml with the From user = call number, which Kamailio hashes to pick an
 * instance) calls 5550100 at RATE/s for SECS s; the peers' uas_cps.xml answers. A
 * warm-up run of 3 s per topology comes first and is not counted.
 *
 * CPU per call: utime + stime of each process tree (/proc, every thread and child:
 * Kamailio's workers too) from just before the load to after the last call ended, over
 * the calls answered; clock ticks (10 ms), so a run of a few hundred calls reads to about
 * ±10 µs per call. Calls per instance: callwatch_call_attempts_total before and after.
 * Raw files stay in /tmp/peers/callwatch-cluster-TOPOLOGY-TIME-N/. Every process started
 * here is stopped by its PID; load and time are bounded.
 */
import { spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import {
  PEERS,
  REPO,
  SCRATCH,
  applySmoke,
  canBind,
  commandLine,
  commonFlags,
  emitResult,
  freePort,
  intList,
  have,
  loadavg,
  parseFlags,
  parseSummary,
  sleep,
  stamp,
  stop,
  track,
  waitExit,
} from './lib/benchRuntime.mjs';
import {
  analyze,
  appendLines,
  prepare,
  resultsHead,
  runSipp,
  runSippMain,
  sippTraceArgs,
  startCallwatch,
} from './lib/sippBench.mjs';
import { HZ, treeTicks } from './lib/procTrees.mjs';
import { LOSS_LIMIT_PCT, heldConfig, runHeld } from './lib/clusterHeld.mjs';

const DID = '5550100';
const TOPOLOGIES = ['direct', 'kam1', 'kam2'];
const WORKS = ['setups', 'held'];
const KAMAILIO_CFG = path.join(REPO, 'deploy/kamailio/kamailio.cfg');
const UAC_SCENARIO = path.join(REPO, 'bench/sipp/uac_cluster.xml');

// ---------------------------------------------------------------- arguments

function parseArgs(argv) {
  const o = parseFlags(
    argv,
    {
      rate: 50,
      secs: 10,
      repeat: 3,
      hold: 1000,
      topologies: TOPOLOGIES.join(' '),
      logLevel: 'warn',
      results: null,
      build: true,
      maxMinutes: 15,
      work: 'setups',
      heldCalls: '20 50 100',
      heldSecs: 10,
      heldRate: 20,
      heldProbe: 50,
      monitorBudgetMs: 150,
    },
    {
      ...commonFlags,
      '--rate': ['rate', Number],
      '--secs': ['secs', Number],
      '--repeat': ['repeat', Number],
      '--hold': ['hold', Number],
      '--topologies': 'topologies',
      '--log-level': 'logLevel',
      '--work': 'work',
      '--held-calls': 'heldCalls',
      '--held-secs': ['heldSecs', Number],
      '--held-rate': ['heldRate', Number],
      '--held-probe': ['heldProbe', Number],
      '--monitor-budget-ms': ['monitorBudgetMs', Number],
    },
    import.meta.url,
    'argument',
  );
  applySmoke(argv, o, {
    rate: 5,
    secs: 3,
    repeat: 1,
    hold: 500,
    maxMinutes: 4,
    heldCalls: '3',
    heldSecs: 2,
  });
  o.workList = o.work.split(/[\s,]+/).filter(Boolean);
  if (!o.workList.length || o.workList.some((w) => !WORKS.includes(w)))
    throw new Error(`--work: some of ${WORKS.join(' ')}, not ${o.work}`);
  o.heldCallList = intList(o.heldCalls, '--held-calls');
  if (o.heldCallList.some((n) => n < 1 || n > 1000)) throw new Error('--held-calls: 1..1000 each');
  if (!(o.heldSecs >= 1 && o.heldSecs <= 120)) throw new Error('--held-secs must be 1..120');
  if (!(o.heldRate > 0 && o.heldRate <= 200)) throw new Error('--held-rate must be 1..200');
  if (!(Number.isInteger(o.heldProbe) && o.heldProbe >= 1))
    throw new Error('--held-probe must be a positive integer');
  o.topologyList = o.topologies.split(/[\s,]+/).filter(Boolean);
  if (!o.topologyList.length || o.topologyList.some((t) => !TOPOLOGIES.includes(t)))
    throw new Error(`--topologies: some of ${TOPOLOGIES.join(' ')}, not ${o.topologies}`);
  if (!(o.rate > 0 && o.rate <= 1000)) throw new Error('--rate must be 1..1000');
  if (!(o.secs >= 3 && o.secs <= 60)) throw new Error('--secs must be 3..60');
  if (!(Number.isInteger(o.repeat) && o.repeat >= 1 && o.repeat <= 7))
    throw new Error('--repeat must be 1..7');
  if (!(o.hold >= 0 && o.hold <= 10000)) throw new Error('--hold must be 0..10000 ms');
  return o;
}

// ---------------------------------------------------------------- the parts

function portOpen(port) {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1', () => {
      s.destroy();
      resolve(true);
    });
    s.on('error', () => resolve(false));
  });
}

async function httpGet(port, urlPath) {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1', () => s.end(`GET ${urlPath} HTTP/1.0\r\n\r\n`));
    let data = '';
    s.on('data', (d) => (data += d));
    s.on('close', () => resolve(data));
    s.on('error', () => resolve(''));
    s.setTimeout(3000, () => s.destroy());
  });
}

/** Sum of callwatch_call_attempts_total over its labels. */
async function callAttempts(httpPort) {
  const text = await httpGet(httpPort, '/metrics');
  let sum = 0;
  for (const m of text.matchAll(/^callwatch_call_attempts_total(?:\{[^}]*\})? ([\d.e+]+)$/gm))
    sum += Number(m[1]);
  return sum;
}

async function startRedis(dir) {
  const port = await freePort(16379);
  const child = track(
    spawn(
      'redis-server',
      [
        '--port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--dir',
        dir,
        '--save',
        '',
        '--appendonly',
        'no',
      ],
      { stdio: 'ignore' },
    ),
  );
  for (let i = 0; i < 50 && !(await portOpen(port)); i++) await sleep(200);
  if (!(await portOpen(port))) throw new Error('redis-server did not start');
  return { child, port, url: `redis://127.0.0.1:${port}` };
}

/** Whether something is bound to 127.0.0.1:port over UDP. */
async function udpBound(port) {
  return !(await canBind(port));
}

/** Kamailio on 127.0.0.1:`port` dispatching to the instances at `instancePorts`. */
async function startKamailio(name, dir, instancePorts, port) {
  const list = path.join(dir, `${name}.list`);
  writeFileSync(list, instancePorts.map((p) => `1 sip:127.0.0.1:${p} 0 0\n`).join(''));
  const log = path.join(dir, `${name}.log`);
  const out = openSync(log, 'w');
  // -DD: no fork into the background; the workers stay the main process's children.
  const child = track(
    spawn(
      '/usr/sbin/kamailio',
      // prettier-ignore
      ['-f', KAMAILIO_CFG, '-A', `LISTEN=udp:127.0.0.1:${port}`, '-A', `DS_LIST="${list}"`,
        '-DD', '-E', '-m', '64', '-M', '8', '-Y', dir, '-P', path.join(dir, `${name}.pid`)],
      { stdio: ['ignore', out, out] },
    ),
  );
  closeSync(out);
  for (let i = 0; i < 50 && !(await udpBound(port)); i++) await sleep(200);
  if (!(await udpBound(port)))
    throw new Error(`kamailio ${name} did not start:\n${readFileSync(log, 'utf8').slice(-2000)}`);
  return { name, child, port };
}

/**
 * An instance's own config sections: trunks from SIPp's UAC port and from each Kamailio,
 * each with the DID; extension 1001; nothing monitored or recorded; the cluster. With
 * `supervisors` > 0 (held work): that many supervisors, monitoring on, the admin token
 * (clusterHeld.mjs), and an RTP timeout longer than the held run's set-up.
 */
function configure(id, portRange, redisUrl, trunkPorts, supervisors) {
  const held = supervisors > 0 ? heldConfig(supervisors) : null;
  return {
    media: {
      address: '127.0.0.1',
      portRange,
      workers: 1,
      ...(held ? { rtpTimeoutSec: 600 } : {}),
    },
    trunks: trunkPorts.map(([name, port]) => ({
      name,
      host: '127.0.0.1',
      port,
      transport: 'udp',
      sourcePort: port,
      prefixes: [],
      dids: { [DID]: '1001' },
    })),
    extensions: [
      { number: '1001', password: 'pw1001', displayName: 'Bench 1001', role: 'agent' },
      ...(held?.extensions ?? []),
    ],
    monitoring: held?.monitoring ?? { enabled: false, groups: [] },
    recording: { enabled: false, format: 'stereo' },
    cluster: { instanceId: id, redis: { url: redisUrl }, trustedProxies: ['127.0.0.1'] },
    ...(held ? { api: held.api } : {}),
  };
}

async function register(run, entryPort, uasPort) {
  writeFileSync(
    path.join(run, 'reg_users.csv'),
    'SEQUENTIAL\n1001;[authentication username=1001 password=pw1001]\n',
  );
  // prettier-ignore
  const { done } = await runSipp(run, 'register',
    [`127.0.0.1:${entryPort}`, '-sf', path.join(PEERS, 'sipp/reg_auth_uac.xml'), '-inf', 'reg_users.csv',
      '-i', '127.0.0.1', '-p', String(uasPort), '-nostdin', '-m', '1', '-timeout', '10s',
      '-trace_err', '-error_file', 'register_errors.log'],
    20000,
  );
  const code = await done;
  if (code !== 0) throw new Error(`REGISTER of 1001 through ${entryPort} failed (${run})`);
}

// ---------------------------------------------------------------- one run

/** SIPp writes its round-trip times every -rtt_freq calls: every call, so none is lost. */
function rttEveryCall(args) {
  return args.map((a, i) => (args[i - 1] === '-rtt_freq' ? '1' : a));
}

async function runOne(o, setup, topology, index) {
  const run = path.join(SCRATCH, `callwatch-cluster-${topology}-${stamp()}-${index}`);
  mkdirSync(run, { recursive: true });
  const { a, b, kam1, kam2, redis, ports } = setup;
  const entry = topology === 'direct' ? a.sip : topology === 'kam1' ? kam1.port : kam2.port;
  const kam = topology === 'kam1' ? kam1 : topology === 'kam2' ? kam2 : null;
  await register(run, entry, ports.uas);
  await sleep(500); // the binding reaches the other instance through Redis
  const m = o.rate * o.secs;
  const limit = 2 * o.secs + Math.ceil(o.hold / 1000) + 40;
  const common = ['-i', '127.0.0.1', '-nostdin', '-default_behaviors', 'all,-abortunexp'];
  const attempts0 = [await callAttempts(a.http), await callAttempts(b.http)];
  // prettier-ignore
  const uas = await runSipp(run, 'uas',
    ['-sf', path.join(PEERS, 'sipp/uas_cps.xml'), ...common, '-p', String(ports.uas),
      '-mp', String(ports.uasMedia), '-cp', String(ports.uasCtrl), '-m', String(m),
      '-timeout', `${limit}s`, ...sippTraceArgs('uas_')],
    (limit + 30) * 1000,
  );
  for (let i = 0; i < 50 && !(await udpBound(ports.uas)); i++) await sleep(200);
  const trees = {
    callwatch_a: a.child.pid,
    callwatch_b: b.child.pid,
    redis: redis.child.pid,
    ...(kam ? { kamailio: kam.child.pid } : {}),
  };
  const before = treeTicks(trees);
  const t0 = Date.now();
  // prettier-ignore
  const uac = await runSipp(run, 'uac',
    [`127.0.0.1:${entry}`, '-sf', UAC_SCENARIO, '-s', DID, ...common, '-p', String(ports.uac),
      '-mp', String(ports.uacMedia), '-cp', String(ports.uacCtrl), '-r', String(o.rate),
      '-rp', '1000', '-m', String(m), '-l', '100000', '-d', String(o.hold),
      '-timeout', `${limit}s`, ...rttEveryCall(sippTraceArgs('', { rtt: true }))],
    (limit + 30) * 1000,
  );
  await uac.done;
  if (!(await waitExit(uas.child, 10000))) await stop(uas.child, 'SIGUSR1', 5000);
  await uas.done;
  const after = treeTicks(trees);
  const wallS = (Date.now() - t0) / 1000;
  const attempts1 = [await callAttempts(a.http), await callAttempts(b.http)];
  const s = parseSummary(
    analyze(run, /^uac_cluster_\d+_rtt\.csv$/, [
      '--label',
      `callwatch cluster ${topology} rate=${o.rate}/s hold=${o.hold}ms`,
      '--expect',
      String(m),
      '--hold',
      String(o.hold / 1000),
    ]),
  );
  // Net of what the parts burn idle (Redis refreshes, the Kamailios' OPTIONS probes).
  const usPerCall = (names) => {
    const ticks = names.reduce(
      (t, n) => t + ((after[n] ?? 0) - (before[n] ?? 0)) - (idleOf(setup, kam)[n] ?? 0) * wallS,
      0,
    );
    return s.ok > 0 ? ((ticks / HZ) * 1e6) / s.ok : NaN;
  };
  const r = {
    topology,
    index,
    run,
    s,
    wallS,
    calls: [attempts1[0] - attempts0[0], attempts1[1] - attempts0[1]],
    us: {
      callwatch: usPerCall(['callwatch_a', 'callwatch_b']),
      a: usPerCall(['callwatch_a']),
      b: usPerCall(['callwatch_b']),
      kamailio: kam ? usPerCall(['kamailio']) : 0,
      redis: usPerCall(['redis']),
    },
  };
  writeFileSync(path.join(run, 'result.json'), JSON.stringify(r, null, 2));
  return r;
}

// ---------------------------------------------------------------- report

const median = (xs) => {
  const v = xs.filter(Number.isFinite).sort((x, y) => x - y);
  if (!v.length) return NaN;
  const mid = Math.floor(v.length / 2);
  return v.length % 2 ? v[mid] : (v[mid - 1] + v[mid]) / 2;
};
const n0 = (x) => (Number.isFinite(x) ? x.toFixed(0) : '?');

function fmtRun(r) {
  const t = r.s.timers['1'];
  return (
    `${r.s.pass ? 'PASS' : 'FAIL'} ok ${r.s.ok} failed ${r.s.failed} retrans ${r.s.retrans} ` +
    `achieved ${r.s.achieved}/s | INVITE→200 p50 ${t?.p50 ?? '?'} ms p99 ${t?.p99 ?? '?'} ms | ` +
    `calls a ${r.calls[0]} b ${r.calls[1]} | µs CPU/call: callwatch ${n0(r.us.callwatch)} ` +
    `(a ${n0(r.us.a)}, b ${n0(r.us.b)}), kamailio ${n0(r.us.kamailio)}, redis ${n0(r.us.redis)}`
  );
}

function summarise(o, rows) {
  const by = Object.fromEntries(
    o.topologyList.map((t) => {
      const rs = rows.filter((r) => r.topology === t);
      return [
        t,
        {
          runs: rs.length,
          pass: rs.filter((r) => r.s.pass).length,
          achieved: median(rs.map((r) => r.s.achieved)),
          p50: median(rs.map((r) => r.s.timers['1']?.p50)),
          p99: median(rs.map((r) => r.s.timers['1']?.p99)),
          callwatch: median(rs.map((r) => r.us.callwatch)),
          kamailio: median(rs.map((r) => r.us.kamailio)),
          redis: median(rs.map((r) => r.us.redis)),
          shareB: median(rs.map((r) => r.calls[1] / Math.max(1, r.calls[0] + r.calls[1]))),
        },
      ];
    }),
  );
  return by;
}

// ---------------------------------------------------------------- held monitored calls

/** The idle rates to subtract for a run through `kam` (each Kamailio has its own). */
function idleOf(setup, kam) {
  const { kamailio2, ...idle } = setup.idle;
  return kam === setup.kam2 ? { ...idle, kamailio: kamailio2 } : idle;
}

/** One held run (bench/lib/clusterHeld.mjs); a run that could not measure is a FAIL row. */
async function heldOne(o, setup, topology, n, index) {
  const run = path.join(SCRATCH, `callwatch-cluster-held-${topology}-${n}-${stamp()}-${index}`);
  mkdirSync(run, { recursive: true });
  const kam = topology === 'kam1' ? setup.kam1 : topology === 'kam2' ? setup.kam2 : null;
  const entry = kam ? kam.port : setup.a.sip;
  try {
    const held = { ...setup, idle: idleOf(setup, kam) };
    return { index, ...(await runHeld(o, held, run, { topology, entry, kam, n, did: DID })) };
  } catch (err) {
    return { topology, n, index, run, pass: false, error: err.message };
  }
}

const pct3 = (x) => (Number.isFinite(x) ? x.toFixed(3) : '?');

function fmtHeld(r) {
  if (r.error) return `FAIL (${r.error})`;
  const roles = r.roles.map((x) => `${x.role} ${pct3(x.badPct)} %`).join(', ');
  return (
    `${r.pass ? 'PASS' : 'FAIL'} lost+late ${roles} | generator ${r.offeredPct.toFixed(1)} % | ` +
    `calls on b ${r.onB} | monitors up in ${r.monitorsMs} ms | µs CPU per monitored call-second: ` +
    `callwatch ${n0(r.us.callwatch)} (a ${n0(r.us.a)}, b ${n0(r.us.b)}), kamailio ${n0(r.us.kamailio)}, redis ${n0(r.us.redis)}`
  );
}

/** The held runs: largest passing count and medians per topology; printed and appended. */
function reportHeld({ o, mach, idle, idleS, stoppedEarly }, rows) {
  const by = {};
  for (const t of o.topologyList) {
    const rs = rows.filter((r) => r.topology === t && !r.error);
    const counts = [...new Set(rows.filter((r) => r.topology === t).map((r) => r.n))];
    const passed = counts.filter((n) =>
      rows.filter((r) => r.topology === t && r.n === n).every((r) => r.pass),
    );
    const best = passed.length ? Math.max(...passed) : null;
    const at = rs.filter((r) => r.n === best);
    by[t] = {
      largestPassing: best,
      callwatchUsPerCallSec: median(at.map((r) => r.us.callwatch)),
      kamailioUsPerCallSec: median(at.map((r) => r.us.kamailio)),
      redisUsPerCallSec: median(at.map((r) => r.us.redis)),
    };
  }
  const lines = Object.entries(by).map(
    ([t, v]) =>
      `${t}: largest count with lost+late ≤ ${LOSS_LIMIT_PCT} % at every role in every round: ${v.largestPassing ?? 'none'}` +
      (v.largestPassing
        ? `; there, µs CPU per monitored call-second: callwatch ${n0(v.callwatchUsPerCallSec)}, kamailio ${n0(v.kamailioUsPerCallSec)}, redis ${n0(v.redisUsPerCallSec)}`
        : ''),
  );
  for (const l of lines) console.log(`held ${l}`);
  if (o.results) {
    const head = resultsHead(
      o,
      'Monitored calls held through Kamailio with 1 and 2 instances vs direct (SIPp + RTP generator)',
      mach,
      commandLine('cluster.bench.mjs'),
      [
        `setup: Redis, callwatch instances a and b (cluster.redis, 1 media worker each, monitoring on, agent beep off), Kamailio (deploy/kamailio/kamailio.cfg) dispatching to a (kam1) or to a and b (kam2); per call SIPp bench/sipp/uac_held.xml (customer) → DID ${DID} → 1001 (SIPp UAS) and a supervisor 2000+c (SIPp UAS, registered through the same entry) listening, started by POST /v1/calls/{id}/monitors on instance a; RTP PCMU 50 pps on all three legs from bench/lib/roomLoad.mjs, loss read on the first ${o.heldProbe} calls' sockets; calls placed at ${o.heldRate}/s; window ${o.heldSecs} s after 1 s warm-up; ${o.repeat} round(s) per count, topologies interleaved`,
        `verdict per run: lost + late ≤ ${LOSS_LIMIT_PCT} % of expected at each role's sockets (customer, agent: relayed; supervisor: mixed), generator ≥ 97 % of nominal; CPU: utime+stime of each process tree over the window (/proc) less its idle rate (measured ${idleS} s before the runs: ${Object.entries(
          idle,
        )
          .map(([k, v]) => `${k} ${((100 * v) / HZ).toFixed(1)} %`)
          .join(', ')}), per monitored call-second`,
        `**the machine was shared** with other helpers' builds and tests: load average at end ${loadavg()}`,
      ],
    );
    const table = [
      '',
      '| topology | calls | round | verdict | lost+late % customer / agent / supervisor | generator % | calls on b | monitors up (ms) | µs CPU per monitored call-s callwatch (a + b) | Kamailio | Redis |',
      '|---|---|---|---|---|---|---|---|---|---|---|',
      ...rows.map((r) =>
        r.error
          ? `| ${r.topology} | ${r.n} | ${r.index} | FAIL: ${r.error.replace(/\|/g, '/').slice(0, 120)} | | | | | | | |`
          : `| ${r.topology} | ${r.n} | ${r.index} | ${r.pass ? 'PASS' : 'FAIL'} | ${r.roles.map((x) => pct3(x.badPct)).join(' / ')} | ${r.offeredPct.toFixed(1)} | ${r.onB} | ${r.monitorsMs} | ${n0(r.us.callwatch)} (${n0(r.us.a)} + ${n0(r.us.b)}) | ${n0(r.us.kamailio)} | ${n0(r.us.redis)} |`,
      ),
      '',
      ...lines.map((l) => `- ${l}`),
      ...(stoppedEarly ? [`- stopped early: ${stoppedEarly}`] : []),
      `- raw data: ${rows.map((r) => r.run).join(', ')}`,
    ];
    appendLines(o.results, [...head, ...table]);
  }
  return by;
}

// ---------------------------------------------------------------- main

async function main() {
  const o = parseArgs(process.argv.slice(2));
  for (const cmd of ['redis-server', '/usr/sbin/kamailio'])
    if (!have(cmd)) throw new Error(`${cmd} missing (scripts/install-test-peers.sh)`);
  const mach = prepare(o);
  const t0 = Date.now();
  // Kept like the runs' directories: the instances' and Kamailios' configs and logs.
  const dir = path.join(SCRATCH, `callwatch-cluster-setup-${stamp()}`);
  mkdirSync(dir, { recursive: true });
  // SIPp's ports, clear of cps.bench.mjs's (15080/15090, 16000/17000, 1888x).
  const ports = {
    uac: await freePort(15280),
    uas: await freePort(15290),
    uacMedia: await freePort(16200),
    uasMedia: await freePort(17200),
    uacCtrl: await freePort(18890),
    uasCtrl: await freePort(18900),
    sup: await freePort(15270),
    supMedia: await freePort(17400),
    supCtrl: await freePort(18910),
  };
  const redis = await startRedis(dir);
  const sipA = await freePort(15300);
  const sipB = await freePort(15320);
  // The Kamailios' ports are chosen before the instances start: they are the instances' trunks.
  const kamPorts = [await freePort(15340), await freePort(15350)];
  const trunks = [
    ['sipp', ports.uac],
    ['kamailio-1', kamPorts[0]],
    ['kamailio-2', kamPorts[1]],
  ];
  const instances = {};
  for (const [id, sip, range] of [
    ['a', sipA, { min: 20000, max: 29999 }],
    ['b', sipB, { min: 30000, max: 39998 }],
  ]) {
    const run = path.join(dir, `instance-${id}`);
    mkdirSync(run, { recursive: true });
    const http = await freePort(15380);
    const { child } = await startCallwatch(
      run,
      { sip, http },
      o.logLevel,
      configure(
        id,
        range,
        redis.url,
        trunks,
        o.workList.includes('held') ? Math.max(...o.heldCallList) : 0,
      ),
    );
    instances[id] = { child, sip, http, run };
  }
  const kam1 = await startKamailio('kam1', dir, [sipA], kamPorts[0]);
  const kam2 = await startKamailio('kam2', dir, [sipA, sipB], kamPorts[1]);
  await sleep(2500); // two OPTIONS probes answered: every instance is in
  // The idle cost of each part, ticks per second, subtracted from the runs' CPU.
  const idleTrees = {
    callwatch_a: instances.a.child.pid,
    callwatch_b: instances.b.child.pid,
    redis: redis.child.pid,
    kamailio: kam1.child.pid,
    kamailio2: kam2.child.pid, // probes two instances: its own idle rate
  };
  const idleS = o.smoke ? 1 : 5;
  const idle0 = treeTicks(idleTrees);
  await sleep(idleS * 1000);
  const idle1 = treeTicks(idleTrees);
  const idle = Object.fromEntries(
    Object.keys(idleTrees).map((k) => [k, (idle1[k] - idle0[k]) / idleS]),
  );
  console.log(
    `idle CPU (% of a core): ${Object.entries(idle)
      .map(([k, v]) => `${k} ${((100 * v) / HZ).toFixed(1)}`)
      .join(', ')}`,
  );
  const setup = { a: instances.a, b: instances.b, kam1, kam2, redis, ports, idle, peers: PEERS };

  const rows = [];
  const heldRows = [];
  let stoppedEarly = '';
  const late = () => {
    if (Date.now() - t0 <= o.maxMinutes * 60000) return false;
    stoppedEarly = `time limit of ${o.maxMinutes} min reached`;
    return true;
  };
  try {
    if (o.workList.includes('setups')) {
      // Warm-up (not counted): each topology for 3 s, so the first measured run does not
      // pay for the instances' JIT compilation alone.
      if (!o.smoke) {
        for (const topology of o.topologyList) {
          const w = await runOne({ ...o, secs: 3 }, setup, topology, 0);
          console.log(`${topology} warm-up | ${fmtRun(w)}`);
        }
      }
      outer: for (let i = 1; i <= o.repeat; i++) {
        for (const topology of o.topologyList) {
          if (late()) break outer;
          const r = await runOne(o, setup, topology, i);
          rows.push(r);
          console.log(`${topology} round ${i} | ${fmtRun(r)}`);
        }
      }
    }
    if (o.workList.includes('held')) {
      // Counts ascending; each round runs every topology in turn (interleaved). A
      // topology whose count failed in a round runs no larger count.
      const failed = new Set();
      // Warm-up (not counted): the smallest count once through each topology, so the
      // first measured run does not pay for the mixer's and the relay's JIT alone.
      if (!o.smoke) {
        for (const topology of o.topologyList) {
          const w = await heldOne({ ...o, heldSecs: 2 }, setup, topology, o.heldCallList[0], 0);
          console.log(`held ${topology} warm-up | ${fmtHeld(w)}`);
        }
      }
      outer: for (const n of o.heldCallList) {
        for (let i = 1; i <= o.repeat; i++) {
          for (const topology of o.topologyList) {
            if (failed.has(topology)) continue;
            if (late()) break outer;
            const r = await heldOne(o, setup, topology, n, i);
            heldRows.push(r);
            console.log(`held ${topology} ${n} calls round ${i} | ${fmtHeld(r)}`);
            if (!r.pass) failed.add(topology);
          }
        }
      }
    }
  } finally {
    for (const k of [kam1, kam2]) await stop(k.child, 'SIGTERM', 10000);
    for (const inst of Object.values(instances)) await stop(inst.child, 'SIGTERM', 10000);
    await stop(redis.child, 'SIGTERM', 5000);
  }
  if (stoppedEarly) console.log(`stopped early: ${stoppedEarly}`);
  const ctx = { o, mach, idle, idleS, stoppedEarly };
  const setupsOut = o.workList.includes('setups') ? reportSetups(ctx, rows) : null;
  const heldOut = o.workList.includes('held') ? reportHeld(ctx, heldRows) : null;
  emitResult({
    bench: 'cluster',
    // Something measured: every set-up run answered calls, every held run got its
    // monitors up and measured its window.
    produced:
      (setupsOut === null || (rows.length > 0 && rows.every((r) => r.s.ok > 0))) &&
      (heldOut === null || (heldRows.length > 0 && heldRows.every((r) => !r.error))),
    rows: rows.length + heldRows.length,
    ...(setupsOut ? { medians: setupsOut } : {}),
    ...(heldOut ? { held: heldOut } : {}),
  });
}

/** The set-up runs' medians, printed and (with --results) appended; returns the medians. */
function reportSetups({ o, mach, idle, idleS, stoppedEarly }, rows) {
  const by = summarise(o, rows);
  const lines = [];
  for (const [t, v] of Object.entries(by)) {
    lines.push(
      `${t}: ${v.pass}/${v.runs} PASS, achieved ${n0(v.achieved)}/s, INVITE→200 p50 ${n0(v.p50)} ms p99 ${n0(v.p99)} ms, ` +
        `µs CPU per call: callwatch ${n0(v.callwatch)}, kamailio ${n0(v.kamailio)}, redis ${n0(v.redis)}` +
        (t === 'kam2' ? `, share of calls on b ${(100 * v.shareB).toFixed(0)} %` : ''),
    );
  }
  for (const l of lines) console.log(`median ${l}`);
  const extra =
    by.direct && by.kam1
      ? `Kamailio's extra INVITE→200 p50: ${n0(by.kam1.p50 - by.direct.p50)} ms`
      : '';
  if (extra) console.log(extra);

  if (o.results) {
    const head = resultsHead(
      o,
      'Call setups through Kamailio with 1 and 2 instances vs direct (SIPp)',
      mach,
      commandLine('cluster.bench.mjs'),
      [
        `setup: Redis, callwatch instances a and b (cluster.redis, 1 media worker each), Kamailio (deploy/kamailio/kamailio.cfg) dispatching to a (kam1) or to a and b (kam2); SIPp bench/sipp/uac_cluster.xml → DID ${DID} → extension 1001 (the peers' uas_cps.xml, registered through the same entry); PCMA SDP, no RTP; ${o.rate} calls/s for ${o.secs} s, held ${o.hold} ms; ${o.repeat} round(s), topologies interleaved within each round`,
        `CPU: utime+stime of each process tree over the run (/proc), less its idle rate (measured ${idleS} s before the runs: ${Object.entries(
          idle,
        )
          .map(([k, v]) => `${k} ${((100 * v) / HZ).toFixed(1)} %`)
          .join(', ')}), per answered call`,
        `**the machine was shared** with other helpers' builds and tests: load average at end ${loadavg()}`,
      ],
    );
    const table = [
      '',
      '| topology | round | verdict | ok / failed | UAC retrans | achieved/s | INVITE→200 p50 / p99 (ms) | calls on a / b | µs CPU/call callwatch (a + b) | Kamailio | Redis |',
      '|---|---|---|---|---|---|---|---|---|---|---|',
      ...rows.map(
        (r) =>
          `| ${r.topology} | ${r.index} | ${r.s.pass ? 'PASS' : 'FAIL'} | ${r.s.ok} / ${r.s.failed} | ${r.s.retrans} | ${r.s.achieved} | ${r.s.timers['1']?.p50 ?? '?'} / ${r.s.timers['1']?.p99 ?? '?'} | ${r.calls[0]} / ${r.calls[1]} | ${n0(r.us.callwatch)} (${n0(r.us.a)} + ${n0(r.us.b)}) | ${n0(r.us.kamailio)} | ${n0(r.us.redis)} |`,
      ),
      '',
      ...lines.map((l) => `- median ${l}`),
      ...(extra ? [`- ${extra}`] : []),
      ...(stoppedEarly ? [`- stopped early: ${stoppedEarly}`] : []),
      `- raw data: ${rows.map((r) => r.run).join(', ')}`,
    ];
    appendLines(o.results, [...head, ...table]);
  }
  return by;
}

runSippMain(main);
