#!/usr/bin/env node
/**
 * The benchmarks' smoke run (npm run bench:smoke, and CI after the tests): every bench in
 * bench/ with --smoke, i.e. a few seconds at a low load with its peers off, to show that
 * each one still starts and measures something. The numbers mean nothing and nothing is
 * appended to bench/RESULTS.md (checked: the file must be unchanged afterwards).
 *
 *   node bench/smoke.mjs [--only "cps relay"] [--no-build] [--keep]
 *
 *   --only NAMES   run only these benches (register, cps, relay, relay-sipp, mixer, recording,
 *                  webrtc, webrtc-supervisors, cluster)
 *   --no-build     do not run `npm run build` first
 *   --keep         keep the benches' raw files (a temporary SCRATCH directory) on success;
 *                  they are always kept when a bench fails
 *
 * A bench fails the smoke when it exits non-zero, runs out of its time, prints no
 * `bench-result` line (bench/lib/benchRuntime.mjs emitResult), reports produced: false
 * (nothing measured, e.g. no call completed), or leaves a process behind. Each bench runs
 * in its own process group, so on a time-out or an early exit everything it started
 * (server, SIPp, generator, cpumon) is stopped with it: SIGTERM to the group, SIGKILL
 * after a grace. The whole smoke is bounded (BUDGET_S, build included). Exit code: 0 when
 * every bench passed, 1 otherwise, with one line per failure saying why.
 */
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { clearTimeout, setTimeout } from 'node:timers';
import { fileURLToPath } from 'node:url';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const RESULTS = path.join(REPO, 'bench/RESULTS.md');
const BUDGET_S = 300; // the whole smoke, build included (about 130-180 s on 2 busy cores)
const GRACE_MS = 8000; // SIGTERM to SIGKILL

/** Each bench and the most it may take in --smoke (typically a third of that). */
const BENCHES = [
  { name: 'register', script: 'register.bench.mjs', limitS: 45 },
  { name: 'cps', script: 'cps.bench.mjs', limitS: 75 },
  { name: 'relay', script: 'relay.bench.mjs', limitS: 40 },
  { name: 'relay-sipp', script: 'relaySipp.bench.mjs', limitS: 45 },
  { name: 'mixer', script: 'mixer.bench.mjs', limitS: 60 },
  { name: 'recording', script: 'recording.bench.mjs', limitS: 40 },
  { name: 'webrtc', script: 'webrtc.bench.mjs', limitS: 30 },
  { name: 'webrtc-supervisors', script: 'webrtc-supervisors.bench.mjs', limitS: 60 },
  { name: 'cluster', script: 'cluster.bench.mjs', limitS: 75 },
];

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function parseArgs(argv) {
  const o = { only: null, build: true, keep: false };
  for (let i = 0; i < argv.length; i += 1) {
    const a = argv[i];
    if (a === '--only') o.only = (argv[++i] ?? '').split(/[\s,]+/).filter(Boolean);
    else if (a === '--no-build') o.build = false;
    else if (a === '--keep') o.keep = true;
    else if (a === '-h' || a === '--help') {
      console.log(readFileSync(fileURLToPath(import.meta.url), 'utf8').split('*/')[0]);
      process.exit(0);
    } else throw new Error(`unknown option ${a} (see --help)`);
  }
  const names = BENCHES.map((b) => b.name);
  for (const n of o.only ?? [])
    if (!names.includes(n)) throw new Error(`--only: ${n} is not one of ${names.join(', ')}`);
  return o;
}

const digest = (file) =>
  existsSync(file) ? createHash('sha256').update(readFileSync(file)).digest('hex') : 'absent';

/** Whether any process of group `pgid` is still alive. */
function groupAlive(pgid) {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

function groupMembers(pgid) {
  const ps = spawnSync('ps', ['-o', 'pid=,args=', '-g', String(pgid)], { encoding: 'utf8' });
  return (ps.stdout ?? '').trim();
}

function signalGroup(pgid, sig) {
  try {
    process.kill(-pgid, sig);
  } catch {
    // the group is gone
  }
}

/** SIGTERM to the whole group, then SIGKILL after GRACE_MS: only the group started here. */
async function stopGroup(pgid) {
  signalGroup(pgid, 'SIGTERM');
  const deadline = Date.now() + GRACE_MS;
  while (groupAlive(pgid) && Date.now() < deadline) await sleep(100);
  if (groupAlive(pgid)) signalGroup(pgid, 'SIGKILL');
  for (let i = 0; i < 50 && groupAlive(pgid); i += 1) await sleep(100);
}

let current = null; // the running bench's process group, stopped on our own SIGINT/SIGTERM

/** Runs one bench in its own process group, bounded by limitS; resolves its verdict. */
async function runBench(bench, limitS, scratch) {
  const t0 = Date.now();
  const child = spawn(
    process.execPath,
    [path.join(REPO, 'bench', bench.script), '--smoke', '--no-build'],
    {
      cwd: REPO,
      env: { ...process.env, SCRATCH: scratch },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true, // its own process group: everything it starts can be stopped with it
    },
  );
  current = child.pid;
  const tail = [];
  let result = null;
  const onLine = (line) => {
    console.log(`[${bench.name}] ${line}`);
    tail.push(line);
    if (tail.length > 12) tail.shift();
    if (line.startsWith('bench-result ')) {
      try {
        result = JSON.parse(line.slice('bench-result '.length));
      } catch {
        result = { produced: false, problems: ['unreadable bench-result line'] };
      }
    }
  };
  createInterface({ input: child.stdout }).on('line', onLine);
  createInterface({ input: child.stderr }).on('line', onLine);
  const exit = new Promise((resolve) => child.once('exit', (code, sig) => resolve(code ?? sig)));
  let timer;
  const limit = new Promise((resolve) => {
    timer = setTimeout(() => resolve('timeout'), limitS * 1000);
  });
  let code = await Promise.race([exit, limit]);
  clearTimeout(timer);
  const problems = [];
  const timedOut = code === 'timeout';
  if (timedOut) {
    problems.push(`still running after its limit of ${limitS} s: stopped`);
    await stopGroup(child.pid);
    code = await Promise.race([exit, sleep(5000).then(() => 'unknown')]);
  } else if (groupAlive(child.pid)) {
    await sleep(1000); // the last children may still be on their way out
    if (groupAlive(child.pid)) {
      problems.push(`left processes behind (stopped now):\n${groupMembers(child.pid)}`);
      await stopGroup(child.pid);
    }
  }
  current = null;
  if (code !== 0 && !timedOut) problems.push(`exited with ${code}`);
  if (!result) problems.push('printed no bench-result line (no result)');
  else if (!result.produced)
    problems.push(`measured nothing: ${(result.problems ?? []).join('; ') || 'produced: false'}`);
  const secs = (Date.now() - t0) / 1000;
  return { bench, secs, result, problems, tail };
}

async function main() {
  const o = parseArgs(process.argv.slice(2));
  const t0 = Date.now();
  const left = () => BUDGET_S - (Date.now() - t0) / 1000;
  if (o.build) {
    console.log('npm run build');
    const b = spawnSync('npm', ['run', 'build'], {
      cwd: REPO,
      stdio: 'inherit',
      timeout: 120000,
    });
    if (b.status !== 0) throw new Error(`npm run build failed (${b.status ?? b.signal})`);
  }
  const before = digest(RESULTS);
  const scratch = mkdtempSync(path.join(os.tmpdir(), 'callwatch-bench-smoke-'));
  const outcomes = [];
  for (const bench of BENCHES.filter((b) => !o.only || o.only.includes(b.name))) {
    const limitS = Math.floor(Math.min(bench.limitS, left()));
    if (limitS < 5) {
      outcomes.push({ bench, secs: 0, problems: [`not run: the smoke's ${BUDGET_S} s are up`] });
      continue;
    }
    console.log(`\n== ${bench.name}: node bench/${bench.script} --smoke (limit ${limitS} s)`);
    outcomes.push(await runBench(bench, limitS, scratch));
  }
  const failed = outcomes.filter((x) => x.problems.length);
  const after = digest(RESULTS);
  const general = [];
  if (after !== before) general.push('bench/RESULTS.md changed: a smoke run must not append');
  const total = (Date.now() - t0) / 1000;

  console.log('\nbench smoke summary');
  for (const x of outcomes) {
    const r = x.result;
    const what = r
      ? `recording ${JSON.stringify(r.recording)}; media I/O ${r.mediaIo?.split(' (')[0] ?? '?'}`
      : '';
    console.log(
      `  ${x.problems.length ? 'FAIL' : 'ok  '} ${x.bench.name.padEnd(9)} ${x.secs.toFixed(1).padStart(5)} s  ${what}`,
    );
  }
  console.log(`  total ${total.toFixed(1)} s (budget ${BUDGET_S} s, build included)`);
  if (failed.length || general.length) {
    for (const x of failed) {
      console.error(`\nbench smoke FAILED: ${x.bench.name} (node bench/${x.bench.script} --smoke)`);
      for (const p of x.problems) console.error(`  - ${p}`);
      if (x.tail?.length) console.error(`  last output:\n    ${x.tail.join('\n    ')}`);
    }
    for (const g of general) console.error(`\nbench smoke FAILED: ${g}`);
    console.error(`\nraw files kept in ${scratch}`);
    process.exitCode = 1;
    return;
  }
  if (o.keep) console.log(`raw files kept in ${scratch}`);
  else rmSync(scratch, { recursive: true, force: true });
  console.log('bench smoke passed: every bench started and produced a result');
}

for (const sig of ['SIGINT', 'SIGTERM']) {
  process.once(sig, async () => {
    console.error(`\n${sig}: stopping the running bench`);
    if (current) await stopGroup(current);
    process.exit(130);
  });
}

main().catch(async (err) => {
  console.error(`bench smoke FAILED: ${err instanceof Error ? err.message : err}`);
  if (current) await stopGroup(current);
  process.exit(1);
});
