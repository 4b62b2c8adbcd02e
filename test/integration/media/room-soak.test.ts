/**
 * The room under random control sequences, fast: the real worker (compiled), fake phones
 * sending their tones (customer 440 Hz, agent 1000 Hz, supervisor 1800 Hz), and random
 * bursts of what the monitoring service sends a room — membership with the supervisor in
 * a mode or without it, the beep to the agent, the barge entry tone to everyone, the
 * recording's start — with random gaps (none to a few frames) and some commands not
 * awaited before the next. After each burst the room must route exactly what its last
 * membership says, heard by the phones (the route matrix, docs/architecture.md §6.1).
 *
 * ROOM_SOAK_SEED replays a run (the seed is printed); ROOM_SOAK_TRIALS sizes it.
 */
import { performance } from 'node:perf_hooks';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { MediaEngine } from '../../../media/engine/mediaEngine.js';
import type { MonitorMode } from '../../../src/monitoring/modes.js';
import { analyzeTone, describeTone, hasTone, lacksTone } from '../../helpers/goertzel.js';
import { prng } from '../monitoring-soak-rig.js';
import { startEngine } from './engineFixture.js';
import { sleep, type FakePhone } from './fakePhone.js';
import {
  AGENT_HZ,
  between,
  CUSTOMER_HZ,
  HEARS,
  monitoredCall,
  SUPERVISOR_HZ,
  tempDir,
} from './roomFixture.js';
import type { MonitoredCall } from './roomFixture.js';
import { decode } from './streamChecks.js';

const SEED = Number(process.env.ROOM_SOAK_SEED ?? Math.floor(Math.random() * 2 ** 31));
const TRIALS = Number(process.env.ROOM_SOAK_TRIALS ?? 12);
/**
 * Trials run one after another: the phones' talkers and the tone analysis share the test's
 * thread, and parallel trials starve the talkers (a phone that stops sending is not a
 * routing fault).
 */
const PARALLEL = 1;

type Mode = Exclude<MonitorMode, 'takeover'> | null;
const MODES: readonly Mode[] = [null, 'listen', 'whisper', 'barge'];

const TONES = [CUSTOMER_HZ, AGENT_HZ, SUPERVISOR_HZ];
const BEEP = { frequencies: [1400], levelDbm0: -18, onMs: 120, offMs: 0, repeat: 1 };
const ENTRY = { frequencies: [1200], levelDbm0: -18, onMs: 100, offMs: 0, repeat: 1 };

let engine: MediaEngine;
const phones: FakePhone[] = [];
const cleanups: Array<() => void> = [];

beforeAll(async () => {
  engine = (await startEngine({ statsIntervalMs: 0 }, PARALLEL * 3 + 4)).engine;
});

afterAll(async () => {
  await engine?.close();
  await Promise.all(phones.splice(0).map((p) => p.close()));
  for (const c of cleanups.splice(0)) c();
});

type Rng = ReturnType<typeof prng>;

/** One trial: a call, 1–3 random bursts each checked by tone; returns what went wrong. */
async function trial(rng: Rng, n: number): Promise<string[]> {
  const c: MonitoredCall = await monitoredCall(engine, phones);
  const wrong: string[] = [];
  const log: string[] = [];
  const { dir, cleanup } = tempDir();
  cleanups.push(cleanup);
  let mode: Mode = null;
  const pending: Promise<unknown>[] = [];
  const send = async (what: string, p: () => Promise<unknown>): Promise<void> => {
    log.push(what);
    const run = p().catch((err: unknown) =>
      wrong.push(`trial ${n} ${what} [${log.join(', ')}]: ${String(err)}`),
    );
    if (rng.next() < 0.5) await run;
    else pending.push(run);
    const gap = rng.pick([0, 0, 5, 20, 40]);
    if (gap > 0) await sleep(gap);
  };
  await c.room.setRoutes(c.routes(null));
  const recordAt = rng.int(3); // before talking, in the first burst, or never
  let recording = recordAt === 0;
  if (recordAt === 0) await c.room.startRecording({ path: `${dir}/r.wav`, channels: 2 });
  c.talkers.customer.begin();
  c.talkers.agent.begin();
  c.talkers.supervisor.begin();
  await sleep(200);
  try {
    for (let b = 0, bursts = 1 + rng.int(3); b < bursts; b++) {
      for (let i = 0, ops = 1 + rng.int(4); i < ops; i++) {
        const r = rng.next();
        if (r < 0.55) {
          const next = rng.pick(MODES);
          mode = next;
          await send(`members ${next ?? 'none'}`, () => c.room.setRoutes(c.routes(next)));
          if (next !== null && rng.next() < 0.7) {
            const to =
              next === 'barge' ? [c.customerLeg, c.agentLeg, c.supervisorLeg] : [c.agentLeg];
            const tone = next === 'barge' ? ENTRY : BEEP;
            await send(`tone ${next}`, () => c.room.playTone(to, tone));
          }
        } else if (r < 0.7 && recordAt === 1 && !recording) {
          recording = true;
          await send('record', () => c.room.startRecording({ path: `${dir}/r.wav`, channels: 2 }));
        } else {
          const to = mode === null ? [c.customerLeg, c.agentLeg] : [c.agentLeg, c.supervisorLeg];
          await send('tone', () => c.room.playTone(to, rng.next() < 0.5 ? BEEP : ENTRY));
        }
      }
      await Promise.all(pending.splice(0));
      await sleep(400);
      const from = performance.now();
      await sleep(800);
      const to = performance.now();
      const hears = HEARS[mode ?? 'none'];
      for (const who of ['customer', 'agent', 'supervisor'] as const) {
        const audio = decode(between(c[who].rtp, from, to), 'PCMU');
        const present = hears[who];
        const missing = present.filter((f) => !hasTone(audio, f));
        const leaked = TONES.filter((f) => !present.includes(f) && !lacksTone(audio, f));
        if (missing.length > 0 || leaked.length > 0) {
          wrong.push(
            `trial ${n} burst ${b} [${log.join(', ')}] ${who} in ${mode ?? 'none'}: ` +
              `missing ${missing.join('/')} leaked ${leaked.join('/')} ` +
              TONES.map((f) => describeTone(analyzeTone(audio, f))).join('; '),
          );
        }
      }
      log.push('|');
    }
  } finally {
    c.talkers.customer.stop();
    c.talkers.agent.stop();
    c.talkers.supervisor.stop();
    await c.room.close();
    await Promise.all([c.customerLeg.close(), c.agentLeg.close(), c.supervisorLeg.close()]);
  }
  return wrong;
}

describe('room soak', () => {
  it(`${TRIALS} random control bursts route exactly the last membership`, async () => {
    console.log(`room soak: ROOM_SOAK_SEED=${SEED} ROOM_SOAK_TRIALS=${TRIALS}`);
    const wrong: string[] = [];
    await Promise.all(
      Array.from({ length: PARALLEL }, async (_, lane) => {
        const rng = prng(SEED + lane * 104729);
        for (let n = lane; n < TRIALS; n += PARALLEL) wrong.push(...(await trial(rng, n)));
      }),
    );
    expect({ seed: SEED, wrong }).toEqual({ seed: SEED, wrong: [] });
  }, 300000);
});
