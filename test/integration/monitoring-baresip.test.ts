/**
 * Monitoring end to end with three real phones (baresip) registered to the server: a
 * customer (1002, 440 Hz) calls an agent (1001, 1000 Hz); the supervisor (1005, 1800 Hz)
 * dials *90 + 1001 and steers with DTMF 5 (whisper), 6 (barge), 7 (takeover). What each
 * phone heard (its sndfile `dec` recording) is cut into the phases by time and checked
 * with a Goertzel detector, and so is the server's call recording (customer left, agent
 * right), which must never carry the supervisor before the takeover.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { startBaresip, type BaresipPhone } from '../helpers/baresip.js';
import {
  analyzeTone,
  describeTone,
  hasTone,
  lacksTone,
  readWav,
  type PcmAudio,
} from '../helpers/goertzel.js';
import { allocatePortBlock } from '../helpers/ports.js';
import { PEER_AUTH, startServer, type ServerHandle } from '../helpers/server.js';

const CUSTOMER_HZ = 440;
const AGENT_HZ = 1000;
const SUPERVISOR_HZ = 1800;
const EXTENSIONS = [
  { number: '1001', password: 'pw1001', role: 'agent' as const },
  { number: '1002', password: 'pw1002', role: 'agent' as const },
  { number: '1005', password: 'pw1005', role: 'supervisor' as const },
];
/** Phase windows start this long after a change (beeps, jitter buffers, DTMF end). */
const SETTLE_MS = 800;
const PHASE_MS = 3000;

let server: ServerHandle;
let phones: BaresipPhone[] = [];

beforeAll(async () => {
  let portMin = await allocatePortBlock(60);
  if (portMin % 2 === 1) portMin += 1;
  server = await startServer(
    {
      ...PEER_AUTH,
      media: { portRange: { min: portMin, max: portMin + 57 }, workers: 1 },
    },
    { extensions: EXTENSIONS },
  );
}, 30000);

afterEach(async () => {
  await Promise.all(phones.map((p) => p.kill()));
  phones = [];
});

afterAll(async () => {
  await server?.stop();
});

async function phone(user: string, toneHz: number): Promise<BaresipPhone> {
  const p = await startBaresip({
    user,
    password: `pw${user}`,
    serverPort: server.sipPort,
    toneHz,
    audioCodecs: 'pcmu',
  });
  phones.push(p);
  await p.waitForRegistration(10000);
  return p;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Samples of `audio` between two wall-clock times, given when its recording began. */
function window(audio: PcmAudio, startedAt: number, from: number, to: number): PcmAudio {
  const rate = audio.sampleRate;
  const a = Math.max(0, Math.round(((from - startedAt) / 1000) * rate));
  const b = Math.max(a, Math.round(((to - startedAt) / 1000) * rate));
  return { sampleRate: rate, samples: audio.samples.subarray(a, b) };
}

function channel(file: string, ch: number): PcmAudio {
  const wav = readWav(file);
  return { sampleRate: wav.sampleRate, samples: wav.channelData[ch]! };
}

function heard(p: BaresipPhone): PcmAudio {
  const { dec } = p.recordings();
  expect(dec).toHaveLength(1);
  return readWav(dec[0]!);
}

/** A readable verdict for expect(): which tones a stretch of audio carries. */
function tones(audio: PcmAudio, hz: readonly number[]): Record<number, string> {
  return Object.fromEntries(hz.map((f) => [f, describeTone(analyzeTone(audio, f))]));
}

function expectTones(
  label: string,
  audio: PcmAudio,
  present: readonly number[],
  absent: readonly number[],
): void {
  const verdict = {
    label,
    present: present.filter((f) => !hasTone(audio, f)),
    absent: absent.filter((f) => !lacksTone(audio, f)),
  };
  expect({ ...verdict, detail: tones(audio, [...present, ...absent]) }).toMatchObject({
    label,
    present: [],
    absent: [],
  });
}

describe('supervisor monitoring with three baresip phones', () => {
  it('listen → whisper → barge → takeover, heard by each phone and the recording', async () => {
    const agent = await phone('1001', AGENT_HZ);
    const customer = await phone('1002', CUSTOMER_HZ);
    const supervisor = await phone('1005', SUPERVISOR_HZ);

    expect((await customer.command('dial', `sip:1001@127.0.0.1:${server.sipPort}`)).ok).toBe(true);
    await customer.waitForEvent('CALL_ESTABLISHED', 10000);
    await agent.waitForEvent('CALL_ESTABLISHED', 10000);
    const callAt = Date.now();
    await sleep(1000);

    expect((await supervisor.command('dial', `sip:*901001@127.0.0.1:${server.sipPort}`)).ok).toBe(
      true,
    );
    await supervisor.waitForEvent('CALL_ESTABLISHED', 10000);
    const listenAt = Date.now();
    await sleep(PHASE_MS);

    expect((await supervisor.command('sndcode', '5')).ok).toBe(true);
    const whisperAt = Date.now();
    await sleep(PHASE_MS);

    expect((await supervisor.command('sndcode', '6')).ok).toBe(true);
    const bargeAt = Date.now();
    await sleep(PHASE_MS);

    expect((await supervisor.command('sndcode', '7')).ok).toBe(true);
    const takeoverAt = Date.now();
    // The agent's phone is released with a BYE; the customer now talks to the supervisor.
    await agent.waitForEvent('CALL_CLOSED', 10000);
    await sleep(PHASE_MS);
    const endAt = Date.now();

    await supervisor.command('hangup');
    await supervisor.waitForEvent('CALL_CLOSED', 10000);
    await customer.waitForEvent('CALL_CLOSED', 10000);

    const customerHeard = heard(customer);
    const agentHeard = heard(agent);
    const supHeard = heard(supervisor);
    const c = (from: number, to: number) => window(customerHeard, callAt, from, to);
    const a = (from: number, to: number) => window(agentHeard, callAt, from, to);
    const s = (from: number, to: number) => window(supHeard, listenAt, from, to);

    // Who hears which tones in each phase (DESIGN §3): [label, audio, present, absent].
    const C = CUSTOMER_HZ;
    const A = AGENT_HZ;
    const S = SUPERVISOR_HZ;
    const phases: Array<[string, PcmAudio, number[], number[]]> = [
      // listen: the supervisor hears both; nobody hears the supervisor.
      ['supervisor, listen', s(listenAt + SETTLE_MS, whisperAt), [C, A], [S]],
      ['agent, listen', a(listenAt + SETTLE_MS, whisperAt), [C], [S]],
      ['customer, listen', c(listenAt + SETTLE_MS, whisperAt), [A], [S]],
      // whisper: the agent hears the supervisor, the customer does not.
      ['agent, whisper', a(whisperAt + SETTLE_MS, bargeAt), [C, S], []],
      ['customer, whisper', c(whisperAt + SETTLE_MS, bargeAt), [A], [S]],
      // barge: both do.
      ['agent, barge', a(bargeAt + SETTLE_MS, takeoverAt), [C, S], []],
      ['customer, barge', c(bargeAt + SETTLE_MS, takeoverAt), [A, S], []],
      // takeover: the customer hears the supervisor and no longer the agent.
      ['customer, takeover', c(takeoverAt + SETTLE_MS, endAt), [S], [A]],
      ['supervisor, takeover', s(takeoverAt + SETTLE_MS, endAt), [C], [A]],
    ];
    for (const [label, audio, present, absent] of phases) {
      expectTones(label, audio, present, absent);
    }

    // The recording: customer left, agent right; the supervisor never before the takeover,
    // then on the agent's track.
    const dir = (server.config.recording as { directory: string }).directory;
    await sleep(500); // the room closes (and completes the WAV) just after the BYEs
    const wavs = readdirSync(dir).filter((f) => f.endsWith('.wav'));
    expect(wavs).toHaveLength(1);
    const file = path.join(dir, wavs[0]!);
    const left = channel(file, 0);
    const right = channel(file, 1);
    const l = (from: number, to: number) => window(left, callAt, from, to);
    const r = (from: number, to: number) => window(right, callAt, from, to);
    const recorded: Array<[string, PcmAudio, number[], number[]]> = [
      ['recording left, before takeover', l(callAt + SETTLE_MS, takeoverAt), [C], [S, A]],
      ['recording right, before takeover', r(callAt + SETTLE_MS, takeoverAt), [A], [S, C]],
      ['recording right, takeover', r(takeoverAt + SETTLE_MS, endAt), [S], [A]],
      ['recording left, takeover', l(takeoverAt + SETTLE_MS, endAt), [C], [S]],
    ];
    for (const [label, audio, present, absent] of recorded) {
      expectTones(label, audio, present, absent);
    }

    // The sidecar names the parties and the monitoring session with its modes (it is
    // completed once the call's media has closed, just after the BYEs).
    const readSidecar = (): unknown =>
      JSON.parse(readFileSync(file.replace(/\.wav$/, '.json'), 'utf8'));
    for (let i = 0; i < 50 && (readSidecar() as { endedAt: unknown }).endedAt === null; i++) {
      await sleep(100);
    }
    const sidecar = readSidecar() as {
      parties: { customer: { extension: string }; agent: { extension: string } };
      endReason: string;
      audioBytes: number;
      monitoring: Array<{ supervisor: string; agent: string; modes: Array<{ mode: string }> }>;
    };
    expect(sidecar.parties.customer.extension).toBe('1002');
    expect(sidecar.parties.agent.extension).toBe('1001');
    expect(sidecar.endReason).toBe('supervisor-hangup');
    expect(sidecar.audioBytes).toBeGreaterThan(0);
    expect(sidecar.monitoring).toHaveLength(1);
    expect(sidecar.monitoring[0]).toMatchObject({ supervisor: '1005', agent: '1001' });
    expect(sidecar.monitoring[0]!.modes.map((m) => m.mode)).toEqual([
      'listen',
      'whisper',
      'barge',
      'takeover',
    ]);
    for (const p of phones) expect(await p.quit()).toBe(0);
  }, 90000);
});
