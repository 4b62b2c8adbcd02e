/**
 * Recording a wideband call: two fake phones send G.722 (payloads from the codec table's
 * own G.722 encoder), the customer a 1 kHz tone, the agent a 6 kHz tone, over real
 * sockets on 127.0.0.1 to a real engine. `wav` records at the call's band (16 kHz) and
 * keeps the 6 kHz tone on the right; `wav-g711` is 8 kHz µ-law, where the 6 kHz tone is
 * gone without aliasing into the band (the recorder low-passes before decimating).
 */
import { afterEach, describe, expect, it } from '@jest/globals';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { codecOf } from '../../../media/codecs/table.js';
import type { Leg } from '../../../media/engine/leg.js';
import type { MediaEngine } from '../../../media/engine/mediaEngine.js';
import type { RecordingFormat, RecordingSummary } from '../../../media/worker/protocol.js';
import { hasTone, lacksTone, readWav } from '../../helpers/goertzel.js';
import { startEngine } from './engineFixture.js';
import { FakePhone, sleep } from './fakePhone.js';
import { rms } from './recordingCall.js';
import { captureLogger, problems, routesOf, tempDir } from './roomFixture.js';
import type { LogEntry } from './roomFixture.js';

const G722_PT = 9;
const CUSTOMER_HZ = 1000;
const AGENT_HZ = 6000;
const AMPLITUDE = 0.4 * 32767;

let engine: MediaEngine | undefined;
let logs: LogEntry[] = [];
const phones: FakePhone[] = [];
const timers: NodeJS.Timeout[] = [];
const cleanups: (() => void)[] = [];

afterEach(async () => {
  for (const t of timers.splice(0)) clearTimeout(t);
  await engine?.close();
  engine = undefined;
  await Promise.all(phones.splice(0).map((p) => p.close()));
  for (const c of cleanups.splice(0)) c();
});

/** Sends G.722 packets of a `hz` tone (16 kHz audio) every 20 ms, drift-free, until cleanup. */
function talkG722(phone: FakePhone, port: number, hz: number): void {
  const g722 = codecOf('G722');
  const encoder = g722.createEncoder();
  const pcm = new Int16Array(g722.frameSamples);
  const payload = new Uint8Array(g722.maxFrameSamples);
  let n = 0;
  let sent = 0;
  const start = performance.now();
  const tick = (): void => {
    while (start + sent * 20 <= performance.now() + 1) {
      for (let i = 0; i < pcm.length; i++, n++) {
        pcm[i] = Math.round(AMPLITUDE * Math.sin((2 * Math.PI * hz * n) / g722.sampleRate));
      }
      const bytes = encoder.encode(pcm, pcm.length, payload);
      // sendRtp advances the timestamp by the payload's length: 160, G.722's ticks.
      expect(bytes).toBe(g722.rtpTicksPerFrame);
      phone.sendRtp(port, G722_PT, Buffer.from(payload.subarray(0, bytes)), sent === 0);
      sent++;
    }
    timers.push(setTimeout(tick, Math.max(1, start + sent * 20 - performance.now())));
  };
  tick();
  cleanups.push(() => encoder.close());
}

async function recordG722Call(format: RecordingFormat, ms: number) {
  logs = [];
  engine = (await startEngine({ logger: captureLogger(logs), statsIntervalMs: 0 }, 12)).engine;
  const group = `g722-rec-${format}`;
  const [customer, agent] = await Promise.all([FakePhone.open(), FakePhone.open()]);
  phones.push(customer, agent);
  const leg = (phone: FakePhone): Promise<Leg> =>
    engine!.createLeg({
      codecs: [{ name: 'G722', payloadType: G722_PT }],
      telephoneEvent: null,
      remote: { address: '127.0.0.1', port: phone.port },
      forwardDtmf: true,
      group,
      callId: group,
    });
  const customerLeg = await leg(customer);
  const agentLeg = await leg(agent);
  const room = await engine.createRoom({ group });
  await room.setRoutes(
    routesOf([
      { id: customerLeg, role: 'customer' },
      { id: agentLeg, role: 'agent' },
    ]),
  );
  const { dir, cleanup } = tempDir();
  cleanups.push(cleanup);
  const path = join(dir, `g722-${format}.wav`);
  await room.startRecording({ path, channels: 2, format });
  talkG722(customer, customerLeg.localPort, CUSTOMER_HZ);
  talkG722(agent, agentLeg.localPort, AGENT_HZ);
  await sleep(ms);
  const summary = (await room.close()) as RecordingSummary;
  expect(summary.error).toBeNull();
  // The phones heard each other: relayed G.722.
  expect(customer.rtp.length).toBeGreaterThan(50);
  return { path, summary };
}

describe('recording a G.722 call', () => {
  it('wav: a 16 kHz file holding the 6 kHz tone on the right, 1 kHz on the left', async () => {
    const { path, summary } = await recordG722Call('wav', 3000);
    expect(summary).toMatchObject({ format: 'wav', sampleRate: 16000 });
    const wav = readWav(path);
    expect(wav).toMatchObject({ channels: 2, sampleRate: 16000, formatTag: 1 });
    const [left, right] = wav.channelData as [Int16Array, Int16Array];
    const span = { sampleRate: 16000, startSec: 0.5, endSec: 2.7 };
    expect(hasTone(left, CUSTOMER_HZ, span)).toBe(true);
    expect(lacksTone(left, AGENT_HZ, span)).toBe(true);
    expect(hasTone(right, AGENT_HZ, span)).toBe(true);
    expect(lacksTone(right, CUSTOMER_HZ, span)).toBe(true);
    // At its level: G.722 keeps a 6 kHz tone within a few dB.
    const level = rms(right, 16000, 0.5, 2.7) / (AMPLITUDE / Math.SQRT2);
    process.stdout.write(`g722 wav: 6 kHz at ${(20 * Math.log10(level)).toFixed(1)} dB\n`);
    expect(Math.abs(20 * Math.log10(level))).toBeLessThan(3);
    expect(problems(logs)).toEqual([]);
  }, 30000);

  it('wav-g711: an 8 kHz µ-law file, the 6 kHz tone gone and no alias ≥ 40 dB down', async () => {
    const { path, summary } = await recordG722Call('wav-g711', 3000);
    expect(summary).toMatchObject({ format: 'wav-g711', sampleRate: 8000 });
    const wav = readWav(path);
    expect(wav).toMatchObject({ channels: 2, sampleRate: 8000, formatTag: 7 });
    const [left, right] = wav.channelData as [Int16Array, Int16Array];
    const span = { sampleRate: 8000, startSec: 0.5, endSec: 2.7 };
    expect(hasTone(left, CUSTOMER_HZ, span)).toBe(true);
    // 6 kHz folds to 2 kHz at 8 kHz: the right track must be (near) silent instead.
    const leftLevel = rms(left, 8000, 0.5, 2.7);
    const rightLevel = rms(right, 8000, 0.5, 2.7);
    const downDb = 20 * Math.log10(AMPLITUDE / Math.SQRT2 / Math.max(rightLevel, 1e-9));
    process.stdout.write(
      `g722 wav-g711: left ${leftLevel.toFixed(0)} rms, right ${rightLevel.toFixed(1)} rms (${downDb.toFixed(1)} dB down)\n`,
    );
    expect(leftLevel).toBeGreaterThan(0.5 * (AMPLITUDE / Math.SQRT2));
    expect(downDb).toBeGreaterThanOrEqual(40);
    expect(problems(logs)).toEqual([]);
  }, 30000);
});
