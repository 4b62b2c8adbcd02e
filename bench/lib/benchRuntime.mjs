/**
 * Plumbing shared by the benchmarks in bench/: child processes started here are tracked
 * and stopped by PID, temporary directories made here are removed (both also on exit and
 * on SIGINT/SIGTERM, installed when this module loads), option parsing, the build step,
 * free loopback ports, machine facts, and the summary printed by
 * ../shared/peers/analyze_sipp.py.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import dgram from 'node:dgram';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { clearTimeout, setTimeout } from 'node:timers';
import { fileURLToPath } from 'node:url';

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const PEERS = path.resolve(REPO, '../shared/peers');
export const SCRATCH = process.env.SCRATCH ?? '/tmp/peers';

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
export const stamp = () =>
  new Date().toISOString().replace(/[-:]/g, '').replace(/\..*/, '').replace('T', '-');
export const started = new Set(); // child processes started here, stopped by PID on exit

export function sh(cmd, args, opts = {}) {
  return spawnSync(cmd, args, { encoding: 'utf8', ...opts });
}

export function have(cmd) {
  return sh('sh', ['-c', `command -v ${cmd}`]).status === 0;
}

export function canBind(port) {
  return new Promise((resolve) => {
    const u = dgram.createSocket('udp4');
    u.once('error', () => resolve(false));
    u.bind(port, '127.0.0.1', () => {
      const t = net.createServer();
      t.once('error', () => u.close(() => resolve(false)));
      t.listen(port, '127.0.0.1', () => t.close(() => u.close(() => resolve(true))));
    });
  });
}

export const taken = new Set();
export async function freePort(from) {
  for (let p = from; p < from + 500; p += 1) {
    if (!taken.has(p) && (await canBind(p))) {
      taken.add(p);
      return p;
    }
  }
  throw new Error(`no free port in ${from}-${from + 500}`);
}

export function exited(child) {
  return child.exitCode !== null || child.signalCode !== null;
}

export function waitExit(child, ms) {
  if (exited(child)) return Promise.resolve(true);
  return new Promise((resolve) => {
    const t = setTimeout(() => resolve(false), ms);
    child.once('exit', () => {
      clearTimeout(t);
      resolve(true);
    });
  });
}

/** SIGNAL, wait, then SIGKILL: that PID only. Returns the exit code (null if killed). */
export async function stop(child, signal = 'SIGTERM', graceMs = 10000) {
  if (!exited(child)) {
    child.kill(signal);
    if (!(await waitExit(child, graceMs))) {
      child.kill('SIGKILL');
      await waitExit(child, 5000);
      return { code: null, killed: true };
    }
  }
  return { code: child.exitCode, killed: false };
}

export function track(child) {
  started.add(child);
  child.once('exit', () => started.delete(child));
  return child;
}

const tmpDirs = new Set(); // temporary directories made here, removed on exit

/** A fresh directory under the OS temp dir, removed by removeTmpDir or on exit. */
export function makeTmpDir(prefix) {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  tmpDirs.add(dir);
  return dir;
}

export function removeTmpDir(dir) {
  rmSync(dir, { recursive: true, force: true });
  tmpDirs.delete(dir);
}

export function cleanupTmp() {
  for (const d of tmpDirs) rmSync(d, { recursive: true, force: true });
  tmpDirs.clear();
}

process.once('exit', () => {
  for (const c of started) if (!exited(c)) c.kill('SIGKILL');
  cleanupTmp();
});
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.once(sig, async () => {
    console.error(`\n${sig}: stopping everything started here`);
    await Promise.all([...started].map((c) => stop(c, 'SIGTERM', 3000)));
    cleanupTmp();
    process.exit(130);
  });
}

/** The next IPC message of `type` from a forked generator, or an error after `ms`. */
export function nextMessage(child, type, ms) {
  return new Promise((resolve, reject) => {
    const onMsg = (m) => {
      if (m?.type === 'error') finish(new Error(`generator: ${m.message}`));
      else if (m?.type === type) finish(null, m);
    };
    const onExit = (code, sig) => finish(new Error(`generator exited (${code ?? sig})`));
    const t = setTimeout(
      () => finish(new Error(`no '${type}' from the generator in ${ms} ms`)),
      ms,
    );
    function finish(err, m) {
      clearTimeout(t);
      child.off('message', onMsg);
      child.off('exit', onExit);
      if (err) reject(err);
      else resolve(m);
    }
    child.on('message', onMsg);
    child.once('exit', onExit);
  });
}

// ---------------------------------------------------------------- options

/**
 * Parses argv into `o` (which holds the defaults). `flags` maps a flag to what it does:
 * 'key' sets o.key to the next argument, ['key', fn] to fn(next argument), an object is
 * assigned to o (a switch). -h/--help prints the header comment of `scriptUrl` and exits.
 */
export function parseFlags(argv, o, flags, scriptUrl, unknownWord = 'option') {
  for (let i = 0; i < argv.length; i += 1) {
    const a = argv[i];
    const next = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    const f = Object.hasOwn(flags, a) ? flags[a] : undefined;
    if (typeof f === 'string') o[f] = next();
    else if (Array.isArray(f)) o[f[0]] = f[1](next());
    else if (f) Object.assign(o, f);
    else if (a === '-h' || a === '--help') {
      console.log(readFileSync(fileURLToPath(scriptUrl), 'utf8').split('*/')[0]);
      process.exit(0);
    } else throw new Error(`unknown ${unknownWord} ${a} (see --help)`);
  }
  return o;
}

/** The flags every bench takes. */
export const commonFlags = {
  '--no-build': { build: false },
  '--results': ['results', (v) => path.resolve(v)],
  '--max-minutes': ['maxMinutes', Number],
  '--smoke': { smoke: true },
};

/**
 * --smoke (npm run bench:smoke, bench/smoke.mjs): a few seconds at a low load to show the
 * bench still starts and measures something. It overrides the load options with
 * `settings`, runs no peer and writes no results (its numbers mean nothing), so an
 * explicit --results is an error rather than silently dropped.
 */
export function applySmoke(argv, o, settings) {
  if (!o.smoke) return o;
  if (argv.includes('--results')) throw new Error('--smoke writes no results: drop --results');
  return Object.assign(o, settings, { results: null });
}

/**
 * The line bench/smoke.mjs reads: `bench-result {json}` with at least bench (the script's
 * name) and produced (true when the run measured something real: calls answered,
 * packets relayed, ticks mixed).
 */
export function emitResult(result) {
  console.log(`bench-result ${JSON.stringify(result)}`);
}

/**
 * Which packet I/O path the media engine ran (media.io: native | dgram). The engine's
 * worker reports are asked first (each names its io in `io`: 'native' for the addon in
 * native/, 'dgram' for node:dgram, which is also what runs when the addon did not load);
 * without reports, CALLWATCH_MEDIA_IO (bench/lib/mediaBench.mjs's A/B switch) and the
 * build are looked at: the addon built means the default (native) runs, else dgram is
 * the only path there is.
 */
export function mediaIoPath(reports = []) {
  const named = [...new Set(reports.map((r) => r?.io ?? r?.worker?.io).filter(Boolean))];
  if (named.length) return `${named.join(' + ')} (reported by the media workers)`;
  if (process.env.CALLWATCH_MEDIA_IO === 'dgram')
    return 'dgram (CALLWATCH_MEDIA_IO=dgram; not reported by the workers)';
  if (!existsSync(path.join(REPO, 'build/Release/callwatch_native.node')))
    return 'dgram (node:dgram sockets in the media workers; the native addon is not built)';
  return 'native unless media.io says dgram (the addon is built; not reported by the workers)';
}

/**
 * How the native packet io batches on this machine (docs/architecture.md §3.2.1): a
 * probe io in this process, one datagram to itself. Null when the addon is not built
 * or the media io is dgram; the media workers decide for themselves the same way.
 */
export async function nativeIoBatching() {
  if (process.env.CALLWATCH_MEDIA_IO === 'dgram') return null;
  if (!existsSync(path.join(REPO, 'build/Release/callwatch_native.node'))) return null;
  const { NativePacketIo } = await import(path.join(REPO, 'dist/media/io/nativePacketIo.js'));
  const io = new NativePacketIo();
  try {
    let pair;
    for (let i = 0; i < 5 && pair === undefined; i++) {
      const port = 40000 + 2 * Math.floor(Math.random() * 4000);
      pair = await io.bindPair('127.0.0.1', port).catch(() => undefined);
    }
    if (pair === undefined) return 'unknown (no probe port)';
    pair.send(0, Buffer.alloc(1), 0, 1, pair.port, '127.0.0.1');
    await Promise.resolve(); // the staged send goes out
    const sends =
      process.env.CALLWATCH_SEND_BATCH === '0'
        ? 'one sendto each (CALLWATCH_SEND_BATCH=0)'
        : io.sendsUseRing()
          ? 'staged, one io_uring submission per callback'
          : 'staged, one sendto each';
    const receives = io.recvUsesRing()
      ? 'io_uring when 2+ sockets are ready'
      : 'one recvmmsg per ready socket';
    return `sends ${sends}; receives ${receives}`;
  } finally {
    await io.close();
  }
}

/** "100 200, 300" → [100, 200, 300] (numbers, unchecked). */
export const numList = (s) =>
  s
    .split(/[\s,]+/)
    .filter(Boolean)
    .map(Number);

/** A list of positive integers, or an error naming the flag. */
export function intList(s, name) {
  const list = numList(s);
  if (!list.length || list.some((n) => !Number.isInteger(n) || n < 1))
    throw new Error(`${name}: positive integers expected`);
  return list;
}

/** This invocation, as typed (arguments with blanks or quotes quoted). */
export function commandLine(script) {
  const quoted = process.argv.slice(2).map((a) => (/[\s"']/.test(a) ? `"${a}"` : a));
  return `node bench/${script} ${quoted.join(' ')}`.trim();
}

export function build() {
  console.log('npm run build');
  execFileSync('npm', ['run', 'build'], { cwd: REPO, stdio: 'inherit' });
}

export function udpStats(file) {
  const snmp = readFileSync('/proc/net/snmp', 'utf8')
    .split('\n')
    .filter((l) => l.startsWith('Udp:'))
    .join('\n');
  const ss = sh('ss', ['-Huamnp']);
  writeFileSync(file, `${snmp}\n${ss.stdout}${ss.stderr}`);
}

export const loadavg = () =>
  os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');

/** "SIPp v3.6.1-SCTP-PCAP-RTPSTREAM" (without the sentence's full stop), or "sipp ?". */
function sippVersion() {
  const m = /SIPp v[\w.-]*[\w-]/.exec(sh('sipp', ['-v']).stdout ?? '');
  return m ? m[0] : 'sipp ?';
}

/** Machine facts for the results; `sipp`: also SIPp's version. */
export function machine({ sipp = false } = {}) {
  const cpu =
    /model name\s*:\s*(.*)/.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ??
    os.cpus()[0]?.model ??
    '?';
  return {
    nproc: sh('nproc', []).stdout?.trim() || String(os.availableParallelism()),
    cpu: cpu.trim(),
    kernel: os.release(),
    node: process.version,
    ...(sipp ? { sipp: sippVersion() } : {}),
    memGb: (os.totalmem() / 2 ** 30).toFixed(0),
    load: loadavg(),
  };
}

/** x with `digits` decimals, '?' when missing or NaN. */
export const fixed = (x, digits) =>
  x === null || x === undefined || Number.isNaN(x) ? '?' : x.toFixed(digits);
export const f1 = (x) => fixed(x, 1);
export const f2 = (x) => fixed(x, 2);
export const f3 = (x) => fixed(x, 3);

// ---------------------------------------------------------------- analysis output

/** Parses analyze_sipp.py's summary (see ../shared/peers/analyze_sipp.py). */
export function parseSummary(text) {
  const calls =
    /^calls ok=(\d+) failed=(\d+) \(([\d.na]+)%\) retrans=(\d+).*achieved=(\d+)\/s target=(\d+)\/s(?: peak_concurrent=(\d+))?/m.exec(
      text,
    );
  const timers = {};
  for (const m of text.matchAll(
    /^rtd(\d): n=\d+ p50=(\d+)ms p90=(\d+)ms p99=(\d+)ms max=(\d+)ms/gm,
  )) {
    timers[m[1]] = { p50: +m[2], p90: +m[3], p99: +m[4], max: +m[5] };
  }
  const verdict = /^verdict: (PASS|FAIL) clean=(yes|no) retrans_pct=([\d.]+)/m.exec(text);
  const cpu = {};
  const cpuLine = /^cpu % of one core[^:]*: (.*)$/m.exec(text);
  for (const kv of (cpuLine?.[1] ?? '').split(/\s+/)) {
    const [k, v] = kv.split('=');
    if (k && v !== undefined) cpu[k] = Number(v);
  }
  const uas = /^UAS successful\/failed\/retrans: (\d+) (\d+) (\d+)/m.exec(text);
  return {
    ok: calls ? +calls[1] : 0,
    failed: calls ? +calls[2] : 0,
    failPct: calls ? calls[3] : 'nan',
    retrans: calls ? +calls[4] : 0,
    achieved: calls ? +calls[5] : 0,
    target: calls ? +calls[6] : 0,
    peak: calls?.[7] !== undefined ? +calls[7] : 0,
    timers,
    pass: verdict?.[1] === 'PASS',
    clean: verdict?.[2] === 'yes',
    retransPct: verdict ? verdict[3] : '?',
    cpu,
    uas: uas ? { ok: +uas[1], failed: +uas[2], retrans: +uas[3] } : null,
    udpLine: /^udp RcvbufErrors.*$/m.exec(text)?.[0] ?? '',
  };
}
