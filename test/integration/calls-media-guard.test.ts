/**
 * The anchored media of a real call, attacked: raw SIP on both sides (calls-rawRig.ts),
 * raw RTP sockets as both phones. Once the caller's leg has latched to the caller's
 * address, RTP from anywhere else sent to that leg's port is dropped and counted
 * (callwatch_rtp_dropped_total{reason="foreign_source"}) and never reaches the callee;
 * garbage datagrams (random bytes, truncated RTP headers, RTCP junk) on every RTP and
 * RTCP port of the call do not disturb it: the caller's RTP keeps flowing to the callee,
 * the call ends normally with BYE, and the server still answers OPTIONS.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { Tone, sleep, waitFor } from './media/fakePhone.js';
import { audioPort, responseTo, sdp, startRig, type Rig } from './calls-rawRig.js';
import { rtp } from '../unit/media/rtpFixture.js';

let rig: Rig;

beforeAll(async () => {
  rig = await startRig();
}, 30000);

afterAll(async () => {
  await rig?.close();
});

/** The sum of a labelled counter's samples with these labels. */
async function counter(name: string, labels: Record<string, string>): Promise<number> {
  const samples = await rig.server.metrics();
  return samples
    .filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
    .reduce((a, s) => a + s.value, 0);
}

/** Polls a counter until it reaches `min` (media stats arrive every few seconds). */
async function counterReaches(
  name: string,
  labels: Record<string, string>,
  min: number,
  timeoutMs = 15000,
): Promise<number> {
  const end = Date.now() + timeoutMs;
  let value = 0;
  while (Date.now() < end) {
    value = await counter(name, labels);
    if (value >= min) return value;
    await sleep(250);
  }
  throw new Error(`${name}${JSON.stringify(labels)} stayed at ${value} (wanted ≥ ${min})`);
}

/** RTCP-looking junk: version 2, PT 200–204, lengths that lie. */
function rtcpJunk(): Buffer {
  const b = randomBytes(8 + Math.floor(Math.random() * 40));
  b[0] = 0x80 | (b[0]! & 0x1f);
  b[1] = 200 + Math.floor(Math.random() * 5);
  b.writeUInt16BE(0xffff, 2);
  return b;
}

describe('anchored media of a call under foreign and garbage packets', () => {
  it('drops and counts foreign RTP, survives garbage, then ends normally', async () => {
    const phoneA = await rig.phone();
    const phoneB = await rig.phone();
    const intruder = await rig.phone();
    const call = await rig.placeCall({
      offer: sdp(phoneA.port),
      answer: () => sdp(phoneB.port),
    });
    const portA = audioPort(call.sdpToA);
    const portB = audioPort(call.sdpToB);
    const foreignBefore = await counter('callwatch_rtp_dropped_total', {
      reason: 'foreign_source',
    });

    // The callee says a word: its leg latches to the callee's signalled address, which is
    // final. (A leg that has heard nothing latches, within media.latchWindowMs, onto the
    // first packet from anywhere, for phones behind NAT: garbage sent to a silent callee's
    // port in that window would rightly take it, which is not what this test is about.)
    await phoneB.stream(portB, { pt: 0, tone: new Tone('PCMU', 1000), packets: 5 });
    await waitFor(() => phoneA.rtp.length >= 3, 'the callee’s RTP at the caller');

    // The caller talks: its leg latches to the caller's address.
    const tone = new Tone('PCMU', 440);
    await phoneA.stream(portA, { pt: 0, tone, packets: 25 });
    await waitFor(() => phoneB.rtp.length >= 15, 'the caller’s RTP at the callee');

    // RTP from a foreign address to the caller's leg, while the caller keeps talking.
    const marked = Buffer.alloc(160, 0x5a);
    const intrude = (async () => {
      for (let i = 0; i < 40; i++) {
        intruder.sendRtp(portA, 0, marked);
        await sleep(10);
      }
    })();
    await Promise.all([phoneA.stream(portA, { pt: 0, tone, packets: 25 }), intrude]);
    await sleep(200);
    expect(phoneB.rtp.some((p) => p.payload.equals(marked))).toBe(false);
    const foreign = await counterReaches(
      'callwatch_rtp_dropped_total',
      { reason: 'foreign_source' },
      foreignBefore + 40,
    );
    expect(foreign - foreignBefore).toBeGreaterThanOrEqual(40);

    // Garbage on every media port of the call (RTP and RTCP of both legs), from the
    // intruder and from the caller's own address, while the caller keeps talking.
    const receivedBefore = phoneB.rtp.length;
    const targets = [portA, portA + 1, portB, portB + 1];
    const valid = rtp({ pt: 0, seq: 1, ts: 1, ssrc: 7, payload: Buffer.alloc(160) });
    const garbage = (async () => {
      for (let i = 0; i < 50; i++) {
        for (const port of targets) {
          intruder.send(randomBytes(1 + Math.floor(Math.random() * 300)), port);
          intruder.send(valid.subarray(0, 1 + Math.floor(Math.random() * 11)), port);
          intruder.send(rtcpJunk(), port);
        }
        // Truncated RTP and junk from the latched address itself.
        phoneA.send(valid.subarray(0, 6), portA);
        phoneA.send(randomBytes(3), portA);
        await sleep(10);
      }
    })();
    await Promise.all([phoneA.stream(portA, { pt: 0, tone, packets: 50 }), garbage]);
    await sleep(200);
    const relayed = phoneB.rtp.length - receivedBefore;
    // Relayed through, none lost to the garbage (loopback: allow a couple).
    expect(relayed).toBeGreaterThanOrEqual(47);
    expect(phoneB.rtp.some((p) => p.payload.equals(marked))).toBe(false);
    await counterReaches('callwatch_rtp_dropped_total', { reason: 'malformed' }, 1);

    // The call ends normally: BYE from the caller, BYE relayed to the callee.
    const seen = rig.callee.received.length;
    const bye = call.a.transact('BYE');
    const byeB = await rig.callee.waitFor(
      (m) =>
        m.method === 'BYE' &&
        m.callId === call.b.callId &&
        !rig.callee.received.slice(0, seen).some((r) => r.message === m),
    );
    rig.callee.send(responseTo(byeB.message, 200), rig.server.sipPort);
    expect((await bye).status).toBe(200);
    await rig.noLiveCalls();
    expect(await rig.options()).toBe(200);
  }, 60000);
});
