import { describe, it, expect } from '@jest/globals';
import type { Codec } from '../../../../media/codecs/codec.js';
import {
  chooseOpusBackend,
  loadNative,
  loadWasm,
  opusBackend,
  type OpusBackend,
} from '../../../../media/codecs/opusBinding.js';
import { opusCodecWith } from '../../../../media/codecs/opusCodec.js';
import { codecOf } from '../../../../media/codecs/table.js';
import { heapGrowth, snrDb, tone } from './codecTestKit.js';

// Every backend that loads here: WASM always (a regular dependency), native where the
// optional @discordjs/opus built. The entry's tests run over each.
const wasm = loadWasm();
let native: OpusBackend | undefined;
let nativeError = '';
try {
  native = loadNative();
} catch (err) {
  nativeError = (err as Error).message;
}
const backends = native === undefined ? [wasm] : [native, wasm];

describe('Opus backend choice', () => {
  it('uses the native binding when it loads, else WASM with the reason', () => {
    const choice = opusBackend();
    if (native === undefined) {
      expect(choice.backend.name).toBe('wasm');
      expect(choice.nativeError).toBe(nativeError);
    } else {
      expect(choice.backend.name).toBe('native');
      expect(choice.nativeError).toBeUndefined();
    }
    expect(opusBackend()).toBe(choice); // decided once
  });

  it('falls back to WASM, with the reason, when the native binding fails to load', () => {
    const choice = chooseOpusBackend(() => {
      throw new Error('Cannot find module opus.node');
    });
    expect(choice.backend.name).toBe('wasm');
    expect(choice.nativeError).toBe('Cannot find module opus.node');
  });

  it('the table entry codes through the chosen backend', () => {
    const decoder = codecOf('opus').createDecoder();
    const encoder = codecOf('opus').createEncoder();
    const payload = new Uint8Array(1500);
    const n = encoder.encode(tone(1000, 16000, 320), 320, payload);
    expect(n).toBeGreaterThan(0);
    expect(decoder.decode(payload, 0, n, new Int16Array(1920))).toBe(320);
    decoder.close();
    encoder.close();
  });
});

describe.each(backends.map((b) => [b.name, b] as const))('Opus codec entry (%s)', (_, backend) => {
  const OPUS: Codec = opusCodecWith(() => backend);

  function encodeTone(
    frequency: number,
    frames: number,
  ): { input: Int16Array; packets: Uint8Array[] } {
    const input = tone(frequency, 16000, 320 * frames);
    const encoder = OPUS.createEncoder();
    const payload = new Uint8Array(1500);
    const packets: Uint8Array[] = [];
    for (let off = 0; off < input.length; off += 320) {
      const n = encoder.encode(input.subarray(off, off + 320), 320, payload);
      expect(n).toBeGreaterThan(0);
      packets.push(payload.slice(0, n));
    }
    encoder.close();
    return { input, packets };
  }

  it('describes the wire and the audio (RFC 7587)', () => {
    expect(OPUS).toMatchObject({
      rtpClockRate: 48000,
      sampleRate: 16000,
      frameSamples: 320,
      rtpTicksPerFrame: 960,
      maxFrameSamples: 1920,
      wideband: true,
      nativePlc: true,
      sdp: {
        encodingName: 'opus',
        clockRate: 48000,
        channels: 2,
        payloadType: 111,
        fmtp: 'minptime=10;useinbandfec=1',
      },
    });
  });

  // Opus is a perceptual codec: at 24 kbit/s a steady tone comes back at ~ 20-30 dB SNR
  // against the delayed input (waveform match is not its goal). 10 dB is far above what
  // silence, a wrong frequency or a broken decoder give (≤ 0 dB), with margin for the
  // encoder's choices.
  it.each([440, 1000, 6000])('a %i Hz tone survives a round trip', (frequency) => {
    const { input, packets } = encodeTone(frequency, 50);
    const decoder = OPUS.createDecoder();
    const output = new Int16Array(input.length);
    const frame = new Int16Array(OPUS.maxFrameSamples);
    packets.forEach((packet, i) => {
      expect(decoder.decode(packet, 0, packet.length, frame)).toBe(320);
      output.set(frame.subarray(0, 320), i * 320);
    });
    decoder.close();
    expect(snrDb(input, output, 3200, 400)).toBeGreaterThanOrEqual(10);
  });

  it('returns -1 for corrupt payloads and never throws', () => {
    const decoder = OPUS.createDecoder();
    const out = new Int16Array(OPUS.maxFrameSamples);
    expect(decoder.decode(new Uint8Array(0), 0, 0, out)).toBe(-1);
    // Code 3 (RFC 6716 §3.2.5) with 0 frames, and a frame length past the end.
    expect(decoder.decode(Uint8Array.of(0x03, 0x00), 0, 2, out)).toBe(-1);
    expect(decoder.decode(Uint8Array.of(0x03, 0x3f, 0xff, 0xff), 0, 4, out)).toBe(-1);
    expect(decoder.decode(new Uint8Array(10), 8, 20, out)).toBe(-1); // past the buffer
    for (let i = 0; i < 200; i++) {
      const junk = Uint8Array.from({ length: 1 + (i % 80) }, (_, k) => (i * 31 + k * 17) & 0xff);
      const n = decoder.decode(junk, 0, junk.length, out);
      expect(n === -1 || (n > 0 && n <= OPUS.maxFrameSamples)).toBe(true);
    }
  });

  it('decodes DTX packets (TOC only) without error', () => {
    const { packets } = encodeTone(1000, 5);
    const decoder = OPUS.createDecoder();
    const out = new Int16Array(OPUS.maxFrameSamples);
    expect(decoder.decode(packets[0]!, 0, packets[0]!.length, out)).toBe(320);
    // A 1-byte packet is the TOC of a DTX frame (RFC 6716 §3.2.1, code 0, no data).
    expect(decoder.decode(packets[1]!, 0, 1, out)).toBe(320);
    expect(decoder.decode(Uint8Array.of(packets[1]![0]!, 0), 0, 2, out)).toBe(320);
  });

  it('conceals with Opus PLC: continues the tone across a lost packet, fading after', () => {
    const { input, packets } = encodeTone(440, 40);
    const decoder = OPUS.createDecoder();
    const out = new Int16Array(OPUS.maxFrameSamples);
    const output = new Int16Array(input.length);
    packets.forEach((packet, i) => {
      if (i === 20) expect(decoder.conceal(out, 320)).toBe(320);
      else expect(decoder.decode(packet, 0, packet.length, out)).toBe(320);
      output.set(out.subarray(0, 320), i * 320);
    });
    const rms = (a: Int16Array): number => Math.sqrt(a.reduce((s, v) => s + v * v, 0) / a.length);
    const concealed = output.subarray(20 * 320, 21 * 320);
    const before = output.subarray(19 * 320, 20 * 320);
    // PLC keeps the tone going (a fading repeat or silence would not reach half the level).
    expect(rms(concealed)).toBeGreaterThan(rms(before) / 2);
    // A long gap is served from one PLC run and goes quiet; then audio resumes.
    const gap = new Int16Array(320);
    for (let k = 0; k < 30; k++) expect(decoder.conceal(gap, 320)).toBe(320);
    expect(rms(gap)).toBeLessThan(rms(before) / 10);
    expect(decoder.decode(packets[39]!, 0, packets[39]!.length, out)).toBe(320);
    expect(decoder.conceal(out, 100)).toBe(100);
  });

  it('has no FEC decode: the binding cannot ask libopus for it', () => {
    expect(OPUS.createDecoder().decodeFec).toBeUndefined();
  });

  it('close() is idempotent and later calls fail softly', () => {
    const decoder = OPUS.createDecoder();
    const encoder = OPUS.createEncoder();
    decoder.close();
    decoder.close();
    encoder.close();
    encoder.close();
    const out = new Int16Array(OPUS.maxFrameSamples);
    expect(decoder.decode(Uint8Array.of(0x08), 0, 1, out)).toBe(-1);
    expect(decoder.conceal(out, 320)).toBe(320);
    expect(encoder.encode(new Int16Array(320), 320, new Uint8Array(1500))).toBe(0);
  });

  it('encodes and decodes without heap growth', () => {
    const encoder = OPUS.createEncoder();
    const decoder = OPUS.createDecoder();
    const pcm = tone(1000, 16000, 320);
    const payload = new Uint8Array(1500);
    const out = new Int16Array(OPUS.maxFrameSamples);
    const growth = heapGrowth(() => {
      const n = encoder.encode(pcm, 320, payload);
      decoder.decode(payload, 0, n, out);
    }, 5000);
    expect(growth).toBeLessThan(1024 * 1024);
  });
});
