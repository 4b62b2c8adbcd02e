/**
 * A recorded call that is live when the server is stopped (SIGTERM): the server ends the
 * call and completes the recording before it exits. The WAV's header matches its audio,
 * and the sidecar, written at the start, is rewritten with the end: the time, the reason,
 * and the audio's size. Nothing of it may be lost because the media engine's writer
 * thread closes at shutdown.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { readWavHeader } from '../../media/recording/wavHeader.js';
import { hasTone, readWav } from '../helpers/goertzel.js';
import {
  dialAndAnswer,
  PhonePool,
  sleep,
  startPhoneServer,
  waitFor,
} from '../helpers/phoneScene.js';
import { type ServerHandle } from '../helpers/server.js';

const CALLER_HZ = 440;
const CALLEE_HZ = 1000;
const EXTENSIONS = [
  { number: '1001', password: 'pw1001' },
  { number: '1002', password: 'pw1002' },
];

interface Sidecar {
  file: string;
  endedAt: string | null;
  endReason: string | null;
  audioBytes: number | null;
  error: string | null;
}

describe('a recorded call live at shutdown', () => {
  let server: ServerHandle;
  let dir: string;
  const phones = new PhonePool(() => server);

  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'callwatch-rec-shutdown-'));
    server = await startPhoneServer({ recording: { directory: dir } }, EXTENSIONS, 20);
  }, 30000);

  afterEach(async () => {
    await phones.killAll();
  });

  afterAll(async () => {
    await server?.stop({ expectCode: null });
    rmSync(dir, { recursive: true, force: true });
  });

  it('is completed before the server exits: WAV header and sidecar with the end', async () => {
    const caller = await phones.phone('1001', CALLER_HZ);
    const callee = await phones.phone('1002', CALLEE_HZ);
    await dialAndAnswer(server, caller, callee, '1002');
    const sidecarFile = () => readdirSync(dir).find((f) => f.endsWith('.json'));
    expect(await waitFor(async () => sidecarFile() !== undefined, 5000)).toBe(true);
    await sleep(1500);

    expect(await server.stop()).toBe(0);

    const sidecarPath = path.join(dir, sidecarFile()!);
    const sidecar = JSON.parse(readFileSync(sidecarPath, 'utf8')) as Sidecar;
    expect(existsSync(`${sidecarPath}.tmp`)).toBe(false);
    expect(sidecar.endedAt).not.toBeNull();
    expect(sidecar.endReason).not.toBeNull();
    expect(sidecar.error).toBeNull();
    // The end's size is the WAV's: its header was completed, and its audio is on disk.
    const wav = sidecar.file;
    const header = readWavHeader(readFileSync(wav));
    expect(sidecar.audioBytes).toBe(header.dataBytes);
    expect(header.dataOffset + header.dataBytes).toBe(statSync(wav).size);
    // At least the 1.5 s waited after the start, in both parties' tones.
    expect(header.dataBytes).toBeGreaterThanOrEqual(1.4 * 8000 * 4);
    const audio = readWav(wav);
    expect(audio.truncated).toBe(false);
    expect(hasTone({ sampleRate: 8000, samples: audio.channelData[0]! }, CALLER_HZ)).toBe(true);
    expect(hasTone({ sampleRate: 8000, samples: audio.channelData[1]! }, CALLEE_HZ)).toBe(true);
  }, 60000);
});
