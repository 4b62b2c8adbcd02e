/**
 * UPDATE with an SDP offer in an answered call (RFC 3311): relayed to the other side as
 * our own UPDATE with our rewritten offer, its answer relayed back in the 200, and the
 * media follows; an UPDATE whose SDP repeats the o= version is a session refresh answered
 * locally; an offer while another is in progress is glare (491, RFC 3311 §5.2); a
 * refusal from the other side reaches the sender. Raw SIP on both sides (calls-rawRig.ts).
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Tone, sleep, waitFor } from './media/fakePhone.js';
import { audioPort, responseTo, sdp, startRig, type Rig } from './calls-rawRig.js';

let rig: Rig;

beforeAll(async () => {
  rig = await startRig();
}, 30000);

afterAll(async () => {
  await rig?.close();
});

describe('UPDATE in an answered call', () => {
  it('relays an offer as our own UPDATE, relays the answer, and the media follows', async () => {
    const [phoneA, phoneB, phoneA2] = [await rig.phone(), await rig.phone(), await rig.phone()];
    const call = await rig.placeCall({ offer: sdp(phoneA.port), answer: () => sdp(phoneB.port) });
    const portA = audioPort(call.sdpToA);
    const portB = audioPort(call.sdpToB);
    const relayed = rig.calleeGets(call, 'UPDATE');
    const answered = call.a.transact('UPDATE', sdp(phoneA2.port, { version: 2 }));
    const update = await relayed;
    // Our offer: our address and leg B's port; the caller's new address stays hidden.
    expect(update.body).toMatch(/^c=IN IP4 127\.0\.0\.1/m);
    expect(audioPort(update.body)).toBe(portB);
    expect(update.body).not.toContain(String(phoneA2.port));
    rig.callee.send(
      responseTo(update, 200, {
        body: sdp(phoneB.port, { version: 2 }),
        contactPort: rig.callee.localPort,
      }),
      rig.server.sipPort,
    );
    const ok = await answered;
    expect(ok.status).toBe(200);
    expect(audioPort(ok.body)).toBe(portA);
    // The caller now receives at its new address.
    await phoneB.stream(portB, { pt: 0, tone: new Tone('PCMU', 1000), packets: 40 });
    await waitFor(() => phoneA2.rtp.length >= 20, 'the callee’s RTP at the new address');
    await rig.hangUp(call);
  }, 30000);

  it('answers a session refresh (same o= version) itself, relaying nothing', async () => {
    const [phoneA, phoneB] = [await rig.phone(), await rig.phone()];
    const call = await rig.placeCall({ offer: sdp(phoneA.port), answer: () => sdp(phoneB.port) });
    const seen = rig.callee.received.length;
    const ok = await call.a.transact('UPDATE', sdp(phoneA.port));
    expect(ok.status).toBe(200);
    expect(ok.body).toBe(call.sdpToA);
    await sleep(500);
    expect(
      rig.callee.received.slice(seen).filter((r) => r.message.method === 'UPDATE'),
    ).toHaveLength(0);
    await rig.hangUp(call);
  }, 30000);

  it('answers 491 to an offer while another one is being relayed (glare)', async () => {
    const [phoneA, phoneB] = [await rig.phone(), await rig.phone()];
    const call = await rig.placeCall({ offer: sdp(phoneA.port), answer: () => sdp(phoneB.port) });
    // The caller's UPDATE reaches the callee, which sits on it …
    const relayed = rig.calleeGets(call, 'UPDATE');
    const answered = call.a.transact('UPDATE', sdp(phoneA.port, { version: 2 }));
    const pending = await relayed;
    // … and offers itself meanwhile, by UPDATE and by re-INVITE: both are glare.
    expect((await call.b.transact('UPDATE', sdp(phoneB.port, { version: 2 }))).status).toBe(491);
    const inviteSeq = call.b.send('INVITE', { body: sdp(phoneB.port, { version: 2 }) });
    const refused = await rig.callee.waitForResponse(call.b.callId, 'INVITE', 5000, inviteSeq);
    expect(refused.status).toBe(491);
    // The ACK of a non-2xx belongs to the INVITE's transaction: its branch (§17.1.1.3).
    call.b.send('ACK', { cseq: inviteSeq, branch: refused.branch as string });
    rig.callee.send(
      responseTo(pending, 200, {
        body: sdp(phoneB.port, { version: 2 }),
        contactPort: rig.callee.localPort,
      }),
      rig.server.sipPort,
    );
    expect((await answered).status).toBe(200);
    // Done: the callee's next offer is relayed to the caller.
    const toCaller = rig.trunk.waitFor(
      (m) => !m.isResponse && m.method === 'UPDATE' && m.callId === call.a.callId,
    );
    const later = call.b.transact('UPDATE', sdp(phoneB.port, { version: 3 }));
    const update = (await toCaller).message;
    rig.trunk.send(
      responseTo(update, 200, {
        body: sdp(phoneA.port, { version: 3 }),
        contactPort: rig.trunk.localPort,
      }),
      rig.server.sipPort,
    );
    expect((await later).status).toBe(200);
    await rig.hangUp(call);
  }, 30000);

  it('relays the other side’s refusal of the offer', async () => {
    const [phoneA, phoneB] = [await rig.phone(), await rig.phone()];
    const call = await rig.placeCall({ offer: sdp(phoneA.port), answer: () => sdp(phoneB.port) });
    const relayed = rig.calleeGets(call, 'UPDATE');
    const answered = call.a.transact('UPDATE', sdp(phoneA.port, { version: 2 }));
    rig.callee.send(responseTo(await relayed, 488), rig.server.sipPort);
    expect((await answered).status).toBe(488);
    await rig.hangUp(call);
  }, 30000);
});
