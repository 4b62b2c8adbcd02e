#!/usr/bin/env node
/**
 * Codec and mixer cost on one core, in-process, against the build (dist/media):
 * µs per 20 ms frame to encode and decode PCMU, PCMA, G.722 and Opus (the table's
 * @discordjs/opus, and opusscript when installed, through their own APIs at the table's
 * settings), and the mixer's cost per tick and per participant for mix-minus rooms of 2-6
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
import { createRequire } from 'node:module';
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
const { OPUS_SETTINGS } = await import('../dist/media/codecs/opusCodec.js');

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

/** Best-of-3 µs per call of fn over `opt.frames` calls. */
function measure(fn) {
  for (let i = 0; i < opt.frames / 4; i++) fn(i);
  let best = Infinity;
  for (let r = 0; r < 3; r++) {
    const t = performance.now();
    for (let i = 0; i < opt.frames; i++) fn(i);
    best = Math.min(best, ((performance.now() - t) * 1000) / opt.frames);
  }
  return best;
}

const codecRows = [];
function benchTable(name) {
  const codec = codecOf(name);
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
  codecRows.push([`${name} (table)`, codec.sampleRate, enc, dec, bytes]);
  encoder.close();
  decoder.close();
}
for (const name of ['PCMU', 'PCMA', 'G722', 'opus']) benchTable(name);

// opusscript, when installed (a dev dependency kept for this comparison), at the same
// settings; its API allocates a Buffer per call as @discordjs/opus's does.
try {
  const OpusScript = createRequire(import.meta.url)('opusscript');
  const enc = new OpusScript(16000, 1, OpusScript.Application.VOIP);
  enc.encoderCTL(4002, OPUS_SETTINGS.bitrate);
  enc.encoderCTL(4010, OPUS_SETTINGS.complexity);
  enc.encoderCTL(4012, 1);
  enc.encoderCTL(4014, OPUS_SETTINGS.packetLossPercent);
  const dec = new OpusScript(16000, 1, OpusScript.Application.VOIP);
  const source = tonePair(16000, 320 * 50);
  const frames = Array.from({ length: 50 }, (_, f) => Buffer.from(source.buffer, f * 640, 640));
  const packets = frames.map((f) => enc.encode(f, 320));
  const e = measure((i) => enc.encode(frames[i % 50], 320));
  const d = measure((i) => dec.decode(packets[i % 50]));
  const bytes = packets.reduce((s, p) => s + p.length, 0) / packets.length;
  codecRows.push(['opus (opusscript, WASM)', 16000, e, d, bytes]);
  enc.delete();
  dec.delete();
} catch (err) {
  console.log(`opusscript not measured: ${err.message}`);
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
    mixRows.push([frameSamples === 160 ? 8000 : 16000, parts, tick, tick / parts]);
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
  `- best of 3 × ${opt.frames} frames after a warm-up; Opus at ${OPUS_SETTINGS.bitrate / 1000} kbit/s, complexity ${OPUS_SETTINGS.complexity}, VoIP, in-band FEC, 10 % expected loss.`,
);
md.push('');
md.push('| codec | PCM rate | encode µs | decode µs | bytes/frame |');
md.push('|---|---|---|---|---|');
for (const [name, rate, e, d, b] of codecRows) {
  md.push(`| ${name} | ${rate} | ${e.toFixed(2)} | ${d.toFixed(2)} | ${b.toFixed(1)} |`);
}
md.push('');
md.push('Mixer (mixFrame, mix-minus: each participant hears all the others; no codec work):');
md.push('');
md.push('| rate | participants | µs per tick | µs per participant |');
md.push('|---|---|---|---|');
for (const [rate, parts, tick, per] of mixRows) {
  md.push(`| ${rate} | ${parts} | ${tick.toFixed(2)} | ${per.toFixed(2)} |`);
}
md.push('');
console.log(md.join('\n'));
if (opt.results) appendFileSync(opt.results, `\n${md.join('\n')}\n`);
