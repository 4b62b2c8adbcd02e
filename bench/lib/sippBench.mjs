/**
 * What the SIPp-driven benchmarks (register, cps) share: a callwatch server per run
 * (its config stated by the bench, never the demo's; started and stopped by PID), bounded SIPp and peer
 * script runs, cpumon.py and analyze_sipp.py from ../shared/peers, the series of rates,
 * and the head of their RESULTS.md block.
 */
import { spawn } from 'node:child_process';
import {
  appendFileSync,
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  readdirSync,
  renameSync,
  writeFileSync,
} from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import YAML from 'yaml';
import {
  PEERS,
  REPO,
  SCRATCH,
  build,
  canBind,
  commonFlags,
  exited,
  have,
  loadavg,
  machine,
  numList,
  sh,
  sleep,
  started,
  stop,
  track,
  waitExit,
} from './benchRuntime.mjs';

/** The defaults and flags both SIPp benches take (besides their own). */
export const sippDefaults = { repeat: 1, secs: 10, build: true, maxMinutes: 30 };
export const sippFlags = {
  ...commonFlags,
  '--rates': 'rates',
  '--repeat': ['repeat', Number],
  '--secs': ['secs', Number],
  '--log-level': 'logLevel',
};

/** Parses and checks o.rates (each in (0, maxRate]), o.repeat and o.secs. */
export function checkRates(o, maxRate = Infinity) {
  o.rateList = numList(o.rates);
  if (o.rateList.some((r) => !(r > 0 && r <= maxRate))) throw new Error(`bad --rates ${o.rates}`);
  if (!(o.repeat >= 1 && o.repeat <= 5)) throw new Error('--repeat must be 1..5');
  if (!(o.secs >= 3 && o.secs <= 60)) throw new Error('--secs must be 3..60');
  if (o.rateList.length * o.repeat > 30) throw new Error('at most 30 runs per invocation');
}

/** Checks for SIPp, python3 and the peer scripts; builds unless told not to. */
export function prepare(o) {
  for (const [cmd, why] of [
    ['sipp', 'scripts/install-test-peers.sh'],
    ['/usr/bin/python3', 'apt-get install python3'],
  ]) {
    if (!have(cmd)) throw new Error(`${cmd} missing (${why})`);
  }
  if (!existsSync(path.join(PEERS, 'analyze_sipp.py')))
    throw new Error(`peer scripts not found in ${PEERS}`);
  if (o.build && !process.env.CALLWATCH_CLI) build();
  mkdirSync(SCRATCH, { recursive: true });
  const mach = machine({ sipp: true });
  console.log(
    `machine: ${mach.nproc} CPU (${mach.cpu}), kernel ${mach.kernel}, ${mach.memGb} GB; node ${mach.node}; ${mach.sipp}`,
  );
  return mach;
}

// ---------------------------------------------------------------- callwatch

/**
 * The sections every SIPp bench states itself. A bench never inherits config/default.yaml:
 * that file is the demo, and a demo edit (a new monitoring group, recording switched on)
 * must neither break a bench nor change what it measures behind its back. Keys not stated
 * here or by the bench take the config schema's defaults.
 */
export const OWN_SECTIONS = ['extensions', 'trunks', 'monitoring', 'recording'];

/**
 * The SIP warm-up budget (sip.warmup.budgetMs, docs/architecture.md §8.5): the one in
 * config/default.yaml, which is what a deployed server runs, unless CALLWATCH_SIP_WARMUP_MS
 * overrides it for an A/B run.
 */
export function warmupBudgetMs() {
  const env = process.env.CALLWATCH_SIP_WARMUP_MS;
  if (env !== undefined && env !== '') return Number(env);
  const doc = YAML.parse(readFileSync(path.join(REPO, 'config/default.yaml'), 'utf8'));
  return doc.sip.warmup.budgetMs;
}

/** The printed setup line for the warm-up. */
export function warmupFact() {
  const ms = warmupBudgetMs();
  const source = process.env.CALLWATCH_SIP_WARMUP_MS
    ? 'CALLWATCH_SIP_WARMUP_MS'
    : 'config/default.yaml';
  return `SIP warm-up: sip.warmup.budgetMs ${ms}${ms === 0 ? ' (off)' : ''} (from ${source})`;
}

/**
 * The whole config of one bench run: loopback ports, MD5 only (SIPp answers only an MD5
 * challenge offered first), no API tokens, the audit log and any recordings inside `run`,
 * plus the bench's own sections `own` (OWN_SECTIONS at least; recording.enabled a
 * boolean). Throws naming what is missing.
 */
export function benchConfig(run, ports, logLevel, own) {
  const missing = OWN_SECTIONS.filter((k) => own[k] === undefined);
  if (missing.length)
    throw new Error(`bench config: the bench must state ${missing.join(', ')} itself`);
  if (typeof own.recording.enabled !== 'boolean')
    throw new Error('bench config: recording.enabled must be stated (true or false)');
  return {
    sip: {
      listen: { address: '127.0.0.1', udpPort: ports.sip, tcpPort: ports.sip },
      // sip.io for an A/B run: CALLWATCH_SIP_IO=dgram|native (default: the schema's, native).
      ...(process.env.CALLWATCH_SIP_IO ? { io: process.env.CALLWATCH_SIP_IO } : {}),
      warmup: { budgetMs: warmupBudgetMs() },
    },
    http: { address: '127.0.0.1', port: ports.http },
    log: { level: logLevel },
    auth: { algorithms: ['MD5'] },
    api: { tokens: [] },
    audit: { file: path.join(run, 'audit', 'monitoring.jsonl') },
    ...own,
    recording: { directory: path.join(run, 'recordings'), ...own.recording },
  };
}

/**
 * Validates `cfg` with the server's own loader (dist/src/config/load.js) so a bad bench
 * config fails here, naming the key, before any process starts. Resolves the config with
 * the schema's defaults filled in.
 */
export async function validateConfig(cfg, source) {
  const entry = path.join(REPO, 'dist/src/config/load.js');
  if (!existsSync(entry)) throw new Error(`${entry} missing: run npm run build`);
  const { parseConfig } = await import(pathToFileURL(entry).href);
  try {
    return parseConfig(cfg, source);
  } catch (err) {
    throw new Error(`bench config rejected by the server's schema: ${err.message}`);
  }
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

/**
 * Which socket SIP over UDP ran on (sip.io: native | dgram), from the server's log: the
 * "listening" line names it (sipUdpIo); below info level that line is not written, so a
 * fallback warning, or its absence, tells.
 */
export function sipIoPath(log, config) {
  const named = /"msg":"listening"/.test(log) && /"sipUdpIo":"(\w+)"/.exec(log);
  if (named) return `${named[1]} (the server's "listening" log line)`;
  if (config.sip.io === 'dgram') return 'dgram (sip.io: dgram)';
  if (/native SIP socket unavailable/.test(log))
    return 'dgram (sip.io: native, but the addon did not load: see the log)';
  return 'native (sip.io: native and no fallback warning)';
}

/**
 * Starts callwatch (dist/src/cli.js, or $CALLWATCH_CLI) on benchConfig(…, own), written to
 * run/callwatch.yaml, with its log in run/callwatch.log; ready when /healthz answers 200
 * (or, with `listeningLog`, when it logs "listening"). Resolves { child, config, sipIo }
 * (config: as validated, defaults filled in; sipIo: sipIoPath, also printed).
 */
export async function startCallwatch(run, ports, logLevel, own, { listeningLog = false } = {}) {
  const cfgFile = path.join(run, 'callwatch.yaml');
  const cfg = benchConfig(run, ports, logLevel, own);
  writeFileSync(cfgFile, YAML.stringify(cfg));
  const config = await validateConfig(cfg, `bench config ${cfgFile}`);
  const cli = process.env.CALLWATCH_CLI
    ? path.resolve(REPO, process.env.CALLWATCH_CLI)
    : path.join(REPO, 'dist/src/cli.js');
  const out = openSync(path.join(run, 'callwatch.log'), 'w');
  // CALLWATCH_NODE_ARGS: extra node flags for the server only, e.g. "--cpu-prof
  // --cpu-prof-dir=/tmp/prof" (NODE_OPTIONS refuses --cpu-prof; the profile is written on
  // the server's clean exit, one file per thread).
  const nodeArgs = (process.env.CALLWATCH_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const child = track(
    spawn(process.execPath, [...nodeArgs, cli, '--config', cfgFile], {
      cwd: REPO,
      stdio: ['ignore', out, out],
    }),
  );
  closeSync(out);
  const deadline = Date.now() + 20000;
  while (Date.now() < deadline) {
    if (exited(child)) break;
    const logged =
      listeningLog &&
      /"msg":"listening"/.test(readFileSync(path.join(run, 'callwatch.log'), 'utf8'));
    if (logged || (await httpOk(ports.http))) {
      await sleep(500);
      const sipIo = sipIoPath(readFileSync(path.join(run, 'callwatch.log'), 'utf8'), config);
      console.log(`SIP UDP I/O: ${sipIo}`);
      return { child, config, sipIo };
    }
    await sleep(200);
  }
  await stop(child, 'SIGTERM', 3000);
  throw new Error(
    `callwatch did not start:\n${readFileSync(path.join(run, 'callwatch.log'), 'utf8').slice(-3000)}`,
  );
}

// ---------------------------------------------------------------- SIPp and the peers' tools

/** Runs SIPp bounded: -timeout inside, an outer kill after limitMs. Output in run/NAME.out. */
export async function runSipp(run, name, args, limitMs) {
  const outFd = openSync(path.join(run, `${name}.out`), 'w');
  const child = track(spawn('sipp', args, { cwd: run, stdio: ['ignore', outFd, outFd] }));
  closeSync(outFd);
  const done = waitExit(child, limitMs).then(async (finished) => {
    if (!finished) await stop(child, 'SIGUSR1', 5000);
    appendFileSync(
      path.join(run, `${name}.out`),
      `sipp exit code ${child.exitCode ?? child.signalCode}${finished ? '' : ' (killed: time limit)'}\n`,
    );
    return child.exitCode;
  });
  return { child, done };
}

/** Resolves true once something has bound UDP/TCP `port` (SIPp is up), false after `ms`. */
export async function waitUdpBound(port, ms) {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (!(await canBind(port))) return true;
    await sleep(100);
  }
  return false;
}

/**
 * Registers `user` once with digest auth from SIPp on local `port` (the B2BUA then sends
 * that extension's INVITEs to where the REGISTER came from: the UAS SIPp bound to `port`
 * afterwards). Throws when the REGISTER fails.
 */
export async function registerOnce(run, sipPort, { user, password, port }) {
  writeFileSync(
    path.join(run, 'reg_users.csv'),
    `SEQUENTIAL\n${user};[authentication username=${user} password=${password}]\n`,
  );
  const { done } = await runSipp(
    run,
    'register',
    [
      `127.0.0.1:${sipPort}`,
      '-sf',
      path.join(PEERS, 'sipp/reg_auth_uac.xml'),
      '-inf',
      'reg_users.csv',
      '-i',
      '127.0.0.1',
      '-p',
      String(port),
      '-cp',
      '18884',
      '-nostdin',
      '-m',
      '1',
      '-timeout',
      '10s',
      '-trace_err',
      '-error_file',
      'register_errors.log',
    ],
    20000,
  );
  const code = await done;
  if (code !== 0)
    throw new Error(`REGISTER of ${user} from port ${port} failed (sipp exit ${code}, ${run})`);
}

/** SIPp's statistics, screen, error (and with `rtt`, round-trip) files: PREFIXstat.csv, … */
export function sippTraceArgs(prefix, { rtt = false, rttFreq = 200 } = {}) {
  return [
    '-trace_stat',
    '-fd',
    '1',
    '-stf',
    `${prefix}stat.csv`,
    '-trace_screen',
    '-screen_file',
    `${prefix}screen.txt`,
    ...(rtt ? ['-trace_rtt', '-rtt_freq', String(rttFreq)] : []),
    '-trace_err',
    '-error_file',
    `${prefix}errors.log`,
    '-buff_size',
    '4194304',
  ];
}

/**
 * The config sections of a bench whose calls come in from a SIPp trunk: trunk "carrier" at
 * 127.0.0.1:`uacPort` (its source port too) with `did` → extension 1001 (password pw1001),
 * media on `media` (address 127.0.0.1 added), nobody to monitor, recording as given.
 */
export function trunkCallConfig({ uacPort, did, media, recording }) {
  return {
    media: { address: '127.0.0.1', ...media },
    trunks: [
      {
        name: 'carrier',
        host: '127.0.0.1',
        port: uacPort,
        transport: 'udp',
        sourcePort: uacPort,
        prefixes: [],
        dids: { [did]: '1001' },
      },
    ],
    extensions: [{ number: '1001', password: 'pw1001', displayName: 'Bench 1001', role: 'agent' }],
    monitoring: { enabled: false, groups: [] },
    recording: { enabled: recording, format: 'stereo' },
  };
}

/**
 * The peers' call layout through callwatch: a SIPp UAS (`uasScenario` in the peers' sipp/)
 * on `uasPort` (media port 17000, control 18883), then, once it is bound, a SIPp UAC
 * (`uacScenario`) from `uacPort` (media 16000, control 18882) calling `did` at callwatch's
 * `sipPort`: `calls` calls at `rate`/s, at most `limit` at once, each held `hold` ms,
 * round trips sampled every `rttFreq` calls. Both stop by themselves (-m, -timeout
 * `limitS`) and are killed 30 s after that. Resolves runSipp's { child, done } of each.
 */
export async function startSippCalls(run, o) {
  // o.portShift moves SIPp's media and control ports with its SIP ports (two benches side by side).
  const shift = o.portShift ?? 0;
  const common = ['-i', '127.0.0.1', '-nostdin', '-default_behaviors', 'all,-abortunexp'];
  const bounds = ['-m', String(o.calls), '-timeout', `${o.limitS}s`];
  const uas = await runSipp(
    run,
    'uas',
    [
      ...['-sf', path.join(PEERS, 'sipp', o.uasScenario), ...common],
      ...['-p', String(o.uasPort), '-mp', String(17000 + shift), '-cp', String(18883 + shift)],
      ...bounds,
      ...sippTraceArgs('uas_'),
    ],
    (o.limitS + 30) * 1000,
  );
  if (!(await waitUdpBound(o.uasPort, 10000))) throw new Error('SIPp UAS did not bind');
  const uac = await runSipp(
    run,
    'uac',
    [
      `127.0.0.1:${o.sipPort}`,
      ...['-sf', path.join(PEERS, 'sipp', o.uacScenario), '-s', o.did, ...common],
      ...['-p', String(o.uacPort), '-mp', String(16000 + shift), '-cp', String(18882 + shift)],
      ...['-r', String(o.rate), '-rp', '1000', '-l', String(o.limit), '-d', String(o.hold)],
      ...bounds,
      ...sippTraceArgs('', { rtt: true, rttFreq: o.rttFreq ?? 200 }),
    ],
    (o.limitS + 30) * 1000,
  );
  return { uas, uac };
}

/** cpumon.py sampling the process trees `trees` ({name: pid}) into run/cpu.csv. */
export function startCpumon(run, trees) {
  return track(
    spawn(
      '/usr/bin/python3',
      [
        path.join(PEERS, 'cpumon.py'),
        path.join(run, 'cpu.csv'),
        ...Object.entries(trees).map(([name, pid]) => `${name}=tree:${pid}`),
      ],
      { stdio: 'ignore' },
    ),
  );
}

/** Renames SIPp's rtt file (matching `re`) to rtt.csv, then runs analyze_sipp.py on run. */
export function analyze(run, rttFile, args) {
  const rtt = readdirSync(run).find((f) => rttFile.test(f));
  if (rtt) renameSync(path.join(run, rtt), path.join(run, 'rtt.csv'));
  const a = sh('/usr/bin/python3', [path.join(PEERS, 'analyze_sipp.py'), run, ...args]);
  return `${a.stdout}${a.stderr}`;
}

/** Runs a ../shared/peers script bounded by limitMs; resolves its stdout + stderr. */
export async function runPeerScript(script, args, limitMs) {
  const child = track(
    spawn(path.join(PEERS, script), args, { cwd: PEERS, stdio: ['ignore', 'pipe', 'pipe'] }),
  );
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  if (!(await waitExit(child, limitMs))) await stop(child, 'SIGTERM', 15000);
  return out;
}

// ---------------------------------------------------------------- series and results

/** µs of `key`'s CPU per achieved call or registration. */
export const usPer = (s, key) =>
  s.cpu[key] !== undefined && s.achieved > 0 ? ((s.cpu[key] / 100) * 1e6) / s.achieved : NaN;

/**
 * Runs o.repeat runs per rate of o.rateList, ascending, until most runs at a rate FAIL or
 * o.maxMinutes have passed; `runOne(rate, i)` resolves { run, s, serverExit, … } and
 * `line(r)` is what is printed after "callwatch rate=R run=I | "; the time limit counts
 * from `t0` (default: now).
 */
export async function rateSeries(o, runOne, line, t0 = Date.now()) {
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
      const r = await runOne(rate, i);
      rows.push({ rate, i, ...r });
      console.log(`callwatch rate=${rate} run=${i} | ${line(r)}`);
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
  if (!stoppedEarly && best === o.rateList[o.rateList.length - 1])
    stoppedEarly = 'every rate tried passed: the limit is higher';
  return { rows, best, stoppedEarly };
}

/**
 * The first lines of a RESULTS.md block (and the file's title if it is new); `facts` are
 * list items after the command (recording, media I/O path).
 */
export function resultsHead(o, title, mach, command, facts = []) {
  const lines = [];
  if (!existsSync(o.results))
    lines.push('# Benchmark results', '', 'Appended by the scripts in bench/. Newest last.', '');
  lines.push(
    `## ${title} — ${new Date().toISOString()}`,
    '',
    `- machine: ${mach.nproc} CPU (${mach.cpu}), kernel ${mach.kernel}, ${mach.memGb} GB RAM; node ${mach.node}; ${mach.sipp}; load average at start ${mach.load}, at end ${loadavg()}`,
    `- command: \`${command}\`${process.env.CALLWATCH_CLI ? ` (CALLWATCH_CLI=${process.env.CALLWATCH_CLI})` : ''}`,
    ...facts.map((f) => `- ${f}`),
  );
  return lines;
}

/** Appends `lines` to `file`, after a blank line when the file does not end with one. */
export function appendLines(file, lines) {
  const end = existsSync(file) ? readFileSync(file, 'utf8').slice(-2) : '\n\n';
  const sep = end === '\n\n' || end === '' ? '' : end.endsWith('\n') ? '\n' : '\n\n';
  appendFileSync(file, `${sep}${lines.join('\n')}\n`);
  console.log(`appended to ${file}`);
}

/** Runs main; on an error prints its message, stops what was started, exits 1. */
export function runSippMain(main) {
  main().catch(async (err) => {
    console.error(err instanceof Error ? err.message : err);
    await Promise.all([...started].map((c) => stop(c, 'SIGTERM', 3000)));
    process.exit(1);
  });
}
