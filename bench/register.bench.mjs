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
 *
 * One run: a fresh server (users 1000-1999, password pw<user>, MD5 only because SIPp
 * answers only an MD5 challenge offered first), SIPp at RATE/s for SECS s
 * (-m RATE*SECS, -timeout and an outer kill), cpumon.py sampling both process trees,
 * UDP drop snapshots, then analyze_sipp.py: PASS = <0.1 % failed, every call done, offered
 * rate held (>=97 %). Raw files stay in /tmp/peers/callwatch-reg-RATE-TIME-N/.
 * Every process started here is stopped by its PID; everything is bounded in time.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import {
  appendFileSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  readdirSync,
  writeFileSync,
  closeSync,
} from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { clearTimeout, setTimeout } from 'node:timers';
import { fileURLToPath } from 'node:url';
import YAML from 'yaml';
import {
  sleep,
  stamp,
  sh,
  have,
  freePort,
  exited,
  waitExit,
  stop,
  track,
  udpStats,
  machine,
  parseSummary,
  started,
} from './lib/benchRuntime.mjs';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const PEERS = path.resolve(REPO, '../shared/peers');
const SCRATCH = process.env.SCRATCH ?? '/tmp/peers';
const DEFAULT_RATES = '500 1000 2000 3000 4000 6000 8000 10000 12000';

// ---------------------------------------------------------------- arguments

function parseArgs(argv) {
  const o = {
    rates: DEFAULT_RATES,
    repeat: 1,
    secs: 10,
    kamailio: 'auto',
    logLevel: 'info',
    build: true,
    results: path.join(REPO, 'bench/RESULTS.md'),
    maxMinutes: 30,
  };
  for (let i = 0; i < argv.length; i += 1) {
    const a = argv[i];
    const next = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    if (a === '--rates') o.rates = next();
    else if (a === '--repeat') o.repeat = Number(next());
    else if (a === '--secs') o.secs = Number(next());
    else if (a === '--kamailio') o.kamailio = next();
    else if (a === '--log-level') o.logLevel = next();
    else if (a === '--no-build') o.build = false;
    else if (a === '--results') o.results = path.resolve(next());
    else if (a === '--max-minutes') o.maxMinutes = Number(next());
    else if (a === '-h' || a === '--help') {
      console.log(readFileSync(fileURLToPath(import.meta.url), 'utf8').split('*/')[0]);
      process.exit(0);
    } else throw new Error(`unknown argument ${a} (see --help)`);
  }
  o.rateList = o.rates
    .split(/[\s,]+/)
    .filter(Boolean)
    .map(Number);
  if (o.rateList.some((r) => !(r > 0))) throw new Error(`bad --rates ${o.rates}`);
  if (!(o.repeat >= 1 && o.repeat <= 5)) throw new Error('--repeat must be 1..5');
  if (!(o.secs >= 3 && o.secs <= 60)) throw new Error('--secs must be 3..60');
  if (o.rateList.length * o.repeat > 30) throw new Error('at most 30 runs per invocation');
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

function writeConfig(file, ports, logLevel) {
  const cfg = YAML.parse(readFileSync(path.join(REPO, 'config/default.yaml'), 'utf8'));
  cfg.sip.listen = {
    ...cfg.sip.listen,
    address: '127.0.0.1',
    udpPort: ports.sip,
    tcpPort: ports.sip,
  };
  cfg.http = { ...cfg.http, address: '127.0.0.1', port: ports.http };
  cfg.log = { ...cfg.log, level: logLevel };
  cfg.auth = { ...cfg.auth, algorithms: ['MD5'] };
  cfg.extensions = Array.from({ length: 1000 }, (_, i) => ({
    number: String(1000 + i),
    password: `pw${1000 + i}`,
    displayName: `Bench ${1000 + i}`,
    role: 'agent',
  }));
  writeFileSync(file, YAML.stringify(cfg));
}

async function httpOk(port) {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1', () => {
      s.end('GET /healthz HTTP/1.0\r\n\r\n');
    });
    let data = '';
    s.on('data', (d) => (data += d));
    s.on('close', () => resolve(/^HTTP\/1\.\d 200/.test(data)));
    s.on('error', () => resolve(false));
    s.setTimeout(1000, () => s.destroy());
  });
}

async function startCallwatch(run, ports, logLevel) {
  const cfgFile = path.join(run, 'callwatch.yaml');
  writeConfig(cfgFile, ports, logLevel);
  const cli = process.env.CALLWATCH_CLI
    ? path.resolve(REPO, process.env.CALLWATCH_CLI)
    : path.join(REPO, 'dist/src/cli.js');
  const out = openSync(path.join(run, 'callwatch.log'), 'w');
  const child = track(
    spawn(process.execPath, [cli, '--config', cfgFile], { cwd: REPO, stdio: ['ignore', out, out] }),
  );
  closeSync(out);
  const deadline = Date.now() + 20000;
  while (Date.now() < deadline) {
    if (exited(child)) break;
    const log = readFileSync(path.join(run, 'callwatch.log'), 'utf8');
    if (/"msg":"listening"/.test(log) || (await httpOk(ports.http))) {
      await sleep(500);
      return child;
    }
    await sleep(200);
  }
  await stop(child, 'SIGTERM', 3000);
  throw new Error(
    `callwatch did not start:\n${readFileSync(path.join(run, 'callwatch.log'), 'utf8').slice(-3000)}`,
  );
}

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
  const server = await startCallwatch(run, ports, logLevel);
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
    '-trace_stat',
    '-fd',
    '1',
    '-stf',
    'stat.csv',
    '-trace_rtt',
    '-rtt_freq',
    '200',
    '-trace_err',
    '-error_file',
    'errors.log',
    '-trace_screen',
    '-screen_file',
    'screen.txt',
    '-buff_size',
    '4194304',
  ];
  const sippOut = openSync(path.join(run, 'sipp.out'), 'w');
  const sipp = track(spawn('sipp', sippArgs, { cwd: run, stdio: ['ignore', sippOut, sippOut] }));
  closeSync(sippOut);
  const cpumon = track(
    spawn(
      '/usr/bin/python3',
      [
        path.join(PEERS, 'cpumon.py'),
        path.join(run, 'cpu.csv'),
        `callwatch=tree:${server.pid}`,
        `sipp=tree:${sipp.pid}`,
      ],
      {
        stdio: 'ignore',
      },
    ),
  );
  const mid = setTimeout(() => udpStats(path.join(run, 'udp_mid.txt')), (secs * 3000) / 4);
  const finished = await waitExit(sipp, (3 * secs + 60) * 1000);
  clearTimeout(mid);
  if (!finished) await stop(sipp, 'SIGUSR1', 5000);
  appendFileSync(
    path.join(run, 'sipp.out'),
    `sipp exit code ${sipp.exitCode ?? sipp.signalCode}\n`,
  );
  udpStats(path.join(run, 'udp_after.txt'));
  await stop(cpumon, 'SIGTERM', 3000);
  const srv = await stop(server, 'SIGTERM', 10000);
  const rtt = readdirSync(run).find((f) => /^reg_auth_uac_\d+_rtt\.csv$/.test(f));
  if (rtt) renameSync(path.join(run, rtt), path.join(run, 'rtt.csv'));
  const a = sh('/usr/bin/python3', [
    path.join(PEERS, 'analyze_sipp.py'),
    run,
    '--label',
    `callwatch register rate=${rate}/s`,
    '--expect',
    String(m),
  ]);
  const summary = `${a.stdout}${a.stderr}callwatch exit on SIGTERM: ${srv.killed ? 'killed after 10 s' : srv.code}\n`;
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
  const child = track(
    spawn(path.join(PEERS, 'run_register.sh'), ['1', String(rate), String(secs)], {
      cwd: PEERS,
      stdio: ['ignore', 'pipe', 'pipe'],
    }),
  );
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  if (!(await waitExit(child, (3 * secs + 120) * 1000))) await stop(child, 'SIGTERM', 15000);
  return { out, s: parseSummary(out), note: inst.note };
}

// ---------------------------------------------------------------- main

async function main() {
  const o = parseArgs(process.argv.slice(2));
  for (const [cmd, why] of [
    ['sipp', 'scripts/install-test-peers.sh'],
    ['/usr/bin/python3', 'apt-get install python3'],
  ]) {
    if (!have(cmd)) throw new Error(`${cmd} missing (${why})`);
  }
  if (!existsSync(path.join(PEERS, 'analyze_sipp.py')))
    throw new Error(`peer scripts not found in ${PEERS}`);
  if (o.build && !process.env.CALLWATCH_CLI) {
    console.log('npm run build');
    execFileSync('npm', ['run', 'build'], { cwd: REPO, stdio: 'inherit' });
  }
  mkdirSync(SCRATCH, { recursive: true });
  const mach = machine();
  const quoted = process.argv.slice(2).map((a) => (/[\s"']/.test(a) ? `"${a}"` : a));
  const command = `node bench/register.bench.mjs ${quoted.join(' ')}`.trim();
  console.log(
    `machine: ${mach.nproc} CPU (${mach.cpu}), kernel ${mach.kernel}, ${mach.memGb} GB; node ${mach.node}; ${mach.sipp}`,
  );
  const t0 = Date.now();
  const rows = [];
  let best = null;
  let stoppedEarly = '';
  outer: for (const rate of o.rateList) {
    let pass = 0;
    for (let i = 1; i <= o.repeat; i += 1) {
      if (Date.now() - t0 > o.maxMinutes * 60000) {
        stoppedEarly = `time limit of ${o.maxMinutes} min reached`;
        break outer;
      }
      const r = await runCallwatch(rate, o.secs, o.logLevel, i);
      rows.push({ rate, i, ...r });
      console.log(`callwatch rate=${rate} run=${i} | ${fmtRun(r.s)} | ${r.run}`);
      if (r.serverExit.killed || r.serverExit.code !== 0)
        console.log(
          `  (callwatch exit on SIGTERM: ${r.serverExit.killed ? 'killed' : r.serverExit.code})`,
        );
      if (r.s.pass) pass += 1;
    }
    if (2 * pass > o.repeat) best = rate;
    else {
      stoppedEarly = `most runs failed at ${rate}/s`;
      break;
    }
  }
  if (!stoppedEarly && best === o.rateList[o.rateList.length - 1]) {
    stoppedEarly = 'every rate tried passed: the limit is higher';
  }
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

  // ------------------------------------------------------------ RESULTS.md
  const cwAt = rows.filter((r) => r.rate === kamRate && r.s.pass).map((r) => r.s);
  const usPer = (s, key) =>
    s.cpu[key] !== undefined && s.achieved > 0 ? ((s.cpu[key] / 100) * 1e6) / s.achieved : NaN;
  let ratio = '';
  if (kam?.s && cwAt.length > 0) {
    const cwUs = cwAt.map((s) => usPer(s, 'callwatch')).reduce((a, b) => a + b, 0) / cwAt.length;
    const kUs = usPer(kam.s, 'kamailio');
    if (Number.isFinite(cwUs) && Number.isFinite(kUs) && kUs > 0) {
      ratio = `CPU per registration at ${kamRate}/s: callwatch ${cwUs.toFixed(0)} µs vs Kamailio ${kUs.toFixed(0)} µs = ${(cwUs / kUs).toFixed(2)}× Kamailio's.`;
    }
  }
  const lines = [];
  if (!existsSync(o.results)) {
    lines.push('# Benchmark results', '', 'Appended by the scripts in bench/. Newest last.', '');
  }
  lines.push(
    `## REGISTER with digest auth (SIPp) — ${new Date().toISOString()}`,
    '',
    `- machine: ${mach.nproc} CPU (${mach.cpu}), kernel ${mach.kernel}, ${mach.memGb} GB RAM; node ${mach.node}; ${mach.sipp}`,
    `- command: \`${command}\`${process.env.CALLWATCH_CLI ? ` (CALLWATCH_CLI=${process.env.CALLWATCH_CLI})` : ''}`,
    `- setup: users 1000-1999, MD5 challenge, log level ${o.logLevel}; SIPp ../shared/peers/sipp/reg_auth_uac.xml, ${o.secs} s per run, ${o.repeat} run(s) per rate; SIPp and the server share the machine`,
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
  appendFileSync(o.results, `${lines.join('\n')}\n`);
  console.log(`appended to ${o.results}`);
}

main().catch(async (err) => {
  console.error(err instanceof Error ? err.message : err);
  await Promise.all([...started].map((c) => stop(c, 'SIGTERM', 3000)));
  process.exit(1);
});
