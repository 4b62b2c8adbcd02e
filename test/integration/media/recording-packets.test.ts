/**
 * Recording from packets, end to end through a real engine: two fake phones send PCMU
 * over 127.0.0.1, each party's tone starting at a known time, the room records, and the
 * file is read back. The file is as long as the wall-clock time recorded, the customer is
 * left and the agent right, and the two tracks are in step (tone onsets agree). Gaps are
 * silence, reordered packets land in place, and a recorded call without a supervisor is
 * two relays: no clock, no jitter buffers.
 */
import { afterEach, describe, expect, it } from '@jest/globals';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { MediaEngine } from '../../../media/engine/mediaEngine.js';
import type { RecordingFormat, RecordingSummary } from '../../../media/worker/protocol.js';
import { OPUS_PRE_SKIP } from '../../../media/recording/oggOpusRecorder.js';
import { hasTone, lacksTone, readWav } from '../../helpers/goertzel.js';
import { readOggOpus } from '../../helpers/oggOpus.js';
import { MEDIA_IO, startEngine } from './engineFixture.js';
import type { FakePhone } from './fakePhone.js';
import { sleep } from './fakePhone.js';
import { PacedPhones } from './pacedPhones.js';
import { onsetSec, partySchedule, rms } from './recordingCall.js';
import type { PacketFate } from './recordingCall.js';
import {
  AGENT_HZ,
  captureLogger,
  CUSTOMER_HZ,
  monitoredCall,
  problems,
  SUPERVISOR_HZ,
  tempDir,
} from './roomFixture.js';
import type { LogEntry, MonitoredCall } from './roomFixture.js';

let engine: MediaEngine | undefined;
let logs: LogEntry[] = [];
const phones: FakePhone[] = [];
/** The customer's (socket 0) and agent's (socket 1) senders, another process. */
let senders: PacedPhones | undefined;
const cleanups: (() => void)[] = [];

afterEach(async () => {
  await senders?.close();
  senders = undefined;
  await engine?.close();
  engine = undefined;
  await Promise.all(phones.splice(0).map((p) => p.close()));
  for (const c of cleanups.splice(0)) c();
});

function recordingPath(name: string): string {
  const { dir, cleanup } = tempDir();
  cleanups.push(cleanup);
  return join(dir, name);
}

async function setup(): Promise<MonitoredCall> {
  logs = [];
  senders = await PacedPhones.start(2);
  engine = (await startEngine({ logger: captureLogger(logs), statsIntervalMs: 0 }, 12)).engine;
  const [customer, agent] = senders.ports as [number, number];
  return monitoredCall(engine, phones, { remotePorts: { customer, agent } });
}

/** An 8 kHz 16-bit WAV is kept by the native io, unless an A/B run keeps it in the worker. */
const IO_KEEPS_PCM16 = MEDIA_IO === 'native' && process.env.CALLWATCH_IO_RECORDINGS !== '0';
const CUSTOMER_TONE_MS = 1000;
const AGENT_TONE_MS = 1500;

interface Recorded {
  summary: RecordingSummary;
  /**
   * Wall-clock ms the recording certainly covered (from its start as the worker reports
   * it to the close being asked) and at most covered (from asking for the start to the close's
   * answer): the worker starts and stops somewhere inside those windows, which a loaded
   * machine widens (a command queued behind other work), so the file's length is checked
   * against both rather than against one instant guessed for each.
   */
  minWallMs: number;
  maxWallMs: number;
  /** Packets the customer's and the agent's senders received (what was relayed to them). */
  received: readonly number[];
  /** How late the senders' worst packet left (ms). */
  maxLateMs: number;
  /**
   * When the senders' first packets left, ms after the recording's start was answered (the
   * play message and the other process's scheduling take a moment, more on a loaded host).
   */
  sendStartMs: number;
}

/**
 * Records the call for `durationMs`: both parties start sending when the recording has
 * started (their tones at CUSTOMER_TONE_MS / AGENT_TONE_MS), the room closes at the end.
 */
async function recordCall(
  c: MonitoredCall,
  path: string,
  format: RecordingFormat,
  durationMs: number,
  fates: { customer?: (i: number) => PacketFate; agent?: (i: number) => PacketFate } = {},
  during?: () => Promise<void>,
): Promise<Recorded> {
  // A few packets past the end: the room closes while the parties still talk.
  const packets = Math.ceil(durationMs / 20) + 10;
  await senders!.load(
    [
      ...partySchedule(0, CUSTOMER_HZ, CUSTOMER_TONE_MS, packets, fates.customer),
      ...partySchedule(1, AGENT_HZ, AGENT_TONE_MS, packets, fates.agent),
    ].sort((x, y) => x.at - y.at), // stable: each party's own order is kept
  );
  const before = performance.now();
  const started = await c.room.startRecording({ path, channels: 2, format });
  // The file's first sample, as the worker reports it (wall clock, here in this thread's
  // performance time): the worker starts the recording when it takes the command, and
  // answers once the file is created, up to a writer batch later (docs/architecture.md
  // §7.6). Times below count from it, within [before, answer].
  const answered = performance.now();
  const t0 = Math.min(
    answered,
    Math.max(before, (started.startedAt ?? Date.now()) - performance.timeOrigin),
  );
  const playing = senders!.play([c.customerLeg.localPort, c.agentLeg.localPort]);
  await during?.();
  await sleep(t0 + durationMs - performance.now());
  const end = performance.now();
  const summary = (await c.room.close()) as RecordingSummary;
  const closed = performance.now();
  const { received, maxLateMs, startedAt } = await playing;
  // The worker's start is t0, within [before, answered]; its stop between `end` and `closed`.
  const sendStartMs = startedAt - t0;
  return {
    summary,
    minWallMs: end - t0,
    maxWallMs: closed - before,
    received,
    maxLateMs,
    sendStartMs,
  };
}

function soxInfo(path: string): { info: string; stat: string } {
  const info = execFileSync('sox', ['--i', path], { encoding: 'utf8' });
  // `stat` reports on stderr.
  const stat = spawnSync('sox', [path, '-n', 'stat'], { encoding: 'utf8' });
  expect(stat.status).toBe(0);
  return { info, stat: stat.stderr };
}

/** Checks length, tones and onsets of decoded tracks; returns the measured numbers. */
function checkAudio(
  left: Int16Array,
  right: Int16Array,
  rate: number,
  rec: Recorded,
  seconds: number,
) {
  const lengthSec = left.length / rate;
  const onsetL = onsetSec(left, rate);
  const onsetR = onsetSec(right, rate);
  const measured = {
    lengthSec,
    minWallSec: rec.minWallMs / 1000,
    maxWallSec: rec.maxWallMs / 1000,
    onsetL,
    onsetR,
    skewMs: (onsetR - onsetL - (AGENT_TONE_MS - CUSTOMER_TONE_MS) / 1000) * 1000,
    sendStartMs: rec.sendStartMs,
  };
  expect(right.length).toBe(left.length);
  // The file is as long as the time recorded.
  expect(Math.abs(lengthSec - seconds)).toBeLessThanOrEqual(0.1);
  // ... within 60 ms (three frames) of the window the test saw the worker start and stop in.
  expect(lengthSec).toBeGreaterThanOrEqual(measured.minWallSec - 0.06);
  expect(lengthSec).toBeLessThanOrEqual(measured.maxWallSec + 0.06);
  // Customer left, agent right, each from its known start (a packet's audio ends at its
  // arrival, so a tone starting with the packet sent at t shows from t − 20 ms).
  // (sendStartMs: when the phones really started, after the recording's start.)
  const sent = rec.sendStartMs;
  expect(Math.abs(onsetL - (sent + CUSTOMER_TONE_MS - 20) / 1000)).toBeLessThanOrEqual(0.06);
  expect(Math.abs(onsetR - (sent + AGENT_TONE_MS - 20) / 1000)).toBeLessThanOrEqual(0.06);
  expect(Math.abs(measured.skewMs)).toBeLessThanOrEqual(20);
  const tail = { sampleRate: rate, startSec: 2, endSec: seconds - 0.3 };
  expect(hasTone(left, CUSTOMER_HZ, tail)).toBe(true);
  expect(lacksTone(left, AGENT_HZ, tail)).toBe(true);
  expect(hasTone(right, AGENT_HZ, tail)).toBe(true);
  expect(lacksTone(right, CUSTOMER_HZ, tail)).toBe(true);
  return measured;
}

/** Checks a WAV's channels, length, tones and onsets; returns the measured numbers. */
function checkFile(path: string, rec: Recorded, seconds: number) {
  const wav = readWav(path);
  expect(wav.channels).toBe(2);
  expect(wav.truncated).toBe(false);
  const rate = wav.sampleRate;
  const left = wav.channelData[0]!;
  const right = wav.channelData[1]!;
  const measured = checkAudio(left, right, rate, rec, seconds);
  return { wav, left, right, rate, measured };
}

describe('a ~10 s recorded call, per format', () => {
  it('wav: 10 s long, customer left, agent right, onsets in step', async () => {
    const c = await setup();
    await c.room.setRoutes(c.routes(null));
    const path = recordingPath('call.wav');
    const rec = await recordCall(c, path, 'wav', 10000);
    expect(rec.summary).toMatchObject({ path, error: null, format: 'wav', sampleRate: 8000 });
    const { wav, measured } = checkFile(path, rec, 10);
    expect(wav.formatTag).toBe(1);
    process.stdout.write(`wav: ${JSON.stringify(measured)}\n`);
    expect(problems(logs)).toEqual([]);
  }, 30000);

  it('wav-g711: µ-law as received, read by sox, 10 s long, onsets in step', async () => {
    const c = await setup();
    await c.room.setRoutes(c.routes(null));
    const path = recordingPath('call-g711.wav');
    const rec = await recordCall(c, path, 'wav-g711', 10000);
    expect(rec.summary).toMatchObject({ path, error: null, format: 'wav-g711', sampleRate: 8000 });
    const { wav, measured } = checkFile(path, rec, 10);
    expect(wav.formatTag).toBe(7);
    expect(wav.bitsPerSample).toBe(8);
    const sox = soxInfo(path);
    expect(sox.info).toMatch(/Channels\s*:\s*2/);
    expect(sox.info).toMatch(/Sample Rate\s*:\s*8000/);
    expect(sox.info).toMatch(/u-law/i);
    const soxLength = Number(/Length \(seconds\):\s*([\d.]+)/.exec(sox.stat)?.[1]);
    expect(Math.abs(soxLength - measured.lengthSec)).toBeLessThan(0.001);
    process.stdout.write(`wav-g711: ${JSON.stringify({ ...measured, soxLength })}\n`);
    expect(problems(logs)).toEqual([]);
  }, 30000);

  it('ogg-opus: two mono Opus streams, 10 s long, customer left, agent right, in step', async () => {
    const c = await setup();
    await c.room.setRoutes(c.routes(null));
    const path = recordingPath('call.opus');
    const rec = await recordCall(c, path, 'ogg-opus', 10000);
    // The file's audio is 16 kHz (Opus's rate in the table); the call is narrowband.
    expect(rec.summary).toMatchObject({ path, error: null, format: 'ogg-opus', sampleRate: 16000 });
    const buf = readFileSync(path);
    // Every page complete with a valid CRC (readOggOpus throws otherwise), the last one
    // flagged end-of-stream; decoded with the table's own Opus decoder.
    const ogg = readOggOpus(buf);
    expect(ogg.trailing).toBe(0);
    expect(ogg).toMatchObject({ channels: 2, mappingFamily: 1, preSkip: OPUS_PRE_SKIP });
    expect(ogg.inputSampleRate).toBe(8000);
    expect(ogg.pages.at(-1)!.flags & 4).toBe(4);
    const [left, right] = ogg.channelData as [Int16Array, Int16Array];
    const measured = checkAudio(left, right, ogg.sampleRate, rec, 10);
    const kbps = (buf.length * 8) / measured.lengthSec / 1000;
    // Two streams at the file encoder's ~20 kbit/s (VBR), and no more.
    expect(kbps).toBeLessThanOrEqual(2 * 22);
    process.stdout.write(`ogg-opus: ${JSON.stringify({ ...measured, kbps })}\n`);
    expect(problems(logs)).toEqual([]);
  }, 30000);
});

describe('recording under trouble: the length follows the wall clock', () => {
  it('a gap (lost packets) is silence in place; reordered packets land in place', async () => {
    const c = await setup();
    await c.room.setRoutes(c.routes(null));
    const path = recordingPath('gaps.wav');
    // Customer: packets 150..174 (3.0–3.5 s) lost. Agent: every 10th packet from 2 s on
    // arrives 3 packets late (reordered).
    const rec = await recordCall(c, path, 'wav', 6000, {
      customer: (i) => (i >= 150 && i < 175 ? 'drop' : 'send'),
      agent: (i) => (i >= 100 && i % 10 === 0 ? { holdFor: 3 } : 'send'),
    });
    expect(rec.summary.error).toBeNull();
    const { left, right, rate, measured } = checkFile(path, rec, 6);
    // The lost half second is silence, where it was (packet i's audio ends at i × 20 ms).
    expect(rms(left, rate, 3.03, 3.45)).toBe(0);
    expect(rms(left, rate, 2.5, 2.9)).toBeGreaterThan(5000);
    expect(rms(left, rate, 3.55, 4)).toBeGreaterThan(5000);
    // The agent's reordered packets left no holes: its tone is continuous from 2 s on.
    for (let t = 2; t < 5.8; t += 0.02) {
      expect({ t, rms: rms(right, rate, t, t + 0.02) > 5000 }).toEqual({ t, rms: true });
    }
    process.stdout.write(`gaps: ${JSON.stringify(measured)}\n`);
    expect(problems(logs)).toEqual([]);
  }, 30000);
});

/**
 * Stops this whole process (the engine's worker thread with it) for `ms`: an overloaded
 * host. A separate shell sends SIGSTOP and, `ms` later, SIGCONT. The phones are another
 * process (media/pacedPhones.ts) and go on sending, as real phones do: their packets wait
 * in the engine's sockets and are read late, in a burst, on resume.
 */
async function stallProcess(ms: number): Promise<void> {
  const pid = process.pid;
  const shell = spawn('sh', ['-c', `kill -STOP ${pid}; sleep ${ms / 1000}; kill -CONT ${pid}`], {
    stdio: 'ignore',
  });
  await new Promise((resolve) => shell.once('exit', resolve));
}

describe('recording an overloaded worker', () => {
  it('a 400 ms stall mid-call: the length follows the wall clock, the audio sent is kept', async () => {
    const c = await setup();
    await c.room.setRoutes(c.routes(null));
    const path = recordingPath('stall.wav');
    let stalledAt = 0;
    let stalledFor = 0;
    const rec = await recordCall(c, path, 'wav', 6000, {}, async () => {
      await sleep(3000);
      const before = performance.now();
      await stallProcess(400);
      stalledFor = performance.now() - before;
      stalledAt = before;
    });
    expect(rec.summary.error).toBeNull();
    expect(stalledFor).toBeGreaterThanOrEqual(390);
    const { right, left, rate, measured } = checkFile(path, rec, 6);
    // Every packet the phones sent during the stall waited and was placed: no hole.
    for (const ch of [left, right]) {
      for (let t = 2; t < 5.8; t += 0.02) {
        expect({ t, voiced: rms(ch, rate, t, t + 0.02) > 5000 }).toEqual({ t, voiced: true });
      }
    }
    const { maxLateMs } = rec;
    process.stdout.write(
      `stall: ${JSON.stringify({ ...measured, stalledFor, stalledAt, maxLateMs })}\n`,
    );
  }, 30000);
});

describe('what a recording costs the worker', () => {
  it('a recorded unmonitored call is two relays: no clock, no jitter buffers', async () => {
    const c = await setup();
    await c.room.setRoutes(c.routes(null));
    const path = recordingPath('relay.wav');
    const rec = await recordCall(c, path, 'wav', 3000, {}, async () => {
      await sleep(1500);
      const [report] = await engine!.getStats();
      expect(report!.mixer).toMatchObject({
        rooms: 1,
        clockedRooms: 0,
        recordingsActive: 1,
        recordingsKeptByIo: IO_KEEPS_PCM16 ? 1 : 0,
      });
      expect(report!.mixer.jitterDepthMs).toBeNull();
      expect(report!.mixer.recordingBytes).toBeGreaterThan(0);
    });
    expect(rec.summary.error).toBeNull();
    checkFile(path, rec, 3);
    // The phones heard each other (relayed).
    expect(rec.received[0]).toBeGreaterThan(100);
    expect(rec.received[1]).toBeGreaterThan(100);
  }, 30000);

  it('a monitored call is clocked, and its recording holds no supervisor audio', async () => {
    const c = await setup();
    await c.room.setRoutes(c.routes('barge'));
    const path = recordingPath('monitored.wav');
    const rec = await recordCall(c, path, 'wav', 4000, {}, async () => {
      c.talkers.supervisor.begin();
      await sleep(1500);
      const [report] = await engine!.getStats();
      expect(report!.mixer).toMatchObject({
        rooms: 1,
        clockedRooms: 1,
        recordingsActive: 1,
        recordingsKeptByIo: IO_KEEPS_PCM16 ? 1 : 0,
      });
      expect(report!.mixer.jitterDepthMs).not.toBeNull();
    });
    c.talkers.supervisor.stop();
    expect(rec.summary.error).toBeNull();
    const { left, right, rate } = checkFile(path, rec, 4);
    for (const ch of [left, right]) {
      expect(lacksTone(ch, SUPERVISOR_HZ, { sampleRate: rate })).toBe(true);
    }
  }, 30000);
});
