/**
 * Prompts (announcements, hold audio) as the engine plays them: 16-bit PCM at one of the
 * mixer's rates (8000 or 16000 Hz), mono (docs/architecture.md §6.9). `decodePromptWav`
 * turns a WAV file's bytes into that, pure: it reads the header with the recording's
 * tolerant reader (media/recording/wavHeader.ts: chunks walked, LIST and others skipped),
 * converts what converts without loss of meaning (a stereo file is averaged to mono;
 * G.711 µ-law and A-law WAVs are expanded to 16-bit), and refuses everything else with an
 * Error that says what is wrong and how to make a fitting file with sox. A prompt is
 * converted to the room's rate while it plays (the mixer's 2x resampler), so both rates
 * serve any call.
 *
 * `loadPromptFile` is the thin adapter that reads a file (config load, at start: a
 * missing or bad file fails the start, never a call).
 */
import { readFileSync } from 'node:fs';
import { readWavHeader, WAV_FORMAT_ALAW, WAV_FORMAT_MULAW } from '../recording/wavHeader.js';
import { MAX_PROMPT_SECONDS } from '../worker/protocol.js';
import type { PromptRate } from '../worker/protocol.js';

export { MAX_PROMPT_SECONDS };

/** What a prompt is for the engine: mono 16-bit PCM at 8 or 16 kHz. */
export interface PromptAudio {
  sampleRate: PromptRate;
  samples: Int16Array;
}

const WAV_FORMAT_PCM = 1;
const WAV_FORMAT_EXTENSIBLE = 0xfffe;
const HOW_TO_CONVERT = 'convert it with: sox in.wav -r 8000 -c 1 -b 16 -e signed-integer out.wav';

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
 * The prompt in a WAV file's bytes. Throws an Error naming the problem: not a WAV, a
 * format other than 16-bit PCM or G.711, more than two channels, a rate other than 8000
 * or 16000 Hz, no audio, or longer than MAX_PROMPT_SECONDS.
 */
export function decodePromptWav(buf: Buffer): PromptAudio {
  const h = readWavHeader(buf);
  const law = h.formatTag === WAV_FORMAT_MULAW || h.formatTag === WAV_FORMAT_ALAW;
  const pcm =
    (h.formatTag === WAV_FORMAT_PCM || h.formatTag === WAV_FORMAT_EXTENSIBLE) &&
    h.bitsPerSample === 16;
  if (!pcm && !(law && h.bitsPerSample === 8)) {
    throw new Error(
      `the WAV is format ${h.formatTag} with ${h.bitsPerSample} bits per sample; a prompt ` +
        `must be 16-bit PCM (or G.711): ${HOW_TO_CONVERT}`,
    );
  }
  if (h.channels !== 1 && h.channels !== 2) {
    throw new Error(`the WAV has ${h.channels} channels; a prompt must be mono: ${HOW_TO_CONVERT}`);
  }
  if (h.sampleRate !== 8000 && h.sampleRate !== 16000) {
    throw new Error(
      `the WAV is ${h.sampleRate} Hz; a prompt must be 8000 or 16000 Hz: ${HOW_TO_CONVERT}`,
    );
  }
  const bytesPerSample = pcm ? 2 : 1;
  const frameBytes = bytesPerSample * h.channels;
  // A data size beyond the file (a writer that never patched its header) means "to the end".
  const end = Math.min(buf.length, h.dataOffset + h.dataBytes);
  const frames = Math.floor((end - h.dataOffset) / frameBytes);
  if (frames <= 0) throw new Error('the WAV holds no audio');
  if (frames > MAX_PROMPT_SECONDS * h.sampleRate) {
    throw new Error(`the WAV is longer than ${MAX_PROMPT_SECONDS} s`);
  }
  const samples = new Int16Array(frames);
  const expand = h.formatTag === WAV_FORMAT_MULAW ? mulawToLinear : alawToLinear;
  for (let i = 0; i < frames; i++) {
    let sum = 0;
    for (let c = 0; c < h.channels; c++) {
      const at = h.dataOffset + i * frameBytes + c * bytesPerSample;
      sum += pcm ? buf.readInt16LE(at) : expand(buf[at]!);
    }
    samples[i] = Math.round(sum / h.channels);
  }
  return { sampleRate: h.sampleRate, samples };
}

/** Reads and decodes a prompt file; the Error names the file and what is wrong with it. */
export function loadPromptFile(path: string): PromptAudio {
  let buf: Buffer;
  try {
    buf = readFileSync(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new Error(`cannot read ${path}${code !== undefined ? ` (${code})` : ''}`);
  }
  try {
    return decodePromptWav(buf);
  } catch (err) {
    throw new Error(`${path}: ${(err as Error).message}`);
  }
}
