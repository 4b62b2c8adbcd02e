/**
 * The server as UAS of a re-INVITE (RFC 3261 §13.3.1.4, §14): its 2xx is retransmitted
 * (T1, doubling up to T2) until the ACK comes, and not after; never ACKed, the call is
 * ended with a BYE to both sides after 64·T1. An offerless re-INVITE gets our offer in
 * the 200 and the answer in its ACK is applied (RFC 3264 §8): the caller's media moves.
 * A callee that hangs up before the caller's ACK of the first 200: the caller's BYE waits
 * for that ACK (RFC 3261 §15), or for 64·T1 when none comes.
 * Raw SIP on both sides (calls-rawRig.ts), with short timers (T1 150 ms, T2 600 ms).
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { FakePhone, Tone, sleep, waitFor } from './media/fakePhone.js';
import {
  audioFormats,
  audioPort,
  callEndAfter,
  callStarts,
  responseTo,
  sdp,
  startRig,
  type RawCall,
  type Rig,
} from './calls-rawRig.js';
import type { Received, SipMessageView } from '../helpers/sipClient.js';

const T1 = 150;
const T2 = 600;
let rig: Rig;

beforeAll(async () => {
  rig = await startRig({ sip: { timers: { t1Ms: T1, t2Ms: T2, t4Ms: 1000 } } });
}, 30000);

afterAll(async () => {
  await rig?.close();
});

/** Every 2xx to the INVITE with CSeq `cseq` the caller got so far. */
function oks(call: RawCall, cseq: number): Received[] {
  return rig.trunk.received.filter(
    (r) =>
      r.message.isResponse &&
      r.message.status === 200 &&
      r.message.callId === call.a.callId &&
      r.message.cseqMethod === 'INVITE' &&
      r.message.cseq === cseq,
  );
}

async function newCall(phoneA: FakePhone, phoneB: FakePhone): Promise<RawCall> {
  return rig.placeCall({ offer: sdp(phoneA.port), answer: () => sdp(phoneB.port) });
}

describe('2xx to a re-INVITE', () => {
  it('is retransmitted, T1 doubling up to T2, until the ACK; then no more', async () => {
    const [phoneA, phoneB] = [await rig.phone(), await rig.phone()];
    const call = await newCall(phoneA, phoneB);
    // A hold re-INVITE from the caller, relayed to the callee and answered there.
    const relayed = rig.calleeGets(call, 'INVITE');
    const cseq = call.a.send('INVITE', {
      body: sdp(phoneA.port, { version: 2, direction: 'sendonly' }),
    });
    const inv = await relayed;
    expect(inv.body).toMatch(/a=sendonly/);
    rig.callee.send(
      responseTo(inv, 200, {
        body: sdp(phoneB.port, { version: 2, direction: 'recvonly' }),
        contactPort: rig.callee.localPort,
      }),
      rig.server.sipPort,
    );
    // The caller does not ACK: the first 200 and three retransmissions.
    await waitFor(() => oks(call, cseq).length >= 4, 'four 200s to the re-INVITE', 5000);
    const got = oks(call, cseq);
    const first = got[0]!.message;
    expect(first.body).toMatch(/a=recvonly/);
    for (const r of got) expect(r.message.raw).toBe(first.raw);
    const gaps = got.slice(1, 4).map((r, i) => r.at - got[i]!.at);
    // ≈ T1, 2·T1, 4·T1 = T2 (loose bounds: timers on a busy machine).
    expect(gaps[0]).toBeGreaterThanOrEqual(T1 * 0.8);
    expect(gaps[0]).toBeLessThan(T1 * 4); // first at T1, not at T2 (slack for a busy machine)
    expect(gaps[1]).toBeGreaterThanOrEqual(T1 * 1.6);
    expect(gaps[2]).toBeGreaterThanOrEqual(T1 * 3.2);
    // The ACK stops them.
    call.a.send('ACK', { cseq });
    const atAck = oks(call, cseq).length;
    await sleep(T2 * 3);
    // One retransmission may already have been on its way when the ACK went out; going
    // on at T2 would have sent three more in this time.
    expect(oks(call, cseq).length).toBeLessThanOrEqual(atAck + 1);
    await rig.hangUp(call);
  }, 30000);

  it('offerless re-INVITE: our offer in the 200, the ACK’s answer moves the caller’s media', async () => {
    const [phoneA, phoneB, phoneA2] = [await rig.phone(), await rig.phone(), await rig.phone()];
    const call = await newCall(phoneA, phoneB);
    const portA = audioPort(call.sdpToA);
    const portB = audioPort(call.sdpToB);
    const cseq = call.a.send('INVITE');
    await waitFor(() => oks(call, cseq).length >= 1, 'the 200 to the offerless re-INVITE');
    const offer = oks(call, cseq)[0]!.message;
    expect(audioPort(offer.body)).toBe(portA);
    expect(audioFormats(offer.body)).toContain(0);
    // Nothing was relayed to the callee: the offer is ours.
    // The answer in the ACK: the caller now receives on another port.
    call.a.send('ACK', { cseq, body: sdp(phoneA2.port, { version: 2 }) });
    await phoneB.stream(portB, { pt: 0, tone: new Tone('PCMU', 1000), packets: 40 });
    await waitFor(() => phoneA2.rtp.length >= 20, 'the callee’s RTP at the new address');
    expect(phoneA2.rtp.every((p) => p.pt === 0)).toBe(true);
    const atAck = oks(call, cseq).length;
    await sleep(T2 * 2);
    expect(oks(call, cseq).length).toBe(atAck);
    await rig.hangUp(call);
  }, 30000);

  it('never ACKed: the call is ended with a BYE to both sides after 64·T1', async () => {
    const [phoneA, phoneB] = [await rig.phone(), await rig.phone()];
    const startsBefore = callStarts(rig.server).length;
    const call = await newCall(phoneA, phoneB);
    const started = Date.now();
    const byeA = rig.trunk.waitFor(
      (m) => !m.isResponse && m.method === 'BYE' && m.callId === call.a.callId,
      64 * T1 + 5000,
    );
    const byeB = rig.calleeGets(call, 'BYE', 64 * T1 + 5000);
    const cseq = call.a.send('INVITE');
    const bye: SipMessageView = (await byeA).message;
    const elapsed = Date.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(64 * T1 - 200);
    rig.trunk.send(responseTo(bye, 200), rig.server.sipPort);
    rig.callee.send(responseTo(await byeB, 200), rig.server.sipPort);
    expect(oks(call, cseq).length).toBeGreaterThanOrEqual(6);
    await rig.noLiveCalls();
    expect(await callEndAfter(rig.server, startsBefore)).toMatchObject({ reason: 'no-ack' });
  }, 30000);
});

describe('a BYE to the caller before its ACK (RFC 3261 §15)', () => {
  const byeToA = (call: RawCall, timeoutMs: number) =>
    rig.trunk.waitFor(
      (m) => !m.isResponse && m.method === 'BYE' && m.callId === call.a.callId,
      timeoutMs,
    );

  it('waits for the ACK of the 200 while the 200 keeps being retransmitted', async () => {
    const [phoneA, phoneB] = [await rig.phone(), await rig.phone()];
    const startsBefore = callStarts(rig.server).length;
    const call = await rig.placeCall({
      offer: sdp(phoneA.port),
      answer: () => sdp(phoneB.port),
      ack: false,
    });
    // The callee hangs up at once: the call ends, but the caller has not ACKed.
    expect((await call.b.transact('BYE')).status).toBe(200);
    expect(await callEndAfter(rig.server, startsBefore)).toMatchObject({
      reason: 'callee-hangup',
    });
    let early = false;
    const bye = byeToA(call, 64 * T1 + 5000).then((r) => {
      early = !acked;
      return r.message;
    });
    let acked = false;
    // Retransmissions at T1, 2·T1, 4·T1 (capped at T2): still no BYE meanwhile.
    await waitFor(() => oks(call, 1).length >= 3, 'the 200 retransmitted twice', 5000);
    expect(early).toBe(false);
    acked = true;
    const ackedAt = Date.now();
    call.a.send('ACK', { cseq: 1 });
    const got = await bye;
    expect(early).toBe(false);
    expect(Date.now() - ackedAt).toBeLessThan(1000);
    rig.trunk.send(responseTo(got, 200), rig.server.sipPort);
    // The ACK stopped the 200's retransmissions.
    const atAck = oks(call, 1).length;
    await sleep(T2 * 2);
    expect(oks(call, 1).length).toBe(atAck);
    await rig.noLiveCalls();
  }, 30000);

  it('goes after 64·T1 when the ACK never comes', async () => {
    const [phoneA, phoneB] = [await rig.phone(), await rig.phone()];
    const call = await rig.placeCall({
      offer: sdp(phoneA.port),
      answer: () => sdp(phoneB.port),
      ack: false,
    });
    const answered = Date.now();
    const bye = byeToA(call, 64 * T1 + 5000);
    expect((await call.b.transact('BYE')).status).toBe(200);
    const got = (await bye).message;
    expect(Date.now() - answered).toBeGreaterThanOrEqual(64 * T1 - 300);
    rig.trunk.send(responseTo(got, 200), rig.server.sipPort);
    await rig.noLiveCalls();
  }, 30000);
});
