/**
 * Corrupt Opus payloads from a phone whose audio must be decoded (an Opus customer and a
 * PCMU agent hear each other through the room's mix, and the call is recorded): every bad
 * payload is concealed and counted (the mix's and the recording's own decoders, each in
 * its counter), the agent's stream never stops, the customer's tone comes back once good
 * packets do, the recording is written, and another call on the same worker is untouched.
 * G.722 has no invalid bitstream (every payload decodes to audio), so only Opus payloads
 * can be corrupt. Real RTP over 127.0.0.1 and the compiled worker (`npm run build`).
 */
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { afterEach, describe, expect, it } from '@jest/globals';
import type { MediaEngine } from '../../../media/engine/mediaEngine.js';
import { OPUS } from '../../../media/codecs/opusCodec.js';
import { roomRoutes } from '../../../src/monitoring/routeMatrix.js';
import { hasTone } from '../../helpers/goertzel.js';
import { rtp } from '../../unit/media/rtpFixture.js';
import { startEngine } from './engineFixture.js';
import { createLegFor, twoPartyCall } from './callFixture.js';
import { FakePhone, sleep, Tone } from './fakePhone.js';
import { between, captureLogger, problems, tempDir } from './roomFixture.js';
import type { LogEntry } from './roomFixture.js';
import { decode, ownPauses, tsSteps } from './streamChecks.js';

const OPUS_PT = 111;
const TONE_HZ = 440;
const PHASE_FRAMES = 50; // 1 s of 20 ms frames per phase
/** Payloads RFC 6716 §3.2.5 forbids: code 3 with zero frames, and frame lengths past the end. */
const CORRUPT = [Buffer.from([0x03, 0x00]), Buffer.from([0x03, 0x3f, 0xff, 0xff])];

let engine: MediaEngine | undefined;
let logs: LogEntry[] = [];
const phones: FakePhone[] = [];
const cleanups: (() => void)[] = [];

afterEach(async () => {
  await engine?.close();
  engine = undefined;
  await Promise.all(phones.splice(0).map((p) => p.close()));
  for (const c of cleanups.splice(0)) c();
});

/** A 16 kHz sine encoded as one 20 ms Opus payload per call. */
function opusTone(hz: number): () => Buffer {
  const encoder = OPUS.createEncoder();
  cleanups.push(() => encoder.close());
  const pcm = new Int16Array(OPUS.frameSamples);
  const out = new Uint8Array(1500);
  let n = 0;
  return () => {
    for (let i = 0; i < pcm.length; i++, n++) {
      pcm[i] = Math.round(0.4 * 32767 * Math.sin((2 * Math.PI * hz * n) / OPUS.sampleRate));
    }
    return Buffer.from(out.subarray(0, encoder.encode(pcm, pcm.length, out)));
  };
}

describe('corrupt Opus payloads', () => {
  it('are concealed and counted, the call and its neighbour go on, the recording is written', async () => {
    logs = [];
    engine = (await startEngine({ logger: captureLogger(logs), statsIntervalMs: 0 }, 12)).engine;
    const group = 'corrupt-opus';
    const [customer, agent] = await Promise.all([FakePhone.open(), FakePhone.open()]);
    phones.push(customer, agent);
    const customerLeg = await engine.createLeg({
      codecs: [{ name: 'opus', payloadType: OPUS_PT }],
      remote: { address: '127.0.0.1', port: customer.port },
      group,
      callId: group,
    });
    const agentLeg = await createLegFor(engine, agent, { law: 'PCMU', pt: 0 }, group);
    const room = await engine.createRoom({ group });
    await room.setRoutes(
      roomRoutes([
        { id: customerLeg, role: 'customer' },
        { id: agentLeg, role: 'agent' },
      ]),
    );
    const { dir, cleanup } = tempDir();
    cleanups.push(cleanup);
    const path = join(dir, 'corrupt.wav');
    const recordingAsked = performance.now();
    await room.startRecording({ path, channels: 2 });

    // A neighbour on the same worker: two PCMU phones relayed to each other.
    const other = await twoPartyCall(engine, { law: 'PCMU', pt: 0 }, { law: 'PCMU', pt: 0 });
    phones.push(other.phoneA, other.phoneB);
    const otherTone = new Tone('PCMU', 1000);

    // Three phases of 1 s each: good Opus, corrupt payloads, good Opus again. The agent
    // talks PCMU throughout (its audio is transcoded to Opus for the customer).
    const good = opusTone(TONE_HZ);
    const agentTone = new Tone('PCMU', 1000);
    const ssrc = 0x0badc0de;
    let seq = 100;
    let ts = 5000;
    const phaseStart: number[] = [];
    const t0 = performance.now();
    for (let i = 0; i < 3 * PHASE_FRAMES; i++) {
      if (i % PHASE_FRAMES === 0) phaseStart.push(performance.now());
      const phase = Math.floor(i / PHASE_FRAMES);
      const payload = phase === 1 ? CORRUPT[i % CORRUPT.length]! : good();
      customer.send(rtp({ pt: OPUS_PT, seq, ts, ssrc, payload }), customerLeg.localPort);
      seq = (seq + 1) & 0xffff;
      ts = (ts + OPUS.rtpTicksPerFrame) >>> 0;
      agent.sendRtp(agentLeg.localPort, 0, agentTone.frame());
      other.phoneA.sendRtp(other.legA.localPort, 0, otherTone.frame());
      // Drift-free pacing: frame i+1 is due at t0 + (i+1) × 20 ms.
      await sleep(Math.max(0, t0 + (i + 1) * 20 - performance.now()));
    }
    const end = performance.now();
    await sleep(200);

    // The agent heard the customer's tone before and after, and a stream without a gap
    // throughout (concealment, not silence from a stalled mix): no pause over 100 ms that
    // the neighbour's relayed stream, received here from the same worker, did not have
    // too (those are this process or the machine not running, not the mix).
    const heard = between(agent.rtp, phaseStart[0]! + 300, end + 100);
    expect(ownPauses(heard, other.phoneB.rtp, 100)).toEqual([]);
    expect(tsSteps(heard).filter((s) => s !== 160)).toEqual([]);
    const before = decode(between(agent.rtp, phaseStart[0]! + 300, phaseStart[1]!), 'PCMU');
    const after = decode(between(agent.rtp, phaseStart[2]! + 300, end + 100), 'PCMU');
    expect(hasTone(before, TONE_HZ)).toBe(true);
    expect(hasTone(after, TONE_HZ)).toBe(true);

    // The neighbour's phone B got what A sent, relayed.
    expect(other.phoneB.rtp.length).toBeGreaterThanOrEqual(3 * PHASE_FRAMES * 0.95);

    // Counted: each corrupt payload once by the mix's decoder, once by the recording's.
    const [report] = await engine.getStats();
    expect(report!.mixer.framesCorrupt).toBeGreaterThanOrEqual(PHASE_FRAMES * 0.9);
    expect(report!.mixer.framesCorrupt).toBeLessThanOrEqual(PHASE_FRAMES);
    expect(report!.mixer.recordingFramesCorrupt).toBeGreaterThanOrEqual(PHASE_FRAMES * 0.9);
    expect(report!.mixer.recordingFramesCorrupt).toBeLessThanOrEqual(PHASE_FRAMES);

    // The recording (16 kHz stereo: the customer is wideband) covers at least the 3 s
    // sent and at most the time from asking for it to its close; its counts outlive it.
    const summary = await room.close();
    const closed = performance.now();
    expect(summary).toMatchObject({ path, error: null, sampleRate: 16000 });
    expect(existsSync(path)).toBe(true);
    const seconds = summary!.bytes / (16000 * 2 * 2);
    expect(seconds).toBeGreaterThanOrEqual((end - t0) / 1000 - 0.1);
    expect(seconds).toBeLessThanOrEqual((closed - recordingAsked) / 1000 + 0.1);
    expect(statSync(path).size).toBeGreaterThan(summary!.bytes);
    const [afterClose] = await engine.getStats();
    expect(afterClose!.mixer.recordingFramesCorrupt).toBe(report!.mixer.recordingFramesCorrupt);
    expect(afterClose!.mixer.framesCorrupt).toBe(report!.mixer.framesCorrupt);
    expect(problems(logs)).toEqual([]);
  }, 20000);
});
