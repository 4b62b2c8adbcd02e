/**
 * Blind transfer (REFER, RFC 3515; src/calls/transfer.ts) where a browser is the target or
 * the transferring party (docs/architecture.md §3.2.2, §9.3): the target is offered a leg
 * of its own contact's kind (UDP/TLS/RTP/SAVPF to a browser, RTP/AVP to a desk phone), a
 * new one beside the transferring party's when that one is of the other kind or a browser's
 * (a WebRTC leg serves one DTLS peer). The customer (a plain trunk phone) and the target
 * must then hear each other; audio is checked by tone on what each received. Browsers are
 * werift peers; SIP is raw UDP with `;transport=ws` contacts (calls-webrtc.test.ts). A
 * browser target that refuses leaves the call as it was, its new leg closed.
 */
import { afterEach, describe, expect, it } from '@jest/globals';
import { performance } from 'node:perf_hooks';
import { hasTone, lacksTone } from '../helpers/goertzel.js';
import { WebRtcPeer } from '../helpers/webrtcPeer.js';
import {
  RIG_EXTENSIONS,
  audioPort,
  responseTo,
  sdp,
  startRig,
  type RawCall,
  type Rig,
} from './calls-rawRig.js';
import { sleep, waitFor, type FakePhone } from './media/fakePhone.js';
import {
  AGENT_HZ,
  CUSTOMER_HZ,
  ExtensionPhone,
  eventually,
  heardBetween,
  talk,
  toneVerdict,
} from './monitoring-rig.js';
import { answerInvite, nextInvite, nthNotify, refer, refuseInvite } from './transfer-rig.js';

const TARGET_HZ = 1400;
const WS = ';transport=ws';
/** Overload shedding off: werift's DTLS on a shared 2-core box is not what is tested here. */
const CONFIG = { sip: { overload: { enabled: false } } };

let rig: Rig | undefined;
let target: ExtensionPhone | undefined;
const peers: WebRtcPeer[] = [];
const talking: Array<{ stop(): Promise<void> }> = [];

afterEach(async () => {
  await Promise.all(talking.splice(0).map((t) => t.stop()));
  await Promise.all(peers.splice(0).map((p) => p.close()));
  await target?.client.close();
  target = undefined;
  await rig?.close();
  rig = undefined;
}, 20000);

/** A rig whose agent 1002 registers with `agentParams` and target 1003 with `targetParams`. */
async function startScene(agentParams: string, targetParams: string): Promise<Rig> {
  rig = await startRig(
    CONFIG,
    [...RIG_EXTENSIONS, { number: '1003', password: 'pw1003' }],
    {},
    agentParams,
  );
  target = await ExtensionPhone.open('1003', 'pw1003', rig.server.sipPort);
  await target.register(targetParams);
  return rig;
}

async function browser(): Promise<WebRtcPeer> {
  const peer = await WebRtcPeer.create(['opus', 'PCMU']);
  peers.push(peer);
  return peer;
}

/** Decoded audio a browser received from sample `from` on. */
function browserHeard(peer: WebRtcPeer, from: number) {
  return { samples: Int16Array.from(peer.heard.slice(from)), sampleRate: peer.heardRate };
}

/** A browser's offer (WebRTC) and a desk phone's (plain RTP, nothing of DTLS or ICE). */
const SAVPF = /m=audio \d+ UDP\/TLS\/RTP\/SAVPF [\s\S]*a=fingerprint:sha-256 /;
const AVP = /^(?![\s\S]*(fingerprint|ice-ufrag))[\s\S]*m=audio \d+ RTP\/AVP /;

/**
 * The agent (side b of `call`) REFERs to 1003, whose INVITE must carry an offer matching
 * `kind`; 1003 answers with `answer(offer)`. Returns that INVITE, once the final NOTIFY
 * said 200 and the agent's dialog got its BYE.
 */
async function transferTo1003(
  r: Rig,
  call: RawCall,
  kind: RegExp,
  answer: (offer: string) => Promise<string>,
): Promise<{ invite: Awaited<ReturnType<typeof nextInvite>> }> {
  const phone = target as ExtensionPhone;
  const invitesBefore = phone.client.received.length;
  expect((await refer(call.b, '1003')).status).toBe(202);
  expect((await nthNotify(call.b, 1)).body.trim()).toBe('SIP/2.0 100 Trying');
  const invite = await nextInvite(phone, invitesBefore);
  expect(invite.body).toMatch(kind);
  const byeToAgent = call.b.nextRequest('BYE', r.callee.received.length);
  await answerInvite(phone, invite, await answer(invite.body));
  const done = await nthNotify(call.b, 2);
  expect(done.body.trim()).toBe('SIP/2.0 200 OK');
  r.callee.send(responseTo(await byeToAgent, 200), r.server.sipPort);
  return { invite };
}

/** The customer hangs up: the BYE reaches 1003, and no call is left. */
async function hangUpAfterTransfer(r: Rig, call: RawCall): Promise<void> {
  const phone = target as ExtensionPhone;
  const bye = phone.client.nextNewRequest('BYE', phone.client.received.length);
  expect((await call.a.transact('BYE')).status).toBe(200);
  phone.client.send(responseTo(await bye, 200), r.server.sipPort);
  await r.noLiveCalls();
}

/** 1.5 s of what the customer heard, after 0.5 s to settle. */
async function customerWindow(customer: FakePhone): Promise<Int16Array> {
  await sleep(500);
  const from = performance.now();
  await sleep(1500);
  return heardBetween(customer, from, performance.now());
}

/**
 * The agent transfers the call to a browser at 1003, which must be offered WebRTC on a
 * leg of its own (not the agent's port): once it connects, the customer hears the
 * browser's tone and not the agent's. Returns the browser's audio from then on.
 */
async function transferToBrowser(r: Rig, call: RawCall, customer: FakePhone) {
  const peer = await browser();
  const { invite } = await transferTo1003(r, call, SAVPF, (offer) => peer.answer(offer));
  expect(audioPort(invite.body)).not.toBe(audioPort(call.sdpToB));
  await waitFor(() => peer.connected, 'the browser target connected', 10000);
  peer.startTone(TARGET_HZ);
  const before = peer.heard.length;
  const heard = await customerWindow(customer);
  expect(toneVerdict('customer', heard, [TARGET_HZ], [AGENT_HZ])).toMatchObject({
    missing: [],
    leaked: [],
  });
  return browserHeard(peer, before);
}

describe('blind transfer with a browser', () => {
  it('a desk-phone agent transfers the customer to a browser: SAVPF offer, two-way audio', async () => {
    const r = await startScene('', WS);
    const [customer, agent] = [await r.phone(), await r.phone()];
    const call = await r.placeCall({ offer: sdp(customer.port), answer: () => sdp(agent.port) });
    talking.push(talk(customer, audioPort(call.sdpToA), CUSTOMER_HZ));
    const agentTalk = talk(agent, audioPort(call.sdpToB), AGENT_HZ);
    await sleep(300);

    await agentTalk.stop();
    // A browser's contact is offered WebRTC, on a leg of its own (not the agent's port).
    expect(hasTone(await transferToBrowser(r, call, customer), CUSTOMER_HZ)).toBe(true);
    await hangUpAfterTransfer(r, call);
  }, 40000);

  it('a browser agent transfers the customer to a desk phone: RTP/AVP offer, two-way audio', async () => {
    const r = await startScene(WS, '');
    const customer = await r.phone();
    const agentPeer = await browser();
    const call = await r.placeCall({
      offer: sdp(customer.port),
      answer: (offer) => agentPeer.answer(offer),
    });
    expect(call.sdpToB).toMatch(/UDP\/TLS\/RTP\/SAVPF/);
    await waitFor(() => agentPeer.connected, 'the browser agent connected', 10000);
    talking.push(talk(customer, audioPort(call.sdpToA), CUSTOMER_HZ));
    agentPeer.startTone(AGENT_HZ);
    await sleep(300);
    agentPeer.stopTone();

    const targetPhone = await r.phone();
    // A desk phone is offered plain RTP, never the browser agent's DTLS-SRTP leg.
    const { invite } = await transferTo1003(r, call, AVP, async () => sdp(targetPhone.port));
    talking.push(talk(targetPhone, audioPort(invite.body), TARGET_HZ));

    const from = performance.now() + 500;
    const heard = await customerWindow(customer);
    expect(toneVerdict('customer', heard, [TARGET_HZ], [AGENT_HZ])).toMatchObject({
      missing: [],
      leaked: [],
    });
    expect(
      toneVerdict('1003', heardBetween(targetPhone, from, performance.now()), [CUSTOMER_HZ], []),
    ).toMatchObject({ missing: [], leaked: [] });
    await hangUpAfterTransfer(r, call);
  }, 40000);

  it('a browser agent transfers the customer to another browser: a new WebRTC leg', async () => {
    const r = await startScene(WS, WS);
    const customer = await r.phone();
    const agentPeer = await browser();
    const call = await r.placeCall({
      offer: sdp(customer.port),
      answer: (offer) => agentPeer.answer(offer),
    });
    await waitFor(() => agentPeer.connected, 'the browser agent connected', 10000);
    talking.push(talk(customer, audioPort(call.sdpToA), CUSTOMER_HZ));
    agentPeer.startTone(AGENT_HZ);
    await sleep(300);
    agentPeer.stopTone();

    // A new WebRTC leg: the agent's served its own DTLS peer.
    const targetHeard = await transferToBrowser(r, call, customer);
    expect(hasTone(targetHeard, CUSTOMER_HZ)).toBe(true);
    expect(lacksTone(targetHeard, AGENT_HZ)).toBe(true);
    await hangUpAfterTransfer(r, call);
  }, 40000);
});

describe('blind transfer to a browser that refuses', () => {
  it('NOTIFY 486, the new leg closes, the customer and the agent still hear each other', async () => {
    const r = await startScene('', WS);
    const [customer, agent] = [await r.phone(), await r.phone()];
    const call = await r.placeCall({ offer: sdp(customer.port), answer: () => sdp(agent.port) });
    talking.push(talk(customer, audioPort(call.sdpToA), CUSTOMER_HZ));
    talking.push(talk(agent, audioPort(call.sdpToB), AGENT_HZ));
    const legs = async () =>
      (await r.server.metrics()).find((m) => m.name === 'callwatch_media_legs')?.value;

    const phone = target as ExtensionPhone;
    const invitesBefore = phone.client.received.length;
    expect((await refer(call.b, '1003')).status).toBe(202);
    await nthNotify(call.b, 1);
    const invite = await nextInvite(phone, invitesBefore);
    expect(invite.body).toMatch(SAVPF);
    // The worker reports its legs every 2 s: the call's two and the browser's new one.
    expect(await eventually(async () => (await legs()) === 3, 10000)).toBe(true);
    await refuseInvite(phone, invite, 486);
    expect((await nthNotify(call.b, 2)).body.trim()).toMatch(/^SIP\/2\.0 486 /);
    expect(await eventually(async () => (await legs()) === 2, 10000)).toBe(true);

    const from = performance.now() + 300;
    const heard = await customerWindow(customer);
    expect(toneVerdict('customer', heard, [AGENT_HZ], [])).toMatchObject({
      missing: [],
      leaked: [],
    });
    expect(
      toneVerdict('agent', heardBetween(agent, from, performance.now()), [CUSTOMER_HZ], []),
    ).toMatchObject({ missing: [], leaked: [] });
    await r.hangUp(call);
    expect(await eventually(async () => (await legs()) === 0, 10000)).toBe(true);
  }, 40000);
});
