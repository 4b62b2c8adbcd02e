/**
 * Monitoring soak: random sequences of what supervisors, agents and customers do, through
 * the real server and media engine with real baresip phones (customer 440 Hz, agent
 * 1000 Hz, supervisor 1800 Hz), every route checked by tone on what each phone received
 * after every step, and every call's recording checked for the supervisor (never there).
 *
 * A sequence is one call: the customer calls the agent, then 2–4 random steps — the
 * supervisor joins (feature code from its phone, REST `POST /v1/calls/{id}/monitors`, the
 * Yeastar endpoint; sometimes with a PATCH racing the phone's answer), changes mode (DTMF
 * from its phone, REST PATCH), leaves (DELETE, hang-up) — then the agent or the customer
 * hangs up. Each step waits for the server's acknowledgement (the API's reply, the event
 * stream's event, the session listed active in its mode) before its window opens.
 *
 * SOAK_SEED replays a run (the seed is printed); SOAK_SEQUENCES (default 50) and
 * SOAK_LANES (default 2: independent scenes with their own extensions, run side by side)
 * size it.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { BaresipPhone } from '../helpers/baresip.js';
import { startPhoneServer } from '../helpers/phoneScene.js';
import type { ServerHandle } from '../helpers/server.js';
import {
  MODES,
  prng,
  recordingOf,
  SoakLane,
  type LaneExtensions,
  type Mode,
} from './monitoring-soak-rig.js';

const SEED = Number(process.env.SOAK_SEED ?? Math.floor(Math.random() * 2 ** 31));
const SEQUENCES = Number(process.env.SOAK_SEQUENCES ?? 50);
const LANES = Math.max(1, Math.min(3, Number(process.env.SOAK_LANES ?? 2)));
/** After a change is acknowledged: jitter buffers (server and phone), beeps. */
const SETTLE_MS = 500;
/** The window each route is checked in. */
const WINDOW_MS = 800;

const LANE_EXTENSIONS: readonly LaneExtensions[] = [
  { agent: '1001', customer: '1002', supervisor: '1005' },
  { agent: '1003', customer: '1004', supervisor: '1006' },
  { agent: '1007', customer: '1008', supervisor: '1009' },
];

let server: ServerHandle;
const phones: BaresipPhone[] = [];
const lanes: SoakLane[] = [];

beforeAll(async () => {
  const extensions = LANE_EXTENSIONS.slice(0, LANES).flatMap((l) => [
    { number: l.agent, password: `pw${l.agent}`, role: 'agent' as const },
    { number: l.customer, password: `pw${l.customer}`, role: 'agent' as const },
    { number: l.supervisor, password: `pw${l.supervisor}`, role: 'supervisor' as const },
  ]);
  // Every call has two legs and may have a supervisor's: 3 legs of 2 ports per lane, with
  // room for legs still closing.
  server = await startPhoneServer({}, extensions, 40 * LANES);
}, 30000);

afterAll(async () => {
  await Promise.all(lanes.map((l) => l.close()));
  await Promise.all(phones.map((p) => p.kill()));
  await server?.stop();
}, 30000);

type Rng = ReturnType<typeof prng>;

/** One step: a join when nobody monitors, else a mode change or a leave. */
async function step(lane: SoakLane, rng: Rng): Promise<void> {
  const session = lane.session;
  if (session === null) {
    const mode = rng.pick(MODES);
    const how = rng.int(3);
    // Sometimes the mode is changed while the phone is still being called (a PATCH that
    // races the supervisor's answer and the leg's attach).
    const racing = how > 0 && rng.next() < 0.3 ? rng.pick(MODES.filter((m) => m !== mode)) : null;
    if (how === 0) await lane.joinByFeatureCode(mode);
    else if (how === 1) await lane.joinByApi(mode, racing);
    else await lane.joinByYeastar(mode, racing);
    return;
  }
  if (rng.next() < 0.65) {
    const mode: Mode = rng.pick(MODES.filter((m) => m !== session.mode));
    if (rng.next() < 0.5) await lane.modeByDtmf(mode);
    else await lane.modeByApi(mode);
    return;
  }
  if (rng.next() < 0.5) await lane.leaveByApi();
  else await lane.leaveByHangup();
}

/** One sequence: a call, 2–4 steps with their checks, a hang-up and the recording check. */
async function sequence(lane: SoakLane, rng: Rng, n: number): Promise<void> {
  await lane.newCall();
  await lane.checkRoutes(`seq ${n} call`, SETTLE_MS, WINDOW_MS);
  const steps = 2 + rng.int(3);
  for (let i = 0; i < steps; i++) {
    await step(lane, rng);
    await lane.checkRoutes(`seq ${n} step ${i + 1}`, SETTLE_MS, WINDOW_MS);
  }
  const callId = await lane.endCall(rng.next() < 0.5 ? 'agent' : 'customer');
  const dir = (server.config.recording as { directory: string }).directory;
  lane.checkRecording(await recordingOf(dir, callId), `seq ${n} recording`);
}

describe('monitoring soak', () => {
  it(`${SEQUENCES} random sequences, every route checked by tone`, async () => {
    console.log(
      `monitoring soak: SOAK_SEED=${SEED} SOAK_SEQUENCES=${SEQUENCES} SOAK_LANES=${LANES}`,
    );
    for (let l = 0; l < LANES; l++) {
      lanes.push(await SoakLane.start(`lane${l}`, server, LANE_EXTENSIONS[l]!, phones));
    }
    const started = Date.now();
    await Promise.all(
      lanes.map(async (lane, l) => {
        const rng = prng(SEED + l * 7919);
        for (let n = l; n < SEQUENCES; n += LANES) {
          await sequence(lane, rng, n);
        }
      }),
    );
    const failures = lanes.flatMap((l) => l.failures);
    console.log(
      `monitoring soak: ${SEQUENCES} sequences in ${((Date.now() - started) / 1000).toFixed(0)} s, ` +
        `${failures.length} failed checks (SOAK_SEED=${SEED})`,
    );
    if (failures.length > 0) console.log(lanes.flatMap((l) => l.log).join('\n'));
    expect({ seed: SEED, failures }).toEqual({ seed: SEED, failures: [] });
  }, 420000);
});
