/**
 * An extension registered from a browser and a desk phone at once (docs/architecture.md
 * §3.2.2): 1002 is a browser (werift's RTCPeerConnection behind a SIP-over-WebSocket
 * client, `;transport=ws`, 1000 Hz) and a baresip desk phone that rings until told to
 * answer (1800 Hz); baresip 1003 (440 Hz) calls 1002. Each fork is offered by its own
 * contact's kind: the browser UDP/TLS/RTP/SAVPF with a fingerprint, the desk phone plain
 * RTP/AVP. Whichever answers has audio both ways with the caller (by tone, on what each
 * side received), the other fork is cancelled, and after the hang-up no call, media port
 * or WebRTC object (secure pair, DTLS, SRTP) is left, also of the WebRTC leg that was
 * made for the browser and not used. The same for a queue (600) ringing 1002 as its member,
 * and for a supervisor (1005) registered from a browser and a desk phone whom the REST API
 * calls into a call to monitor it.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { apiClient, summary } from '../helpers/api.js';
import { startBaresip, tracedRequest, type BaresipPhone } from '../helpers/baresip.js';
import {
  analyzeTone,
  describeTone,
  hasTone,
  lacksTone,
  type PcmAudio,
} from '../helpers/goertzel.js';
import {
  heardAudio,
  toneWindow,
  PhonePool,
  rtpPortRange,
  sleep,
  startPhoneServer,
  waitFor,
} from '../helpers/phoneScene.js';
import { boundUdpPorts } from '../helpers/ports.js';
import { type ServerHandle } from '../helpers/server.js';
import type { SipMessageView } from '../helpers/sipClient.js';
import { WebRtcPeer } from '../helpers/webrtcPeer.js';
import { WsSipClient } from '../helpers/wsSipClient.js';

const CALLER_HZ = 440;
const BROWSER_HZ = 1000;
const DESK_HZ = 1800;
const EXTENSIONS = [
  { number: '1002', password: 'pw1002', role: 'agent' as const },
  { number: '1003', password: 'pw1003', role: 'agent' as const },
  { number: '1005', password: 'pw1005', role: 'supervisor' as const },
];

let server: ServerHandle;
const phones = new PhonePool(() => server);
let desk: BaresipPhone | undefined;
let ws: WsSipClient | undefined;
let peer: WebRtcPeer | undefined;

beforeAll(async () => {
  server = await startPhoneServer(
    {
      // Overload shedding off: the werift peer's DTLS shares this 2-core box with the
      // server; a late timer must not turn a request into a 503 here.
      sip: { overload: { enabled: false }, webSocket: { pingIntervalSec: 10 } },
      calls: { noAnswerTimeoutSec: 40 },
      monitoring: {
        groups: [{ name: 'support', monitors: ['1005'], members: ['1002'], modes: ['all'] }],
      },
      queues: [{ number: '600', name: 'Support', members: ['1002'], ringTimeSec: 20 }],
    },
    EXTENSIONS,
    40,
  );
}, 30000);

afterEach(async () => {
  await peer?.close();
  peer = undefined;
  await ws?.close();
  ws = undefined;
  // quit, not kill: they un-register, so the next test finds only its own contacts.
  await desk?.quit();
  desk = undefined;
  await Promise.all(phones.all.map((p) => p.quit()));
  phones.forget();
}, 20000);

afterAll(async () => {
  await server?.stop();
});

/** The live WebRTC objects of the media workers (secure pairs, DTLS sockets, SRTP sessions). */
const webRtcLive = async (): Promise<number> =>
  (await server.metric('callwatch_webrtc_live_objects')) ?? 0;

/** `user` from a browser and from a desk phone that rings until told to answer. */
async function registerTwice(user: string): Promise<void> {
  ws = await WsSipClient.connect(server.httpPort);
  expect((await ws.register(user, `pw${user}`)).final.status).toBe(200);
  desk = await startBaresip({
    user,
    password: `pw${user}`,
    serverPort: server.sipPort,
    toneHz: DESK_HZ,
    audioCodecs: 'pcmu',
    answerMode: 'manual',
  });
  await desk.waitForRegistration(10000);
  const bindings = (await server.registrations()).find((r) => r.extension === user);
  expect(bindings?.contacts).toHaveLength(2);
}

/** 1002 from a browser and from the desk phone, and the caller 1003, all registered. */
async function registerAll(): Promise<BaresipPhone> {
  await registerTwice('1002');
  return phones.phone('1003', CALLER_HZ);
}

/** The desk phone's INVITE and the browser's are offered by kind; returns the browser's. */
async function offeredByKind(): Promise<SipMessageView> {
  const invite = await (ws as WsSipClient).waitFor((m) => m.method === 'INVITE', 10000);
  const d = desk as BaresipPhone;
  await d.waitForEvent('CALL_INCOMING', 10000);
  const receivedInvite = tracedRequest('received', 'INVITE');
  const deskInvite = (await d.waitForTrace(receivedInvite)).find(receivedInvite)?.message;
  // The browser's fork: WebRTC (SAVPF, ICE, our DTLS fingerprint).
  expect(invite.body).toMatch(/m=audio \d+ UDP\/TLS\/RTP\/SAVPF \d/);
  expect(invite.body).toMatch(/a=fingerprint:sha-256 [0-9A-F:]{95}/);
  expect(invite.body).toMatch(/a=ice-ufrag:/);
  // The desk phone's fork: plain RTP, nothing of WebRTC.
  expect(deskInvite?.body).toMatch(/m=audio \d+ RTP\/AVP /);
  expect(deskInvite?.body).not.toMatch(/fingerprint|ice-ufrag|SAVPF/);
  // Each on a leg of its own: the ports differ.
  expect(audioPort(invite.body)).not.toBe(audioPort(deskInvite?.body ?? ''));
  return invite;
}

/** The caller dials 1002: both forks ring, each offered by its kind. */
async function bothRing(caller: BaresipPhone): Promise<SipMessageView> {
  expect((await caller.command('dial', `sip:1002@127.0.0.1:${server.sipPort}`)).ok).toBe(true);
  const invite = await offeredByKind();
  // A call's offer to a browser lists Opus first (RFC 7874 §3).
  expect(invite.body).toMatch(/m=audio \d+ UDP\/TLS\/RTP\/SAVPF 111 /);
  return invite;
}

/**
 * The browser rings (180) while its WebRTC leg waits beside the desk phone's (counted,
 * so the final count of zero can fail); the desk phone answers; the browser's fork is
 * cancelled: 200 to the CANCEL, 487 to the INVITE. Returns the desk phone.
 */
async function deskAnswersBrowserCancelled(
  invite: SipMessageView,
  contactUser: string,
  tag: string,
): Promise<BaresipPhone> {
  const w = ws as WsSipClient;
  w.respond(invite, 180, 'Ringing', { toTag: tag, contactUser });
  expect(await waitFor(async () => (await webRtcLive()) >= 1, 12000)).toBe(true);
  const d = desk as BaresipPhone;
  expect((await d.command('accept')).ok).toBe(true);
  await d.waitForEvent('CALL_ESTABLISHED', 10000);
  const cancel = await w.waitFor((m) => m.method === 'CANCEL' && m.callId === invite.callId);
  w.respond(cancel, 200, 'OK', { toTag: tag });
  w.respond(invite, 487, 'Request Terminated', { toTag: tag });
  return d;
}

function audioPort(sdp: string): number {
  return Number(/m=audio (\d+) /.exec(sdp)?.[1]);
}

function expectTone(label: string, audio: PcmAudio, present: number, absent: number[]): void {
  expect({
    label,
    heard: describeTone(analyzeTone(audio, present)),
    ok: hasTone(audio, present) && absent.every((hz) => lacksTone(audio, hz)),
  }).toMatchObject({ label, ok: true });
}

/** No call, no media port of the server's range, no WebRTC object left. */
async function expectNothingLeft(): Promise<void> {
  expect(
    await waitFor(async () => {
      const r = await server.httpGet('/v1/calls');
      return (r.json as { calls: unknown[] }).calls.length === 0;
    }, 5000),
  ).toBe(true);
  const { min, max } = rtpPortRange(server);
  await waitFor(async () => boundUdpPorts(min, max, server.pid).length === 0, 5000);
  expect({ boundPorts: boundUdpPorts(min, max, server.pid) }).toEqual({ boundPorts: [] });
  // The workers report these every few seconds.
  expect(await waitFor(async () => (await webRtcLive()) === 0, 12000)).toBe(true);
}

describe('an extension registered from a browser and a desk phone at once', () => {
  it('the browser answers: audio both ways with the caller, the desk phone is cancelled, nothing left', async () => {
    expect(await waitFor(async () => (await webRtcLive()) === 0, 12000)).toBe(true);
    const caller = await registerAll();
    const invite = await bothRing(caller);
    const w = ws as WsSipClient;
    peer = await WebRtcPeer.create(['opus', 'PCMU']);
    await w.answerCall(invite, '1002', await peer.answer(invite.body));
    await caller.waitForEvent('CALL_ESTABLISHED', 10000);
    // The desk phone's fork is cancelled (RFC 3261 §9.1).
    await (desk as BaresipPhone).waitForEvent('CALL_CLOSED', 10000);
    const cancel = tracedRequest('received', 'CANCEL');
    expect((await (desk as BaresipPhone).waitForTrace(cancel)).some(cancel)).toBe(true);
    const p = peer;
    await waitFor(async () => p.connected, 10000);
    expect({ ice: p.pc.iceConnectionState, pc: p.pc.connectionState }).toMatchObject({
      pc: 'connected',
    });
    p.startTone(BROWSER_HZ);
    await sleep(3000);
    p.stopTone();
    expectTone(
      'the browser hears the caller',
      { samples: Int16Array.from(p.heard), sampleRate: p.heardRate },
      CALLER_HZ,
      [BROWSER_HZ, DESK_HZ],
    );
    expect((await caller.command('hangup')).ok).toBe(true);
    const bye = await w.waitFor((m) => m.method === 'BYE' && m.callId === invite.callId, 10000);
    w.respond(bye, 200, 'OK');
    await caller.waitForEvent('CALL_CLOSED', 10000);
    expectTone('the caller hears the browser', heardAudio(caller), BROWSER_HZ, [
      CALLER_HZ,
      DESK_HZ,
    ]);
    await expectNothingLeft();
  }, 90000);

  it('the desk phone answers: audio both ways with the caller, the browser is cancelled, nothing left', async () => {
    expect(await waitFor(async () => (await webRtcLive()) === 0, 12000)).toBe(true);
    const caller = await registerAll();
    const invite = await bothRing(caller);
    const d = await deskAnswersBrowserCancelled(invite, '1002', 'browser-tag');
    await caller.waitForEvent('CALL_ESTABLISHED', 10000);
    await sleep(3000);
    expect((await caller.command('hangup')).ok).toBe(true);
    await d.waitForEvent('CALL_CLOSED', 10000);
    await caller.waitForEvent('CALL_CLOSED', 10000);
    expectTone('the desk phone hears the caller', heardAudio(d), CALLER_HZ, [DESK_HZ, BROWSER_HZ]);
    expectTone('the caller hears the desk phone', heardAudio(caller), DESK_HZ, [
      CALLER_HZ,
      BROWSER_HZ,
    ]);
    await expectNothingLeft();
  }, 90000);

  it('a supervisor with a browser and a desk phone, called by the API to monitor: each offered by kind, the desk phone answers, nothing left', async () => {
    expect(await waitFor(async () => (await webRtcLive()) === 0, 12000)).toBe(true);
    const agent = await phones.phone('1002', BROWSER_HZ);
    const caller = await phones.phone('1003', CALLER_HZ);
    expect((await caller.command('dial', `sip:1002@127.0.0.1:${server.sipPort}`)).ok).toBe(true);
    await caller.waitForEvent('CALL_ESTABLISHED', 10000);
    await agent.waitForEvent('CALL_ESTABLISHED', 10000);
    await registerTwice('1005');
    const calls = (await server.httpGet('/v1/calls')).json as { calls: Array<{ id: string }> };
    expect(calls.calls).toHaveLength(1);
    const api = apiClient(server.httpPort);
    const r = await api.post(`/v1/calls/${encodeURIComponent(calls.calls[0]!.id)}/monitors`, {
      supervisor: '1005',
      mode: 'listen',
    });
    expect(summary(r)).toMatchObject({ status: 201 });
    const invite = await offeredByKind();
    const d = await deskAnswersBrowserCancelled(invite, '1005', 'monitor-browser-tag');
    await sleep(3000);
    expect((await caller.command('hangup')).ok).toBe(true);
    await d.waitForEvent('CALL_CLOSED', 10000);
    await agent.waitForEvent('CALL_CLOSED', 10000);
    const heard = heardAudio(d);
    for (const hz of [CALLER_HZ, BROWSER_HZ])
      expectTone(`the supervisor hears ${hz}`, heard, hz, []);
    expect(lacksTone(heard, DESK_HZ)).toBe(true);
    await expectNothingLeft();
  }, 90000);

  it('a queue rings its member on a browser and a desk phone, each offered by kind; the browser answers, nothing left', async () => {
    expect(await waitFor(async () => (await webRtcLive()) === 0, 12000)).toBe(true);
    const caller = await registerAll();
    expect((await caller.command('dial', `sip:600@127.0.0.1:${server.sipPort}`)).ok).toBe(true);
    await caller.waitForEvent('CALL_ESTABLISHED', 10000); // the queue answers, hold audio
    const callAt = Date.now();
    const invite = await offeredByKind();
    const w = ws as WsSipClient;
    peer = await WebRtcPeer.create(['opus', 'PCMU']);
    await w.answerCall(invite, '1002', await peer.answer(invite.body));
    await (desk as BaresipPhone).waitForEvent('CALL_CLOSED', 10000);
    const p = peer;
    await waitFor(async () => p.connected, 10000);
    expect({ pc: p.pc.connectionState }).toEqual({ pc: 'connected' });
    p.startTone(BROWSER_HZ);
    const talkAt = Date.now();
    await sleep(3000);
    const talkEnd = Date.now();
    expect((await caller.command('hangup')).ok).toBe(true);
    const bye = await w.waitFor((m) => m.method === 'BYE' && m.callId === invite.callId, 10000);
    w.respond(bye, 200, 'OK');
    p.stopTone();
    await caller.waitForEvent('CALL_CLOSED', 10000);
    expectTone(
      'the browser hears the caller',
      { samples: Int16Array.from(p.heard), sampleRate: p.heardRate },
      CALLER_HZ,
      [BROWSER_HZ, DESK_HZ],
    );
    // After the hold audio: only while the browser talks.
    const talk = toneWindow(heardAudio(caller), callAt, talkAt + 1000, talkEnd);
    expectTone('the caller hears the browser', talk, BROWSER_HZ, [CALLER_HZ, DESK_HZ]);
    await expectNothingLeft();
  }, 90000);
});
