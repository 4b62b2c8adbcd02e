import { describe, it, expect } from '@jest/globals';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { G722Decoder, G722Encoder } from '../../../../media/codecs/g722.js';
import { codecOf } from '../../../../media/codecs/table.js';
import { heapGrowth, snrDb, tone } from './codecTestKit.js';
import { makeInput, makeRandomPayload, VECTOR_SAMPLES } from './g722Vectors.js';

const vector = (name: string): Buffer =>
  readFileSync(fileURLToPath(new URL(`./vectors/${name}`, import.meta.url)));
const sha256 = (a: ArrayBufferView): string =>
  createHash('sha256')
    .update(new Uint8Array(a.buffer, a.byteOffset, a.byteLength))
    .digest('hex');

// Digests of libspandsp 0.0.6's outputs (vectors/README.md).
const INPUT_SHA = '1b2ec8812bbc7a115569395482276311881b3afe26c271860dce036be7ce8a24';
const REF_DECODE_SHA = '72b709e68d1de8cc44a5b74168b7dbfff7df72d5f10476b5b0fb3ca35906edd1';
const RANDOM_DECODE_SHA = 'bc6fea9d04b863ec8afa5054b74719fa77aa72eb854587279f3d09e7436bcfa5';

function decodeAll(payload: Uint8Array, chunk: number, wrapOverflow = false): Int16Array {
  const decoder = new G722Decoder(wrapOverflow);
  const pcm = new Int16Array(payload.length * 2);
  let n = 0;
  for (let off = 0; off < payload.length; off += chunk) {
    n += decoder.decode(payload, off, Math.min(chunk, payload.length - off), pcm.subarray(n));
  }
  expect(n).toBe(pcm.length);
  return pcm;
}

describe('G.722 against libspandsp reference vectors', () => {
  it('generates the same input signal', () => {
    expect(sha256(makeInput())).toBe(INPUT_SHA);
  });

  it('encodes bit-exactly', () => {
    const pcm = makeInput();
    const encoder = new G722Encoder();
    const out = new Uint8Array(VECTOR_SAMPLES / 2);
    let n = 0;
    for (let off = 0; off < VECTOR_SAMPLES; off += 320) {
      n += encoder.encode(pcm.subarray(off, off + 320), 320, out.subarray(n));
    }
    expect(n).toBe(out.length);
    expect(Buffer.from(out).equals(vector('g722-ref.g722'))).toBe(true);
  });

  it('decodes bit-exactly, except that it saturates where spandsp wraps', () => {
    for (const [payload, digest] of [
      [new Uint8Array(vector('g722-ref.g722')), REF_DECODE_SHA],
      [makeRandomPayload(), RANDOM_DECODE_SHA],
    ] as const) {
      const wrapped = decodeAll(payload, 160, true);
      expect(sha256(wrapped)).toBe(digest);
      // Saturating changes only the overflowing samples: where the two differ, ours is
      // full scale (the wrapped value is whatever the overflow left in 16 bits).
      const ours = decodeAll(payload, 160);
      const differing: number[] = [];
      for (let i = 0; i < ours.length; i++) {
        if (ours[i] !== wrapped[i] && ours[i] !== 32767 && ours[i] !== -32768) differing.push(i);
      }
      expect(differing).toEqual([]);
    }
  });

  it('decodes the same whatever the payload chunking', () => {
    const payload = new Uint8Array(vector('g722-ref.g722'));
    expect(sha256(decodeAll(payload, 7, true))).toBe(REF_DECODE_SHA);
  });
});

// sippy/libg722 1.2.8's own test data and the SHA-256 digests its `make test` compares
// against (vectors/libg722/README.md): decodes of two payload files at 16 kHz, and an
// encode then decode of a big-endian 16 kHz PCM file. libg722 saturates like we do.
describe('G.722 against sippy/libg722 test data', () => {
  const libg722 = (name: string): Buffer => vector(`libg722/${name}`);
  const digests = new Map(
    libg722('test.checksum')
      .toString('latin1')
      .trim()
      .split('\n')
      .map((line) => {
        const [digest, name] = line.split(' *');
        return [name!, digest!] as const;
      }),
  );
  const bigEndian = (pcm: Int16Array): Buffer => {
    const bytes = Buffer.alloc(pcm.length * 2);
    pcm.forEach((v, i) => bytes.writeInt16BE(v, i * 2));
    return bytes;
  };

  it('decodes its payloads to its digests', () => {
    expect(sha256(decodeAll(new Uint8Array(libg722('test.g722')), 10))).toBe(
      digests.get('test.raw.16k.out'),
    );
    expect(sha256(decodeAll(new Uint8Array(libg722('fullscale.g722')), 10))).toBe(
      digests.get('fullscale.raw.out'),
    );
  });

  it('encodes its PCM file, and decodes the result, to its digests', () => {
    const raw = libg722('pcminb.dat');
    const pcm = new Int16Array(raw.length >> 1);
    for (let i = 0; i < pcm.length; i++) pcm[i] = raw.readInt16BE(i * 2);
    const encoder = new G722Encoder();
    const payload = new Uint8Array(pcm.length >> 1);
    let n = 0;
    for (let off = 0; off < pcm.length; off += 20) {
      n += encoder.encode(
        pcm.subarray(off, off + 20),
        Math.min(20, pcm.length - off),
        payload.subarray(n),
      );
    }
    expect(n).toBe(payload.length);
    expect(sha256(payload)).toBe(digests.get('pcminb.g722.out'));
    expect(sha256(bigEndian(decodeAll(payload, 10)))).toBe(digests.get('pcminb.raw.16k.out'));
  });
});

describe('G.722 codec entry', () => {
  const G722 = codecOf('G722');

  function roundTrip(frequency: number): { input: Int16Array; output: Int16Array } {
    const input = tone(frequency, 16000, 320 * 50);
    const output = new Int16Array(input.length);
    const encoder = G722.createEncoder();
    const decoder = G722.createDecoder();
    const payload = new Uint8Array(160);
    const frame = new Int16Array(G722.maxFrameSamples);
    for (let off = 0; off < input.length; off += 320) {
      expect(encoder.encode(input.subarray(off, off + 320), 320, payload)).toBe(160);
      expect(decoder.decode(payload, 0, 160, frame)).toBe(320);
      output.set(frame.subarray(0, 320), off);
    }
    return { input, output };
  }

  it('describes the wire and the audio (RFC 3551 §4.5.2)', () => {
    expect(G722).toMatchObject({
      rtpClockRate: 8000,
      sampleRate: 16000,
      frameSamples: 320,
      rtpTicksPerFrame: 160,
      wideband: true,
      sdp: { encodingName: 'G722', clockRate: 8000, payloadType: 9 },
    });
  });

  // 64 kbit/s G.722 reaches ~ 40 dB SNR on a clean tone in the lower band (6-bit ADPCM);
  // the higher band has only 2 bits, so a 6 kHz tone keeps ~ 15-20 dB: thresholds below
  // those by a margin, well above what a lost or aliased band would give (≤ 0 dB).
  it.each([
    [1000, 30],
    [3000, 25],
    [6000, 12],
  ])('a %i Hz tone survives a round trip (SNR ≥ %i dB)', (frequency, minSnr) => {
    const { input, output } = roundTrip(frequency);
    expect(snrDb(input, output, 1600)).toBeGreaterThanOrEqual(minSnr);
  });

  it('never throws on odd payloads, and conceals', () => {
    const decoder = G722.createDecoder();
    const out = new Int16Array(G722.maxFrameSamples);
    expect(decoder.decode(new Uint8Array(0), 0, 0, out)).toBe(0);
    expect(decoder.decode(new Uint8Array(3).fill(0xff), 0, 3, out)).toBe(6);
    expect(decoder.decode(new Uint8Array(4000), 0, 4000, out)).toBe(G722.maxFrameSamples);
    expect(decoder.decode(new Uint8Array(10), 5, 20, out)).toBe(10); // past the end: cut
    expect(decoder.decode(new Uint8Array(10), 0, -3, out)).toBe(0);
    expect(decoder.decode(new Uint8Array(160).fill(0x55), 0, 160, out.subarray(0, 100))).toBe(100);
    expect(decoder.conceal(out, 320)).toBe(320);
    decoder.close();
    decoder.close();
    G722.createEncoder().close();
  });

  it('encodes and decodes without heap growth', () => {
    const encoder = G722.createEncoder();
    const decoder = G722.createDecoder();
    const pcm = tone(1000, 16000, 320);
    const payload = new Uint8Array(160);
    const out = new Int16Array(G722.maxFrameSamples);
    const growth = heapGrowth(() => {
      encoder.encode(pcm, 320, payload);
      decoder.decode(payload, 0, 160, out);
    }, 20000);
    expect(growth).toBeLessThan(512 * 1024);
  });
});
