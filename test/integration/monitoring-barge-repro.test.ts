/**
 * The whisper → barge scene of the end-to-end check, repeated: three real baresip phones
 * (customer 440 Hz, agent 1000 Hz, supervisor 1800 Hz); a call in either direction (the
 * customer calls the agent, or the agent calls the customer — then, the call being
 * internal, the agent's side is the callee until the supervisor targets the caller and
 * the roles swap at attach); the supervisor attached in whisper through the Yeastar
 * endpoint; `PATCH /v1/monitors/{id} {"mode":"barge"}` soon after the attach (at once, or
 * after a short whisper window); then a 4.5 s barge phase in which every phone must hear
 * the other two. A failed window dumps what the server knows (monitoring-soak-rig.ts
 * `diagnose`) and what each phone sent.
 *
 * REPRO_RUNS (default 6, at most 60) sizes it; REPRO_SEED replays the delays.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { apiRequest } from '../helpers/api.js';
import type { BaresipPhone } from '../helpers/baresip.js';
import { sleep, startPhoneServer } from '../helpers/phoneScene.js';
import type { ServerHandle } from '../helpers/server.js';
import { prng, SoakLane, type LaneExtensions } from './monitoring-soak-rig.js';

const RUNS = Math.max(1, Math.min(60, Number(process.env.REPRO_RUNS ?? 6)));
const SEED = Number(process.env.REPRO_SEED ?? Math.floor(Math.random() * 2 ** 31));
const EXT: LaneExtensions = { agent: '1001', customer: '1002', supervisor: '1005' };
/** The barge phase: a short settle (jitter buffers, the entry tone), then the window. */
const BARGE_SETTLE_MS = 500;
const BARGE_WINDOW_MS = 4000;

let server: ServerHandle;
const phones: BaresipPhone[] = [];
let lane: SoakLane | undefined;

beforeAll(async () => {
  // Debug logs: each call leg's latch ('RTP latched': signalled or not) is reported.
  server = await startPhoneServer(
    { log: { level: 'debug' } },
    [
      { number: EXT.agent, password: `pw${EXT.agent}`, role: 'agent' as const },
      { number: EXT.customer, password: `pw${EXT.customer}`, role: 'agent' as const },
      { number: EXT.supervisor, password: `pw${EXT.supervisor}`, role: 'supervisor' as const },
    ],
    40,
  );
}, 30000);

afterAll(async () => {
  await lane?.close();
  await Promise.all(phones.map((p) => p.kill()));
  await server?.stop();
}, 30000);

describe('whisper (Yeastar) then barge (PATCH)', () => {
  it(
    `${RUNS} runs, both call directions: in barge everyone hears the other two`,
    async () => {
      console.log(`barge repro: REPRO_SEED=${SEED} REPRO_RUNS=${RUNS}`);
      const rng = prng(SEED);
      lane = await SoakLane.start('repro', server, EXT, phones);
      const started = Date.now();
      const failedRuns: string[] = [];
      for (let n = 0; n < RUNS; n++) {
        const direction = n % 2 === 0 ? 'from-agent' : 'to-agent';
        const before = lane.failures.length;
        await lane.newCall(direction);
        await lane.joinByYeastar('whisper');
        if (rng.next() < 0.5) {
          await lane.checkRoutes(`run ${n} whisper`, 300, 700);
        } else {
          const delay = rng.int(400);
          lane.note(`  PATCH ${delay} ms after the attach`);
          await sleep(delay);
        }
        await lane.modeByApi('barge');
        await lane.checkRoutes(`run ${n} barge (${direction})`, BARGE_SETTLE_MS, BARGE_WINDOW_MS);
        await lane.endCall(rng.next() < 0.5 ? 'agent' : 'customer');
        if (lane.failures.length > before) failedRuns.push(`run ${n} (${direction})`);
      }
      console.log(
        `barge repro: ${RUNS} runs in ${((Date.now() - started) / 1000).toFixed(0)} s, ` +
          `${failedRuns.length} failed: ${failedRuns.join(', ') || 'none'} (REPRO_SEED=${SEED})`,
      );
      // Latches onto an unsignalled source (a stray packet, on a loopback-only test) and the
      // foreign packets dropped: how often the wrong-latch hazard showed up in this run.
      const latches = server.logs().filter((e) => e.msg === 'RTP latched');
      const unsignalled = latches.filter((e) => (e as { signalled?: boolean }).signalled === false);
      const metrics = await apiRequest(server.httpPort, 'GET', '/metrics', {});
      const foreign = /callwatch_rtp_dropped_total\{reason="foreign_source"\} (\d+)/.exec(
        metrics.body,
      );
      console.log(
        `barge repro: ${latches.length} call-leg latches, ${unsignalled.length} onto an ` +
          `unsignalled source${unsignalled.map((e) => `\n  ${JSON.stringify(e)}`).join('')}; ` +
          `foreign packets dropped: ${foreign?.[1] ?? 0}`,
      );
      if (failedRuns.length > 0) console.log(lane.log.join('\n'));
      expect({ seed: SEED, failures: lane.failures }).toEqual({ seed: SEED, failures: [] });
    },
    60000 + RUNS * 20000,
  );
});
