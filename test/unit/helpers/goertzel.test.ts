import { describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  analyzeTone,
  encodeWav,
  goertzelPower,
  hasTone,
  lacksTone,
  levelDbfs,
  parseWav,
  readWav,
  relativeTonePower,
  synthTone,
} from '../../helpers/goertzel.js';

const FS = 8000;

/** G.711 µ-law encoder (ITU-T G.711, the classic Sun implementation), for test input. */
function linearToMulaw(sample: number): number {
  const BIAS = 0x84;
  let s = Math.max(-32635, Math.min(32635, sample));
  const sign = s < 0 ? 0x80 : 0;
  if (s < 0) s = -s;
  s += BIAS;
  let exp = 7;
  for (let mask = 0x4000; (s & mask) === 0 && exp > 0; mask >>= 1) exp -= 1;
  const mant = (s >> (exp + 3)) & 0x0f;
  return ~(sign | (exp << 4) | mant) & 0xff;
}

function concat(...parts: Int16Array[]): Int16Array {
  const out = new Int16Array(parts.reduce((n, p) => n + p.length, 0));
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

/** A WAV with arbitrary chunks, for parser tests. */
function riff(chunks: Array<[string, Buffer, number?]>): Buffer {
  const parts: Buffer[] = [];
  for (const [id, body, declared] of chunks) {
    const head = Buffer.alloc(8);
    head.write(id, 0, 'latin1');
    head.writeUInt32LE(declared ?? body.length, 4);
    parts.push(head, body);
    if (body.length & 1) parts.push(Buffer.alloc(1));
  }
  const inner = Buffer.concat(parts);
  const head = Buffer.alloc(12);
  head.write('RIFF', 0, 'latin1');
  head.writeUInt32LE(inner.length + 4, 4);
  head.write('WAVE', 8, 'latin1');
  return Buffer.concat([head, inner]);
}

function fmtChunk(
  tag: number,
  channels: number,
  rate: number,
  bits: number,
  extensible = false,
): Buffer {
  const b = Buffer.alloc(extensible ? 40 : 16);
  b.writeUInt16LE(extensible ? 0xfffe : tag, 0);
  b.writeUInt16LE(channels, 2);
  b.writeUInt32LE(rate, 4);
  b.writeUInt32LE((rate * channels * bits) / 8, 8);
  b.writeUInt16LE((channels * bits) / 8, 12);
  b.writeUInt16LE(bits, 14);
  if (extensible) {
    b.writeUInt16LE(22, 16);
    b.writeUInt16LE(bits, 18);
    b.writeUInt32LE(channels === 1 ? 4 : 3, 20);
    b.writeUInt16LE(tag, 24); // SubFormat GUID starts with the format tag
    Buffer.from('000000001000800000aa00389b71', 'hex').copy(b, 26);
  }
  return b;
}

function pcmBytes(samples: Int16Array): Buffer {
  const b = Buffer.alloc(samples.length * 2);
  samples.forEach((s, i) => b.writeInt16LE(s, i * 2));
  return b;
}

describe('goertzelPower', () => {
  it('gives (A·N/2)² for a rectangular-window sine at a bin centre', () => {
    const n = 800;
    const a = 0.5 * 32767;
    const x = synthTone(FS, n / FS, [{ freq: 1000, amplitude: 0.5 }]);
    const p = goertzelPower(x, FS, 1000, 0, n, 'rect');
    expect(p / ((a * n) / 2) ** 2).toBeCloseTo(1, 2);
  });

  it('works between bin centres (non-integer k)', () => {
    const x = synthTone(FS, 0.1, [{ freq: 1234.5 }]);
    expect(relativeTonePower(x, FS, 1234.5)).toBeGreaterThan(0.99);
  });
});

describe('relativeTonePower', () => {
  it('is ≈1 for a pure tone and ≈0 at other frequencies', () => {
    const x = synthTone(FS, 0.1, [{ freq: 1000 }]);
    expect(relativeTonePower(x, FS, 1000)).toBeGreaterThan(0.99);
    expect(relativeTonePower(x, FS, 440)).toBeLessThan(1e-4);
    expect(relativeTonePower(x, FS, 1800)).toBeLessThan(1e-4);
  });

  it('splits the energy between equal tones (≈1/k each)', () => {
    const two = synthTone(FS, 0.1, [
      { freq: 440, amplitude: 0.3 },
      { freq: 1000, amplitude: 0.3 },
    ]);
    expect(relativeTonePower(two, FS, 440)).toBeCloseTo(0.5, 1);
    expect(relativeTonePower(two, FS, 1000)).toBeCloseTo(0.5, 1);
    const three = synthTone(FS, 0.1, [
      { freq: 440, amplitude: 0.3 },
      { freq: 1000, amplitude: 0.3 },
      { freq: 1800, amplitude: 0.3 },
    ]);
    for (const f of [440, 1000, 1800])
      expect(relativeTonePower(three, FS, f)).toBeCloseTo(1 / 3, 1);
  });

  it('is independent of level and phase', () => {
    for (const [amplitude, phase] of [
      [0.01, 0],
      [0.2, 1],
      [0.9, 2.5],
    ] as const) {
      const x = synthTone(FS, 0.1, [{ freq: 700, amplitude, phase }]);
      expect(relativeTonePower(x, FS, 700)).toBeGreaterThan(0.98);
    }
  });

  it('has the documented ±20 Hz main lobe at 100 ms blocks', () => {
    const at = (offset: number): number =>
      relativeTonePower(synthTone(FS, 0.1, [{ freq: 1000 + offset }]), FS, 1000);
    expect(at(5)).toBeGreaterThan(0.6);
    expect(at(10)).toBeGreaterThan(0.15);
    expect(at(10)).toBeLessThan(0.35);
    expect(at(20)).toBeLessThan(0.01);
    expect(at(100)).toBeLessThan(1e-4);
  });

  it('is 0 for silence and small for white noise', () => {
    expect(relativeTonePower(new Int16Array(800), FS, 1000)).toBe(0);
    const noise = synthTone(FS, 0.1, [], { noiseAmplitude: 0.5, seed: 7 });
    expect(relativeTonePower(noise, FS, 1000)).toBeLessThan(0.05);
  });
});

describe('levelDbfs', () => {
  it('measures RMS relative to full scale', () => {
    expect(levelDbfs(synthTone(FS, 0.1, [{ freq: 1000, amplitude: 1 }]))).toBeCloseTo(-3.01, 1);
    expect(levelDbfs(synthTone(FS, 0.1, [{ freq: 1000, amplitude: 0.5 }]))).toBeCloseTo(-9.03, 1);
    expect(levelDbfs(new Int16Array(100))).toBe(-Infinity);
  });
});

describe('hasTone / lacksTone', () => {
  it('detects a tone and rejects others', () => {
    const x = synthTone(FS, 2, [{ freq: 1000 }]);
    expect(hasTone(x, 1000)).toBe(true);
    expect(hasTone(x, 440)).toBe(false);
    expect(lacksTone(x, 440)).toBe(true);
    expect(lacksTone(x, 1000)).toBe(false);
  });

  it('finds every voice of a three-way mix and nothing else', () => {
    const audio = {
      sampleRate: FS,
      samples: synthTone(FS, 2, [
        { freq: 440, amplitude: 0.3 },
        { freq: 1000, amplitude: 0.3 },
        { freq: 1800, amplitude: 0.3 },
      ]),
    };
    for (const f of [440, 1000, 1800]) expect(hasTone(audio, f)).toBe(true);
    expect(lacksTone(audio, 2500)).toBe(true);
  });

  it('finds a tone 10 dB under white noise of the same bandwidth', () => {
    const x = synthTone(FS, 2, [{ freq: 1000, amplitude: 0.1 }], { noiseAmplitude: 0.3, seed: 3 });
    expect(hasTone(x, 1000)).toBe(true);
    expect(lacksTone(x, 440)).toBe(true);
  });

  it('survives G.711 µ-law coding', () => {
    const x = synthTone(FS, 1, [
      { freq: 440, amplitude: 0.3 },
      { freq: 1800, amplitude: 0.3 },
    ]);
    const ulaw = Buffer.from(Array.from(x, linearToMulaw));
    const wav = parseWav(
      riff([
        ['fmt ', fmtChunk(7, 1, FS, 8)],
        ['data', ulaw],
      ]),
    );
    expect(wav.formatTag).toBe(7);
    expect(hasTone(wav, 440)).toBe(true);
    expect(hasTone(wav, 1800)).toBe(true);
    expect(lacksTone(wav, 1000)).toBe(true);
  });

  it('ignores silence: a tone with silent gaps is still present', () => {
    const x = concat(
      new Int16Array(FS),
      synthTone(FS, 1, [{ freq: 1000 }]),
      new Int16Array(FS * 2),
    );
    const r = analyzeTone(x, 1000);
    expect(r.blocks).toBe(40);
    expect(r.voicedBlocks).toBe(10);
    expect(hasTone(x, 1000)).toBe(true);
  });

  it('needs the tone in half of the voiced audio, or a window that selects it', () => {
    const x = concat(synthTone(FS, 1, [{ freq: 1000 }]), synthTone(FS, 3, [{ freq: 440 }]));
    expect(hasTone(x, 1000)).toBe(false);
    expect(hasTone(x, 1000, { endSec: 1 })).toBe(true);
    expect(hasTone(x, 440, { startSec: 1 })).toBe(true);
    expect(lacksTone(x, 1000, { startSec: 1 })).toBe(true);
  });

  it('needs at least minSeconds of tone', () => {
    const x = synthTone(FS, 0.3, [{ freq: 1000 }]);
    expect(hasTone(x, 1000)).toBe(false);
    expect(hasTone(x, 1000, { minSeconds: 0.3 })).toBe(true);
  });

  it('treats digital silence as lacking every tone', () => {
    const x = new Int16Array(FS * 2);
    expect(hasTone(x, 1000)).toBe(false);
    expect(lacksTone(x, 1000)).toBe(true);
    expect(analyzeTone(x, 1000).voicedBlocks).toBe(0);
  });

  it('catches a leak of one voice in a mix', () => {
    const leak = synthTone(FS, 2, [
      { freq: 440, amplitude: 0.3 },
      { freq: 1800, amplitude: 0.1 },
    ]);
    expect(lacksTone(leak, 1800)).toBe(false);
    const r = analyzeTone(leak, 1800);
    expect(r.maxRelativePower).toBeCloseTo(0.1, 1);
  });

  it('honours sampleRate for plain samples and for 16 kHz audio', () => {
    const x = synthTone(16000, 1, [{ freq: 3000 }]);
    expect(hasTone({ samples: x, sampleRate: 16000 }, 3000)).toBe(true);
    expect(hasTone(x, 3000, { sampleRate: 16000 })).toBe(true);
  });
});

describe('parseWav', () => {
  const tone = synthTone(FS, 0.5, [{ freq: 1000 }]);

  it('round-trips encodeWav', () => {
    const w = parseWav(encodeWav(tone, FS));
    expect(w.sampleRate).toBe(FS);
    expect(w.channels).toBe(1);
    expect(w.truncated).toBe(false);
    expect(Array.from(w.samples)).toEqual(Array.from(tone));
  });

  it('finds data after other chunks, skipping odd-sized chunks with their pad byte', () => {
    const buf = riff([
      ['fmt ', fmtChunk(1, 1, FS, 16)],
      ['LIST', Buffer.from('INFOISFT\x05\x00\x00\x00sox!\x00', 'latin1')],
      ['odd ', Buffer.from([1, 2, 3])],
      ['data', pcmBytes(tone)],
      ['junk', Buffer.alloc(10)],
    ]);
    expect(Array.from(parseWav(buf).samples)).toEqual(Array.from(tone));
  });

  it('accepts fmt after data and WAVE_FORMAT_EXTENSIBLE', () => {
    const buf = riff([
      ['data', pcmBytes(tone)],
      ['fmt ', fmtChunk(1, 1, FS, 16, true)],
    ]);
    const w = parseWav(buf);
    expect(w.formatTag).toBe(1);
    expect(w.samples.length).toBe(tone.length);
  });

  it('deinterleaves channels; samples is channel 0', () => {
    const left = synthTone(FS, 0.5, [{ freq: 440 }]);
    const right = synthTone(FS, 0.5, [{ freq: 1800 }]);
    const w = parseWav(encodeWav([left, right], FS));
    expect(w.channels).toBe(2);
    expect(hasTone(w, 440)).toBe(true);
    expect(lacksTone(w, 1800)).toBe(true);
    expect(hasTone({ sampleRate: FS, samples: w.channelData[1] as Int16Array }, 1800)).toBe(true);
  });

  it('reads to the end of the file when the data size is unfinished (0, 0xFFFFFFFF or too big)', () => {
    for (const declared of [0, 0xffffffff, tone.length * 2 + 1000]) {
      const w = parseWav(
        riff([
          ['fmt ', fmtChunk(1, 1, FS, 16)],
          ['data', pcmBytes(tone), declared],
        ]),
      );
      expect(w.samples.length).toBe(tone.length);
      expect(w.truncated).toBe(true);
    }
  });

  it('decodes A-law', () => {
    const w = parseWav(
      riff([
        ['fmt ', fmtChunk(6, 1, FS, 8)],
        ['data', Buffer.from([0xd5, 0x55, 0xaa, 0x2a])],
      ]),
    );
    expect(Array.from(w.samples)).toEqual([8, -8, 32256, -32256]);
  });

  it('decodes µ-law', () => {
    const w = parseWav(
      riff([
        ['fmt ', fmtChunk(7, 1, FS, 8)],
        ['data', Buffer.from([0xff, 0x7f, 0x80, 0x00])],
      ]),
    );
    expect(Array.from(w.samples)).toEqual([0, 0, 32124, -32124]);
  });

  it('rejects non-WAV input and unsupported formats clearly', () => {
    expect(() => parseWav(Buffer.from('not a wav file at all'))).toThrow(/RIFF\/WAVE/);
    expect(() => parseWav(riff([['data', pcmBytes(tone)]]))).toThrow(/fmt/);
    expect(() => parseWav(riff([['fmt ', fmtChunk(1, 1, FS, 16)]]))).toThrow(/data/);
    expect(() =>
      parseWav(
        riff([
          ['fmt ', fmtChunk(1, 1, FS, 8)],
          ['data', Buffer.alloc(8)],
        ]),
      ),
    ).toThrow(/unsupported/);
    expect(() =>
      parseWav(
        riff([
          ['fmt ', fmtChunk(3, 1, FS, 32)],
          ['data', Buffer.alloc(8)],
        ]),
      ),
    ).toThrow(/unsupported/);
  });

  // sox is installed by `npm test` (scripts/install-test-peers.sh): without it this fails.
  it('reads a WAV written by sox (the tone source the phones play)', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'goertzel-'));
    try {
      const file = path.join(dir, 'tone.wav');
      const r = spawnSync('sox', [
        '-n',
        '-r',
        '8000',
        '-c',
        '1',
        '-b',
        '16',
        file,
        'synth',
        '2',
        'sine',
        '1000',
        'vol',
        '0.5',
      ]);
      expect(r.status).toBe(0);
      const w = readWav(file);
      expect(w.sampleRate).toBe(8000);
      expect(w.samples.length).toBe(16000);
      expect(hasTone(w, 1000)).toBe(true);
      expect(lacksTone(w, 440)).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
