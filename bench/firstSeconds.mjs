#!/usr/bin/env node
/**
 * Per-second response times of register.bench.mjs and cps.bench.mjs runs: for each run
 * directory, SIPp's rtt.csv (rtd 3 of the REGISTER bench = the whole registration,
 * challenge included; rtd 1 of the cps bench = INVITE to 200) grouped by the second the
 * exchange ended in, p50 / p99 per second, plus the server's start time and SIP warm-up
 * from its "listening" log line (written at log level info and below).
 *
 *   node bench/firstSeconds.mjs [--seconds N] [--rtd N] RUN_DIR...
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { percentile, rttSamples } from './lib/sippRtt.mjs';

/** [{ second, n, p50, p99 }] for the first `seconds` seconds of a run. */
export function perSecond(rttCsv, seconds, rtdNumber = '3') {
  const bySecond = Array.from({ length: seconds }, () => []);
  for (const { atMs, ms } of rttSamples(rttCsv, rtdNumber)) {
    const s = Math.floor(atMs / 1000);
    if (s >= 0 && s < seconds) bySecond[s].push(ms);
  }
  return bySecond.map((v, second) => {
    v.sort((a, b) => a - b);
    return { second, n: v.length, p50: percentile(v, 50), p99: percentile(v, 99) };
  });
}

/** Start time (first log line, the media engine's, to "listening") and warm-up fields of the server's log. */
export function startOf(log) {
  const lines = log.split('\n').filter((l) => l.startsWith('{'));
  const first = lines.length > 0 ? Date.parse(JSON.parse(lines[0]).time) : undefined;
  const listening = lines.map((l) => JSON.parse(l)).find((l) => l.msg === 'listening');
  return {
    startMs: listening && first !== undefined ? Date.parse(listening.time) - first : undefined,
    warmup: listening?.warmup,
  };
}

const args = process.argv.slice(2);
let seconds = 3;
let rtd = '3';
while (args[0] === '--seconds' || args[0] === '--rtd') {
  if (args[0] === '--seconds') seconds = Number(args[1]);
  else rtd = args[1];
  args.splice(0, 2);
}
for (const dir of args) {
  const rtt = path.join(dir, 'rtt.csv');
  if (!existsSync(rtt)) {
    console.log(`${dir}: no rtt.csv`);
    continue;
  }
  const rows = perSecond(readFileSync(rtt, 'utf8'), seconds, rtd);
  const start = startOf(readFileSync(path.join(dir, 'callwatch.log'), 'utf8'));
  const cells = rows.map((r) => `s${r.second}: n ${r.n} p50 ${r.p50} p99 ${r.p99}`).join(' | ');
  const warm = start.warmup
    ? `warm-up ${start.warmup.rounds} rounds ${start.warmup.ms} ms`
    : 'no warm-up';
  console.log(
    `${path.basename(dir)} | engine→listening ${start.startMs ?? '?'} ms, ${warm} | ${cells}`,
  );
}
