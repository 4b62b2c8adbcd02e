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
import { type PcmAudio } from '../helpers/goertzel.js';
import {
  AGENT_HZ,
  CUSTOMER_HZ,
  dialAndAnswer,
  expectTones,
  heardAudio,
  PHASE_MS,
  PhonePool,
  SETTLE_MS,
  sleep,
  startMonitoringPhones,
  startPhoneServer,
  SUPERVISOR_HZ,
  toneWindow,
  wavChannel,
} from '../helpers/phoneScene.js';
import { type ServerHandle } from '../helpers/server.js';

const EXTENSIONS = [
  { number: '1001', password: 'pw1001', role: 'agent' as const },
  { number: '1002', password: 'pw1002', role: 'agent' as const },
  { number: '1005', password: 'pw1005', role: 'supervisor' as const },
];
let server: ServerHandle;
const phones = new PhonePool(() => server);

beforeAll(async () => {
  server = await startPhoneServer({}, EXTENSIONS);
}, 30000);

afterEach(async () => {
  await phones.killAll();
});

afterAll(async () => {
  await server?.stop();
});

describe('supervisor monitoring with three baresip phones', () => {
  it('listen → whisper → barge → takeover, heard by each phone and the recording', async () => {
    const { agent, customer, supervisor } = await startMonitoringPhones(phones);

    await dialAndAnswer(server, customer, agent, '1001');
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

    const customerHeard = heardAudio(customer);
    const agentHeard = heardAudio(agent);
    const supHeard = heardAudio(supervisor);
    const c = (from: number, to: number) => toneWindow(customerHeard, callAt, from, to);
    const a = (from: number, to: number) => toneWindow(agentHeard, callAt, from, to);
    const s = (from: number, to: number) => toneWindow(supHeard, listenAt, from, to);

    // Who hears which tones in each phase (docs/architecture.md §6.1): [label, audio, present, absent].
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
    const left = wavChannel(file, 0);
    const right = wavChannel(file, 1);
    // The sidecar names the parties and the monitoring session with its modes (it is
    // completed once the call's media has closed, just after the BYEs).
    const readSidecar = (): unknown =>
      JSON.parse(readFileSync(file.replace(/\.wav$/, '.json'), 'utf8'));
    for (let i = 0; i < 50 && (readSidecar() as { endedAt: unknown }).endedAt === null; i++) {
      await sleep(100);
    }
    const sidecar = readSidecar() as {
      recordingStartedAt: string;
      parties: { customer: { extension: string }; agent: { extension: string } };
      endReason: string;
      audioBytes: number;
      monitoring: Array<{
        supervisor: string;
        agent: string;
        modes: Array<{ mode: string; at: string }>;
      }>;
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

    // The WAV's own timeline: it starts when the recording did, and the takeover happened
    // when the server applied it (both from the sidecar, on the server's clock), so a
    // recording that starts late or a loaded machine cannot move a phase boundary.
    const recordedAt = Date.parse(sidecar.recordingStartedAt);
    const tookOverAt = Date.parse(sidecar.monitoring[0]!.modes[3]!.at);
    const l = (from: number, to: number) => toneWindow(left, recordedAt, from, to);
    const r = (from: number, to: number) => toneWindow(right, recordedAt, from, to);
    const before = (f: typeof l) => f(recordedAt + SETTLE_MS, tookOverAt - 300);
    const after = (f: typeof l) => f(tookOverAt + SETTLE_MS, endAt);
    const recorded: Array<[string, PcmAudio, number[], number[]]> = [
      ['recording left, before takeover', before(l), [C], [S, A]],
      ['recording right, before takeover', before(r), [A], [S, C]],
      ['recording right, takeover', after(r), [S], [A]],
      ['recording left, takeover', after(l), [C], [S]],
    ];
    for (const [label, audio, present, absent] of recorded) {
      expectTones(label, audio, present, absent);
    }
    for (const p of phones.all) expect(await p.quit()).toBe(0);
  }, 90000);
});
