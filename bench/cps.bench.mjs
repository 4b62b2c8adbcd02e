#!/usr/bin/env node
/**
 * Call setups per second through callwatch (B2BUA, anchored media), driven by the same
 * SIPp scenarios as the Kamailio + rtpengine peer (../shared/peers/run_cps.sh and
 * find_cps_max.sh), whose CPU sampler and analysis it reuses.
 *
 *   node bench/cps.bench.mjs [options]
 *
 *   --rates "100 200 300"   calls/s to try, ascending (default below); stops at the first
 *                           rate where most runs FAIL
 *   --repeat N              runs per rate (default 1; the peers use 3)
 *   --secs S                load length per run (default 10; the peers use 20)
 *   --hold MS               call length, ACK to BYE (default 1000, as the peers)
 *   --peer RATE|none        run the peer once (run_cps.sh RATE SECS 2: Kamailio children=2
 *                           + rtpengine) for the same-session figure (default none)
 *   --recording "off on"    recording.enabled of the server, one series each (default off:
 *                           this measures signalling; "off on" gives the recording's cost:
 *                           CPU per call on/off per rate, and the highest passing rate
 *                           on/off, target ≥ 0.9×)
 *   --delete-recordings end|run|never  when the runs' WAVs and sidecars are deleted
 *                           (default end: after the last run; run: right after each run, as
 *                           before; never: left in each run's folder, for A/B invocations
 *                           one after another, each of which would pay for the last's). On
 *                           an ext4 without a journal (this VM's), a file create skips
 *                           and reads every inode freed in the last 30 s-5 min of its block
 *                           group, so deleting a run's thousands of files made the next
 *                           recorded run's creates dearer (about 3x): a cost only the
 *                           recording-on runs paid, and that a server does not make itself
 *                           (docs/architecture.md §7.5)
 *   --log-level LEVEL       callwatch log level during the runs (default warn)
 *   --no-build              do not run `npm run build` first
 *   --results FILE          append a markdown block to FILE (nothing written otherwise)
 *   --max-minutes M         start no new run after M minutes (default 30)
 *   --sipp-port-shift N     move SIPp's ports (15080/15090 SIP, 16000/17000 media, 18882/18883
 *                           control) by N (e.g. -3000), so a second cps bench can run beside
 *                           one on the defaults; not with --peer (default 0)
 *   --port-min P --port-max Q  callwatch's media.portRange (default 20000-39999: 10 000
 *                           port pairs = 5 000 concurrent anchored calls, clear of
 *                           rtpengine's 40000-59999; the runs are sequential anyway)
 *   --smoke                 5 calls/s for 3 s, recording off then on, no peer, nothing
 *                           written (npm run bench:smoke)
 *
 * One run: a fresh server on a config this bench states in full (configure() below: auth
 * MD5, media.portRange as above, trunk "carrier" = 127.0.0.1:15080 with sourcePort 15080
 * and DID 5550100 → extension 1001 (password pw1001), monitoring off, recording as asked,
 * into the run's directory; nothing from the demo config); SIPp registers 1001 once from the UAS's
 * own port 15090 (the B2BUA sends the INVITE to where the REGISTER came from), then the
 * peers' uas_cps.xml listens on 15090 and the peers' uac_cps.xml calls 5550100 from 15080
 * at RATE/s for SECS s (-m RATE*SECS, -d HOLD, -timeout and an outer kill). Both
 * scenarios carry PCMA SDP, so every call creates two anchored legs in the media engine;
 * no RTP is sent (this measures signalling + leg set-up/teardown, not relaying; with
 * recording on, also each answered call's room, clock and WAV writer; the WAVs are
 * counted, and deleted after the last run, see --delete-recordings).
 * cpumon.py samples the server and both SIPp trees (callwatch's CPU is its whole process,
 * /proc/PID/stat: every thread, so the media workers and the recording writer thread, where
 * recording's file I/O runs, are counted); analyze_sipp.py gives the verdict:
 * PASS = <0.1 % failed, every call done, offered rate held (>=97 %); clean = also
 * <=0.1 % retransmitted (UAC side; the UAS's retransmissions are shown beside). Beside
 * the whole run's INVITE→200 p99, the table gives the p99 of the calls answered from 4 s
 * on (SIPp's rtt.csv): a fresh server's first seconds are slower, and dominate the former.
 * Raw files stay in /tmp/peers/callwatch-cps-rRATE-TIME-N/. Every process started here
 * is stopped by its PID; everything is bounded in count and time.
 */
import {
  existsSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { clearTimeout, setTimeout } from 'node:timers';
import {
  SCRATCH,
  applySmoke,
  canBind,
  commandLine,
  emitResult,
  freePort,
  have,
  mediaIoPath,
  parseFlags,
  parseSummary,
  sleep,
  stamp,
  stop,
  udpStats,
  waitExit,
} from './lib/benchRuntime.mjs';
import {
  analyze,
  appendLines,
  checkRates,
  prepare,
  rateSeries,
  registerOnce,
  resultsHead,
  runPeerScript,
  runSippMain,
  sippDefaults,
  sippFlags,
  startCallwatch,
  startCpumon,
  startSippCalls,
  trunkCallConfig,
  usPer,
  warmupFact,
} from './lib/sippBench.mjs';
import { percentileFrom, rttSamples } from './lib/sippRtt.mjs';

const DEFAULT_RATES = '100 200 300 500 700 900';
// SIPp's ports; --sipp-port-shift moves them all (SIP, media, control) by the same amount.
const UAC_PORT = 15080; // the trunk's address (sourcePort)
const UAS_PORT = 15090; // extension 1001's registered contact
const SIPP_MEDIA_PORTS = [16000, 17000];
const DID = '5550100';
/** The steady-state p99 column counts the calls answered from this long after SIPp started. */
const STEADY_FROM_MS = 4000;

// ---------------------------------------------------------------- arguments

function parseArgs(argv) {
  const o = parseFlags(
    argv,
    {
      ...sippDefaults,
      rates: DEFAULT_RATES,
      hold: 1000,
      peer: 'none',
      logLevel: 'warn',
      results: null,
      portMin: 20000,
      portMax: 39999,
      recording: 'off',
      deleteRecordings: 'end',
      settleMs: 3000,
      sippPortShift: 0,
    },
    {
      ...sippFlags,
      '--hold': ['hold', Number],
      '--peer': 'peer',
      '--recording': 'recording',
      '--delete-recordings': 'deleteRecordings',
      '--port-min': ['portMin', Number],
      '--port-max': ['portMax', Number],
      '--sipp-port-shift': ['sippPortShift', Number],
    },
    import.meta.url,
    'argument',
  );
  applySmoke(argv, o, {
    rates: '5',
    secs: 3,
    repeat: 1,
    hold: 500,
    peer: 'none',
    recording: 'off on',
    settleMs: 1000,
    maxMinutes: 2,
  });
  checkRates(o, 5000);
  o.recordingList = o.recording.split(/[\s,]+/).filter(Boolean);
  if (!o.recordingList.length || o.recordingList.some((r) => r !== 'off' && r !== 'on'))
    throw new Error(`--recording: "off", "on" or "off on" expected, not ${o.recording}`);
  if (o.rateList.length * o.repeat * o.recordingList.length > 30)
    throw new Error('at most 30 runs per invocation');
  if (!['end', 'run', 'never'].includes(o.deleteRecordings))
    throw new Error(`--delete-recordings: end, run or never expected, not ${o.deleteRecordings}`);
  if (!(o.hold >= 0 && o.hold <= 10000)) throw new Error('--hold must be 0..10000 ms');
  if (o.rateList.length * o.repeat > 30) throw new Error('at most 30 runs per invocation');
  if (!(
    o.portMin % 2 === 0 &&
    o.portMin >= 1024 &&
    o.portMax > o.portMin + 100 &&
    o.portMax < 65536
  ))
    throw new Error('--port-min must be even, and --port-max above it (< 65536)');
  if (o.peer !== 'none' && !(Number(o.peer) > 0)) throw new Error(`bad --peer ${o.peer}`);
  if (!(Number.isInteger(o.sippPortShift) && o.sippPortShift >= -14000 && o.sippPortShift <= 0))
    throw new Error('--sipp-port-shift must be an integer from -14000 to 0');
  if (o.sippPortShift !== 0 && o.peer !== 'none')
    throw new Error('--sipp-port-shift cannot be used with --peer (the peers use fixed ports)');
  return o;
}

// ---------------------------------------------------------------- small helpers

/** Last row of a SIPp -trace_stat file as {column: value}. */
function sippStat(file) {
  if (!existsSync(file)) return null;
  const rows = readFileSync(file, 'utf8').trim().split('\n');
  if (rows.length < 2) return null;
  const head = rows[0].split(';');
  const last = rows[rows.length - 1].split(';');
  return Object.fromEntries(head.map((h, i) => [h, last[i]]));
}

const fmtUs = (v) => (Number.isFinite(v) ? v.toFixed(0) : '?');

function fmtRun(s, who) {
  const t = s.timers['1'];
  const lat = t ? `INVITE→200 p50 ${t.p50} ms p99 ${t.p99} ms` : 'no rtt';
  const uas = s.uas ? ` | UAS ok ${s.uas.ok} failed ${s.uas.failed} retrans ${s.uas.retrans}` : '';
  const cpu =
    who === 'callwatch'
      ? `callwatch CPU ${s.cpu.callwatch ?? '?'} % (${fmtUs(usPer(s, 'callwatch'))} µs/call)`
      : `kamailio CPU ${s.cpu.kamailio ?? '?'} % + rtpengine ${s.cpu.rtpengine ?? '?'} %`;
  return (
    `${s.pass ? 'PASS' : 'FAIL'}${s.clean ? ' clean' : ''} | ok ${s.ok} failed ${s.failed} (${s.failPct} %) ` +
    `UAC retrans ${s.retrans} (${s.retransPct} %)${uas} | achieved ${s.achieved}/s peak ${s.peak} calls | ${lat} | ` +
    `${cpu}, sipp ${s.cpu.sipp_uac ?? '?'} + ${s.cpu.sipp_uas ?? '?'} %`
  );
}

// ---------------------------------------------------------------- one callwatch run

/**
 * This bench's own config sections (the rest: sippBench.mjs's benchConfig and the schema's
 * defaults): trunk "carrier" from UAC_PORT with DID → extension 1001, media on
 * `portRange`, nobody to monitor, recording as given.
 */
function configure(portRange, recording, shift) {
  const uacPort = UAC_PORT + shift;
  return trunkCallConfig({ uacPort, did: DID, media: { portRange }, recording });
}

/** utime + stime of a thread of `pid` (clock ticks), null when unreadable. */
function threadTicks(pid, tid = pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(f[11]) + Number(f[12]); // fields 14 and 15 (proc(5)), from field 3 on
  } catch {
    return null;
  }
}

/**
 * utime + stime (clock ticks) of the threads of `pid` that run nicer than its main thread:
 * the recording writer (docs/architecture.md §7.6); null when there is none (a build
 * before that change) or /proc is unreadable.
 */
function nicerThreadsTicks(pid) {
  try {
    const fields = (tid) => {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    };
    const mainNice = Number(fields(pid)[16]); // field 19 (proc(5)), from field 3 on
    let ticks = null;
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      const f = fields(tid);
      if (Number(f[16]) > mainNice) ticks = (ticks ?? 0) + Number(f[11]) + Number(f[12]);
    }
    return ticks;
  } catch {
    return null;
  }
}

/** utime + stime of the whole process (every thread), clock ticks; null when unreadable. */
function processTicks(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(f[11]) + Number(f[12]);
  } catch {
    return null;
  }
}

/** Recording folders kept until the last run (--delete-recordings end), removed on exit. */
const keptRecordings = [];
process.once('exit', () => {
  for (const dir of keptRecordings) rmSync(dir, { recursive: true, force: true });
});

/** WAV files and bytes under `dir` (absent: none). */
function countRecordings(dir) {
  if (!existsSync(dir)) return { wavs: 0, bytes: 0 };
  let wavs = 0;
  let bytes = 0;
  for (const f of readdirSync(dir, { recursive: true })) {
    const p = path.join(dir, String(f));
    if (!String(f).endsWith('.wav')) continue;
    wavs += 1;
    bytes += statSync(p).size;
  }
  return { wavs, bytes };
}

async function httpGet(port, urlPath) {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1', () => {
      s.end(`GET ${urlPath} HTTP/1.0\r\n\r\n`);
    });
    let data = '';
    s.on('data', (d) => (data += d));
    s.on('close', () => resolve(data));
    s.on('error', () => resolve(''));
    s.setTimeout(3000, () => s.destroy());
  });
}

/** The call and SIP counters worth keeping from /metrics (non-zero samples only). */
function callMetrics(text) {
  return text
    .split('\n')
    .filter((l) =>
      /^callwatch_(call_attempts_total|call_outcomes_total|calls_active|sip_responses_total|media_legs|sip_transactions_active)\b/.test(
        l,
      ),
    )
    .filter((l) => !/ 0$/.test(l));
}

async function runCallwatch(o, rate, index, recording) {
  const { secs, hold, logLevel } = o;
  const rec = recording ? 'recon' : 'recoff';
  const run = path.join(SCRATCH, `callwatch-cps-r${rate}-${rec}-${stamp()}-${index}`);
  mkdirSync(run, { recursive: true });
  const shift = o.sippPortShift;
  for (const p of [UAC_PORT, UAS_PORT, ...SIPP_MEDIA_PORTS].map((port) => port + shift))
    if (!(await canBind(p))) throw new Error(`UDP/TCP port ${p} is taken`);
  // Below the media range and clear of the peers' ports (15060-15090, 16000-18884).
  const ports = { sip: await freePort(15160), http: await freePort(15180) };
  const { child: server, config } = await startCallwatch(
    run,
    ports,
    logLevel,
    configure({ min: o.portMin, max: o.portMax }, recording, shift),
  );
  if (config.recording.enabled !== recording)
    throw new Error(`recording.enabled is ${config.recording.enabled}, ${recording} was meant`);
  const m = rate * secs;
  const limit = 2 * secs + Math.ceil(hold / 1000) + 40;
  // The server's CPU from the first INVITE to the last call's end, its main (SIP) thread's
  // and every other thread's (media workers, recording writer, V8's, libuv's).
  const ticks = {};
  try {
    await registerOnce(run, ports.sip, {
      user: '1001',
      password: 'pw1001',
      port: UAS_PORT + shift,
    });
    udpStats(path.join(run, 'udp_before.txt'));
    ticks.before = {
      main: threadTicks(server.pid),
      writer: nicerThreadsTicks(server.pid),
      all: processTicks(server.pid),
    };
    const { uas, uac } = await startSippCalls(run, {
      sipPort: ports.sip,
      uasPort: UAS_PORT + shift,
      uacPort: UAC_PORT + shift,
      portShift: shift,
      uasScenario: 'uas_cps.xml',
      uacScenario: 'uac_cps.xml',
      did: DID,
      calls: m,
      rate,
      limit: 100000,
      hold,
      limitS: limit,
    });
    const cpumon = startCpumon(run, {
      callwatch: server.pid,
      sipp_uac: uac.child.pid,
      sipp_uas: uas.child.pid,
    });
    const mid = setTimeout(() => udpStats(path.join(run, 'udp_mid.txt')), (secs * 3000) / 4);
    await uac.done;
    ticks.after = {
      main: threadTicks(server.pid),
      writer: nicerThreadsTicks(server.pid),
      all: processTicks(server.pid),
    };
    clearTimeout(mid);
    // The UAS ends by itself after -m calls; if calls were lost, stop it after a grace.
    if (!(await waitExit(uas.child, 10000))) await stop(uas.child, 'SIGUSR1', 5000);
    await uas.done;
    udpStats(path.join(run, 'udp_after.txt'));
    await stop(cpumon, 'SIGTERM', 3000);
  } finally {
    writeFileSync(path.join(run, 'metrics_end.txt'), await httpGet(ports.http, '/metrics'));
    await sleep(o.settleMs); // what is still open a while later (legs, transactions)
    writeFileSync(path.join(run, 'metrics_end3s.txt'), await httpGet(ports.http, '/metrics'));
  }
  const srv = await stop(server, 'SIGTERM', 10000);
  // Counted once the server has closed its writers, then deleted: thousands of WAVs a run.
  const recDir = config.recording.directory;
  const recs = countRecordings(recDir);
  if (o.deleteRecordings === 'run') rmSync(recDir, { recursive: true, force: true });
  else if (o.deleteRecordings === 'end') keptRecordings.push(recDir);
  const analysis = analyze(run, /^uac_cps_\d+_rtt\.csv$/, [
    '--label',
    `callwatch cps rate=${rate}/s hold=${hold}ms (rtd1 INVITE->200, rtd2 BYE->200)`,
    '--expect',
    String(m),
    '--hold',
    String(hold / 1000),
  ]);
  const us = sippStat(path.join(run, 'uas_stat.csv'));
  const metrics = callMetrics(readFileSync(path.join(run, 'metrics_end.txt'), 'utf8'));
  const log = readFileSync(path.join(run, 'callwatch.log'), 'utf8').split('\n');
  const warn = log.filter((l) => /"level":(40|50|60)/.test(l));
  const summary =
    analysis +
    (us
      ? `UAS successful/failed/retrans: ${us['SuccessfulCall(C)']} ${us['FailedCall(C)']} ${us['Retransmissions(C)']}\n`
      : 'UAS stats missing\n') +
    `callwatch /metrics at the end:\n  ${metrics.join('\n  ')}\n` +
    `recording: ${recording ? 'on' : 'off'}; WAV files written: ${recs.wavs} (${(recs.bytes / 1024).toFixed(0)} KB, deleted ${{ run: 'now', end: 'after the last run', never: 'never' }[o.deleteRecordings]})\n` +
    `callwatch gauges ${o.settleMs / 1000} s later: ${
      callMetrics(readFileSync(path.join(run, 'metrics_end3s.txt'), 'utf8'))
        .filter((l) => /_(active|legs)\b/.test(l))
        .join('; ') || 'all 0'
    }\n` +
    `callwatch log lines at warn or above: ${warn.length}${warn.length ? `, first: ${warn[0].slice(0, 300)}` : ''}\n` +
    `callwatch exit on SIGTERM: ${srv.killed ? 'killed after 10 s' : srv.code}\n`;
  const s = parseSummary(summary);
  // Clock ticks are 10 ms (USER_HZ 100): over 10 s runs of hundreds of calls a second, a
  // tick is a few µs per call.
  const perCall = (key) =>
    ticks.before?.[key] == null || ticks.after?.[key] == null || !(s.ok > 0)
      ? NaN
      : ((ticks.after[key] - ticks.before[key]) * 10000) / s.ok;
  const threads = { main: perCall('main'), writer: perCall('writer'), all: perCall('all') };
  // INVITE→200 p99 once the first seconds are past: a fresh process's first seconds are
  // slower (bench/RESULTS.md), and a whole-run p99 is mostly them.
  const rttPath = path.join(run, 'rtt.csv');
  const steadyP99 = existsSync(rttPath)
    ? percentileFrom(rttSamples(readFileSync(rttPath, 'utf8'), '1'), STEADY_FROM_MS, 99)
    : NaN;
  writeFileSync(
    path.join(run, 'summary.txt'),
    `${summary}callwatch CPU per call from the first INVITE to the last call's end: ${fmtUs(threads.all)} µs, of which the main thread ${fmtUs(threads.main)} µs, the recording writer ${fmtUs(threads.writer)} µs\nINVITE→200 p99 of the calls answered from ${STEADY_FROM_MS / 1000} s on: ${fmtUs(steadyP99)} ms\n`,
  );
  return {
    run,
    summary,
    s,
    threads,
    steadyP99,
    serverExit: srv,
    warn: warn.length,
    metrics,
    recording,
    recs,
  };
}

// ---------------------------------------------------------------- peer

async function runPeer(rate, secs, hold) {
  for (const cmd of ['kamailio', 'rtpengine'])
    if (!have(cmd)) return { error: `${cmd} not installed (see ../shared/peers/README.md)` };
  const out = await runPeerScript(
    'run_cps.sh',
    [String(rate), String(secs), '2', String(hold)],
    (3 * secs + 120) * 1000,
  );
  return { out, s: parseSummary(out), run: /^== .*\((\/[^)]+)\)/m.exec(out)?.[1] ?? '?' };
}

// ---------------------------------------------------------------- main

/** Median of the finite values of xs (NaN if none). */
function median(xs) {
  const v = xs.filter(Number.isFinite).sort((a, b) => a - b);
  if (!v.length) return NaN;
  const m = Math.floor(v.length / 2);
  return v.length % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
}

const peerUs = (s) =>
  ((((s.cpu.kamailio ?? NaN) + (s.cpu.rtpengine ?? NaN)) / 100) * 1e6) / s.achieved;

/** What a run of this bench must show to count as a result (bench/smoke.mjs). */
function problems(o, rows) {
  const out = [];
  for (const rec of o.recordingList) {
    const at = rows.filter((r) => r.recording === (rec === 'on'));
    if (!at.some((r) => r.s.ok > 0)) out.push(`recording ${rec}: no call completed`);
    else if (rec === 'on' && !at.some((r) => r.recs.wavs > 0))
      out.push('recording on, but no WAV file was written');
    if (rec === 'off' && at.some((r) => r.recs.wavs > 0))
      out.push('recording off, but WAV files were written');
  }
  return out;
}

async function main() {
  const argv = process.argv.slice(2);
  const o = parseArgs(argv);
  const mach = prepare(o);
  const command = commandLine('cps.bench.mjs');
  const mediaIo = mediaIoPath();
  const recFact = `recording: ${o.recordingList.join(', then ')} (recording.enabled stated in the bench's own server config, one series each)`;
  console.log(recFact);
  console.log(warmupFact());
  console.log(`media I/O: ${mediaIo}`);
  if (o.smoke) console.log('smoke: 5 calls/s for 3 s per setting, no peer, no results written');
  const t0 = Date.now();
  const rows = [];
  const series = [];
  for (const rec of o.recordingList) {
    const recording = rec === 'on';
    const r = await rateSeries(
      o,
      (rate, i) => runCallwatch(o, rate, i, recording),
      (x) =>
        `recording ${rec} | ${fmtRun(x.s, 'callwatch')} | main thread ${fmtUs(x.threads.main)}, writer ${fmtUs(x.threads.writer)} of ${fmtUs(x.threads.all)} µs/call | WAVs ${x.recs.wavs} | ${x.run}` +
        (x.warn ? `\n  callwatch logged ${x.warn} line(s) at warn or above` : ''),
      t0,
    );
    rows.push(...r.rows);
    const mine = r.rows;
    const cleanRates = [...new Set(mine.filter((x) => x.s.clean).map((x) => x.rate))].filter(
      (rate) => mine.filter((x) => x.rate === rate).every((x) => x.s.clean),
    );
    const bestClean = cleanRates.length ? Math.max(...cleanRates) : null;
    series.push({ rec, best: r.best, bestClean, stoppedEarly: r.stoppedEarly });
    console.log(
      `recording ${rec}: highest callwatch CPS where most runs PASS: ${r.best ?? 'none'}; highest rate where every run was clean: ${bestClean ?? 'none'}${r.stoppedEarly ? ` (${r.stoppedEarly})` : ''}`,
    );
  }

  // The recording's cost: medians per rate run with both settings.
  const cost = [];
  for (const rate of o.recordingList.length === 2 ? o.rateList : []) {
    const off = rows.filter((r) => r.rate === rate && !r.recording);
    const on = rows.filter((r) => r.rate === rate && r.recording);
    if (!off.length || !on.length) continue;
    const c = {
      rate,
      n: `${off.length}+${on.length}`,
      usOff: median(off.map((r) => usPer(r.s, 'callwatch'))),
      usOn: median(on.map((r) => usPer(r.s, 'callwatch'))),
      p99Off: median(off.map((r) => r.s.timers['1']?.p99 ?? NaN)),
      p99On: median(on.map((r) => r.s.timers['1']?.p99 ?? NaN)),
      passOff: off.filter((r) => r.s.pass).length,
      passOn: on.filter((r) => r.s.pass).length,
    };
    cost.push(c);
    console.log(
      `rate ${rate}: median callwatch CPU per call recording off ${fmtUs(c.usOff)} µs, on ${fmtUs(c.usOn)} µs (on/off ${(c.usOn / c.usOff).toFixed(2)}); INVITE→200 p99 ${fmtUs(c.p99Off)} / ${fmtUs(c.p99On)} ms; PASS ${c.passOff}/${off.length} off, ${c.passOn}/${on.length} on`,
    );
  }

  // Recording on vs off in capacity: the highest passing rate of each series (target ≥ 0.9×).
  const bestOf = (rec) => series.find((x) => x.rec === rec)?.best ?? null;
  const capacity =
    o.recordingList.length === 2
      ? {
          off: bestOf('off'),
          on: bestOf('on'),
          ratio: (bestOf('on') ?? 0) / (bestOf('off') ?? NaN),
        }
      : null;
  if (capacity)
    console.log(
      `recording on vs off: highest passing rate ${capacity.on ?? 'none'} vs ${capacity.off ?? 'none'} cps = ${Number.isFinite(capacity.ratio) ? capacity.ratio.toFixed(2) : '?'}× (target ≥ 0.9×; only as fine as the rates tried)`,
    );

  let peer = null;
  if (o.peer !== 'none') {
    const rate = Number(o.peer);
    console.log(`peer: ../shared/peers/run_cps.sh ${rate} ${o.secs} 2 ${o.hold}`);
    peer = { rate, ...(await runPeer(rate, o.secs, o.hold)) };
    console.log(
      peer.error ? `peer: ${peer.error}` : `peer rate=${rate} | ${fmtRun(peer.s, 'peer')}`,
    );
  }
  const vsPeer = [];
  if (peer && !peer.error)
    for (const rec of o.recordingList) {
      const at = rows.filter((r) => r.rate === peer.rate && r.recording === (rec === 'on'));
      const us = median(at.map((r) => usPer(r.s, 'callwatch')));
      if (Number.isFinite(us) && peerUs(peer.s) > 0)
        vsPeer.push(
          `recording ${rec}: callwatch ${fmtUs(us)} µs CPU/call at ${peer.rate}/s (median of ${at.length}) = ${(us / peerUs(peer.s)).toFixed(2)}× Kamailio + rtpengine's ${fmtUs(peerUs(peer.s))} µs`,
        );
    }
  for (const l of vsPeer) console.log(l);

  const bad = problems(o, rows);
  emitResult({
    bench: 'cps',
    produced: bad.length === 0,
    problems: bad,
    runs: rows.length,
    ok: rows.reduce((a, r) => a + r.s.ok, 0),
    failed: rows.reduce((a, r) => a + r.s.failed, 0),
    pass: rows.filter((r) => r.s.pass).length,
    recording: o.recordingList,
    capacityRatio: capacity && Number.isFinite(capacity.ratio) ? capacity.ratio : null,
    mediaIo,
  });

  if (!o.results) return;
  const lines = resultsHead(o, 'Call setups per second through the B2BUA (SIPp)', mach, command, [
    recFact,
    `media I/O: ${mediaIo}`,
  ]);
  lines.push(
    `- setup: SIPp uac_cps.xml (trunk 127.0.0.1:${UAC_PORT + o.sippPortShift}) → callwatch → uas_cps.xml (extension 1001 registered from 127.0.0.1:${UAS_PORT + o.sippPortShift}), DID ${DID}; PCMA SDP both ways, so each call anchors two media legs (media.portRange ${o.portMin}-${o.portMax}), but no RTP flows; calls held ${o.hold} ms; ${o.secs} s per run, recordings deleted ${{ run: 'after each run', end: 'after the last run', never: 'never (kept in each run folder)' }[o.deleteRecordings]}; main thread / other threads = the server's /proc CPU ticks from the first INVITE to the last call's end per call, its main (SIP) thread's, the recording writer's (the thread nicer than the main one; ? for a build where it is not) and the rest's (media workers, V8, libuv); ${o.repeat} run(s) per rate and recording setting; log level ${o.logLevel}; monitoring off; SIPp and the server share the machine`,
    '',
    `| recording | rate/s | run | verdict | ok / failed | UAC retrans (%) | UAS retrans | achieved/s | peak calls | INVITE→200 p50 / p99 (ms) | INVITE→200 p99 from ${STEADY_FROM_MS / 1000} s (ms) | BYE→200 p99 (ms) | callwatch CPU % | µs CPU/call | main thread / writer / other threads µs/call | SIPp UAC + UAS CPU % | WAVs |`,
    '|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|',
  );
  for (const r of rows) {
    const t = r.s.timers['1'] ?? {};
    const b = r.s.timers['2'] ?? {};
    lines.push(
      `| ${r.recording ? 'on' : 'off'} | ${r.rate} | ${r.i} | ${r.s.pass ? 'PASS' : 'FAIL'}${r.s.clean ? ' clean' : ''} | ${r.s.ok} / ${r.s.failed} | ${r.s.retrans} (${r.s.retransPct}) | ${r.s.uas?.retrans ?? '?'} | ${r.s.achieved} | ${r.s.peak} | ${t.p50 ?? '?'} / ${t.p99 ?? '?'} | ${fmtUs(r.steadyP99)} | ${b.p99 ?? '?'} | ${r.s.cpu.callwatch ?? '?'} | ${fmtUs(usPer(r.s, 'callwatch'))} | ${fmtUs(r.threads.main)} / ${fmtUs(r.threads.writer)} / ${fmtUs(r.threads.all - r.threads.main - (r.threads.writer || 0))} | ${r.s.cpu.sipp_uac ?? '?'} + ${r.s.cpu.sipp_uas ?? '?'} | ${r.recs.wavs} |`,
    );
  }
  lines.push('');
  for (const x of series)
    lines.push(
      `**Recording ${x.rec}: highest rate where most runs PASS (<0.1 % failed, every call done, rate held ≥97 %): ${x.best ?? 'none'} cps; highest rate where every run was clean (≤0.1 % retransmitted): ${x.bestClean ?? 'none'} cps**${x.stoppedEarly ? ` (${x.stoppedEarly})` : ''}.`,
    );
  if (capacity)
    lines.push(
      `Recording on vs off, highest passing rate: ${capacity.on ?? 'none'} vs ${capacity.off ?? 'none'} cps = **${Number.isFinite(capacity.ratio) ? capacity.ratio.toFixed(2) : '?'}×** (target ≥ 0.9×; as fine as the rates tried).`,
    );
  for (const c of cost)
    lines.push(
      `At ${c.rate}/s (runs off+on ${c.n}): median callwatch CPU per call ${fmtUs(c.usOff)} µs recording off vs ${fmtUs(c.usOn)} µs on = **${(c.usOn / c.usOff).toFixed(2)}×**; median INVITE→200 p99 ${fmtUs(c.p99Off)} vs ${fmtUs(c.p99On)} ms; PASS ${c.passOff} off, ${c.passOn} on.`,
    );
  if (peer) {
    if (peer.error) lines.push(`Peer at ${peer.rate}/s: not run (${peer.error}).`);
    else {
      const t = peer.s.timers['1'] ?? {};
      lines.push(
        `Peer, same session (Kamailio children=2 + rtpengine, \`../shared/peers/run_cps.sh ${peer.rate} ${o.secs} 2 ${o.hold}\`): ${peer.s.pass ? 'PASS' : 'FAIL'}${peer.s.clean ? ' clean' : ''}, ok ${peer.s.ok} / failed ${peer.s.failed}, retrans ${peer.s.retrans} (${peer.s.retransPct} %), achieved ${peer.s.achieved}/s, INVITE→200 p50 ${t.p50 ?? '?'} ms / p99 ${t.p99 ?? '?'} ms, Kamailio CPU ${peer.s.cpu.kamailio ?? '?'} % + rtpengine ${peer.s.cpu.rtpengine ?? '?'} % (${fmtUs(peerUs(peer.s))} µs CPU/call). Raw: ${peer.run}.`,
      );
      for (const l of vsPeer) lines.push(`CPU per call vs the peer, ${l}.`);
      for (const x of series)
        if (x.best)
          lines.push(
            `Recording ${x.rec}: callwatch's highest passing rate vs the peer's rate in this session: ${((x.best / peer.rate) * 100).toFixed(0)} % (the target is ≥100 %; the peer's recorded maximum is 900 cps clean, ../shared/peers/README.md).`,
          );
    }
  }
  lines.push(`Raw data: ${rows.map((r) => r.run).join(', ') || 'none'}.`, '');
  appendLines(o.results, lines);
}

runSippMain(main);
