/**
 * A recorded call between two baresip phones when the server goes away in the middle of
 * it.
 *
 * Stopped (SIGTERM): the server ends the call and completes the recording before it
 * exits: the WAV's header matches its audio, and the sidecar is rewritten with the end
 * (time, reason, the audio's size), although the media engine's writer thread closes at
 * shutdown.
 *
 * Killed (SIGKILL, no shutdown code runs), in each recording format: the file it was
 * writing is still valid and carries both parties' tones (customer left, agent right).
 * The sidecar written at the start says what it is.
 *
 * - `wav` (the default): the header matches the audio on disk.
 * - `wav-g711`: the µ-law WAV's header never claims more than is on disk, sox reads it,
 *   and it holds the audio up to about the last flush (the writer flushes every second).
 * - `ogg-opus`: the file holds only complete pages with valid CRCs (the recorder appends
 *   whole pages about once a second) and decodes with the codec table's Opus decoder up
 *   to about the last page.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { OPUS_PRE_SKIP } from '../../media/recording/oggOpusRecorder.js';
import { readWavHeader } from '../../media/recording/wavHeader.js';
import { hasTone, readWav, type PcmAudio } from '../helpers/goertzel.js';
import { readOggOpus } from '../helpers/oggOpus.js';
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

/** Checks a crashed recording of one format and returns its two tracks (left, right). */
type CheckFile = (file: string) => [PcmAudio, PcmAudio];

/** `wav`: 16-bit stereo PCM; the header never claims more than is on disk. */
function checkWav(file: string): [PcmAudio, PcmAudio] {
  const wav = readWav(file);
  expect(wav.channels).toBe(2);
  expect(wav.sampleRate).toBe(8000);
  // The header never claims more than is on disk, and claims at least 2 s of audio.
  const declared = readFileSync(file).readUInt32LE(40);
  expect(declared).toBeLessThanOrEqual(statSync(file).size - 44);
  expect(declared).toBeGreaterThanOrEqual(2 * 8000 * 4);
  expect(wav.truncated).toBe(false);
  const track = (ch: number) => ({ sampleRate: 8000, samples: wav.channelData[ch]! });
  return [track(0), track(1)];
}

/** `wav-g711`: µ-law WAV, read by sox, holding the audio up to the last flush. */
function checkWavG711(file: string): [PcmAudio, PcmAudio] {
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
  return [track(0), track(1)];
}

/** `ogg-opus`: whole pages with valid CRCs, no end-of-stream page, decodable to the last. */
function checkOggOpus(file: string): [PcmAudio, PcmAudio] {
  const buf = readFileSync(file);
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
  process.stdout.write(
    `ogg-opus crash: ${seconds.toFixed(2)} s decoded, ${audio.length} audio pages, ${buf.length} B\n`,
  );
  const track = (ch: number) => ({ sampleRate: 16000, samples: ogg.channelData[ch]! });
  return [track(0), track(1)];
}

interface CrashCase {
  name: string;
  /** The describe block's subject ("a wav recording"). */
  subject: string;
  /** `recording.format`, or undefined for the default (wav). */
  format: 'wav-g711' | 'ogg-opus' | undefined;
  extension: string;
  check: CheckFile;
  title: string;
}

const CASES: CrashCase[] = [
  {
    name: 'wav',
    subject: 'a wav recording',
    format: undefined,
    extension: '.wav',
    check: checkWav,
    title: 'is a valid WAV of the audio written so far',
  },
  {
    name: 'wav-g711',
    subject: 'a wav-g711 recording',
    format: 'wav-g711',
    extension: '.wav',
    check: checkWavG711,
    title: 'is a valid µ-law WAV of the audio written up to the last flush',
  },
  {
    name: 'ogg-opus',
    subject: 'an ogg-opus recording',
    format: 'ogg-opus',
    extension: '.opus',
    check: checkOggOpus,
    title: 'holds only complete pages with valid CRCs, decodable up to the last page',
  },
];

interface RecordingScene {
  server(): ServerHandle;
  /** The recordings folder, the server's own. */
  dir(): string;
  /** A call from 1001 (CALLER_HZ) to 1002 (CALLEE_HZ), up on both phones. */
  call(): Promise<void>;
}

/**
 * In a describe block: a server recording into a folder of its own (`format`, or the
 * default), its phones killed after each test, server and folder gone after the block.
 */
function recordingScene(name: string, format: CrashCase['format']): RecordingScene {
  let server: ServerHandle;
  let dir: string;
  const phones = new PhonePool(() => server);

  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), `callwatch-rec-${name}-`));
    const recording = format ? { directory: dir, format } : { directory: dir };
    server = await startPhoneServer({ recording }, EXTENSIONS, 20);
  }, 30000);

  afterEach(async () => {
    await phones.killAll();
  });

  afterAll(async () => {
    await server?.stop({ expectCode: null });
    rmSync(dir, { recursive: true, force: true });
  });

  return {
    server: () => server,
    dir: () => dir,
    async call() {
      const caller = await phones.phone('1001', CALLER_HZ);
      const callee = await phones.phone('1002', CALLEE_HZ);
      await dialAndAnswer(server, caller, callee, '1002');
    },
  };
}

describe('a recorded call live when the server is stopped', () => {
  const scene = recordingScene('shutdown', undefined);

  it('is completed before the server exits: WAV header and sidecar with the end', async () => {
    await scene.call();
    const dir = scene.dir();
    const sidecarFile = () => readdirSync(dir).find((f) => f.endsWith('.json'));
    expect(await waitFor(async () => sidecarFile() !== undefined, 5000)).toBe(true);
    await sleep(1500);

    expect(await scene.server().stop()).toBe(0);

    const sidecarPath = path.join(dir, sidecarFile()!);
    const sidecar = JSON.parse(readFileSync(sidecarPath, 'utf8')) as {
      file: string;
      endedAt: string | null;
      endReason: string | null;
      audioBytes: number | null;
      error: string | null;
    };
    expect(existsSync(`${sidecarPath}.tmp`)).toBe(false);
    expect(sidecar.endedAt).not.toBeNull();
    expect(sidecar.endReason).not.toBeNull();
    expect(sidecar.error).toBeNull();
    // The end's size is the WAV's: its header was completed, and its audio is on disk.
    const header = readWavHeader(readFileSync(sidecar.file));
    expect(sidecar.audioBytes).toBe(header.dataBytes);
    expect(header.dataOffset + header.dataBytes).toBe(statSync(sidecar.file).size);
    // At least the 1.5 s waited after the start, in both parties' tones.
    expect(header.dataBytes).toBeGreaterThanOrEqual(1.4 * 8000 * 4);
    const wav = readWav(sidecar.file);
    expect(wav.truncated).toBe(false);
    expect(hasTone({ sampleRate: 8000, samples: wav.channelData[0]! }, CALLER_HZ)).toBe(true);
    expect(hasTone({ sampleRate: 8000, samples: wav.channelData[1]! }, CALLEE_HZ)).toBe(true);
  }, 60000);
});

describe.each(CASES)('$subject when the server dies mid-call', (c) => {
  const scene = recordingScene(c.name, c.format);

  it(
    c.title,
    async () => {
      const dir = scene.dir();
      const server = scene.server();
      await scene.call();
      // More than the recorder's flush interval (1 s), so blocks are on disk.
      await sleep(3500);
      server.process.kill('SIGKILL');
      await new Promise((r) => server.process.once('exit', r));

      const files = readdirSync(dir).filter((f) => f.endsWith(c.extension));
      expect(files).toHaveLength(1);
      const file = path.join(dir, files[0]!);
      const [left, right] = c.check(file);
      // The caller (an extension calling an extension: the customer seat) left, callee right.
      expect(hasTone(left, CALLER_HZ)).toBe(true);
      expect(hasTone(right, CALLEE_HZ)).toBe(true);

      const sidecar = JSON.parse(
        readFileSync(file.slice(0, -c.extension.length) + '.json', 'utf8'),
      ) as {
        file: string;
        endedAt: string | null;
        parties: { customer: { extension: string }; agent: { extension: string } };
      };
      expect(sidecar.file).toBe(file);
      expect(sidecar.endedAt).toBeNull();
      expect(sidecar.parties.customer.extension).toBe('1001');
      expect(sidecar.parties.agent.extension).toBe('1002');
    },
    60000,
  );
});
