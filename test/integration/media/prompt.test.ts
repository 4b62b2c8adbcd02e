/**
 * Prompts in the media engine (docs/architecture.md §6.9) end to end: a real worker thread
 * (the compiled one: `npm run build` first), fake phones on 127.0.0.1. The customer talks
 * 440 Hz, the agent 1000 Hz, the supervisor 1800 Hz (listening); the prompt is a 1400 Hz
 * tone. What each phone RECEIVED is decoded and checked: the prompt reaches the named leg
 * only, never the recording, and the leg's stream stays one RFC 3550 stream across it.
 */
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { afterEach, describe, expect, it } from '@jest/globals';
import type { MediaEngine } from '../../../media/engine/mediaEngine.js';
import type { Prompt } from '../../../media/engine/prompt.js';
import { analyzeTone, hasTone, lacksTone, readWav, synthTone } from '../../helpers/goertzel.js';
import { startEngine } from './engineFixture.js';
import { sleep } from './fakePhone.js';
import type { FakePhone, RtpIn } from './fakePhone.js';
import {
  AGENT_HZ,
  between,
  captureLogger,
  CUSTOMER_HZ,
  monitoredCall,
  problems,
  tempDir,
} from './roomFixture.js';
import type { LogEntry, MonitoredCall } from './roomFixture.js';
import { decode, seqSteps, ssrcsOf, tsSteps } from './streamChecks.js';

const PROMPT_HZ = 1400;

let engine: MediaEngine | undefined;
let logs: LogEntry[] = [];
const phones: FakePhone[] = [];
const cleanups: (() => void)[] = [];
const talkers: { stop(): void }[] = [];

async function start(): Promise<MediaEngine> {
  logs = [];
  engine = (await startEngine({ logger: captureLogger(logs), statsIntervalMs: 0 }, 12)).engine;
  return engine;
}

async function call(): Promise<MonitoredCall> {
  const c = await monitoredCall(engine!, phones);
  talkers.push(c.talkers.customer, c.talkers.agent, c.talkers.supervisor);
  for (const t of Object.values(c.talkers)) t.begin();
  return c;
}

/** A tone prompt of `seconds` at `rate` (what the tests use instead of speech). */
function tonePrompt(rate: 8000 | 16000, seconds: number, hz = PROMPT_HZ): Promise<Prompt> {
  return engine!.loadPrompt({
    sampleRate: rate,
    samples: synthTone(rate, seconds, [{ freq: hz, amplitude: 0.3 }]),
  });
}

afterEach(async () => {
  for (const t of talkers.splice(0)) t.stop();
  await engine?.close();
  engine = undefined;
  await Promise.all(phones.splice(0).map((p) => p.close()));
  for (const c of cleanups.splice(0)) c();
});

/** One SSRC, contiguous sequence numbers, timestamps on the media clock (RFC 3550). */
function expectOneStream(packets: readonly RtpIn[], ssrc: number): void {
  expect(packets.length).toBeGreaterThan(0);
  expect(ssrcsOf(packets)).toEqual([ssrc]);
  expect(seqSteps(packets).filter((s) => s !== 1)).toEqual([]);
  expect(tsSteps(packets).filter((s) => s > 8000)).toEqual([]);
  const first = packets[0]!;
  const last = packets.at(-1)!;
  const tsMs = ((last.ts - first.ts) >>> 0) / 8;
  expect(Math.abs(tsMs - (last.at - first.at))).toBeLessThan(400);
}

const leak = { maxRelativePower: 0.002 } as const;

describe('prompts in a room', () => {
  it('reaches the named leg only, never the recording; ends "finished" after its length', async () => {
    await start();
    const c = await call();
    const { dir, cleanup } = tempDir();
    cleanups.push(cleanup);
    const path = join(dir, 'prompt.wav');
    await c.room.setRoutes(c.routes('listen'));
    await c.room.startRecording({ path, channels: 2 });
    const prompt = await tonePrompt(8000, 1);
    expect(prompt.durationMs).toBe(1000);
    await sleep(500);
    const at = performance.now();
    const playback = await c.room.playPrompt([c.agentLeg], prompt);
    const ended: string[] = [];
    playback.on('ended', (r) => ended.push(r));
    await expect(playback.done).resolves.toBe('finished');
    const took = performance.now() - at;
    expect(took).toBeGreaterThan(900);
    expect(took).toBeLessThan(2500);
    expect(ended).toEqual(['finished']);
    expect(playback.endReason).toBe('finished');
    await sleep(700);
    await c.room.close();

    // The agent heard the prompt over the customer, for about its second.
    const agentDuring = decode(between(c.agent.rtp, at + 100, at + 900), 'PCMU');
    expect(hasTone(agentDuring, PROMPT_HZ, { minSeconds: 0.5 })).toBe(true);
    expect(hasTone(agentDuring, CUSTOMER_HZ, { minSeconds: 0.5 })).toBe(true);
    const blocks = analyzeTone(
      decode(between(c.agent.rtp, at - 300, at + 1800), 'PCMU'),
      PROMPT_HZ,
      {
        blockMs: 20,
        minRelativePower: 0.05,
      },
    );
    expect(blocks.toneBlocks).toBeGreaterThanOrEqual(45);
    expect(blocks.toneBlocks).toBeLessThanOrEqual(56);
    // Nobody else, and not the recording.
    for (const who of ['customer', 'supervisor'] as const) {
      expect({ who, lacks: lacksTone(decode(c[who].rtp, 'PCMU'), PROMPT_HZ, leak) }).toEqual({
        who,
        lacks: true,
      });
    }
    const wav = readWav(path);
    expect(lacksTone(wav.channelData[0]!, PROMPT_HZ, leak)).toBe(true);
    expect(lacksTone(wav.channelData[1]!, PROMPT_HZ, leak)).toBe(true);
    expect(hasTone(wav.channelData[1]!, AGENT_HZ, { startSec: 0.3 })).toBe(true);
    // Relay → mix → relay: one stream throughout.
    expectOneStream(c.agent.rtp, c.agentLeg.ssrc);
    expect(problems(logs)).toEqual([]);
  });

  it('loops until stopped; a 16 kHz prompt plays in a narrowband room', async () => {
    await start();
    const c = await call();
    await c.room.setRoutes(c.routes(null));
    const prompt = await tonePrompt(16000, 0.3, 1200);
    await sleep(300);
    const at = performance.now();
    const playback = await c.room.playPrompt([c.customerLeg], prompt, { loop: true });
    await sleep(1500);
    expect(playback.endReason).toBeUndefined();
    const stopAt = performance.now();
    await playback.stop();
    await expect(playback.done).resolves.toBe('stopped');
    await sleep(600);
    // Looped over its 0.3 s five times with no gap: the tone in every block.
    const during = decode(between(c.customer.rtp, at + 200, stopAt - 100), 'PCMU');
    const report = analyzeTone(during, 1200, { blockMs: 20, minRelativePower: 0.05 });
    expect(report.toneBlocks).toBeGreaterThanOrEqual(report.voicedBlocks - 2);
    expect(
      lacksTone(
        decode(between(c.customer.rtp, stopAt + 200, performance.now()), 'PCMU'),
        1200,
        leak,
      ),
    ).toBe(true);
    expect(lacksTone(decode(c.agent.rtp, 'PCMU'), 1200, leak)).toBe(true);
    expectOneStream(c.customer.rtp, c.customerLeg.ssrc);
    await playback.stop(); // idempotent
    expect(problems(logs)).toEqual([]);
  });

  it('a playback ends "left" when its leg closes, "closed" with its room', async () => {
    await start();
    const c = await call();
    await c.room.setRoutes(c.routes('listen'));
    const prompt = await tonePrompt(8000, 0.5);
    const toSupervisor = await c.room.playPrompt([c.supervisorLeg], prompt, { loop: true });
    const toAgent = await c.room.playPrompt([c.agentLeg], prompt, { loop: true });
    await c.supervisorLeg.close();
    await expect(toSupervisor.done).resolves.toBe('left');
    await c.room.close();
    await expect(toAgent.done).resolves.toBe('closed');
  });

  it('refuses a prompt of a rate the mixer has not, and a leg outside the room', async () => {
    await start();
    const c = await call();
    await expect(
      engine!.loadPrompt({ sampleRate: 44100 as 8000, samples: new Int16Array(10) }),
    ).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
    await c.room.setRoutes(c.routes(null));
    const prompt = await tonePrompt(8000, 0.2);
    await expect(c.room.playPrompt([c.supervisorLeg], prompt)).rejects.toMatchObject({
      code: 'ERR_ROOM',
    });
  });
});
