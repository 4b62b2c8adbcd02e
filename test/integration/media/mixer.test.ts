/**
 * The per-call mixer (docs/architecture.md §6) end to end: real RTP over 127.0.0.1 between fake phones
 * and a real worker thread (the compiled one: `npm run build` first). The customer talks
 * 440 Hz, the agent 1000 Hz, the supervisor 1800 Hz; what each phone RECEIVED is decoded
 * and checked by tone detection against docs/architecture.md §6.1, and so is the recording tap.
 */
import { readdirSync, readFileSync, readlinkSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { afterEach, describe, expect, it } from '@jest/globals';
import { InvalidStateError } from '../../../media/engine/errors.js';
import type { MediaEngine } from '../../../media/engine/mediaEngine.js';
import { readWavHeader } from '../../../media/recording/wavHeader.js';
import type { RecordingSummary } from '../../../media/worker/protocol.js';
import type { MonitorMode } from '../../../src/monitoring/modes.js';
import { analyzeTone, describeTone, hasTone, lacksTone, readWav } from '../../helpers/goertzel.js';
import type { PcmAudio, ToneOptions } from '../../helpers/goertzel.js';
import { startEngine } from './engineFixture.js';
import { receivedNow, sleep } from './fakePhone.js';
import type { FakePhone, RtpIn } from './fakePhone.js';
import {
  AGENT_HZ,
  between,
  captureLogger,
  CUSTOMER_HZ,
  HEARS,
  monitoredCall,
  problems,
  routesOf,
  SUPERVISOR_HZ,
  tempDir,
} from './roomFixture.js';
import type { LogEntry, MonitoredCall } from './roomFixture.js';
import { decode, seqSteps, ssrcsOf, tsSteps } from './streamChecks.js';

const TONES = [CUSTOMER_HZ, AGENT_HZ, SUPERVISOR_HZ] as const;
/** How long each phase runs, and what is ignored at its start (jitter buffers, routing). */
const PHASE_MS = 1400;
const SETTLE_MS = 300;

let engine: MediaEngine | undefined;
let logs: LogEntry[] = [];
const phones: FakePhone[] = [];
const cleanups: (() => void)[] = [];
const talkers: { stop(): void }[] = [];

async function startMixerEngine(): Promise<MediaEngine> {
  logs = [];
  engine = (await startEngine({ logger: captureLogger(logs), statsIntervalMs: 0 }, 12)).engine;
  return engine;
}

async function call(): Promise<MonitoredCall> {
  const c = await monitoredCall(engine!, phones);
  talkers.push(c.talkers.customer, c.talkers.agent, c.talkers.supervisor);
  return c;
}

function recordingPath(name: string): string {
  const { dir, cleanup } = tempDir();
  cleanups.push(cleanup);
  return join(dir, name);
}

afterEach(async () => {
  for (const t of talkers.splice(0)) t.stop();
  await engine?.close();
  engine = undefined;
  await Promise.all(phones.splice(0).map((p) => p.close()));
  for (const c of cleanups.splice(0)) c();
});

/** Tone-detection verdicts of one piece of audio, as one comparable object. */
function verdict(audio: PcmAudio | Int16Array, hears: readonly number[], opts: ToneOptions = {}) {
  const out: Record<string, string> = {};
  for (const hz of TONES) {
    const ok = hears.includes(hz) ? hasTone(audio, hz, opts) : lacksTone(audio, hz, opts);
    out[hz] = ok
      ? hears.includes(hz)
        ? 'present'
        : 'absent'
      : `WRONG (${describeTone(analyzeTone(audio, hz, opts))})`;
  }
  return out;
}

function expected(hears: readonly number[]): Record<string, string> {
  return Object.fromEntries(TONES.map((hz) => [hz, hears.includes(hz) ? 'present' : 'absent']));
}

/** What each phone heard in [from, to), against the table for `mode`. */
function checkPhones(c: MonitoredCall, mode: MonitorMode, from: number, to: number): void {
  for (const who of ['customer', 'agent', 'supervisor'] as const) {
    const packets = between(c[who].rtp, from, to);
    const hears = HEARS[mode][who];
    if (hears.length > 0) {
      // A stream with the tones: ~one packet per 20 ms.
      expect({ who, mode, enough: packets.length >= ((to - from) / 20) * 0.8 }).toEqual({
        who,
        mode,
        enough: true,
      });
    }
    const got = verdict(decode(packets, 'PCMU'), hears);
    expect({ who, mode, tones: got }).toEqual({ who, mode, tones: expected(hears) });
  }
}

/** Runs one phase in `mode`; returns its analysis window. */
async function phase(c: MonitoredCall, mode: MonitorMode): Promise<{ from: number; to: number }> {
  await c.room.setRoutes(c.routes(mode));
  const start = performance.now();
  await sleep(PHASE_MS);
  return { from: start + SETTLE_MS, to: await receivedNow() };
}

/** Channel `ch` of the recording, seconds [fromSec, toSec). */
function track(audio: ReturnType<typeof readWav>, ch: number): Int16Array {
  return audio.channelData[ch]!;
}

function expectNoProblems(): void {
  expect(problems(logs)).toEqual([]);
}

describe('route matrix (docs/architecture.md §6.1), heard by the phones and the recording', () => {
  for (const mode of ['listen', 'whisper', 'barge', 'takeover'] as const) {
    it(`${mode}: each phone hears exactly its table's tones; the recording never the supervisor`, async () => {
      await startMixerEngine();
      const c = await call();
      const path = recordingPath(`${mode}.wav`);
      await c.room.setRoutes(c.routes(mode));
      await c.room.startRecording({ path, channels: 2 });
      const recStart = performance.now();
      c.talkers.customer.begin();
      c.talkers.agent.begin();
      c.talkers.supervisor.begin();
      await sleep(PHASE_MS + 200);
      const end = performance.now();
      checkPhones(c, mode, recStart + SETTLE_MS, end);

      const summary = await c.room.close();
      expect(summary).toMatchObject({ path, error: null });
      const wav = readWav(path);
      expect(wav.channels).toBe(2);
      expect(wav.sampleRate).toBe(8000);
      const opts = { startSec: SETTLE_MS / 1000 };
      const agentSeat = mode === 'takeover' ? SUPERVISOR_HZ : AGENT_HZ;
      expect(verdict(track(wav, 0), [CUSTOMER_HZ], opts)).toEqual(expected([CUSTOMER_HZ]));
      expect(verdict(track(wav, 1), [agentSeat], opts)).toEqual(expected([agentSeat]));
      expectNoProblems();
    });
  }

  it('mode changes mid-call (listen → whisper → barge → takeover) apply on the next frames', async () => {
    await startMixerEngine();
    const c = await call();
    const path = recordingPath('modes.wav');
    await c.room.setRoutes(c.routes(null));
    await c.room.startRecording({ path, channels: 2 });
    const recStart = performance.now();
    c.talkers.customer.begin();
    c.talkers.agent.begin();
    c.talkers.supervisor.begin();
    await sleep(400);
    const windows: [MonitorMode, { from: number; to: number }][] = [];
    for (const mode of ['listen', 'whisper', 'barge', 'takeover'] as const) {
      windows.push([mode, await phase(c, mode)]);
    }
    for (const [mode, w] of windows) checkPhones(c, mode, w.from, w.to);

    // Each phone's stream stayed ONE stream through every switch (the released agent's
    // stream just stops).
    for (const who of ['customer', 'agent', 'supervisor'] as const) {
      const leg = c[`${who}Leg`];
      expect({ who, ssrcs: ssrcsOf(c[who].rtp) }).toEqual({ who, ssrcs: [leg.ssrc] });
      expect({ who, steps: [...new Set(seqSteps(c[who].rtp))] }).toEqual({ who, steps: [1] });
    }

    await c.room.close();
    const wav = readWav(path);
    // Recording time ≈ wall time since the recording started.
    const sec = (t: number): number => (t - recStart) / 1000;
    const takeover = windows[3]![1];
    const before = { startSec: SETTLE_MS / 1000, endSec: sec(takeover.from - SETTLE_MS) };
    const after = { startSec: sec(takeover.from), endSec: sec(takeover.to) - 0.1 };
    expect(verdict(track(wav, 0), [CUSTOMER_HZ], { startSec: SETTLE_MS / 1000 })).toEqual(
      expected([CUSTOMER_HZ]),
    );
    expect(verdict(track(wav, 1), [AGENT_HZ], before)).toEqual(expected([AGENT_HZ]));
    expect(verdict(track(wav, 1), [SUPERVISOR_HZ], after)).toEqual(expected([SUPERVISOR_HZ]));
    // Never the supervisor before the takeover, in any channel.
    expect(lacksTone(track(wav, 0), SUPERVISOR_HZ)).toBe(true);
    expectNoProblems();
  });
});

/** RFC 3550 continuity of what one phone received. */
function expectOneStream(packets: readonly RtpIn[], ssrc: number): void {
  expect(packets.length).toBeGreaterThan(0);
  expect(ssrcsOf(packets)).toEqual([ssrc]);
  const seq = seqSteps(packets);
  expect(seq.filter((s) => s !== 1)).toEqual([]); // no gap, no repeat
  const ts = tsSteps(packets);
  // Non-decreasing (a step "back" is a huge unsigned step) and never a jump of seconds.
  expect(ts.filter((s) => s > 8000)).toEqual([]);
  // Timestamps advance with the media clock: as much as the wall time, give or take (the
  // slack is for a loaded machine: a stalled thread delays packets, not timestamps).
  const first = packets[0]!;
  const last = packets.at(-1)!;
  const tsMs = ((last.ts - first.ts) >>> 0) / 8;
  expect(Math.abs(tsMs - (last.at - first.at))).toBeLessThan(400);
}

describe('stream continuity', () => {
  it('relay → mix → relay: the agent receives one SSRC, contiguous sequence numbers', async () => {
    await startMixerEngine();
    const c = await call();
    c.talkers.customer.begin();
    c.talkers.agent.begin();
    c.talkers.supervisor.begin();
    await c.room.setRoutes(c.routes(null)); // agent relays the customer
    await sleep(600);
    const t1 = performance.now();
    await c.room.setRoutes(c.routes('whisper')); // agent: mix of customer + whisper
    await sleep(900);
    const t2 = performance.now();
    await c.room.setRoutes(c.routes(null)); // the supervisor leaves: relay again
    await sleep(600);
    const t3 = performance.now();
    await c.room.setRoutes(c.routes('whisper')); // and comes back
    await sleep(900);
    const t4 = performance.now();
    await c.room.setRoutes(c.routes('listen')); // listen: agent relays again
    await sleep(600);

    const heard = c.agent.rtp;
    expectOneStream(heard, c.agentLeg.ssrc);
    // Each switch really happened (relay: customer only; mix: customer + supervisor).
    const audio = (from: number, to: number) => decode(between(heard, from, to), 'PCMU');
    expect(hasTone(audio(t1 + SETTLE_MS, t2), SUPERVISOR_HZ)).toBe(true);
    expect(hasTone(audio(t3 + SETTLE_MS, t4), SUPERVISOR_HZ)).toBe(true);
    expect(lacksTone(audio(t2 + 100, t3), SUPERVISOR_HZ)).toBe(true);
    expect(lacksTone(audio(t4 + 100, performance.now()), SUPERVISOR_HZ)).toBe(true);
    expect(hasTone(audio(t2 + 100, t3), CUSTOMER_HZ)).toBe(true);
    // No pause at any switch: a feed that failed to start would leave the whole phase
    // (600–900 ms) silent; the bound leaves room for a loaded machine's stalls.
    const gaps = heard.slice(1).map((p, i) => p.at - heard[i]!.at);
    expect(Math.max(...gaps)).toBeLessThan(400);
    expectNoProblems();
  });

  it('the customer and the supervisor keep one stream through whisper → barge → takeover', async () => {
    await startMixerEngine();
    const c = await call();
    c.talkers.customer.begin();
    c.talkers.agent.begin();
    c.talkers.supervisor.begin();
    for (const mode of ['listen', 'barge', 'whisper', 'barge', 'takeover'] as const) {
      await c.room.setRoutes(c.routes(mode));
      await sleep(500);
    }
    expectOneStream(c.customer.rtp, c.customerLeg.ssrc);
    expectOneStream(c.supervisor.rtp, c.supervisorLeg.ssrc);
    expectNoProblems();
  });
});

describe('a clocked mixer', () => {
  it('a whisper reaches an agent while nobody else sends', async () => {
    await startMixerEngine();
    const c = await call();
    await c.room.setRoutes(c.routes('whisper'));
    await sleep(200);
    const start = performance.now();
    c.talkers.supervisor.begin();
    await sleep(1500);
    const end = performance.now();
    const heard = between(c.agent.rtp, start, end);
    // ~75 frames in 1.5 s: one every 20 ms, carrying the whisper.
    expect(heard.length).toBeGreaterThanOrEqual(65);
    expectOneStream(c.agent.rtp, c.agentLeg.ssrc);
    const gaps = heard.slice(1).map((p, i) => p.at - heard[i]!.at);
    expect(Math.max(...gaps)).toBeLessThan(100);
    const audio = decode(between(c.agent.rtp, start + SETTLE_MS, end), 'PCMU');
    expect(verdict(audio, [SUPERVISOR_HZ])).toEqual(expected([SUPERVISOR_HZ]));
    // The customer hears nothing of it (its only source, the agent, is silent).
    expect(lacksTone(decode(c.customer.rtp, 'PCMU'), SUPERVISOR_HZ)).toBe(true);
    expectNoProblems();
  });

  it('a whisper reaches an agent whose customer is on hold (its media dropped)', async () => {
    await startMixerEngine();
    const c = await call();
    // The customer's phone keeps sending, but its leg refuses what it sends (sendonly:
    // the engine only sends toward it), and the agent is silent.
    await c.customerLeg.setDirection('sendonly');
    await c.room.setRoutes(c.routes('whisper'));
    c.talkers.customer.begin();
    c.talkers.supervisor.begin();
    const start = performance.now();
    await sleep(1500);
    const end = performance.now();
    const audio = decode(between(c.agent.rtp, start + SETTLE_MS, end), 'PCMU');
    expect(between(c.agent.rtp, start + SETTLE_MS, end).length).toBeGreaterThanOrEqual(50);
    expect(verdict(audio, [SUPERVISOR_HZ])).toEqual(expected([SUPERVISOR_HZ]));
    expectOneStream(c.agent.rtp, c.agentLeg.ssrc);
    expectNoProblems();
  });
});

describe('tones', () => {
  it('plays a tone to the agent only; never to the customer, never into the recording', async () => {
    await startMixerEngine();
    const c = await call();
    const path = recordingPath('tone.wav');
    await c.room.setRoutes(c.routes('listen'));
    await c.room.startRecording({ path, channels: 2 });
    c.talkers.customer.begin();
    c.talkers.agent.begin();
    c.talkers.supervisor.begin();
    await sleep(500);
    const toneAt = performance.now();
    await c.room.playTone([c.agentLeg], {
      frequencies: [1400],
      levelDbm0: -18,
      onMs: 200,
      offMs: 0,
      repeat: 1,
    });
    await sleep(800);
    await c.room.close();

    // 20 ms blocks: the tone covers ~10 of them, right after playTone. At −18 dBm0 it is
    // ~13 dB below the customer's tone (0.4 of full scale) that the agent hears with it:
    // ~5 % of a block's energy. A leak is judged 10× stricter.
    const opts = { blockMs: 20, minSeconds: 0.1, minFraction: 0, minRelativePower: 0.02 } as const;
    const leak = { maxRelativePower: 0.002 } as const;
    const agentAudio = decode(between(c.agent.rtp, toneAt - 100, toneAt + 700), 'PCMU');
    const report = analyzeTone(agentAudio, 1400, opts);
    expect(hasTone(agentAudio, 1400, opts)).toBe(true);
    expect(report.toneBlocks).toBeGreaterThanOrEqual(7);
    expect(report.toneBlocks).toBeLessThanOrEqual(13);
    // The customer kept being heard under the tone and after it.
    expect(hasTone(agentAudio, CUSTOMER_HZ)).toBe(true);
    for (const who of ['customer', 'supervisor'] as const) {
      expect({ who, lacks: lacksTone(decode(c[who].rtp, 'PCMU'), 1400, leak) }).toEqual({
        who,
        lacks: true,
      });
    }
    const wav = readWav(path);
    expect(lacksTone(track(wav, 0), 1400, leak)).toBe(true);
    expect(lacksTone(track(wav, 1), 1400, leak)).toBe(true);
    expect(hasTone(track(wav, 1), AGENT_HZ, { startSec: 0.3 })).toBe(true);
    // After the tone the agent is a relay of the customer again: one stream throughout.
    expectOneStream(c.agent.rtp, c.agentLeg.ssrc);
    expectNoProblems();
  });

  it('refuses a tone to a leg outside the room', async () => {
    await startMixerEngine();
    const c = await call();
    await c.room.setRoutes(c.routes(null));
    await expect(
      c.room.playTone([c.supervisorLeg], {
        frequencies: [1400],
        levelDbm0: -18,
        onMs: 200,
        offMs: 0,
        repeat: 1,
      }),
    ).rejects.toMatchObject({ code: 'ERR_ROOM' });
  });
});

describe('mixer stats and the recording file', () => {
  it('counts mixed frames, ticks, lateness and recording bytes; close completes the WAV', async () => {
    const engine = await startMixerEngine();
    const c = await call();
    const path = recordingPath('stats.wav');
    await c.room.setRoutes(c.routes('whisper'));
    await c.room.startRecording({ path, channels: 2 });
    c.talkers.customer.begin();
    c.talkers.agent.begin();
    c.talkers.supervisor.begin();
    await sleep(1600); // the recorder writes about once a second

    const [report] = await engine.getStats();
    const m = report!.mixer;
    expect(m.rooms).toBe(1);
    expect(m.clockedRooms).toBe(1);
    expect(m.recordingsActive).toBe(1);
    expect(m.recordingBytes).toBeGreaterThan(0);
    expect(m.recordingBytes % 640).toBe(0); // whole stereo frames
    // Whisper: the agent and the supervisor are mixed, every frame, ~80 frames each.
    expect(m.framesMixed).toBeGreaterThan(100);
    expect(m.ticks).toBeGreaterThan(60);
    expect(m.lateness.count).toBe(m.ticks);
    expect(m.lateness.counts.reduce((a, b) => a + b, 0)).toBe(m.lateness.count);
    expect(m.lateness.counts).toHaveLength(m.lateness.le.length + 1);
    expect(m.lateness.sum).toBeGreaterThanOrEqual(0);
    expect(m.jitterDepthMs).not.toBeNull();

    const summary = (await c.room.close()) as RecordingSummary;
    expect(summary).toMatchObject({ path, error: null });
    expect(summary.bytes).toBeGreaterThan(m.recordingBytes);
    expect(summary.bytes).toBe(summary.frames * 640);
    const file = readFileSync(path);
    expect(statSync(path).size).toBe(44 + summary.bytes);
    const header = readWavHeader(file);
    expect(header).toMatchObject({
      formatTag: 1,
      channels: 2,
      sampleRate: 8000,
      bitsPerSample: 16,
      dataOffset: 44,
      dataBytes: summary.bytes,
      riffBytes: 36 + summary.bytes,
    });
    expect(await c.room.close()).toBe(summary); // idempotent: the same answer

    const [after] = await engine.getStats();
    expect(after!.mixer).toMatchObject({
      rooms: 0,
      clockedRooms: 0,
      recordingsActive: 0,
      recordingsKeptByIo: 0,
    });
    // Totals over the worker's life: the closed room's frames and bytes stay counted.
    expect(after!.mixer.recordingBytes).toBe(summary.bytes);
    expect(after!.mixer.framesMixed).toBeGreaterThanOrEqual(m.framesMixed);
    expect(after!.mixer.ticks).toBeGreaterThanOrEqual(m.ticks);
    expectNoProblems();
  });

  it('an unmonitored call costs no mixing: no clock, no mixed frames', async () => {
    const engine = await startMixerEngine();
    const c = await call();
    await c.room.setRoutes(c.routes(null));
    c.talkers.customer.begin();
    c.talkers.agent.begin();
    await sleep(500);
    const [report] = await engine.getStats();
    expect(report!.mixer).toMatchObject({ rooms: 1, clockedRooms: 0, ticks: 0, framesMixed: 0 });
    expect(report!.mixer.jitterDepthMs).toBeNull();
    expect(hasTone(decode(c.agent.rtp, 'PCMU'), CUSTOMER_HZ, { minSeconds: 0.3 })).toBe(true);
    expect(hasTone(decode(c.customer.rtp, 'PCMU'), AGENT_HZ, { minSeconds: 0.3 })).toBe(true);
  });
});

describe('closing', () => {
  it('a leg that closes leaves its room; the room reroutes the others', async () => {
    const engine = await startMixerEngine();
    const c = await call();
    await c.room.setRoutes(c.routes('whisper'));
    c.talkers.customer.begin();
    c.talkers.agent.begin();
    c.talkers.supervisor.begin();
    await sleep(600);
    await c.agentLeg.close();
    const closedAt = performance.now();
    // The agent leaves the members, and every route and recording track naming it.
    expect(c.room.members).toEqual([
      { leg: c.customerLeg, hears: [] },
      { leg: c.supervisorLeg, hears: [{ leg: c.customerLeg, gain: 1 }] },
    ]);
    expect(c.room.recordingTracks).toEqual([[c.customerLeg], []]);
    await sleep(900);
    // The supervisor now hears the customer alone (a relay), still one stream.
    const sup = decode(between(c.supervisor.rtp, closedAt + SETTLE_MS, performance.now()), 'PCMU');
    expect(verdict(sup, [CUSTOMER_HZ])).toEqual(expected([CUSTOMER_HZ]));
    expectOneStream(c.supervisor.rtp, c.supervisorLeg.ssrc);
    // The customer heard only the agent, who is gone: nothing more reaches it.
    const n = c.customer.rtp.length;
    await sleep(200);
    expect(c.customer.rtp.length).toBe(n);
    // The room still works: a new membership without the closed leg.
    await c.room.setRoutes(
      routesOf([
        { id: c.customerLeg, role: 'customer' },
        { id: c.supervisorLeg, role: 'supervisor', mode: 'takeover' },
      ]),
    );
    await sleep(600);
    expect(
      hasTone(decode(c.customer.rtp.slice(n), 'PCMU'), SUPERVISOR_HZ, { minSeconds: 0.2 }),
    ).toBe(true);
    const [report] = await engine.getStats();
    expect(report!.worker.counters.internalErrors).toBe(0);
    expectNoProblems();
  });

  it('room.close() unroutes the members but leaves the legs open and usable', async () => {
    const engine = await startMixerEngine();
    const c = await call();
    await c.room.setRoutes(c.routes('barge'));
    c.talkers.customer.begin();
    c.talkers.agent.begin();
    c.talkers.supervisor.begin();
    await sleep(500);
    expect(await c.room.close()).toBeNull(); // no recording
    expect(c.room.closed).toBe(true);
    for (const leg of [c.customerLeg, c.agentLeg, c.supervisorLeg]) expect(leg.closed).toBe(false);
    await expect(c.room.setRoutes(c.routes(null))).rejects.toBeInstanceOf(InvalidStateError);
    await expect(c.room.startRecording({ path: '/tmp/x.wav', channels: 2 })).rejects.toBeInstanceOf(
      InvalidStateError,
    );
    // Unrouted: nothing reaches the phones any more.
    await sleep(100);
    const counts = [c.customer.rtp.length, c.agent.rtp.length, c.supervisor.rtp.length];
    await sleep(300);
    expect([c.customer.rtp.length, c.agent.rtp.length, c.supervisor.rtp.length]).toEqual(counts);
    // The legs are plain legs again: a two-party relay works.
    await engine.connect(c.customerLeg, c.agentLeg);
    const at = performance.now();
    await sleep(600);
    const agentAudio = decode(between(c.agent.rtp, at + 100, performance.now()), 'PCMU');
    expect(verdict(agentAudio, [CUSTOMER_HZ], { minSeconds: 0.3 })).toEqual(
      expected([CUSTOMER_HZ]),
    );
    expectOneStream(c.agent.rtp, c.agentLeg.ssrc);
    // And they can join a new room.
    const room2 = await engine.createRoom({ group: c.customerLeg.group! });
    await expect(c.agentLeg.setSources([])).resolves.toBeUndefined();
    await room2.setRoutes(c.routes('listen'));
    await expect(c.agentLeg.setSources([c.customerLeg])).rejects.toMatchObject({
      code: 'ERR_IN_ROOM',
    });
    await room2.close();
    const [report] = await engine.getStats();
    expect(report!.mixer.rooms).toBe(0);
    expectNoProblems();
  });

  it('engine.close() with rooms, tones and recordings running finishes the WAV files', async () => {
    const engine = await startMixerEngine();
    const a = await call();
    const b = await call();
    const paths = [recordingPath('a.wav'), recordingPath('b.wav')];
    await a.room.setRoutes(a.routes('barge'));
    await b.room.setRoutes(b.routes('listen'));
    await a.room.startRecording({ path: paths[0]!, channels: 2 });
    await b.room.startRecording({ path: paths[1]!, channels: 1 });
    for (const x of [a, b]) {
      x.talkers.customer.begin();
      x.talkers.agent.begin();
      x.talkers.supervisor.begin();
    }
    await sleep(700);
    await b.room.playTone([b.agentLeg], {
      frequencies: [350, 440],
      levelDbm0: -13,
      onMs: 10000,
      offMs: 0,
      repeat: 10,
    });
    await sleep(300);
    await engine.close();
    expect(a.room.closed).toBe(true);
    await expect(a.room.close()).resolves.toBeNull();
    await expect(engine.close()).resolves.toBeUndefined();
    for (const [i, path] of paths.entries()) {
      const file = readFileSync(path);
      const header = readWavHeader(file);
      expect(header.channels).toBe(i === 0 ? 2 : 1);
      expect(header.dataBytes).toBeGreaterThan(0);
      expect(file.length).toBe(44 + header.dataBytes);
      expect(header.riffBytes).toBe(36 + header.dataBytes);
    }
    expectNoProblems();
  });
});

/** Whether this process (worker threads included) holds a file descriptor on `path`. */
function fileIsOpen(path: string): boolean {
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      if (readlinkSync(`/proc/self/fd/${fd}`) === path) return true;
    } catch {
      // closed while we listed
    }
  }
  return false;
}

describe('recording races', () => {
  it('a room closed while its recording is being opened does not keep the file open', async () => {
    const engine = await startMixerEngine();
    const c = await call();
    await c.room.setRoutes(c.routes('listen'));
    c.talkers.customer.begin();
    c.talkers.agent.begin();
    const path = recordingPath('race.wav');
    const started = c.room.startRecording({ path, channels: 2 });
    const closed = c.room.close();
    const [start] = await Promise.allSettled([started, closed]);
    await sleep(300);
    // Either the recording was refused, or it was stopped and completed by the close.
    if (start.status === 'rejected') {
      expect(start.reason).toMatchObject({ code: 'ERR_RECORDING' });
    } else {
      expect(await closed).toMatchObject({ path });
    }
    expect(fileIsOpen(path)).toBe(false);
    const [report] = await engine.getStats();
    expect(report!.mixer).toMatchObject({ rooms: 0, clockedRooms: 0, recordingsActive: 0 });
    const file = readFileSync(path);
    expect(file.length).toBe(44 + readWavHeader(file).dataBytes);
  });

  it('engine.close() while a recording is being opened leaves no file open', async () => {
    const engine = await startMixerEngine();
    const c = await call();
    await c.room.setRoutes(c.routes('listen'));
    const path = recordingPath('race2.wav');
    const started = c.room.startRecording({ path, channels: 2 }).catch(() => undefined);
    await engine.close();
    await started;
    expect(fileIsOpen(path)).toBe(false);
  });
});

describe('codecs and DTMF through the room', () => {
  it('mixes for a PCMA supervisor (encoded with its codec and payload type)', async () => {
    await startMixerEngine();
    const c = await monitoredCall(engine!, phones, { supervisorLaw: 'PCMA' });
    talkers.push(c.talkers.customer, c.talkers.agent, c.talkers.supervisor);
    await c.room.setRoutes(c.routes('barge'));
    c.talkers.customer.begin();
    c.talkers.agent.begin();
    c.talkers.supervisor.begin();
    const start = performance.now();
    await sleep(1300);
    const sup = between(c.supervisor.rtp, start + SETTLE_MS, performance.now());
    expect(new Set(sup.map((p) => p.pt))).toEqual(new Set([8]));
    expect(verdict(decode(sup, 'PCMA'), [CUSTOMER_HZ, AGENT_HZ])).toEqual(
      expected([CUSTOMER_HZ, AGENT_HZ]),
    );
    // The PCMU phones hear the PCMA supervisor in their mixes.
    const agent = decode(between(c.agent.rtp, start + SETTLE_MS, performance.now()), 'PCMU');
    expect(verdict(agent, [CUSTOMER_HZ, SUPERVISOR_HZ])).toEqual(
      expected([CUSTOMER_HZ, SUPERVISOR_HZ]),
    );
    expectNoProblems();
  });

  // docs/architecture.md §6.7: "Agent and customer DTMF (RFC 4733) pass through to the other party" —
  // also to a listener fed from the mix (workerRoom.ts forwardEvent).
  it('passes the customer’s DTMF to an agent fed from the mix (whisper)', async () => {
    await startMixerEngine();
    const c = await monitoredCall(engine!, phones, { te: 101 });
    talkers.push(c.talkers.customer, c.talkers.agent, c.talkers.supervisor);
    await c.room.setRoutes(c.routes('whisper'));
    c.talkers.supervisor.begin();
    await sleep(200);
    await c.customer.sendDigit(c.customerLeg.localPort, 101, '5');
    await sleep(200);
    expect(c.agent.rtp.filter((p) => p.pt === 101).length).toBeGreaterThanOrEqual(5);
  });

  it('passes the customer’s DTMF to a relayed agent (listen), never the supervisor’s', async () => {
    await startMixerEngine();
    const c = await monitoredCall(engine!, phones, { te: 101 });
    await c.room.setRoutes(c.routes('barge'));
    await c.supervisor.sendDigit(c.supervisorLeg.localPort, 101, '4');
    await c.room.setRoutes(c.routes('listen'));
    await c.customer.sendDigit(c.customerLeg.localPort, 101, '5');
    await sleep(200);
    expect(c.agent.rtp.filter((p) => p.pt === 101).length).toBeGreaterThanOrEqual(5);
    expect(c.customer.rtp.filter((p) => p.pt === 101)).toEqual([]);
    // The supervisor hears what the agent hears, the customer's digit included (from the
    // mix stream), but its own steering digit reaches nobody.
    const heardBySupervisor = c.supervisor.rtp.filter((p) => p.pt === 101);
    expect(heardBySupervisor.length).toBeGreaterThanOrEqual(5);
    expect(new Set(heardBySupervisor.map((p) => p.payload[0]))).toEqual(new Set([5]));
    expect(c.agent.rtp.filter((p) => p.pt === 101 && p.payload[0] === 4)).toEqual([]);
  });
});

describe('room membership rules', () => {
  it('a leg is in one room at a time, and two takeovers are refused', async () => {
    const engine = await startMixerEngine();
    const c = await call();
    await c.room.setRoutes(c.routes('listen'));
    const other = await engine.createRoom({ group: c.customerLeg.group! });
    await expect(
      other.setRoutes({ members: [{ leg: c.agentLeg, hears: [] }], recordingTracks: [[], []] }),
    ).rejects.toMatchObject({ code: 'ERR_IN_ROOM' });
    await expect(c.customerLeg.setSources([c.agentLeg])).rejects.toMatchObject({
      code: 'ERR_IN_ROOM',
    });
    // Two takeovers: the policy (src/monitoring) refuses them before any routes exist.
    expect(() =>
      routesOf([
        { id: c.customerLeg, role: 'customer' },
        { id: c.agentLeg, role: 'agent' },
        { id: c.supervisorLeg, role: 'supervisor', mode: 'takeover' },
        { id: c.customerLeg, role: 'supervisor', mode: 'takeover' },
      ]),
    ).toThrow(RangeError);
    // Impossible routes (a member hearing itself) are refused by the engine.
    const listen = c.routes('listen');
    await expect(
      c.room.setRoutes({
        ...listen,
        members: listen.members.map((m) => ({
          ...m,
          hears: [...m.hears, { leg: m.leg, gain: 1 }],
        })),
      }),
    ).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
    // A failed change leaves the room as it was.
    expect(c.room.members).toHaveLength(3);
    expectNoProblems();
  });
});
