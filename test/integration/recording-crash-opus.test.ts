/**
 * An Ogg Opus recording (`recording.format: ogg-opus`) survives a crash: the server is
 * killed (SIGKILL) in the middle of a call between two baresip phones, and the file it
 * was writing holds only complete pages with valid CRCs (the recorder appends whole pages
 * about once a second), decodes with the codec table's Opus decoder up to about the last
 * page, and carries both parties' tones (customer left, agent right).
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { OPUS_PRE_SKIP } from '../../media/recording/oggOpusRecorder.js';
import { hasTone } from '../helpers/goertzel.js';
import { readOggOpus } from '../helpers/oggOpus.js';
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
  dir = mkdtempSync(path.join(os.tmpdir(), 'callwatch-rec-opus-'));
  server = await startPhoneServer(
    { recording: { directory: dir, format: 'ogg-opus' } },
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

describe('an ogg-opus recording when the server dies mid-call', () => {
  it('holds only complete pages with valid CRCs, decodable up to the last page', async () => {
    const caller = await phones.phone('1001', CALLER_HZ);
    const callee = await phones.phone('1002', CALLEE_HZ);
    await dialAndAnswer(server, caller, callee, '1002');
    await sleep(3500);
    server.process.kill('SIGKILL');
    await new Promise((r) => server.process.once('exit', r));

    const files = readdirSync(dir).filter((f) => f.endsWith('.opus'));
    expect(files).toHaveLength(1);
    const buf = readFileSync(path.join(dir, files[0]!));
    // readOggOpus checks every page's CRC and throws on a bad one or a cut packet.
    const ogg = readOggOpus(buf);
    // Whole pages only: nothing after the last complete one.
    expect(ogg.trailing).toBe(0);
    expect(ogg).toMatchObject({ channels: 2, mappingFamily: 1, preSkip: OPUS_PRE_SKIP });
    // No end-of-stream page: the process died before it could write one.
    expect(ogg.pages.at(-1)!.flags & 4).toBe(0);
    const audio = ogg.pages.slice(2);
    expect(audio.length).toBeGreaterThanOrEqual(2);
    audio.forEach((p, i) => expect(p.sequence).toBe(i + 2));
    // The decoded audio ends where the last page's granule says (about a second before
    // the kill at worst): at least 2 s of the ~3.5 s call.
    const last = ogg.pages.at(-1)!;
    const seconds = ogg.channelData[0]!.length / ogg.sampleRate;
    expect(seconds).toBeCloseTo((last.granule - OPUS_PRE_SKIP) / 48000, 2);
    expect(seconds).toBeGreaterThanOrEqual(2);
    const track = (ch: number) => ({ sampleRate: 16000, samples: ogg.channelData[ch]! });
    expect(hasTone(track(0), CALLER_HZ)).toBe(true);
    expect(hasTone(track(1), CALLEE_HZ)).toBe(true);
    process.stdout.write(
      `ogg-opus crash: ${seconds.toFixed(2)} s decoded, ${audio.length} audio pages, ${buf.length} B\n`,
    );
  }, 60000);
});
