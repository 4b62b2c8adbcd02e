import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { AudioEncoder } from '../../../../media/codecs/codec.js';
import {
  OGG_BOS,
  OGG_EOS,
  OggStream,
  oggCrc,
  selfDelimited,
} from '../../../../media/recording/oggMuxer.js';
import { OggOpusRecorder, OPUS_PRE_SKIP } from '../../../../media/recording/oggOpusRecorder.js';
import { WavRecorder } from '../../../../media/recording/wavRecorder.js';
import { oggPages, type OggPage } from '../../../helpers/oggOpus.js';

/** Every page of an Ogg file, each CRC checked (throws on a malformed one), none cut short. */
function parsePages(buf: Buffer): OggPage[] {
  const { pages, trailing } = oggPages(buf);
  expect(trailing).toBe(0);
  return pages;
}

/** A stand-in Opus encoder: a code 0 packet (TOC 0x78: SILK WB 20 ms) of 40 bytes. */
function fakeEncoder(): AudioEncoder {
  return {
    encode(pcm, samples, out) {
      out[0] = 0x78;
      for (let i = 1; i < 40; i++) out[i] = (pcm[i % samples]! >> 8) & 0xff;
      return 40;
    },
    close() {},
  };
}

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'callwatch-fmt-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('Ogg muxer', () => {
  it('computes the Ogg CRC-32 (poly 0x04C11DB7, init 0, no reflection)', () => {
    // CRC-32/POSIX's check value is 0x765E7680 = this CRC xor 0xFFFFFFFF.
    expect(oggCrc(Buffer.from('123456789'))).toBe(0x89a1897f);
  });

  it('writes pages of whole packets with lacing, sequence, granule and a valid CRC', () => {
    const s = new OggStream(0x1234);
    const a = s.page([Buffer.alloc(10, 1)], 0, OGG_BOS);
    const b = s.page([Buffer.alloc(300, 2), Buffer.alloc(255, 3)], 1920, OGG_EOS);
    const pages = parsePages(Buffer.concat([a, b]));
    expect(pages.map((p) => p.sequence)).toEqual([0, 1]);
    expect(pages[0]!.flags).toBe(OGG_BOS);
    expect(pages[1]!.granule).toBe(1920);
    expect(pages[1]!.packets.map((p) => p.length)).toEqual([300, 255]);
    expect(b[26]).toBe(2 + 2); // 300 = 255 + 45; 255 = 255 + 0
  });

  it('rewrites Opus packets in self-delimiting framing (RFC 6716 B)', () => {
    const out = new Uint8Array(600);
    const code0 = Uint8Array.from([0x78, 1, 2, 3]);
    expect(selfDelimited(code0, 4, out, 0)).toBe(5);
    expect([...out.subarray(0, 5)]).toEqual([0x78, 3, 1, 2, 3]);
    const big = new Uint8Array(301).fill(7);
    big[0] = 0x78;
    expect(selfDelimited(big, 301, out, 0)).toBe(303);
    expect(out[1]! + 4 * out[2]!).toBe(300);
    const code3cbr = Uint8Array.from([0x7b, 0x02, 9, 9, 8, 8]);
    expect(selfDelimited(code3cbr, 6, out, 0)).toBe(7);
    expect([...out.subarray(0, 7)]).toEqual([0x7b, 0x02, 2, 9, 9, 8, 8]);
  });
});

describe('OggOpusRecorder', () => {
  it('writes OpusHead, OpusTags and 1 s pages with 48 kHz granules; every page is whole', async () => {
    const file = path.join(dir, 'r.opus');
    const codec = { sampleRate: 16000, frameSamples: 320, createEncoder: fakeEncoder };
    const r = await OggOpusRecorder.open({ path: file, channels: 2, codec, inputSampleRate: 8000 });
    const frame = new Int16Array(320).fill(1000);
    for (let i = 0; i < 120; i++) r.writeFrame(frame, null);
    // A crash now: the file holds the header pages and the full pages written so far.
    await new Promise((resolve) => setTimeout(resolve, 50));
    const partial = parsePages(await readFile(file));
    expect(partial.length).toBe(4);
    expect(partial[3]!.granule).toBe(100 * 960);
    await r.close();
    const pages = parsePages(await readFile(file));
    const head = pages[0]!.packets[0]!;
    expect(head.toString('latin1', 0, 8)).toBe('OpusHead');
    expect(head[9]).toBe(2);
    expect(head.readUInt16LE(10)).toBe(OPUS_PRE_SKIP);
    expect(head.readUInt32LE(12)).toBe(8000);
    expect(head[18]).toBe(1); // two mono streams, left and right
    expect(pages[0]!.flags).toBe(OGG_BOS);
    expect(pages[1]!.packets[0]!.toString('latin1', 0, 8)).toBe('OpusTags');
    expect(pages[1]!.granule).toBe(0);
    const audio = pages.slice(2);
    expect(audio.map((p) => p.packets.length)).toEqual([50, 50, 20]);
    expect(audio.map((p) => p.granule)).toEqual([50 * 960, 100 * 960, 120 * 960]);
    expect(audio[2]!.flags).toBe(OGG_EOS);
    // Stream 0 self-delimited (TOC, length 39, 39 bytes), then stream 1 as is.
    const packet = audio[0]!.packets[0]!;
    expect(packet.length).toBe(41 + 40);
    expect(packet[1]).toBe(39);
    expect(packet[41]).toBe(0x78);
  });
});

describe('G.711 WAV', () => {
  for (const [encoding, tag, name] of [
    ['mulaw', 7, 'u-law'],
    ['alaw', 6, 'A-law'],
  ] as const) {
    it(`${encoding}: a 58-byte header with a fact chunk, read by sox; received bytes kept`, async () => {
      const file = path.join(dir, `${encoding}.wav`);
      const r = await WavRecorder.open({ path: file, channels: 2, encoding, frameSamples: 160 });
      const raw = new Int16Array(160).fill(0x2a);
      const pcm = new Int16Array(160).fill(-1234);
      for (let i = 0; i < 50; i++) r.writeFrame(pcm, pcm, raw, null);
      await r.close();
      const wav = await readFile(file);
      expect(wav.length).toBe(58 + 50 * 160 * 2);
      expect(wav.readUInt16LE(20)).toBe(tag);
      expect(wav.toString('latin1', 38, 42)).toBe('fact');
      expect(wav.readUInt32LE(46)).toBe(50 * 160);
      expect(wav.readUInt32LE(54)).toBe(50 * 160 * 2);
      expect(wav[58]).toBe(0x2a); // left: the received byte as it came
      const info = execFileSync('sox', ['--i', file], { encoding: 'utf8' });
      expect(info).toMatch(/Channels\s*:\s*2/);
      expect(info).toMatch(/Sample Rate\s*:\s*8000/);
      expect(info).toMatch(/Duration\s*:\s*00:00:01\.00/);
      expect(info).toContain(name);
    });
  }
});
