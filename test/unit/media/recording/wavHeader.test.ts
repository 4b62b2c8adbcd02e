import { describe, it, expect } from '@jest/globals';
import {
  MAX_WAV_DATA_BYTES,
  WAV_HEADER_SIZE,
  patchWavSizes,
  readWavHeader,
  wavHeader,
} from '../../../../media/recording/wavHeader.js';
import { encodeWav, parseWav } from '../../../helpers/goertzel.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

/** A chunk: 4-byte id, little-endian size, body, pad byte when the size is odd. */
function chunk(id: string, body: Buffer): Buffer {
  const size = Buffer.alloc(4);
  size.writeUInt32LE(body.length);
  const pad = body.length & 1 ? Buffer.alloc(1) : Buffer.alloc(0);
  return Buffer.concat([Buffer.from(id, 'latin1'), size, body, pad]);
}

function riff(...chunks: Buffer[]): Buffer {
  const body = Buffer.concat([Buffer.from('WAVE', 'latin1'), ...chunks]);
  return chunk('RIFF', body);
}

describe('wavHeader', () => {
  it('lays out the canonical 44-byte PCM header (stereo, 8 kHz, 1 s)', () => {
    const h = wavHeader(2, 8000, 32000);
    expect(h.length).toBe(WAV_HEADER_SIZE);
    expect(h).toEqual(
      hex(`
        52494646 247d0000 57415645
        666d7420 10000000 0100 0200 401f0000 007d0000 0400 1000
        64617461 007d0000`),
    );
  });

  it('lays out a mono header with no data', () => {
    expect(wavHeader(1, 8000, 0)).toEqual(
      hex(`
        52494646 24000000 57415645
        666d7420 10000000 0100 0100 401f0000 803e0000 0200 1000
        64617461 00000000`),
    );
  });

  it('matches an independent encoder byte for byte', () => {
    const left = Int16Array.from([1, -2, 3]);
    const right = Int16Array.from([-4, 5, -6]);
    expect(wavHeader(2, 16000, 12)).toEqual(
      encodeWav([left, right], 16000).subarray(0, WAV_HEADER_SIZE),
    );
    expect(wavHeader(1, 8000, 6)).toEqual(encodeWav(left, 8000).subarray(0, WAV_HEADER_SIZE));
  });

  it('patches only the two sizes', () => {
    const h = wavHeader(2, 8000, 0);
    const before = Buffer.from(h);
    patchWavSizes(h, 640);
    expect(h.readUInt32LE(4)).toBe(36 + 640);
    expect(h.readUInt32LE(40)).toBe(640);
    for (let i = 0; i < WAV_HEADER_SIZE; i++) {
      if ((i >= 4 && i < 8) || i >= 40) continue;
      expect(h[i]).toBe(before[i]);
    }
  });

  it('accepts up to 4 GiB − 44 of data and refuses more', () => {
    const h = wavHeader(1, 8000, MAX_WAV_DATA_BYTES);
    expect(h.readUInt32LE(40)).toBe(0xffffffd4);
    expect(h.readUInt32LE(4)).toBe(0xfffffff8);
    expect(() => patchWavSizes(h, MAX_WAV_DATA_BYTES + 1)).toThrow(RangeError);
    expect(() => patchWavSizes(h, -1)).toThrow(RangeError);
    expect(() => patchWavSizes(h, 1.5)).toThrow(RangeError);
  });

  it('refuses invalid channels and sample rates', () => {
    expect(() => wavHeader(3 as 1, 8000, 0)).toThrow(RangeError);
    expect(() => wavHeader(1, 0, 0)).toThrow(RangeError);
    expect(() => wavHeader(1, 8000.5, 0)).toThrow(RangeError);
  });
});

describe('readWavHeader', () => {
  it('reads back what wavHeader writes', () => {
    expect(readWavHeader(wavHeader(2, 8000, 3200))).toEqual({
      formatTag: 1,
      channels: 2,
      sampleRate: 8000,
      bitsPerSample: 16,
      blockAlign: 4,
      riffBytes: 36 + 3200,
      dataOffset: 44,
      dataBytes: 3200,
    });
  });

  it('skips LIST and other chunks, word-aligned (odd sizes padded)', () => {
    const fmt = wavHeader(1, 16000, 0).subarray(20, 36);
    const file = riff(
      chunk('JUNK', Buffer.alloc(3)),
      chunk('fmt ', fmt),
      chunk('LIST', Buffer.from('INFOISFT\x05\x00\x00\x00sox!\x00', 'latin1')),
      chunk('data', Buffer.alloc(10)),
    );
    const info = readWavHeader(file);
    expect(info).toMatchObject({ channels: 1, sampleRate: 16000, bitsPerSample: 16 });
    expect(info.dataBytes).toBe(10);
    expect(file.length - info.dataOffset).toBe(10);
    // The test helper agrees on where the audio starts.
    expect(parseWav(file).samples.length).toBe(5);
  });

  it('reads an extensible fmt chunk (size 40) and other format tags', () => {
    const fmt = Buffer.alloc(40);
    fmt.writeUInt16LE(0xfffe, 0);
    fmt.writeUInt16LE(2, 2);
    fmt.writeUInt32LE(48000, 4);
    fmt.writeUInt32LE(48000 * 4, 8);
    fmt.writeUInt16LE(4, 12);
    fmt.writeUInt16LE(16, 14);
    const info = readWavHeader(riff(chunk('fmt ', fmt), chunk('data', Buffer.alloc(8))));
    expect(info).toMatchObject({ formatTag: 0xfffe, channels: 2, sampleRate: 48000 });
    expect(info.dataOffset).toBe(12 + 48 + 8);
  });

  it('needs only a prefix: the declared data size may exceed the buffer', () => {
    const prefix = Buffer.concat([wavHeader(2, 8000, 1_000_000), Buffer.alloc(100)]);
    expect(readWavHeader(prefix).dataBytes).toBe(1_000_000);
    expect(readWavHeader(prefix.subarray(0, WAV_HEADER_SIZE)).dataOffset).toBe(44);
  });

  it('names what is wrong with a malformed file', () => {
    const h = wavHeader(1, 8000, 0);
    expect(() => readWavHeader(Buffer.from('RIFX'))).toThrow('not a RIFF/WAVE file');
    const notWave = Buffer.from(h);
    notWave.write('AVI ', 8, 'latin1');
    expect(() => readWavHeader(notWave)).toThrow('not a RIFF/WAVE file');
    expect(() => readWavHeader(h.subarray(0, 36))).toThrow('WAV has no data chunk');
    expect(() => readWavHeader(riff(chunk('LIST', Buffer.alloc(4))))).toThrow(
      'WAV has no fmt chunk',
    );
    expect(() => readWavHeader(riff(chunk('data', Buffer.alloc(4))))).toThrow(
      'WAV data chunk before its fmt chunk',
    );
    expect(() => readWavHeader(riff(chunk('fmt ', Buffer.alloc(14))))).toThrow(
      'WAV fmt chunk too short',
    );
  });
});
