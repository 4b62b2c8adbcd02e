#!/usr/bin/env node
/**
 * REGISTER-with-digest-auth throughput of callwatch, driven by SIPp exactly like the
 * Kamailio peer baseline (../shared/peers/run_register.sh and find_register_max.sh),
 * whose scenario, user generator, CPU sampler and analysis it reuses from ../shared/peers.
 *
 *   node bench/register.bench.mjs [options]          (npm run bench:register -- [options])
 *
 *   --rates "1000 2000 4000"  registrations/s to try, ascending (default below); stops at
 *                             the first rate where most runs FAIL
 *   --repeat N                runs per rate (default 1; the peers use 3)
 *   --secs S                  load length per run (default 10; the peers use 20)
 *   --kamailio RATE|auto|none run the Kamailio peer once (run_register.sh 1 RATE SECS) for
 *                             the ratio; auto (default) = callwatch's highest passing rate
 *   --log-level LEVEL         callwatch log level during the runs (default info, as shipped)
 *   --no-build                do not run `npm run build` first
 *   --results FILE            where to append the results (default bench/RESULTS.md)
 *   --max-minutes M           start no new run after M minutes (default 30)
 *   --smoke                   20 registrations/s for 3 s, no Kamailio, nothing written
 *                             (npm run bench:smoke)
 *
 * One run: a fresh server on a config this bench states in full (configure() below:
 * users 1000-1999, password pw<user>, no trunk, monitoring off, recording off since no
 * call is made; MD5 only because SIPp answers only an MD5 challenge offered first), SIPp at RATE/s for SECS s
 * (-m RATE*SECS, -timeout and an outer kill), cpumon.py sampling both process trees,
 * UDP drop snapshots, then analyze_sipp.py: PASS = <0.1 % failed, every call done, offered
 * rate held (>=97 %). Raw files stay in /tmp/peers/callwatch-reg-RATE-TIME-N/.
 * Every process started here is stopped by its PID; everything is bounded in time.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { clearTimeout, setTimeout } from 'node:timers';
import {
  PEERS,
  REPO,
  SCRATCH,
  applySmoke,
  commandLine,
  emitResult,
  freePort,
  have,
  mediaIoPath,
  parseFlags,
  parseSummary,
  sh,
  stamp,
  stop,
  udpStats,
} from './lib/benchRuntime.mjs';
import {
  analyze,
  appendLines,
  checkRates,
  prepare,
  rateSeries,
  resultsHead,
  runPeerScript,
  runSipp,
  runSippMain,
  sippDefaults,
  sippFlags,
  sippTraceArgs,
  startCallwatch,
  startCpumon,
  usPer,
  warmupFact,
} from './lib/sippBench.mjs';

const DEFAULT_RATES = '500 1000 2000 3000 4000 6000 8000 10000 12000';

// ---------------------------------------------------------------- arguments

function parseArgs(argv) {
  const o = parseFlags(
    argv,
    {
      ...sippDefaults,
      rates: DEFAULT_RATES,
      kamailio: 'auto',
      logLevel: 'info',
      results: path.join(REPO, 'bench/RESULTS.md'),
    },
    { ...sippFlags, '--kamailio': 'kamailio' },
    import.meta.url,
    'argument',
  );
  applySmoke(argv, o, { rates: '20', secs: 3, repeat: 1, kamailio: 'none', maxMinutes: 2 });
  checkRates(o);
  return o;
}

// ---------------------------------------------------------------- small helpers

function fmtRun(s) {
  const t = s.timers['3'] ?? s.timers['2'];
  const lat = t ? `p50 ${t.p50} ms p99 ${t.p99} ms` : 'no rtt';
  const cpuName = s.cpu.callwatch !== undefined ? 'callwatch' : 'kamailio';
  const peerCpu = s.cpu[cpuName];
  const usPerReg =
    peerCpu !== undefined && s.achieved > 0 ? ((peerCpu / 100) * 1e6) / s.achieved : NaN;
  return (
    `${s.pass ? 'PASS' : 'FAIL'}${s.clean ? ' clean' : ''} | ok ${s.ok} failed ${s.failed} (${s.failPct} %) ` +
    `retrans ${s.retransPct} % | achieved ${s.achieved}/s | ${lat} | ` +
    `${cpuName} CPU ${peerCpu ?? '?'} % (${Number.isFinite(usPerReg) ? usPerReg.toFixed(0) : '?'} µs/reg), sipp ${s.cpu.sipp ?? '?'} %`
  );
}

// ---------------------------------------------------------------- one callwatch run

/**
 * This bench's own config sections (the rest: sippBench.mjs's benchConfig and the schema's
 * defaults): users 1000-1999 with password pw<user>; no trunk, nobody to monitor, and
 * recording off (REGISTER only: no call would be recorded anyway).
 */
const OWN_CONFIG = {
  extensions: Array.from({ length: 1000 }, (_, i) => ({
    number: String(1000 + i),
    password: `pw${1000 + i}`,
    displayName: `Bench ${1000 + i}`,
    role: 'agent',
  })),
  trunks: [],
  monitoring: { enabled: false, groups: [] },
  recording: { enabled: false },
};
const REC_FACT =
  "recording: off (recording.enabled: false stated in the bench's own server config; REGISTER only, no call)";

async function runCallwatch(rate, secs, logLevel, index) {
  const run = path.join(SCRATCH, `callwatch-reg-r${rate}-${stamp()}-${index}`);
  mkdirSync(run, { recursive: true });
  const r = sh(path.join(PEERS, 'gen_users.sh'), [path.join(run, 'users.csv'), '1000']);
  if (r.status !== 0) throw new Error(`gen_users.sh: ${r.stderr}`);
  const ports = {
    sip: await freePort(25060),
    http: await freePort(25080),
    sipp: await freePort(25090),
    sippCtrl: await freePort(25095),
  };
  const { child: server } = await startCallwatch(run, ports, logLevel, OWN_CONFIG, {
    listeningLog: true,
  });
  const m = rate * secs;
  udpStats(path.join(run, 'udp_before.txt'));
  const sippArgs = [
    `127.0.0.1:${ports.sip}`,
    '-sf',
    path.join(PEERS, 'sipp/reg_auth_uac.xml'),
    '-inf',
    'users.csv',
    '-i',
    '127.0.0.1',
    '-p',
    String(ports.sipp),
    '-cp',
    String(ports.sippCtrl),
    '-nostdin',
    '-r',
    String(rate),
    '-rp',
    '1000',
    '-m',
    String(m),
    '-l',
    '100000',
    '-timeout',
    `${2 * secs + 30}s`,
    ...sippTraceArgs('', { rtt: true }),
  ];
  const sipp = await runSipp(run, 'sipp', sippArgs, (3 * secs + 60) * 1000);
  const cpumon = startCpumon(run, { callwatch: server.pid, sipp: sipp.child.pid });
  const mid = setTimeout(() => udpStats(path.join(run, 'udp_mid.txt')), (secs * 3000) / 4);
  await sipp.done;
  clearTimeout(mid);
  udpStats(path.join(run, 'udp_after.txt'));
  await stop(cpumon, 'SIGTERM', 3000);
  const srv = await stop(server, 'SIGTERM', 10000);
  const analysis = analyze(run, /^reg_auth_uac_\d+_rtt\.csv$/, [
    '--label',
    `callwatch register rate=${rate}/s`,
    '--expect',
    String(m),
  ]);
  const summary = `${analysis}callwatch exit on SIGTERM: ${srv.killed ? 'killed after 10 s' : srv.code}\n`;
  writeFileSync(path.join(run, 'summary.txt'), summary);
  return { run, summary, s: parseSummary(summary), serverExit: srv };
}

// ---------------------------------------------------------------- Kamailio peer

function ensureKamailio() {
  if (have('kamailio')) return { ok: true, note: 'already installed' };
  console.log('kamailio missing: apt-get install -y --no-install-recommends kamailio');
  const root = process.getuid?.() === 0;
  const pre = root ? [] : have('sudo') ? ['sudo', '-n'] : null;
  if (pre === null) return { ok: false, note: 'kamailio missing and not root (no sudo)' };
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const run = (args) => {
    const [cmd, ...rest] = [...pre, ...args];
    return spawnSync(cmd, rest, { stdio: 'inherit', env, timeout: 300000 });
  };
  let r = run(['apt-get', 'install', '-y', '-q', '--no-install-recommends', 'kamailio']);
  if (r.status !== 0) {
    run(['apt-get', 'update', '-q']);
    r = run(['apt-get', 'install', '-y', '-q', '--no-install-recommends', 'kamailio']);
  }
  // The package's service is not used (run_register.sh starts its own instance).
  if (existsSync('/run/systemd/system')) run(['systemctl', 'stop', 'kamailio']);
  return have('kamailio')
    ? { ok: true, note: 'installed now' }
    : { ok: false, note: 'apt-get install kamailio failed' };
}

async function runKamailio(rate, secs) {
  const inst = ensureKamailio();
  if (!inst.ok) return { error: inst.note };
  const out = await runPeerScript(
    'run_register.sh',
    ['1', String(rate), String(secs)],
    (3 * secs + 120) * 1000,
  );
  return { out, s: parseSummary(out), note: inst.note };
}

// ---------------------------------------------------------------- main

async function main() {
  const argv = process.argv.slice(2);
  const o = parseArgs(argv);
  const mach = prepare(o);
  const command = commandLine('register.bench.mjs');
  const mediaIo = mediaIoPath();
  console.log(REC_FACT);
  console.log(warmupFact());
  console.log(`media I/O: ${mediaIo} (idle here: no call, no RTP)`);
  if (o.smoke) console.log('smoke: 20 registrations/s for 3 s, no Kamailio, no results written');
  const { rows, best, stoppedEarly } = await rateSeries(
    o,
    (rate, i) => runCallwatch(rate, o.secs, o.logLevel, i),
    (r) => `${fmtRun(r.s)} | ${r.run}`,
  );
  console.log(
    `highest callwatch rate where most runs PASS: ${best ?? 'none'}${stoppedEarly ? ` (${stoppedEarly})` : ''}`,
  );

  let kam = null;
  const kamRate =
    o.kamailio === 'auto'
      ? (best ?? o.rateList[0])
      : o.kamailio === 'none'
        ? null
        : Number(o.kamailio);
  if (kamRate) {
    console.log(`Kamailio peer: ../shared/peers/run_register.sh 1 ${kamRate} ${o.secs}`);
    kam = { rate: kamRate, ...(await runKamailio(kamRate, o.secs)) };
    console.log(
      kam.error ? `Kamailio: ${kam.error}` : `kamailio rate=${kamRate} | ${fmtRun(kam.s)}`,
    );
  }

  emitResult({
    bench: 'register',
    produced: rows.some((r) => r.s.ok > 0),
    problems: rows.some((r) => r.s.ok > 0) ? [] : ['no registration succeeded'],
    runs: rows.length,
    ok: rows.reduce((a, r) => a + r.s.ok, 0),
    failed: rows.reduce((a, r) => a + r.s.failed, 0),
    pass: rows.filter((r) => r.s.pass).length,
    recording: ['off'],
    mediaIo,
  });
  if (!o.results) return;

  // ------------------------------------------------------------ RESULTS.md
  const cwAt = rows.filter((r) => r.rate === kamRate && r.s.pass).map((r) => r.s);
  let ratio = '';
  if (kam?.s && cwAt.length > 0) {
    const cwUs = cwAt.map((s) => usPer(s, 'callwatch')).reduce((a, b) => a + b, 0) / cwAt.length;
    const kUs = usPer(kam.s, 'kamailio');
    if (Number.isFinite(cwUs) && Number.isFinite(kUs) && kUs > 0) {
      ratio = `CPU per registration at ${kamRate}/s: callwatch ${cwUs.toFixed(0)} µs vs Kamailio ${kUs.toFixed(0)} µs = ${(cwUs / kUs).toFixed(2)}× Kamailio's.`;
    }
  }
  const lines = resultsHead(o, 'REGISTER with digest auth (SIPp)', mach, command, [
    REC_FACT,
    `media I/O: ${mediaIo} (idle: no call)`,
  ]);
  lines.push(
    `- setup: users 1000-1999, MD5 challenge, log level ${o.logLevel}; ${warmupFact()}; SIPp ../shared/peers/sipp/reg_auth_uac.xml, ${o.secs} s per run, ${o.repeat} run(s) per rate; SIPp and the server share the machine`,
    '',
    '| rate/s | run | verdict | ok / failed | retrans % | achieved/s | full reg. p50 / p99 (ms) | callwatch CPU % | µs CPU/reg | SIPp CPU % |',
    '|---|---|---|---|---|---|---|---|---|---|',
  );
  for (const r of rows) {
    const t = r.s.timers['3'] ?? {};
    lines.push(
      `| ${r.rate} | ${r.i} | ${r.s.pass ? 'PASS' : 'FAIL'}${r.s.clean ? ' clean' : ''} | ${r.s.ok} / ${r.s.failed} | ${r.s.retransPct} | ${r.s.achieved} | ${t.p50 ?? '?'} / ${t.p99 ?? '?'} | ${r.s.cpu.callwatch ?? '?'} | ${Number.isFinite(usPer(r.s, 'callwatch')) ? usPer(r.s, 'callwatch').toFixed(0) : '?'} | ${r.s.cpu.sipp ?? '?'} |`,
    );
  }
  lines.push(
    '',
    `**Highest rate where most runs PASS (<0.1 % failed, rate held): ${best ?? 'none'} reg/s**${stoppedEarly ? ` (${stoppedEarly})` : ''}.`,
  );
  if (kam) {
    if (kam.error) lines.push(`Kamailio peer at ${kam.rate}/s: not run (${kam.error}).`);
    else {
      const t = kam.s.timers['3'] ?? {};
      lines.push(
        `Kamailio peer (children=1, \`../shared/peers/run_register.sh 1 ${kam.rate} ${o.secs}\`): ${kam.s.pass ? 'PASS' : 'FAIL'}, ok ${kam.s.ok} / failed ${kam.s.failed}, achieved ${kam.s.achieved}/s, p50 ${t.p50 ?? '?'} ms / p99 ${t.p99 ?? '?'} ms, Kamailio CPU ${kam.s.cpu.kamailio ?? '?'} %.`,
      );
    }
  }
  if (ratio) lines.push(ratio);
  if (best)
    lines.push(
      `Highest rate vs Kamailio's recorded maximum (18 000 reg/s, ../shared/peers/README.md): ${((best / 18000) * 100).toFixed(0)} %.`,
    );
  lines.push(`Raw data: ${[...rows.map((r) => r.run)].join(', ') || 'none'}.`, '');
  appendLines(o.results, lines);
}

runSippMain(main);
