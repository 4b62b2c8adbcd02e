#!/usr/bin/env node
/**
 * Codec and mixer cost on one core, in-process, against the build (dist/media):
 * µs per 20 ms frame to encode and decode PCMU, PCMA, G.722 and Opus (the table's entry,
 * over each libopus backend that loads: @discordjs/opus native when its optional install
 * built, opusscript WASM always), and the mixer's cost per tick and per participant for
 * mix-minus rooms of 2-6
 * at 8 kHz (160 samples) and 16 kHz (320) with media/mixer/mixFrame.ts.
 *
 *   node bench/codecs.bench.mjs [--frames N] [--no-build] [--results FILE]
 *
 *   --frames N       frames per measurement (default 3000 = 60 s of audio each)
 *   --no-build       do not run `npm run build` first
 *   --results FILE   append the markdown block to FILE (nothing is written otherwise)
 *
 * Each figure is the best of 3 runs of N frames after a warm-up of N / 4 (best: the
 * machine is shared, the minimum is the least disturbed). Input: a 440 + 3100 Hz tone pair
 * at the codec's rate. Takes well under a minute.
 */
import { appendFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { build, commandLine, machine } from './lib/benchRuntime.mjs';

const args = process.argv.slice(2);
const opt = { frames: 3000, build: true, results: null };
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--frames') opt.frames = Number(args[++i]);
  else if (args[i] === '--no-build') opt.build = false;
  else if (args[i] === '--results') opt.results = args[++i];
  else throw new Error(`unknown option ${args[i]}`);
}
if (opt.build) build();

const { codecOf } = await import('../dist/media/codecs/table.js');
const { planMix, mixFrame } = await import('../dist/media/mixer/mixFrame.js');
const { OPUS_SETTINGS, opusCodecWith } = await import('../dist/media/codecs/opusCodec.js');
const { loadNative, loadWasm, opusBackend } = await import('../dist/media/codecs/opusBinding.js');

function tonePair(rate, samples) {
  const pcm = new Int16Array(samples);
  for (let i = 0; i < samples; i++) {
    pcm[i] = Math.round(
      6000 * Math.sin((2 * Math.PI * 440 * i) / rate) +
        3000 * Math.sin((2 * Math.PI * 3100 * i) / rate),
    );
  }
  return pcm;
}

/**
 * Best-of-3 µs per call of fn over `opt.frames` calls, as process CPU time (what a loaded
 * machine cannot inflate by descheduling us) and as wall time.
 */
function measure(fn) {
  for (let i = 0; i < opt.frames / 4; i++) fn(i);
  let cpu = Infinity;
  let wall = Infinity;
  for (let r = 0; r < 3; r++) {
    const c = process.cpuUsage();
    const t = performance.now();
    for (let i = 0; i < opt.frames; i++) fn(i);
    wall = Math.min(wall, ((performance.now() - t) * 1000) / opt.frames);
    const used = process.cpuUsage(c);
    cpu = Math.min(cpu, (used.user + used.system) / opt.frames);
  }
  return { cpu, wall };
}

const codecRows = [];
function benchTable(name, codec = codecOf(name)) {
  const n = codec.frameSamples;
  const source = tonePair(codec.sampleRate, n * 50);
  const encoder = codec.createEncoder();
  const decoder = codec.createDecoder();
  const packets = [];
  const payload = new Uint8Array(1500);
  for (let f = 0; f < 50; f++) {
    const len = encoder.encode(source.subarray(f * n, (f + 1) * n), n, payload);
    packets.push(payload.slice(0, len));
  }
  const frames = Array.from({ length: 50 }, (_, f) => source.subarray(f * n, (f + 1) * n));
  const out = new Int16Array(codec.maxFrameSamples);
  const enc = measure((i) => encoder.encode(frames[i % 50], n, payload));
  const dec = measure((i) => {
    const p = packets[i % 50];
    decoder.decode(p, 0, p.length, out);
  });
  const bytes = packets.reduce((s, p) => s + p.length, 0) / packets.length;
  codecRows.push([name, codec.sampleRate, enc, dec, bytes]);
  encoder.close();
  decoder.close();
}
for (const name of ['PCMU', 'PCMA', 'G722']) benchTable(name);
const opusChoice = opusBackend();
for (const [label, load] of [
  ['native, @discordjs/opus', loadNative],
  ['WASM, opusscript', loadWasm],
]) {
  let backend;
  try {
    backend = load();
  } catch (err) {
    console.log(`opus (${label}) not measured: ${err.message}`);
    continue;
  }
  const chosen = backend.name === opusChoice.backend.name ? ', the table uses it' : '';
  benchTable(
    `opus (${label}${chosen})`,
    opusCodecWith(() => backend),
  );
}

// Mixer: classic mix-minus (everyone hears everyone else), all sources present.
const mixRows = [];
for (const frameSamples of [160, 320]) {
  for (let parts = 2; parts <= 6; parts++) {
    const hears = Array.from({ length: parts }, (_, l) =>
      Array.from({ length: parts }, (_, s) => s).filter((s) => s !== l),
    );
    const plan = planMix(hears, parts, frameSamples);
    const inputs = Array.from({ length: parts }, (_, s) =>
      tonePair(frameSamples * 50, frameSamples).map((v) => v >> (s % 3)),
    );
    const tick = measure(() => mixFrame(plan, inputs));
    mixRows.push([
      frameSamples === 160 ? 8000 : 16000,
      parts,
      tick.cpu,
      tick.cpu / parts,
      tick.wall,
    ]);
  }
}

const m = machine();
const md = [];
md.push(`## Codecs and mixer, µs per 20 ms frame — ${new Date().toISOString()}`);
md.push('');
md.push(
  `- machine: ${m.nproc} CPU (${m.cpu}), kernel ${m.kernel}, ${m.memGb} GB RAM; node ${m.node}; load at the end ${m.load}.`,
);
md.push(`- command: \`${commandLine('codecs.bench.mjs')}\``);
md.push(
  `- best of 3 × ${opt.frames} frames after a warm-up (CPU: process.cpuUsage, user + system; wall: performance.now); Opus at ${OPUS_SETTINGS.bitrate / 1000} kbit/s, complexity ${OPUS_SETTINGS.complexity}, VoIP, in-band FEC, 10 % expected loss.`,
);
md.push('');
md.push(
  '| codec | PCM rate | encode µs CPU | decode µs CPU | encode / decode µs wall | bytes/frame |',
);
md.push('|---|---|---|---|---|---|');
for (const [name, rate, e, d, b] of codecRows) {
  md.push(
    `| ${name} | ${rate} | ${e.cpu.toFixed(2)} | ${d.cpu.toFixed(2)} | ${e.wall.toFixed(2)} / ${d.wall.toFixed(2)} | ${b.toFixed(1)} |`,
  );
}
md.push('');
md.push('Mixer (mixFrame, mix-minus: each participant hears all the others; no codec work):');
md.push('');
md.push('| rate | participants | µs CPU per tick | µs CPU per participant | µs wall per tick |');
md.push('|---|---|---|---|---|');
for (const [rate, parts, tick, per, wall] of mixRows) {
  md.push(`| ${rate} | ${parts} | ${tick.toFixed(2)} | ${per.toFixed(2)} | ${wall.toFixed(2)} |`);
}
md.push('');
console.log(md.join('\n'));
if (opt.results) appendFileSync(opt.results, `\n${md.join('\n')}\n`);
