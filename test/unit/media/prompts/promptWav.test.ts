/**
 * Reading prompt WAVs (media/prompts/promptWav.ts): what converts (stereo to mono, G.711
 * to 16-bit), what is refused with a message a person can act on, and the file adapter.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from '@jest/globals';
import { decodePromptWav, loadPromptFile } from '../../../../media/prompts/promptWav.js';
import {
  WAV_FORMAT_ALAW,
  WAV_FORMAT_MULAW,
  wavHeader,
  wavLawHeader,
} from '../../../../media/recording/wavHeader.js';

function pcmWav(rate: number, channels: 1 | 2, samples: number[]): Buffer {
  const data = Buffer.alloc(samples.length * 2);
  samples.forEach((v, i) => data.writeInt16LE(v, i * 2));
  return Buffer.concat([wavHeader(channels, rate, data.length), data]);
}

/** A canonical header with its fmt fields rewritten (format tag, bits per sample). */
function oddWav(formatTag: number, bits: number, rate = 8000, channels = 1): Buffer {
  const buf = pcmWav(rate, 1, [1, 2, 3, 4]);
  buf.writeUInt16LE(formatTag, 20);
  buf.writeUInt16LE(channels, 22);
  buf.writeUInt16LE(bits, 34);
  return buf;
}

const dir = mkdtempSync(path.join(tmpdir(), 'callwatch-prompt-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('decodePromptWav', () => {
  it('takes 16-bit PCM mono at 8 and 16 kHz as it is', () => {
    for (const rate of [8000, 16000]) {
      const p = decodePromptWav(pcmWav(rate, 1, [0, 1000, -1000, 32767, -32768]));
      expect(p.sampleRate).toBe(rate);
      expect([...p.samples]).toEqual([0, 1000, -1000, 32767, -32768]);
    }
  });

  it('averages a stereo file to mono', () => {
    const p = decodePromptWav(pcmWav(8000, 2, [1000, 3000, -200, -400, 32767, 32767]));
    expect([...p.samples]).toEqual([2000, -300, 32767]);
  });

  it('expands G.711 µ-law and A-law WAVs to 16-bit', () => {
    // 0xFF / 0xD5 are zero in µ-law / A-law; 0x80 / 0xAA are near full scale (positive).
    for (const [tag, bytes, expected] of [
      [WAV_FORMAT_MULAW, [0xff, 0x80, 0x00], [0, 32124, -32124]],
      [WAV_FORMAT_ALAW, [0xd5, 0xaa, 0x2a], [8, 32256, -32256]],
    ] as const) {
      const data = Buffer.from(bytes);
      const wav = Buffer.concat([wavLawHeader(1, 8000, tag, data.length), data]);
      expect([...decodePromptWav(wav).samples]).toEqual(expected);
    }
  });

  it('reads to the end of the file when the data size was never patched', () => {
    const wav = pcmWav(8000, 1, [5, 6, 7]);
    wav.writeUInt32LE(0xffffffff, 40);
    expect([...decodePromptWav(wav).samples]).toEqual([5, 6, 7]);
  });

  it('refuses what it cannot play, saying what is wrong and how to convert', () => {
    expect(() => decodePromptWav(Buffer.from('hello, not a wav'))).toThrow(/not a RIFF\/WAVE/);
    expect(() => decodePromptWav(pcmWav(44100, 1, [1, 2]))).toThrow(
      /44100 Hz; a prompt must be 8000 or 16000 Hz: convert it with: sox/,
    );
    expect(() => decodePromptWav(oddWav(1, 8))).toThrow(/8 bits per sample.*16-bit PCM/);
    expect(() => decodePromptWav(oddWav(3, 32))).toThrow(/format 3/);
    expect(() => decodePromptWav(oddWav(1, 16, 8000, 3))).toThrow(/3 channels; .*mono/);
    expect(() => decodePromptWav(pcmWav(8000, 1, []))).toThrow(/holds no audio/);
  });
});

describe('loadPromptFile', () => {
  it('reads a file', () => {
    const file = path.join(dir, 'ok.wav');
    writeFileSync(file, pcmWav(16000, 1, [7, 8]));
    expect(loadPromptFile(file)).toEqual({ sampleRate: 16000, samples: Int16Array.of(7, 8) });
  });

  it('names the file and the reason: missing, or not a WAV', () => {
    const missing = path.join(dir, 'missing.wav');
    expect(() => loadPromptFile(missing)).toThrow(`cannot read ${missing} (ENOENT)`);
    const text = path.join(dir, 'text.wav');
    writeFileSync(text, 'just text');
    expect(() => loadPromptFile(text)).toThrow(`${text}: not a RIFF/WAVE file`);
  });
});
