/**
 * The recording tap survives a crash: the server is killed (SIGKILL, no shutdown code
 * runs) in the middle of a call between two baresip phones, and the WAV it was writing
 * is still a valid file whose header matches the audio on disk and carries both parties'
 * tones (customer left, agent right). The sidecar written at the start says what it is.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
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
  dir = mkdtempSync(path.join(os.tmpdir(), 'callwatch-rec-'));
  server = await startPhoneServer({ recording: { directory: dir } }, EXTENSIONS, 20);
}, 30000);

afterEach(async () => {
  await phones.killAll();
});

afterAll(async () => {
  await server?.stop({ expectCode: null });
  rmSync(dir, { recursive: true, force: true });
});

describe('a recording when the server dies mid-call', () => {
  it('is a valid WAV of the audio written so far', async () => {
    const caller = await phones.phone('1001', CALLER_HZ);
    const callee = await phones.phone('1002', CALLEE_HZ);
    await dialAndAnswer(server, caller, callee, '1002');
    // More than the recorder's flush interval (1 s), so blocks are on disk.
    await sleep(3500);
    server.process.kill('SIGKILL');
    await new Promise((r) => server.process.once('exit', r));

    const wavs = readdirSync(dir).filter((f) => f.endsWith('.wav'));
    expect(wavs).toHaveLength(1);
    const file = path.join(dir, wavs[0]!);
    const wav = readWav(file);
    expect(wav.channels).toBe(2);
    expect(wav.sampleRate).toBe(8000);
    // The header never claims more than is on disk, and claims at least 2 s of audio.
    const declared = readFileSync(file).readUInt32LE(40);
    expect(declared).toBeLessThanOrEqual(statSync(file).size - 44);
    expect(declared).toBeGreaterThanOrEqual(2 * 8000 * 4);
    expect(wav.truncated).toBe(false);
    const track = (ch: number) => ({ sampleRate: 8000, samples: wav.channelData[ch]! });
    // The caller (an extension calling an extension: the customer seat) left, callee right.
    expect(hasTone(track(0), CALLER_HZ)).toBe(true);
    expect(hasTone(track(1), CALLEE_HZ)).toBe(true);

    const sidecar = JSON.parse(readFileSync(file.replace(/\.wav$/, '.json'), 'utf8')) as {
      file: string;
      endedAt: string | null;
      parties: { customer: { extension: string }; agent: { extension: string } };
    };
    expect(sidecar.file).toBe(file);
    expect(sidecar.endedAt).toBeNull();
    expect(sidecar.parties.customer.extension).toBe('1001');
    expect(sidecar.parties.agent.extension).toBe('1002');
  }, 60000);
});
