#!/usr/bin/env node
/**
 * Does a warm-up on throwaway instances warm the instances created after it? One fresh
 * process per sample: optionally `--warm N` rounds of src/warmup/sipWarmup.ts, then
 * "real" traffic: fresh instances (a new digest authenticator, transaction layer,
 * registrar and location) driven through the same rounds, measured in batches of
 * `--batch` rounds: CPU (process.cpuUsage, all threads: the JIT's compiler threads too)
 * and wall time per batch. CPU is the figure to read on a shared machine.
 *
 *   node bench/warmupCurve.mjs --child [--warm N] [--batches B] [--batch R]   one sample
 *   node bench/warmupCurve.mjs [--samples S] [--warm N] ...                    A/B, interleaved
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const argv = process.argv.slice(2);
const arg = (name, def) => {
  const i = argv.indexOf(name);
  return i >= 0 ? Number(argv[i + 1]) : def;
};
const warm = arg('--warm', 0);
const batches = arg('--batches', 10);
const batch = arg('--batch', 100);

if (argv.includes('--child')) {
  const { warmSipPaths, sipWarmupOptions } = await import(
    pathToFileURL(path.join(REPO, 'dist/src/warmup/sipWarmup.js')).href
  );
  const { REQUEST_CHECKS } = await import(
    pathToFileURL(path.join(REPO, 'dist/src/server.js')).href
  );
  const { loadConfig } = await import(
    pathToFileURL(path.join(REPO, 'dist/src/config/load.js')).href
  );
  // The default config's warm-up, unbounded in time: the rounds are counted here.
  const config = await loadConfig(path.join(REPO, 'config/default.yaml'));
  const base = { ...sipWarmupOptions(config, REQUEST_CHECKS, '127.0.0.1'), budgetMs: 60_000 };
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  if (warm > 0) warmSipPaths({ ...base, maxRounds: warm });
  const warmCpu = cpuMs(process.cpuUsage(cpu0));
  const warmWall = performance.now() - t0;
  const rows = [];
  for (let b = 0; b < batches; b++) {
    const c = process.cpuUsage();
    const t = performance.now();
    // New instances each batch: the "real" server's, never seen by the warm-up.
    warmSipPaths({ ...base, maxRounds: batch });
    rows.push({ cpuMs: cpuMs(process.cpuUsage(c)), wallMs: performance.now() - t });
  }
  process.stdout.write(JSON.stringify({ warm, warmCpu, warmWall, rows }) + '\n');
  process.exit(0);
}

function cpuMs(u) {
  return (u.user + u.system) / 1000;
}

const samples = arg('--samples', 5);
const results = { 0: [], [warm]: [] };
for (let s = 0; s < samples; s++) {
  for (const w of [0, warm]) {
    const r = spawnSync(
      process.execPath,
      [
        fileURLToPath(import.meta.url),
        '--child',
        '--warm',
        String(w),
        '--batches',
        String(batches),
        '--batch',
        String(batch),
      ],
      { encoding: 'utf8' },
    );
    if (r.status !== 0) throw new Error(r.stderr);
    results[w].push(JSON.parse(r.stdout));
  }
}
const median = (v) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)];
for (const w of [0, warm]) {
  const runs = results[w];
  const cells = Array.from(
    { length: batches },
    (_, b) =>
      `${median(runs.map((r) => r.rows[b].cpuMs)).toFixed(0)}/${median(runs.map((r) => r.rows[b].wallMs)).toFixed(0)}`,
  );
  const warmCost = `${median(runs.map((r) => r.warmCpu)).toFixed(0)}/${median(runs.map((r) => r.warmWall)).toFixed(0)}`;
  const total = median(runs.map((r) => r.rows.reduce((a, x) => a + x.cpuMs, 0)));
  console.log(
    `warm-up ${w} rounds (cost ${warmCost} ms CPU/wall) | per batch of ${batch} rounds, ms CPU/wall: ${cells.join(' ')} | batches' CPU total ${total.toFixed(0)} ms (median of ${runs.length})`,
  );
}
