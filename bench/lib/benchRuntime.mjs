/**
 * Plumbing shared by the SIPp-driven benchmarks (register, cps): child processes
 * started here are tracked and stopped by PID (also on exit and on SIGINT/SIGTERM,
 * installed when this module loads), free loopback ports, machine facts, and the
 * summary printed by ../shared/peers/analyze_sipp.py.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import dgram from 'node:dgram';
import net from 'node:net';
import os from 'node:os';
import { clearTimeout, setTimeout } from 'node:timers';

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

process.once('exit', () => {
  for (const c of started) if (!exited(c)) c.kill('SIGKILL');
});
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.once(sig, async () => {
    console.error(`\n${sig}: stopping everything started here`);
    await Promise.all([...started].map((c) => stop(c, 'SIGTERM', 3000)));
    process.exit(130);
  });
}

export function udpStats(file) {
  const snmp = readFileSync('/proc/net/snmp', 'utf8')
    .split('\n')
    .filter((l) => l.startsWith('Udp:'))
    .join('\n');
  const ss = sh('ss', ['-Huamnp']);
  writeFileSync(file, `${snmp}\n${ss.stdout}${ss.stderr}`);
}

export function machine() {
  const cpu =
    /model name\s*:\s*(.*)/.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ??
    os.cpus()[0]?.model ??
    '?';
  return {
    nproc: sh('nproc', []).stdout.trim() || String(os.cpus().length),
    cpu: cpu.trim(),
    kernel: os.release(),
    node: process.version,
    sipp: (sh('sipp', ['-v']).stdout.match(/SIPp v[\w.-]+/) ?? ['sipp ?'])[0],
    memGb: (os.totalmem() / 2 ** 30).toFixed(0),
  };
}

// ---------------------------------------------------------------- analysis output

/** Parses analyze_sipp.py's summary (see ../shared/peers/analyze_sipp.py). */

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
