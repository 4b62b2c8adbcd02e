/**
 * The recorder's Opus: the pre-skip written in OpusHead equals the encoder's real delay
 * (a click through encode and decode, as the binding cannot ask OPUS_GET_LOOKAHEAD),
 * and what each format costs on disk per hour, measured on a minute of speech-like
 * audio (syllables of a voiced harmonic sound, pauses between them) through the real
 * sinks: WAV, G.711 WAV and Ogg Opus at the call's two bands.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { codecOf } from '../../../../media/codecs/table.js';
import { OPUS_PRE_SKIP } from '../../../../media/recording/oggOpusRecorder.js';
import { openSink } from '../../../../media/recording/openSink.js';
import { OPUS_FILE_SETTINGS, opusForFiles } from '../../../../media/recording/opusFileEncoder.js';
import type { RecordingFormat } from '../../../../media/worker/protocol.js';
import { readOggOpus } from '../../../helpers/oggOpus.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'callwatch-opusfile-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('Ogg Opus pre-skip', () => {
  it(`is the encoder's delay: a click comes out ${OPUS_PRE_SKIP} samples at 48 kHz later`, () => {
    const opus = codecOf('opus');
    const ratio = 48000 / opus.sampleRate;
    for (const at of [1000, 1003, 1117, 1290]) {
      const enc = opusForFiles().createEncoder();
      const dec = opus.createDecoder();
      const x = new Int16Array(opus.frameSamples * 20);
      // A band-limited click (a Hann-windowed sinc) at sample `at`.
      for (let i = -40; i <= 40; i++) {
        const s = i === 0 ? 1 : Math.sin(Math.PI * i * 0.8) / (Math.PI * i * 0.8);
        x[at + i] = Math.round(20000 * s * (0.5 + 0.5 * Math.cos((Math.PI * i) / 41)));
      }
      const y: number[] = [];
      const packet = new Uint8Array(4000);
      const pcm = new Int16Array(opus.maxFrameSamples);
      for (let f = 0; f < x.length; f += opus.frameSamples) {
        const n = enc.encode(x.subarray(f, f + opus.frameSamples), opus.frameSamples, packet);
        expect(n).toBeGreaterThan(0);
        const m = dec.decode(packet, 0, n, pcm);
        for (let i = 0; i < m; i++) y.push(pcm[i]!);
      }
      enc.close();
      dec.close();
      let best = -Infinity;
      let delay = -1;
      for (let d = 0; d < 400; d++) {
        let c = 0;
        for (let i = at - 60; i < at + 60; i++) c += x[i]! * (y[i + d] ?? 0);
        if (c > best) [best, delay] = [c, d];
      }
      expect(delay * ratio).toBe(OPUS_PRE_SKIP);
    }
  });
});

/**
 * One party's minute of speech-like audio at `rate`: syllables of 120–300 ms (a
 * 100–220 Hz voiced fundamental with harmonics up to `top` Hz, falling 6 dB per
 * octave) and pauses of 80–600 ms over a −60 dBFS noise floor, a fixed pseudo-random
 * script per `seed`.
 */
function speechLike(rate: number, top: number, seconds: number, seed: number): Int16Array {
  let s = seed;
  const rand = (): number => {
    s = (s * 1103515245 + 12345) & 0x7fffffff;
    return s / 0x7fffffff;
  };
  const out = new Int16Array(rate * seconds);
  let i = 0;
  let phase = 0;
  while (i < out.length) {
    const syllable = Math.floor(rate * (0.12 + 0.18 * rand()));
    const f0 = 100 + 120 * rand();
    const glide = (rand() - 0.5) * 60;
    for (let k = 0; k < syllable && i < out.length; k++, i++) {
      const env = Math.sin((Math.PI * k) / syllable);
      const f = f0 + (glide * k) / syllable;
      phase += (2 * Math.PI * f) / rate;
      let v = 0;
      for (let h = 1; h * f < top; h++) v += Math.sin(h * phase) / h;
      out[i] = Math.round(6000 * env * v);
    }
    i += Math.floor(rate * (0.08 + 0.52 * rand()));
  }
  // A line's noise floor (about −60 dBFS): pauses are quiet, not digital silence.
  for (let k = 0; k < out.length; k++) {
    const v = out[k]! + Math.round((rand() - 0.5) * 60);
    out[k] = v > 32767 ? 32767 : v < -32768 ? -32768 : v;
  }
  return out;
}

/** Waits until the sink has more than `bytes` on disk, for at most 300 ms. */
async function diskMovedPast(
  sink: { readonly bytesWritten: number },
  bytes: number,
): Promise<void> {
  const until = Date.now() + 300;
  while (sink.bytesWritten <= bytes && Date.now() < until) {
    await new Promise((r) => setTimeout(r, 2));
  }
}

describe('size on disk per hour, measured on a minute of speech-like audio', () => {
  const rows: string[] = [];
  afterAll(() => {
    process.stdout.write(`MB per hour (two tracks, stereo):\n${rows.join('\n')}\n`);
  });

  const cases: [RecordingFormat, number][] = [
    ['wav', 8000],
    ['wav', 16000],
    ['wav-g711', 8000],
    ['wav-g711', 16000],
    ['ogg-opus', 8000],
    ['ogg-opus', 16000],
  ];
  it.each(cases)('%s, a %i Hz call', async (format, callRate) => {
    const file = path.join(dir, `${format}-${callRate}.${format === 'ogg-opus' ? 'opus' : 'wav'}`);
    const { sink } = await openSink({
      path: file,
      channels: 2,
      format,
      sampleRate: callRate,
      law: 'mulaw',
    });
    const seconds = 60;
    // The call's audio: up to 3.4 kHz for an 8 kHz call, 7 kHz for a 16 kHz one, at the
    // file's rate (an 8 kHz call in Ogg Opus is 16 kHz audio with nothing above 3.4 kHz).
    const top = callRate === 8000 ? 3400 : 7000;
    const left = speechLike(sink.sampleRate, top, seconds, 1);
    const right = speechLike(sink.sampleRate, top, seconds, 2);
    const f = sink.frameSamples;
    let onDisk = sink.bytesWritten;
    for (let at = 0, k = 1; at + f <= left.length; at += f, k++) {
      sink.writeFrame(left.subarray(at, at + f), right.subarray(at, at + f));
      // A call gives a second of audio per second and its writer has that second. The test
      // runs faster but, like a call, lets the disk take each second before the next one
      // (a fixed pause was not enough for the writer on a loaded machine).
      if (k % 50 === 0) {
        await diskMovedPast(sink, onDisk);
        onDisk = sink.bytesWritten;
      }
    }
    expect(sink.error).toBeNull();
    await sink.close();
    const bytes = (await stat(file)).size;
    const mbPerHour = (bytes * 3600) / seconds / 1e6;
    rows.push(
      `${format} ${callRate} Hz call: ${bytes} B/min = ${((bytes * 8) / seconds / 1000).toFixed(1)} kbit/s = ${mbPerHour.toFixed(1)} MB/h`,
    );
    if (format === 'wav') {
      expect(mbPerHour).toBeCloseTo((callRate * 2 * 2 * 3600) / 1e6, 0);
    } else if (format === 'wav-g711') {
      expect(mbPerHour).toBeCloseTo((8000 * 2 * 3600) / 1e6, 0);
    } else {
      // Two streams at the file encoder's bitrate (VBR: pauses cost less), plus framing.
      const perStream = (bytes * 8) / seconds / 2;
      expect(perStream).toBeLessThanOrEqual(OPUS_FILE_SETTINGS.bitrate * 1.1);
      expect(perStream).toBeGreaterThanOrEqual(OPUS_FILE_SETTINGS.bitrate * 0.4);
      const decoded = readOggOpus(await readFile(file));
      expect(decoded.channels).toBe(2);
      expect(decoded.preSkip).toBe(OPUS_PRE_SKIP);
      expect(decoded.channelData[0]!.length / 16000).toBeCloseTo(seconds, 1);
    }
  });
});
