#!/usr/bin/env node
/**
 * Ranks the functions of a V8 CPU profile (`node --cpu-prof`, one `.cpuprofile` per
 * thread) by self and by total time, in µs per unit of work (e.g. per call set-up).
 *
 *   node bench/cpuProfileTop.mjs FILE.cpuprofile [--per N] [--top K] [--from S] [--to S]
 *
 *   --per N    divide every figure by N (the calls handled in the window; default 1)
 *   --top K    rows per ranking (default 30)
 *   --from S / --to S   only samples between S and S seconds after the profile's start
 *
 * Self time: samples whose leaf is the function. Total time: samples with the function
 * anywhere on the stack (counted once per sample, so recursion is not counted twice).
 * V8's pseudo-frames are kept as they are: "(garbage collector)", "(program)" (V8's own
 * work outside JavaScript: compiling, IC misses), "(idle)" (the event loop waiting).
 */
import { readFileSync } from 'node:fs';

const args = process.argv.slice(2);
const file = args.find((a) => !a.startsWith('--') && !/^\d/.test(a));
const opt = (name, dflt) => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : dflt;
};
if (!file) {
  process.stderr.write('usage: cpuProfileTop.mjs FILE.cpuprofile [--per N] [--top K]\n');
  process.exit(2);
}
const per = opt('--per', 1);
const top = opt('--top', 30);
const from = opt('--from', 0) * 1e6;
const to = opt('--to', Infinity) * 1e6;

const prof = JSON.parse(readFileSync(file, 'utf8'));
const byId = new Map(prof.nodes.map((n) => [n.id, n]));
const parent = new Map();
for (const n of prof.nodes) for (const c of n.children ?? []) parent.set(c, n.id);

const keyOf = (n) => {
  const f = n.callFrame;
  const where = f.url
    ? ` ${f.url.replace(/^.*\/(dist|node_modules)\//, '$1/')}:${f.lineNumber + 1}`
    : '';
  return `${f.functionName || '(anonymous)'}${where}`;
};

const self = new Map();
const total = new Map();
let t = prof.startTime;
let busy = 0;
let all = 0;
for (let i = 0; i < prof.samples.length; i++) {
  const dt = prof.timeDeltas[i] ?? 0;
  t += dt;
  if (t - prof.startTime < from || t - prof.startTime > to) continue;
  const leaf = byId.get(prof.samples[i]);
  const leafKey = keyOf(leaf);
  all += dt;
  if (leafKey !== '(idle)') busy += dt;
  self.set(leafKey, (self.get(leafKey) ?? 0) + dt);
  const seen = new Set();
  for (let id = leaf.id; id !== undefined; id = parent.get(id)) {
    const k = keyOf(byId.get(id));
    if (seen.has(k)) continue;
    seen.add(k);
    total.set(k, (total.get(k) ?? 0) + dt);
  }
}

const us = (v) => (v / per).toFixed(1).padStart(9);
const rank = (m, title) => {
  console.log(`\n${title} (µs per unit, ${per} units)`);
  for (const [k, v] of [...m].sort((a, b) => b[1] - a[1]).slice(0, top))
    console.log(`${us(v)}  ${k}`);
};
console.log(
  `${file}: window ${(all / 1e6).toFixed(2)} s, busy (not idle) ${(busy / 1e6).toFixed(2)} s = ${us(busy)} µs per unit`,
);
rank(self, 'self');
total.delete('(root)');
rank(total, 'total');
