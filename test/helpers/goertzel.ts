/**
 * Tone detection on 16-bit PCM: what did a phone hear?
 *
 * Tests give every speaker its own tone (e.g. customer 440 Hz, agent 1000 Hz, supervisor
 * 1800 Hz) and check a peer's recording (baresip's `dump-…-dec.wav`) for each frequency.
 *
 * The measure is the **relative power** of a frequency in a block of audio: the share of
 * the block's energy found at that frequency, from a Hann-windowed Goertzel filter,
 * normalised so that a pure sine exactly at the frequency gives 1.0. A mix of k
 * well-separated tones of equal level gives ≈ 1/k for each; G.711 quantisation noise
 * (≈ −38 dB) does not matter. With the default 100 ms blocks the filter's main lobe is
 * ±20 Hz wide: a tone 5 Hz off still scores ≈ 0.7, 10 Hz off ≈ 0.25, ≥ 20 Hz off ≈ 0.
 * Keep test tones ≥ 100 Hz apart and 100 Hz away from 0 and the Nyquist frequency.
 *
 * Default thresholds (all overridable, see ToneOptions):
 * - a block is *voiced* when its RMS level is ≥ −50 dBFS (silence, comfort noise and
 *   G.711 idle patterns are not);
 * - hasTone: the tone scores ≥ 0.1 (−10 dB of the block's energy: present even as one of
 *   several equal voices, with margin) in ≥ 50 % of the voiced blocks and in ≥ 0.5 s of
 *   audio in total;
 * - lacksTone: no voiced block scores ≥ 0.05 (a leak at the level of one voice in a mix
 *   of up to ~10 is caught; a leak 20 dB below the other audio is not).
 */
import { readFileSync } from 'node:fs';

export interface PcmAudio {
  readonly sampleRate: number;
  /** Mono samples (channel 0 of a multi-channel file). */
  readonly samples: Int16Array;
}

export interface WavAudio extends PcmAudio {
  readonly channels: number;
  /** Deinterleaved channels. */
  readonly channelData: readonly Int16Array[];
  /** WAVE format tag: 1 PCM, 6 A-law, 7 µ-law (decoded to 16-bit), 0xFFFE extensible. */
  readonly formatTag: number;
  readonly bitsPerSample: number;
  /** The data chunk's declared size was missing or larger than the file (unfinished writer). */
  readonly truncated: boolean;
}

const FORMAT_PCM = 1;
const FORMAT_ALAW = 6;
const FORMAT_MULAW = 7;
const FORMAT_EXTENSIBLE = 0xfffe;

function mulawToLinear(u: number): number {
  const v = ~u & 0xff;
  const t = (((v & 0x0f) << 3) + 0x84) << ((v & 0x70) >> 4);
  return v & 0x80 ? 0x84 - t : t - 0x84;
}

function alawToLinear(a: number): number {
  const v = a ^ 0x55;
  let t = (v & 0x0f) << 4;
  const seg = (v & 0x70) >> 4;
  if (seg === 0) t += 8;
  else if (seg === 1) t += 0x108;
  else t = (t + 0x108) << (seg - 1);
  return v & 0x80 ? t : -t;
}

/**
 * Parses a RIFF/WAVE file: walks the chunks (word-aligned, any order, unknown ones
 * skipped), reads `fmt `, and takes the `data` chunk. A data size of 0, 0xFFFFFFFF or
 * beyond the end of the file (a writer that was killed) means "to the end of the file".
 */
export function parseWav(buf: Buffer): WavAudio {
  if (
    buf.length < 12 ||
    buf.toString('latin1', 0, 4) !== 'RIFF' ||
    buf.toString('latin1', 8, 12) !== 'WAVE'
  ) {
    throw new Error('not a RIFF/WAVE file');
  }
  let fmt: { tag: number; channels: number; rate: number; bits: number; align: number } | undefined;
  let data: Buffer | undefined;
  let truncated = false;
  let off = 12;
  while (off + 8 <= buf.length) {
    const id = buf.toString('latin1', off, off + 4);
    const size = buf.readUInt32LE(off + 4);
    const start = off + 8;
    if (id === 'fmt ') {
      if (size < 16 || start + 16 > buf.length) throw new Error('short fmt chunk');
      let tag = buf.readUInt16LE(start);
      if (tag === FORMAT_EXTENSIBLE && size >= 40) tag = buf.readUInt16LE(start + 24); // SubFormat GUID's first 2 bytes
      fmt = {
        tag,
        channels: buf.readUInt16LE(start + 2),
        rate: buf.readUInt32LE(start + 4),
        align: buf.readUInt16LE(start + 12),
        bits: buf.readUInt16LE(start + 14),
      };
    } else if (id === 'data') {
      const avail = buf.length - start;
      if (size === 0 || size === 0xffffffff || size > avail) {
        truncated = size !== avail;
        data = buf.subarray(start);
      } else {
        data = buf.subarray(start, start + size);
      }
      if (fmt) break;
    }
    if (size === 0xffffffff) break;
    off = start + size + (size & 1);
  }
  if (!fmt) throw new Error('WAV has no fmt chunk');
  if (!data) throw new Error('WAV has no data chunk');
  const { tag, channels, rate, bits } = fmt;
  if (channels < 1) throw new Error('WAV with 0 channels');
  let linear: Int16Array;
  if (tag === FORMAT_PCM && bits === 16) {
    const n = Math.floor(data.length / 2);
    linear = new Int16Array(n);
    for (let i = 0; i < n; i += 1) linear[i] = data.readInt16LE(i * 2);
  } else if ((tag === FORMAT_MULAW || tag === FORMAT_ALAW) && bits === 8) {
    const dec = tag === FORMAT_MULAW ? mulawToLinear : alawToLinear;
    linear = new Int16Array(data.length);
    for (let i = 0; i < data.length; i += 1) linear[i] = dec(data[i] as number);
  } else {
    throw new Error(
      `unsupported WAV format ${tag} with ${bits} bits (need 16-bit PCM or 8-bit G.711)`,
    );
  }
  const frames = Math.floor(linear.length / channels);
  const channelData = Array.from({ length: channels }, (_, c) => {
    const ch = new Int16Array(frames);
    for (let i = 0; i < frames; i += 1) ch[i] = linear[i * channels + c] as number;
    return ch;
  });
  return {
    sampleRate: rate,
    samples: channelData[0] as Int16Array,
    channels,
    channelData,
    formatTag: tag,
    bitsPerSample: bits,
    truncated,
  };
}

export function readWav(file: string): WavAudio {
  return parseWav(readFileSync(file));
}

/** A canonical 16-bit PCM WAV (mono unless several channels are given). */
export function encodeWav(
  channels: Int16Array | readonly Int16Array[],
  sampleRate: number,
): Buffer {
  const chans = channels instanceof Int16Array ? [channels] : channels;
  const n = chans[0]?.length ?? 0;
  const dataBytes = n * chans.length * 2;
  const buf = Buffer.alloc(44 + dataBytes);
  buf.write('RIFF', 0, 'latin1');
  buf.writeUInt32LE(36 + dataBytes, 4);
  buf.write('WAVE', 8, 'latin1');
  buf.write('fmt ', 12, 'latin1');
  buf.writeUInt32LE(16, 16);
  buf.writeUInt16LE(FORMAT_PCM, 20);
  buf.writeUInt16LE(chans.length, 22);
  buf.writeUInt32LE(sampleRate, 24);
  buf.writeUInt32LE(sampleRate * chans.length * 2, 28);
  buf.writeUInt16LE(chans.length * 2, 32);
  buf.writeUInt16LE(16, 34);
  buf.write('data', 36, 'latin1');
  buf.writeUInt32LE(dataBytes, 40);
  for (let i = 0; i < n; i += 1) {
    for (let c = 0; c < chans.length; c += 1) {
      buf.writeInt16LE((chans[c] as Int16Array)[i] ?? 0, 44 + (i * chans.length + c) * 2);
    }
  }
  return buf;
}

export interface ToneSpec {
  readonly freq: number;
  /** Relative to full scale (default 0.5). */
  readonly amplitude?: number;
  readonly phase?: number;
}

/** Sum of sines (plus optional white noise, deterministic), clamped to int16. */
export function synthTone(
  sampleRate: number,
  seconds: number,
  tones: readonly ToneSpec[],
  opts: { noiseAmplitude?: number; seed?: number } = {},
): Int16Array {
  const n = Math.round(sampleRate * seconds);
  const out = new Int16Array(n);
  let seed = opts.seed ?? 1;
  const rand = (): number => {
    seed = (seed * 1103515245 + 12345) >>> 0;
    return seed / 0x100000000;
  };
  for (let i = 0; i < n; i += 1) {
    let v = 0;
    for (const t of tones) {
      v +=
        (t.amplitude ?? 0.5) * Math.sin((2 * Math.PI * t.freq * i) / sampleRate + (t.phase ?? 0));
    }
    if (opts.noiseAmplitude) v += opts.noiseAmplitude * (2 * rand() - 1);
    out[i] = Math.max(-32768, Math.min(32767, Math.round(v * 32767)));
  }
  return out;
}

const hannCache = new Map<number, Float64Array>();

function hann(n: number): Float64Array {
  let w = hannCache.get(n);
  if (!w) {
    w = new Float64Array(n);
    for (let i = 0; i < n; i += 1) w[i] = 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / (n - 1 || 1));
    hannCache.set(n, w);
  }
  return w;
}

/**
 * |X(f)|² of samples[start, start+length) (Hann-windowed by default) at any frequency
 * (not only bin centres), by the Goertzel recurrence.
 */
export function goertzelPower(
  samples: ArrayLike<number>,
  sampleRate: number,
  freq: number,
  start = 0,
  length = samples.length - start,
  window: 'hann' | 'rect' = 'hann',
): number {
  const w = window === 'hann' ? hann(length) : undefined;
  const coeff = 2 * Math.cos((2 * Math.PI * freq) / sampleRate);
  let s1 = 0;
  let s2 = 0;
  for (let i = 0; i < length; i += 1) {
    const x = (samples[start + i] as number) * (w ? (w[i] as number) : 1);
    const s = x + coeff * s1 - s2;
    s2 = s1;
    s1 = s;
  }
  return s1 * s1 + s2 * s2 - coeff * s1 * s2;
}

/**
 * The share (0…1) of a block's energy at `freq`: Hann-windowed Goertzel power,
 * normalised so that a pure sine at `freq` gives 1.0. 0 for a silent block.
 */
export function relativeTonePower(
  samples: ArrayLike<number>,
  sampleRate: number,
  freq: number,
  start = 0,
  length = samples.length - start,
): number {
  if (length < 2) return 0;
  const w = hann(length);
  let sumW = 0;
  let sumW2 = 0;
  let energy = 0;
  for (let i = 0; i < length; i += 1) {
    const wi = w[i] as number;
    const x = (samples[start + i] as number) * wi;
    sumW += wi;
    sumW2 += wi * wi;
    energy += x * x;
  }
  if (energy === 0) return 0;
  const p = goertzelPower(samples, sampleRate, freq, start, length, 'hann');
  return Math.min(1, (p * 2 * sumW2) / (sumW * sumW * energy));
}

/** RMS level in dBFS (−Infinity for digital silence). */
export function levelDbfs(
  samples: ArrayLike<number>,
  start = 0,
  length = samples.length - start,
): number {
  let sum = 0;
  for (let i = 0; i < length; i += 1) {
    const x = samples[start + i] as number;
    sum += x * x;
  }
  return length === 0 || sum === 0 ? -Infinity : 20 * Math.log10(Math.sqrt(sum / length) / 32768);
}

export interface ToneOptions {
  /** Analysis block length (default 100 ms). */
  readonly blockMs?: number;
  /** Only analyse from / up to these times (seconds from the start). */
  readonly startSec?: number;
  readonly endSec?: number;
  /** A block is voiced at or above this RMS level (default −50 dBFS). */
  readonly minLevelDbfs?: number;
  /** hasTone: a voiced block "has" the tone at or above this relative power (default 0.1). */
  readonly minRelativePower?: number;
  /** hasTone: share of voiced blocks that must have the tone (default 0.5). */
  readonly minFraction?: number;
  /** hasTone: total duration of blocks with the tone (default 0.5 s). */
  readonly minSeconds?: number;
  /** lacksTone: highest relative power tolerated in any voiced block (default 0.05). */
  readonly maxRelativePower?: number;
  /** lacksTone: number of voiced blocks allowed above maxRelativePower (default 0). */
  readonly allowedBlocks?: number;
  /** Sample rate when plain samples are passed (default 8000). */
  readonly sampleRate?: number;
}

export interface ToneReport {
  readonly freq: number;
  readonly blockSeconds: number;
  readonly blocks: number;
  readonly voicedBlocks: number;
  /** Voiced blocks scoring ≥ minRelativePower. */
  readonly toneBlocks: number;
  /** toneBlocks / voicedBlocks (0 when nothing is voiced). */
  readonly fraction: number;
  readonly toneSeconds: number;
  readonly maxRelativePower: number;
  readonly meanRelativePower: number;
  /** Relative power of each block (NaN for unvoiced blocks). */
  readonly perBlock: readonly number[];
}

function asAudio(audio: PcmAudio | Int16Array, opts: ToneOptions): PcmAudio {
  return audio instanceof Int16Array
    ? { samples: audio, sampleRate: opts.sampleRate ?? 8000 }
    : audio;
}

/** Per-block analysis of one frequency; the basis of hasTone / lacksTone. */
export function analyzeTone(
  audio: PcmAudio | Int16Array,
  freq: number,
  opts: ToneOptions = {},
): ToneReport {
  const { samples, sampleRate } = asAudio(audio, opts);
  const block = Math.max(16, Math.round(((opts.blockMs ?? 100) * sampleRate) / 1000));
  const first = Math.max(0, Math.round((opts.startSec ?? 0) * sampleRate));
  const last = Math.min(samples.length, Math.round((opts.endSec ?? Infinity) * sampleRate));
  const minLevel = opts.minLevelDbfs ?? -50;
  const minRel = opts.minRelativePower ?? 0.1;
  const perBlock: number[] = [];
  let voiced = 0;
  let tone = 0;
  let max = 0;
  let sum = 0;
  for (let off = first; off + block <= last; off += block) {
    if (levelDbfs(samples, off, block) < minLevel) {
      perBlock.push(NaN);
      continue;
    }
    const r = relativeTonePower(samples, sampleRate, freq, off, block);
    perBlock.push(r);
    voiced += 1;
    sum += r;
    max = Math.max(max, r);
    if (r >= minRel) tone += 1;
  }
  const blockSeconds = block / sampleRate;
  return {
    freq,
    blockSeconds,
    blocks: perBlock.length,
    voicedBlocks: voiced,
    toneBlocks: tone,
    fraction: voiced === 0 ? 0 : tone / voiced,
    toneSeconds: tone * blockSeconds,
    maxRelativePower: max,
    meanRelativePower: voiced === 0 ? 0 : sum / voiced,
    perBlock,
  };
}

/** Whether the audio carries `freq` (see the thresholds at the top of this file). */
export function hasTone(
  audio: PcmAudio | Int16Array,
  freq: number,
  opts: ToneOptions = {},
): boolean {
  const r = analyzeTone(audio, freq, opts);
  return (
    r.toneBlocks > 0 &&
    r.fraction >= (opts.minFraction ?? 0.5) &&
    r.toneSeconds >= (opts.minSeconds ?? 0.5) - 1e-9
  );
}

/** Whether `freq` is absent: no voiced block (beyond allowedBlocks) reaches maxRelativePower. */
export function lacksTone(
  audio: PcmAudio | Int16Array,
  freq: number,
  opts: ToneOptions = {},
): boolean {
  const r = analyzeTone(audio, freq, opts);
  const limit = opts.maxRelativePower ?? 0.05;
  const over = r.perBlock.filter((p) => !Number.isNaN(p) && p >= limit).length;
  return over <= (opts.allowedBlocks ?? 0);
}

/** A one-line summary for assertion messages: "1000 Hz: 38/40 voiced blocks ≥ 0.1, max 0.99, mean 0.97". */
export function describeTone(r: ToneReport): string {
  return (
    `${r.freq} Hz: ${r.toneBlocks}/${r.voicedBlocks} voiced blocks (of ${r.blocks}) with the tone, ` +
    `max ${r.maxRelativePower.toFixed(3)}, mean ${r.meanRelativePower.toFixed(3)}`
  );
}
