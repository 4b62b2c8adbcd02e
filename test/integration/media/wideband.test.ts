/**
 * A room mixed at 16 kHz (engine option minMixRate 16000) with G.711 phones: every source
 * is upsampled into the mix and every mixed frame downsampled again for its G.711
 * listener, so the route matrix must come out exactly as at 8 kHz — checked by tone
 * detection on what each phone's socket RECEIVED — with G.711 RTP timestamps (160 per
 * frame) and no errors. Real RTP over 127.0.0.1 and the compiled worker (`npm run build`).
 */
import { performance } from 'node:perf_hooks';
import { afterEach, describe, expect, it } from '@jest/globals';
import type { MediaEngine } from '../../../media/engine/mediaEngine.js';
import type { MonitorMode } from '../../../src/monitoring/modes.js';
import { analyzeTone, describeTone, hasTone, lacksTone } from '../../helpers/goertzel.js';
import { startEngine } from './engineFixture.js';
import { receivedNow, sleep } from './fakePhone.js';
import type { FakePhone, Law } from './fakePhone.js';
import {
  AGENT_HZ,
  between,
  captureLogger,
  CUSTOMER_HZ,
  HEARS,
  monitoredCall,
  problems,
  SUPERVISOR_HZ,
} from './roomFixture.js';
import type { LogEntry, MonitoredCall } from './roomFixture.js';
import { decode, tsSteps } from './streamChecks.js';

const TONES = [CUSTOMER_HZ, AGENT_HZ, SUPERVISOR_HZ] as const;
const PHASE_MS = 1400;
const SETTLE_MS = 300;

let engine: MediaEngine | undefined;
let logs: LogEntry[] = [];
const phones: FakePhone[] = [];
const talkers: { stop(): void }[] = [];

afterEach(async () => {
  for (const t of talkers.splice(0)) t.stop();
  await engine?.close();
  engine = undefined;
  await Promise.all(phones.splice(0).map((p) => p.close()));
});

async function widebandCall(supervisorLaw: Law = 'PCMU'): Promise<MonitoredCall> {
  logs = [];
  engine = (
    await startEngine({ logger: captureLogger(logs), statsIntervalMs: 0, minMixRate: 16000 }, 12)
  ).engine;
  const c = await monitoredCall(engine, phones, { supervisorLaw });
  talkers.push(c.talkers.customer, c.talkers.agent, c.talkers.supervisor);
  return c;
}

function verdict(audio: Int16Array, hears: readonly number[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const hz of TONES) {
    const ok = hears.includes(hz) ? hasTone(audio, hz) : lacksTone(audio, hz);
    out[hz] = ok
      ? hears.includes(hz)
        ? 'present'
        : 'absent'
      : `WRONG (${describeTone(analyzeTone(audio, hz))})`;
  }
  return out;
}

const expected = (hears: readonly number[]): Record<string, string> =>
  Object.fromEntries(TONES.map((hz) => [hz, hears.includes(hz) ? 'present' : 'absent']));

function checkPhones(
  c: MonitoredCall,
  mode: MonitorMode,
  from: number,
  to: number,
  supervisorLaw: Law,
): void {
  for (const who of ['customer', 'agent', 'supervisor'] as const) {
    const packets = between(c[who].rtp, from, to);
    const hears = HEARS[mode][who];
    if (hears.length > 0) {
      expect({ who, mode, enough: packets.length >= ((to - from) / 20) * 0.8 }).toEqual({
        who,
        mode,
        enough: true,
      });
      // G.711 timestamps: 160 per 20 ms frame, whatever the mix rate.
      const steps = tsSteps(packets);
      expect(steps.filter((s) => s !== 160)).toEqual([]);
    }
    const law = who === 'supervisor' ? supervisorLaw : 'PCMU';
    const got = verdict(decode(packets, law), hears);
    expect({ who, mode, tones: got }).toEqual({ who, mode, tones: expected(hears) });
  }
}

describe('a 16 kHz room with G.711 phones keeps every route', () => {
  for (const [mode, supervisorLaw] of [
    ['listen', 'PCMU'],
    ['whisper', 'PCMA'],
    ['barge', 'PCMU'],
    ['takeover', 'PCMA'],
  ] as const) {
    it(`${mode} (supervisor ${supervisorLaw}): each phone hears exactly its table's tones`, async () => {
      const c = await widebandCall(supervisorLaw);
      await c.room.setRoutes(c.routes(mode));
      const start = performance.now();
      c.talkers.customer.begin();
      c.talkers.agent.begin();
      c.talkers.supervisor.begin();
      await sleep(PHASE_MS + 200);
      checkPhones(c, mode, start + SETTLE_MS, await receivedNow(), supervisorLaw);
      const [report] = await engine!.getStats();
      // A takeover is two relays (nobody hears two sources): nothing to mix.
      if (mode === 'takeover') expect(report!.mixer.framesMixed).toBe(0);
      else expect(report!.mixer.framesMixed).toBeGreaterThan(0);
      expect(report!.mixer.framesCorrupt).toBe(0);
      expect(problems(logs)).toEqual([]);
    });
  }

  it('mode changes mid-call apply on the next frames at 16 kHz too', async () => {
    const c = await widebandCall();
    c.talkers.customer.begin();
    c.talkers.agent.begin();
    c.talkers.supervisor.begin();
    const windows: [MonitorMode, number, number][] = [];
    for (const mode of ['listen', 'barge', 'whisper'] as const) {
      await c.room.setRoutes(c.routes(mode));
      const start = performance.now();
      await sleep(PHASE_MS);
      windows.push([mode, start + SETTLE_MS, await receivedNow()]);
    }
    for (const [mode, from, to] of windows) checkPhones(c, mode, from, to, 'PCMU');
    expect(problems(logs)).toEqual([]);
  });
});
