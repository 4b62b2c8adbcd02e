/**
 * A G.711 recording (`recording.format: wav-g711`) survives a crash: the server is killed
 * (SIGKILL) in the middle of a call between two baresip phones, and the µ-law WAV it was
 * writing is valid (its header never claims more than is on disk, sox reads it), holds
 * the audio up to about the last flush (the writer flushes every second), and carries
 * both parties' tones (customer left, agent right).
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { readWavHeader } from '../../media/recording/wavHeader.js';
import { hasTone, readWav } from '../helpers/goertzel.js';
import { dialAndAnswer, PhonePool, sleep, startPhoneServer } from '../helpers/phoneScene.js';
import { type ServerHandle } from '../helpers/server.js';

const CALLER_HZ = 440;
const CALLEE_HZ = 1000;
const EXTENSIONS = [
  { number: '1001', password: 'pw1001' },
  { number: '1002', password: 'pw1002' },
];

let server: ServerHandle;
let dir: string;
const phones = new PhonePool(() => server);

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'callwatch-rec-g711-'));
  server = await startPhoneServer(
    { recording: { directory: dir, format: 'wav-g711' } },
    EXTENSIONS,
    20,
  );
}, 30000);

afterEach(async () => {
  await phones.killAll();
});

afterAll(async () => {
  await server?.stop({ expectCode: null });
  rmSync(dir, { recursive: true, force: true });
});

describe('a wav-g711 recording when the server dies mid-call', () => {
  it('is a valid µ-law WAV of the audio written up to the last flush', async () => {
    const caller = await phones.phone('1001', CALLER_HZ);
    const callee = await phones.phone('1002', CALLEE_HZ);
    await dialAndAnswer(server, caller, callee, '1002');
    await sleep(3500);
    server.process.kill('SIGKILL');
    await new Promise((r) => server.process.once('exit', r));

    const wavs = readdirSync(dir).filter((f) => f.endsWith('.wav'));
    expect(wavs).toHaveLength(1);
    const file = path.join(dir, wavs[0]!);
    const buf = readFileSync(file);
    const header = readWavHeader(buf);
    expect(header).toMatchObject({ formatTag: 7, channels: 2, sampleRate: 8000, bitsPerSample: 8 });
    // The header never claims more than is on disk, and claims at least 2 s (flushed).
    expect(header.dataBytes).toBeLessThanOrEqual(statSync(file).size - header.dataOffset);
    expect(header.dataBytes).toBeGreaterThanOrEqual(2 * 8000 * 2);
    const wav = readWav(file);
    expect(wav.truncated).toBe(false);
    const sox = spawnSync('sox', [file, '-n', 'stat'], { encoding: 'utf8' });
    expect(sox.status).toBe(0);
    const soxSec = Number(/Length \(seconds\):\s*([\d.]+)/.exec(sox.stderr)?.[1]);
    expect(soxSec).toBeCloseTo(header.dataBytes / 16000, 3);
    process.stdout.write(`wav-g711 crash: ${soxSec} s on disk of ~3.5 s of call\n`);
    const track = (ch: number) => ({ sampleRate: 8000, samples: wav.channelData[ch]! });
    expect(hasTone(track(0), CALLER_HZ)).toBe(true);
    expect(hasTone(track(1), CALLEE_HZ)).toBe(true);
  }, 60000);
});
