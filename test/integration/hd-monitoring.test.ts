/**
 * Monitoring with wideband phones (baresip): a customer (1002) calls an agent (1001), a
 * supervisor (1005) dials *90 1001 and listens, then whispers (DTMF 5), then barges
 * (DTMF 6). Every route is checked by tone on what each phone heard, the tones above
 * 4 kHz included: in listen nobody hears the supervisor; in whisper the agent does and
 * the customer never does; in barge both do. The call recording (customer left, agent
 * right) is at 16 kHz as soon as a recorded leg is wideband, holds each party's tones
 * (the ones above 4 kHz included when that party is wideband) and never the supervisor's.
 *
 * Two scenes: everyone on G.722; and three codecs at once (customer PCMU, agent G.722,
 * supervisor Opus), where the supervisor's mix is transcoded to Opus, the whisper to G.722
 * and the barge to PCMU without folding a high tone into the G.711 leg.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import {
  HD_AGENT,
  HD_CUSTOMER,
  HD_SUPERVISOR,
  HdPhonePool,
  expectVoices,
  hdCodecConfig,
  heardHd,
  type PhoneCodec,
  type Voice,
} from '../helpers/baresipHd.js';
import { readWav, type PcmAudio } from '../helpers/goertzel.js';
import { PHASE_MS, SETTLE_MS, sleep, startPhoneServer, toneWindow } from '../helpers/phoneScene.js';
import { type ServerHandle } from '../helpers/server.js';

const EXTENSIONS = [
  { number: '1001', password: 'pw1001', role: 'agent' as const },
  { number: '1002', password: 'pw1002', role: 'agent' as const },
  { number: '1005', password: 'pw1005', role: 'supervisor' as const },
];
let server: ServerHandle;
const phones = new HdPhonePool(() => server);

beforeAll(async () => {
  server = await startPhoneServer(hdCodecConfig(), EXTENSIONS);
}, 30000);

afterEach(async () => {
  await phones.killAll();
});

afterAll(async () => {
  await server?.stop();
});

interface Codecs {
  readonly customer: PhoneCodec;
  readonly agent: PhoneCodec;
  readonly supervisor: PhoneCodec;
}

interface Sidecar {
  callId: string;
  recordingStartedAt: string;
  endedAt: string | null;
  monitoring: Array<{ modes: Array<{ mode: string; at: string }> }>;
}

/** Recordings an earlier scene already checked (the server is shared by the scenes). */
const checkedRecordings = new Set<string>();

/** The single new recording of the server and its completed sidecar. */
async function theRecording(): Promise<{ file: string; sidecar: Sidecar }> {
  const dir = (server.config.recording as { directory: string }).directory;
  let wavs: string[] = [];
  for (let i = 0; i < 50; i++) {
    wavs = readdirSync(dir).filter((f) => f.endsWith('.wav') && !checkedRecordings.has(f));
    if (wavs.length > 0) break;
    await sleep(100);
  }
  expect(wavs).toHaveLength(1);
  checkedRecordings.add(wavs[0]!);
  const file = path.join(dir, wavs[0]!);
  const read = (): Sidecar =>
    JSON.parse(readFileSync(file.replace(/\.wav$/, '.json'), 'utf8')) as Sidecar;
  for (let i = 0; i < 50 && read().endedAt === null; i++) await sleep(100);
  return { file, sidecar: read() };
}

async function scene(codecs: Codecs): Promise<void> {
  const agent = await phones.phone('1001', codecs.agent, HD_AGENT);
  const customer = await phones.phone('1002', codecs.customer, HD_CUSTOMER);
  const supervisor = await phones.phone('1005', codecs.supervisor, HD_SUPERVISOR);
  const C = { voice: HD_CUSTOMER, codec: codecs.customer };
  const A = { voice: HD_AGENT, codec: codecs.agent };
  const S = { voice: HD_SUPERVISOR, codec: codecs.supervisor };

  expect((await customer.command('dial', `sip:1001@127.0.0.1:${server.sipPort}`)).ok).toBe(true);
  await customer.waitForEvent('CALL_ESTABLISHED', 10000);
  await agent.waitForEvent('CALL_ESTABLISHED', 10000);
  const callAt = Date.now();
  await sleep(1000);

  const sipUri = `sip:*901001@127.0.0.1:${server.sipPort}`;
  expect((await supervisor.command('dial', sipUri)).ok).toBe(true);
  await supervisor.waitForEvent('CALL_ESTABLISHED', 10000);
  const listenAt = Date.now();
  await sleep(PHASE_MS);
  expect((await supervisor.command('sndcode', '5')).ok).toBe(true);
  const whisperAt = Date.now();
  await sleep(PHASE_MS);
  expect((await supervisor.command('sndcode', '6')).ok).toBe(true);
  const bargeAt = Date.now();
  await sleep(PHASE_MS);
  const endAt = Date.now();

  await customer.command('hangup');
  await customer.waitForEvent('CALL_CLOSED', 10000);
  await agent.waitForEvent('CALL_CLOSED', 10000);
  await supervisor.waitForEvent('CALL_CLOSED', 10000);

  const c = (from: number, to: number) => toneWindow(heardHd(customer), callAt, from, to);
  const a = (from: number, to: number) => toneWindow(heardHd(agent), callAt, from, to);
  const s = (from: number, to: number) => toneWindow(heardHd(supervisor), listenAt, from, to);
  // Each window also ends GUARD_MS before the next change: a phone's file holds fewer
  // samples than wall-clock time when its audio thread stalls (a loaded machine), so
  // wall-clock positions late in a phase can map onto the next phase's audio.
  const GUARD_MS = 700;
  type Check = [string, PcmAudio, Array<typeof C>, Voice[]];
  const checks: Check[] = [
    // listen: the supervisor hears both parties; nobody hears the supervisor.
    ['supervisor, listen', s(listenAt + SETTLE_MS, whisperAt - GUARD_MS), [C, A], [HD_SUPERVISOR]],
    [
      'agent, listen',
      a(listenAt + SETTLE_MS, whisperAt - GUARD_MS),
      [C],
      [HD_AGENT, HD_SUPERVISOR],
    ],
    [
      'customer, listen',
      c(listenAt + SETTLE_MS, whisperAt - GUARD_MS),
      [A],
      [HD_CUSTOMER, HD_SUPERVISOR],
    ],
    // whisper: the agent hears the supervisor, the customer never does.
    ['supervisor, whisper', s(whisperAt + SETTLE_MS, bargeAt - GUARD_MS), [C, A], [HD_SUPERVISOR]],
    ['agent, whisper', a(whisperAt + SETTLE_MS, bargeAt - GUARD_MS), [C, S], [HD_AGENT]],
    [
      'customer, whisper',
      c(whisperAt + SETTLE_MS, bargeAt - GUARD_MS),
      [A],
      [HD_CUSTOMER, HD_SUPERVISOR],
    ],
    // barge: both do.
    ['supervisor, barge', s(bargeAt + SETTLE_MS, endAt - GUARD_MS), [C, A], [HD_SUPERVISOR]],
    ['agent, barge', a(bargeAt + SETTLE_MS, endAt - GUARD_MS), [C, S], [HD_AGENT]],
    ['customer, barge', c(bargeAt + SETTLE_MS, endAt - GUARD_MS), [A, S], [HD_CUSTOMER]],
  ];
  for (const [label, audio, present, absent] of checks) {
    expectVoices(label, audio, present, absent);
  }

  // The recording: 16 kHz (a recorded leg is wideband), customer left and agent right,
  // each with its own tones, never the supervisor's in any mode.
  const { file, sidecar } = await theRecording();
  const wav = readWav(file);
  expect([wav.sampleRate, wav.channels]).toEqual([16000, 2]);
  expect(sidecar.monitoring[0]?.modes.map((m) => m.mode)).toEqual(['listen', 'whisper', 'barge']);
  const recordedAt = Date.parse(sidecar.recordingStartedAt);
  const track = (ch: number): PcmAudio =>
    toneWindow(
      { sampleRate: wav.sampleRate, samples: wav.channelData[ch]! },
      recordedAt,
      recordedAt + SETTLE_MS,
      endAt - 300,
    );
  expectVoices('recording left', track(0), [C], [HD_AGENT, HD_SUPERVISOR]);
  expectVoices('recording right', track(1), [A], [HD_CUSTOMER, HD_SUPERVISOR]);

  for (const p of phones.all) expect(await p.quit()).toBe(0);
}

describe('monitoring with wideband phones', () => {
  it('all on G.722: listen, whisper, barge by tone (above 4 kHz too); a 16 kHz recording', async () => {
    await scene({ customer: 'g722', agent: 'g722', supervisor: 'g722' });
  }, 90000);

  it('customer PCMU, agent G.722, supervisor Opus: every route by tone; a 16 kHz recording', async () => {
    await scene({ customer: 'pcmu', agent: 'g722', supervisor: 'opus' });
  }, 90000);
});
