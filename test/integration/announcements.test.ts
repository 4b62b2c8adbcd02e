/**
 * Announcements (docs/architecture.md §6.9) with real phones (baresip) registered to the
 * server: a customer (1002, 440 Hz) calls an agent (1001, 1000 Hz); the supervisor (1005,
 * 1800 Hz) listens in with *90. The prompts are tones made by sox here, so each is
 * checkable by frequency: the caller's announcement 2400 Hz for 2 s, the agent's
 * disclaimer 2000 Hz for 1.5 s. What each phone heard (its `dec` recording) and the call
 * recording are checked: the caller hears the announcement before the agent and the agent
 * nothing of the caller meanwhile; the disclaimer reaches the agent only; neither prompt
 * is ever in the recording. A prompt file that is missing or not a WAV fails the start.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { levelDbfs, relativeTonePower, type PcmAudio } from '../helpers/goertzel.js';
import {
  AGENT_HZ,
  CUSTOMER_HZ,
  dialAndAnswer,
  expectTones,
  heardAudio,
  PhonePool,
  SETTLE_MS,
  sleep,
  startMonitoringPhones,
  startPhoneServer,
  SUPERVISOR_HZ,
  toneWindow,
  wavChannel,
} from '../helpers/phoneScene.js';
import { makeTempDir, removeTempDir } from '../helpers/processes.js';
import { startServer, type ServerHandle } from '../helpers/server.js';

const ANNOUNCEMENT_HZ = 2400;
const ANNOUNCEMENT_MS = 2000;
const DISCLAIMER_HZ = 2000;
const DISCLAIMER_MS = 1500;

const EXTENSIONS = [
  { number: '1001', password: 'pw1001', role: 'agent' as const },
  { number: '1002', password: 'pw1002', role: 'agent' as const },
  { number: '1005', password: 'pw1005', role: 'supervisor' as const },
];

let dir: string;
let server: ServerHandle;
const phones = new PhonePool(() => server);

/** A mono 16-bit tone WAV made by sox (what a prompt file is; speech would do as well). */
function soxTone(file: string, hz: number, ms: number, rate = 8000): string {
  execFileSync('sox', [
    '-n',
    '-r',
    String(rate),
    '-c',
    '1',
    '-b',
    '16',
    file,
    'synth',
    String(ms / 1000),
    'sine',
    String(hz),
    'vol',
    '0.3',
  ]);
  return file;
}

beforeAll(async () => {
  dir = makeTempDir('announcements');
  server = await startPhoneServer(
    {
      announcements: {
        callerOnAnswer: soxTone(path.join(dir, 'caller.wav'), ANNOUNCEMENT_HZ, ANNOUNCEMENT_MS),
        // 16 kHz: played through the resampler into the narrowband call.
        agentOnMonitor: soxTone(path.join(dir, 'agent.wav'), DISCLAIMER_HZ, DISCLAIMER_MS, 16000),
      },
    },
    EXTENSIONS,
  );
}, 30000);

afterEach(async () => {
  await phones.killAll();
});

afterAll(async () => {
  await server?.stop();
  removeTempDir(dir);
});

/**
 * Seconds from the start of `audio` until `hz` is there for 200 ms in a row (20 ms
 * blocks); Infinity when never. A phone's recording of what it heard may start with its
 * first packet, so times are taken relative to the recording's end (the call's end).
 */
function onsetSec(audio: PcmAudio, hz: number): number {
  const block = audio.sampleRate / 50;
  let run = 0;
  for (let at = 0; at + block <= audio.samples.length; at += block) {
    const on =
      levelDbfs(audio.samples, at, block) > -50 &&
      relativeTonePower(audio.samples, audio.sampleRate, hz, at, block) >= 0.1;
    run = on ? run + 1 : 0;
    if (run === 10) return (at + block) / audio.sampleRate - 0.2;
  }
  return Infinity;
}

/** `audio` (which ended at `endAt`, wall ms) between wall times `from` and `to`. */
function endAligned(audio: PcmAudio, endAt: number, from: number, to: number): PcmAudio {
  const startedAt = endAt - (audio.samples.length / audio.sampleRate) * 1000;
  return toneWindow(audio, startedAt, from, to);
}

/** The call recording's WAV and its completed sidecar (the only call of `server`). */
async function recordingOf(): Promise<{
  file: string;
  sidecar: { answeredAt: string; recordingStartedAt: string; endedAt: string | null };
}> {
  const recDir = (server.config.recording as { directory: string }).directory;
  await sleep(500);
  const wavs = readdirSync(recDir).filter((f) => f.endsWith('.wav'));
  expect(wavs).toHaveLength(1);
  const file = path.join(recDir, wavs[0]!);
  const read = () =>
    JSON.parse(readFileSync(file.replace(/\.wav$/, '.json'), 'utf8')) as {
      answeredAt: string;
      recordingStartedAt: string;
      endedAt: string | null;
    };
  for (let i = 0; i < 50 && read().endedAt === null; i++) await sleep(100);
  return { file, sidecar: read() };
}

function clearRecordings(): void {
  const recDir = (server.config.recording as { directory: string }).directory;
  for (const f of readdirSync(recDir)) rmSync(path.join(recDir, f), { force: true });
}

describe('the caller announcement', () => {
  it('the caller hears it before the agent; neither hears the other meanwhile; never recorded', async () => {
    clearRecordings();
    const { agent, customer } = await startMonitoringPhones(phones);
    await dialAndAnswer(server, customer, agent, '1001');
    const callAt = Date.now();
    await sleep(ANNOUNCEMENT_MS + 3000);
    await customer.command('hangup');
    await customer.waitForEvent('CALL_CLOSED', 10000);
    await agent.waitForEvent('CALL_CLOSED', 10000);
    const endAt = Date.now();

    const customerHeard = heardAudio(customer);
    const agentHeard = heardAudio(agent);
    const c = (from: number, to: number) => endAligned(customerHeard, endAt, from, to);
    const a = (from: number, to: number) => endAligned(agentHeard, endAt, from, to);
    const A = AGENT_HZ;
    const C = CUSTOMER_HZ;
    const P = ANNOUNCEMENT_HZ;
    expectTones(
      'customer, announcement',
      c(callAt + 300, callAt + ANNOUNCEMENT_MS - 300),
      [P],
      [A],
    );
    expectTones('customer, after', c(callAt + ANNOUNCEMENT_MS + SETTLE_MS, endAt - 300), [A], [P]);
    expectTones('agent, after', a(callAt + ANNOUNCEMENT_MS + SETTLE_MS, endAt - 300), [C], [P]);
    expectTones('agent, whole call', agentHeard, [], [P]);
    // The agent heard the customer only from the announcement's end: about 3 s of the 5 s
    // call, counted back from its end (its phone may record from its first packet).
    const agentHeardCustomerFor =
      agentHeard.samples.length / agentHeard.sampleRate - onsetSec(agentHeard, C);
    const connectedFor = (endAt - callAt - ANNOUNCEMENT_MS) / 1000;
    expect(Math.abs(agentHeardCustomerFor - connectedFor)).toBeLessThan(0.7);
    // And the customer the agent: from the announcement's end too.
    const customerHeardAgentFor =
      customerHeard.samples.length / customerHeard.sampleRate - onsetSec(customerHeard, A);
    expect(Math.abs(customerHeardAgentFor - connectedFor)).toBeLessThan(0.7);

    // The recording starts with the conversation and never holds the announcement.
    const { file, sidecar } = await recordingOf();
    const started = Date.parse(sidecar.recordingStartedAt) - Date.parse(sidecar.answeredAt);
    expect(started).toBeGreaterThan(ANNOUNCEMENT_MS - 300);
    expectTones('recording, customer track', wavChannel(file, 0), [C], [P]);
    expectTones('recording, agent track', wavChannel(file, 1), [A], [P]);
  }, 60000);
});

describe('the agent disclaimer', () => {
  it('plays to the agent alone when a supervisor starts listening', async () => {
    clearRecordings();
    const { agent, customer, supervisor } = await startMonitoringPhones(phones);
    await dialAndAnswer(server, customer, agent, '1001');
    const callAt = Date.now();
    await sleep(ANNOUNCEMENT_MS + 1500);
    expect((await supervisor.command('dial', `sip:*901001@127.0.0.1:${server.sipPort}`)).ok).toBe(
      true,
    );
    await supervisor.waitForEvent('CALL_ESTABLISHED', 10000);
    const listenAt = Date.now();
    await sleep(DISCLAIMER_MS + 2500);
    await supervisor.command('hangup');
    await supervisor.waitForEvent('CALL_CLOSED', 10000);
    await customer.command('hangup');
    await customer.waitForEvent('CALL_CLOSED', 10000);
    await agent.waitForEvent('CALL_CLOSED', 10000);
    const endAt = Date.now();
    expect(listenAt - callAt).toBeGreaterThan(ANNOUNCEMENT_MS);

    const agentHeard = heardAudio(agent);
    const customerHeard = heardAudio(customer);
    const supervisorHeard = heardAudio(supervisor);
    const a = (from: number, to: number) => endAligned(agentHeard, endAt, from, to);
    const D = DISCLAIMER_HZ;
    // Over the customer, as the monitoring began; gone once it ended.
    expectTones(
      'agent, disclaimer',
      a(listenAt + 200, listenAt + DISCLAIMER_MS - 200),
      [D, CUSTOMER_HZ],
      [],
    );
    expectTones(
      'agent, after it',
      a(listenAt + DISCLAIMER_MS + SETTLE_MS, endAt - 500),
      [CUSTOMER_HZ],
      [D],
    );
    expectTones('customer, whole call', customerHeard, [AGENT_HZ], [D, SUPERVISOR_HZ]);
    expectTones(
      'supervisor, whole session',
      supervisorHeard,
      [CUSTOMER_HZ, AGENT_HZ],
      [D, ANNOUNCEMENT_HZ],
    );
    const { file } = await recordingOf();
    expectTones(
      'recording, customer track',
      wavChannel(file, 0),
      [CUSTOMER_HZ],
      [D, ANNOUNCEMENT_HZ],
    );
    expectTones('recording, agent track', wavChannel(file, 1), [AGENT_HZ], [D, ANNOUNCEMENT_HZ]);
  }, 60000);
});

describe('bad prompt files fail the start, naming the key', () => {
  it('a missing file, and a file that is not a WAV', async () => {
    const missing = path.join(dir, 'missing.wav');
    await expect(startServer({ announcements: { callerOnAnswer: missing } })).rejects.toThrow(
      /announcements\.callerOnAnswer.*cannot read .*missing\.wav \(ENOENT\)/,
    );
    const text = path.join(dir, 'not-a-wav.wav');
    writeFileSync(text, 'this is not audio');
    await expect(startServer({ announcements: { agentOnMonitor: text } })).rejects.toThrow(
      /announcements\.agentOnMonitor.*not-a-wav\.wav: not a RIFF\/WAVE file/,
    );
    const cd = path.join(dir, 'cd.wav');
    soxTone(cd, 1000, 200, 44100);
    await expect(startServer({ announcements: { callerOnAnswer: cd } })).rejects.toThrow(
      /announcements\.callerOnAnswer.*44100 Hz; a prompt must be 8000 or 16000 Hz/,
    );
  }, 60000);
});
