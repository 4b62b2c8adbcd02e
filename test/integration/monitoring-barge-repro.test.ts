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
      // Each call leg's latches. One onto an unsignalled source is mostly the phone's own
      // first packet arriving before its SDP was applied (then it re-latches, signalled, on
      // the same port); a side whose latches name two ports had a stray packet latch first
      // (the wrong-latch hazard: before the fix in relay.ts, that side was silent).
      const sides = new Map<string, Array<{ port: number; signalled: boolean }>>();
      for (const e of server.logs()) {
        if (e.msg !== 'RTP latched') continue;
        const x = e as { callId?: string; side?: string; port?: number; signalled?: boolean };
        const key = `${x.callId} ${x.side}`;
        sides.set(key, [...(sides.get(key) ?? []), { port: x.port!, signalled: x.signalled! }]);
      }
      const strays = [...sides].filter(([, l]) => new Set(l.map((x) => x.port)).size > 1);
      const unsignalled = [...sides].filter(([, l]) => !l[0]!.signalled).length;
      const metrics = await apiRequest(server.httpPort, 'GET', '/metrics', {});
      const foreign = /callwatch_rtp_dropped_total\{reason="foreign_source"\} (\d+)/.exec(
        metrics.body,
      );
      console.log(
        `barge repro: ${sides.size} call legs latched, ${unsignalled} first onto an unsignalled ` +
          `source, ${strays.length} onto two ports (a stray first)` +
          strays.map(([k, l]) => `\n  ${k}: ${JSON.stringify(l)}`).join('') +
          `; foreign packets dropped: ${foreign?.[1] ?? 0}`,
      );
      if (failedRuns.length > 0) console.log(lane.log.join('\n'));
      expect({ seed: SEED, failures: lane.failures }).toEqual({ seed: SEED, failures: [] });
    },
    60000 + RUNS * 20000,
  );
});
