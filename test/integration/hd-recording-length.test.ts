/**
 * A recorded call's WAV is as long as the call and its two tracks are in step. Server: the
 * demo-like config of the raw rig with recording on (stereo WAV, customer left, agent
 * right). Phones: two raw RTP senders in PCMU (the trunk's customer at 440 Hz, the agent
 * 1002 at 1000 Hz) in a process of their own (media/pacedSender.mjs: a phone is not paused
 * by this runner's garbage collector), both paced by ONE drift-free 20 ms schedule, so that
 * when both fall silent and start again, they do it in the same instant.
 *
 * The call lasts 60 s from the answer to the BYE. Every 10 s both go quiet for 1 s: the
 * customer sends silence packets, the agent sends nothing at all (its RTP timestamps jump
 * over the gap, as with silence suppression); the agent also starts talking 0.5 s after
 * the customer. Required: 60 ± 0.1 s of audio; at each of the five restarts the tone onset
 * on the left and on the right agree within 20 ms, each preceded by silence on both
 * tracks, and onsets are 10 s apart within 20 ms on each track (no drift over the call).
 */
import { afterEach, describe, expect, it } from '@jest/globals';
import { performance } from 'node:perf_hooks';
import { audioPort, sdp } from './calls-rawRig.js';
import { completedSidecar, startMonitorRig, type MonitorRig } from './monitoring-rig.js';
import { Tone, sleep } from './media/fakePhone.js';
import { PacedPhones, type ScheduledPacket } from './media/pacedPhones.js';
import { rtp } from '../unit/media/rtpFixture.js';
import { hasTone, readWav, type PcmAudio } from '../helpers/goertzel.js';

const CALL_MS = 60000;
const GAP_EVERY_MS = 10000;
const GAP_MS = 1000;
const AGENT_LATE_MS = 500;
const CUSTOMER_HZ = 440;
const AGENT_HZ = 1000;
/** A sample at or above this (of full scale) is speech: the tones are at 0.4. */
const ONSET_LEVEL = 0.1;

let rig: MonitorRig | undefined;
let phones: PacedPhones | undefined;

afterEach(async () => {
  await phones?.close();
  phones = undefined;
  await rig?.close();
  rig = undefined;
});

/**
 * Both phones' packets for the whole call, from the answer: frame i of both is due at the
 * same instant (i × 20 ms).
 */
function schedule(): ScheduledPacket[] {
  const customerTone = new Tone('PCMU', CUSTOMER_HZ);
  const agentTone = new Tone('PCMU', AGENT_HZ);
  const silence = Buffer.alloc(160, 0xff);
  const customer = { ssrc: 0x1000c001, seq: 0, ts: 0 };
  const agent = { ssrc: 0x2000a002, seq: 0, ts: 0 };
  const out: ScheduledPacket[] = [];
  let agentTalking = false;
  for (let i = 0; i < Math.floor(CALL_MS / 20); i++) {
    const at = i * 20;
    const gap = inGap(i);
    const payload = gap ? silence : customerTone.frame();
    out.push({ at, socket: 0, packet: rtp({ pt: 0, marker: i === 0, ...customer, payload }) });
    customer.seq++;
    customer.ts += 160;
    if (at < AGENT_LATE_MS || gap) {
      agentTalking = false; // nothing sent, the clock runs on
    } else {
      const packet = rtp({ pt: 0, marker: !agentTalking, ...agent, payload: agentTone.frame() });
      out.push({ at, socket: 1, packet });
      agent.seq++;
      agentTalking = true;
    }
    agent.ts += 160;
  }
  return out;
}

/** Whether 20 ms frame `i` (from the answer) falls in one of the common silent gaps. */
function inGap(i: number): boolean {
  const t = i * 20;
  return t >= GAP_EVERY_MS && t % GAP_EVERY_MS < GAP_MS;
}

/**
 * The first sample of `track` at or above ONSET_LEVEL in [from, to) seconds, in seconds,
 * and the loudest sample of the 200 ms before it (which must be silence).
 */
function onset(track: PcmAudio, from: number, to: number): { at: number; before: number } {
  const rate = track.sampleRate;
  const limit = ONSET_LEVEL * 32768;
  const a = Math.max(0, Math.round(from * rate));
  const b = Math.min(track.samples.length, Math.round(to * rate));
  for (let i = a; i < b; i++) {
    if (Math.abs(track.samples[i]!) >= limit) {
      let before = 0;
      for (let k = Math.max(0, i - Math.round(0.2 * rate)); k < i; k++) {
        before = Math.max(before, Math.abs(track.samples[k]!));
      }
      return { at: i / rate, before: before / 32768 };
    }
  }
  return { at: NaN, before: NaN };
}

describe('recording length and alignment', () => {
  it('a 60 s call gives 60 ± 0.1 s of audio, both tracks in step within 20 ms', async () => {
    rig = await startMonitorRig({ recording: { enabled: true, format: 'stereo' } });
    const r = rig;
    phones = await PacedPhones.start(2);
    await phones.load(schedule());
    const [customerPort, agentPort] = phones.ports as [number, number];
    const call = await r.placeCall({ offer: sdp(customerPort), answer: () => sdp(agentPort) });
    const answeredAt = performance.now();
    const { maxLateMs } = await phones.play([audioPort(call.sdpToA), audioPort(call.sdpToB)]);
    const due = answeredAt + CALL_MS;
    if (due > performance.now()) await sleep(due - performance.now());
    // The call lasts from the answer to the BYE: measured, as this process may itself be
    // paused for a moment (the recording must follow the call, not the plan).
    const callMs = performance.now() - answeredAt;
    await r.hangUp(call);

    const dir = (r.server.config.recording as { directory: string }).directory;
    const sidecar = await completedSidecar(dir, call.a.callId);
    const wav = readWav(sidecar.file);
    expect(wav.channels).toBe(2);
    const seconds = wav.channelData[0]!.length / wav.sampleRate;
    expect({ seconds, callMs, ok: Math.abs(seconds - callMs / 1000) <= 0.1 }).toMatchObject({
      ok: true,
    });
    expect(callMs).toBeLessThan(CALL_MS + 200);

    const left: PcmAudio = { sampleRate: wav.sampleRate, samples: wav.channelData[0]! };
    const right: PcmAudio = { sampleRate: wav.sampleRate, samples: wav.channelData[1]! };
    expect(hasTone(left, CUSTOMER_HZ)).toBe(true);
    expect(hasTone(right, AGENT_HZ)).toBe(true);

    // Each restart, searched for from the middle of its gap (the file starts within a few
    // ms of the answer, far less than the half second of margin either side).
    const onsets: Array<{ restart: number; left: number; right: number }> = [];
    for (let g = 1; g * GAP_EVERY_MS < CALL_MS; g++) {
      const mid = (g * GAP_EVERY_MS + GAP_MS / 2) / 1000;
      const l = onset(left, mid, mid + 1);
      const rr = onset(right, mid, mid + 1);
      const found = Number.isFinite(l.at) && Number.isFinite(rr.at);
      const silentBefore = l.before < ONSET_LEVEL && rr.before < ONSET_LEVEL;
      expect({ restart: g, found, silentBefore, l, rr, maxLateMs }).toMatchObject({
        found: true,
        silentBefore: true,
      });
      onsets.push({ restart: g, left: l.at, right: rr.at });
    }
    for (const o of onsets) {
      const apartMs = Math.abs(o.left - o.right) * 1000;
      expect({ ...o, apartMs, maxLateMs, inStep: apartMs <= 20 }).toMatchObject({ inStep: true });
    }
    for (let k = 1; k < onsets.length; k++) {
      for (const side of ['left', 'right'] as const) {
        const spacingMs = (onsets[k]![side] - onsets[k - 1]![side]) * 1000;
        const noDrift = Math.abs(spacingMs - GAP_EVERY_MS) <= 20;
        expect({ side, k, spacingMs, maxLateMs, noDrift }).toMatchObject({ noDrift: true });
      }
    }
  }, 100000);
});
