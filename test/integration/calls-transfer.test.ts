/**
 * Blind transfer by REFER (src/calls/transfer.ts, RFC 3515) over raw SIP: the customer
 * (trunk) talks to agent 1002; 1002 REFERs to 1003 (a raw extension phone). The server
 * answers 202, NOTIFYs 100 Trying, INVITEs 1003 on 1002's media port, NOTIFYs 200 OK
 * (terminated) and BYEs 1002; the customer sees no request and now hears 1003. A refused
 * transfer (486) is NOTIFYed and leaves the call as it was; the agent hanging up after the
 * 202 does not stop the transfer; a REFER during a transfer gets 491, one with Replaces
 * 501, and OPTIONS advertises REFER.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { performance } from 'node:perf_hooks';
import {
  RIG_EXTENSIONS,
  audioPort,
  responseTo,
  sdp,
  startRig,
  type RawCall,
  type Rig,
} from './calls-rawRig.js';
import { sleep, type FakePhone } from './media/fakePhone.js';
import {
  AGENT_HZ,
  CUSTOMER_HZ,
  ExtensionPhone,
  heardBetween,
  talk,
  toneVerdict,
} from './monitoring-rig.js';
import { answerInvite, nextInvite, nthNotify, refer, refuseInvite } from './transfer-rig.js';

const TARGET_HZ = 1400;
let rig: Rig;
let target: ExtensionPhone;

beforeAll(async () => {
  rig = await startRig({}, [...RIG_EXTENSIONS, { number: '1003', password: 'pw1003' }]);
  target = await ExtensionPhone.open('1003', 'pw1003', rig.server.sipPort);
  await target.register();
}, 30000);

afterAll(async () => {
  await target?.client.close();
  await rig?.close();
});

interface Scene {
  call: RawCall;
  customer: FakePhone;
  agent: FakePhone;
  customerTalk: { stop(): Promise<void> };
  agentTalk: { stop(): Promise<void> };
}

async function scene(): Promise<Scene> {
  const [customer, agent] = [await rig.phone(), await rig.phone()];
  const call = await rig.placeCall({ offer: sdp(customer.port), answer: () => sdp(agent.port) });
  return {
    call,
    customer,
    agent,
    customerTalk: talk(customer, audioPort(call.sdpToA), CUSTOMER_HZ),
    agentTalk: talk(agent, audioPort(call.sdpToB), AGENT_HZ),
  };
}

/** Requests the trunk (customer) got in its dialog. */
const customerRequests = (call: RawCall) =>
  rig.trunk.received.filter((r) => !r.message.isResponse && r.message.callId === call.a.callId);

describe('blind transfer (REFER)', () => {
  it('OPTIONS advertises REFER in Allow', async () => {
    const { response } = await rig.trunk.request(
      { method: 'OPTIONS', target: `127.0.0.1:${rig.server.sipPort}`, fromUser: 'customer' },
      rig.server.sipPort,
    );
    expect(response.status).toBe(200);
    expect(response.headerValues('Allow')).toContain('REFER');
  });

  it('the agent transfers the customer to 1003: NOTIFYs 100/200, BYE, media to 1003', async () => {
    const s = await scene();
    await sleep(300);
    const seenByCustomer = customerRequests(s.call).length;
    const invitesBefore = target.client.received.length;

    const accepted = await refer(s.call.b, '1003', ['Referred-By: <sip:1002@127.0.0.1>']);
    expect(accepted.status).toBe(202);
    await s.agentTalk.stop();

    const trying = await nthNotify(s.call.b, 1);
    expect(trying.header('Event')).toMatch(/^refer\b/);
    expect(trying.header('Subscription-State')).toMatch(/^active/);
    expect(trying.header('Content-Type')).toMatch(/^message\/sipfrag/);
    expect(trying.body.trim()).toBe('SIP/2.0 100 Trying');

    // 1003 is offered the agent's leg: the same port the agent sent to.
    const invite = await nextInvite(target, invitesBefore);
    expect(audioPort(invite.body)).toBe(audioPort(s.call.sdpToB));
    const targetPhone = await rig.phone();
    const byeToAgent = s.call.b.nextRequest('BYE', rig.callee.received.length);
    const dialog = await answerInvite(target, invite, sdp(targetPhone.port));
    const targetTalk = talk(targetPhone, audioPort(invite.body), TARGET_HZ);

    const done = await nthNotify(s.call.b, 2);
    expect(done.header('Event')).toMatch(/^refer\b/);
    expect(done.header('Subscription-State')).toMatch(/^terminated;\s*reason=noresource/);
    expect(done.body.trim()).toBe('SIP/2.0 200 OK');
    const bye = await byeToAgent;
    rig.callee.send(responseTo(bye, 200), rig.server.sipPort);
    expect(bye.cseq).toBeGreaterThan(done.cseq ?? 0);

    // The customer and 1003 hear each other; the customer saw no request at all.
    await sleep(500);
    const from = performance.now();
    await sleep(1500);
    const to = performance.now();
    expect(
      toneVerdict('1003', heardBetween(targetPhone, from, to), [CUSTOMER_HZ], [AGENT_HZ]),
    ).toMatchObject({ missing: [], leaked: [] });
    expect(
      toneVerdict('customer', heardBetween(s.customer, from, to), [TARGET_HZ], [AGENT_HZ]),
    ).toMatchObject({ missing: [], leaked: [] });
    expect(customerRequests(s.call)).toHaveLength(seenByCustomer);

    const calls = (await rig.server.httpGet('/v1/calls')).json as {
      calls: Array<{ agent: string | null }>;
    };
    expect(calls.calls.map((c) => c.agent)).toEqual(['1003']);
    // Who is in a call follows the transfer: 1002 left it, 1003 is in it.
    const { extensions } = (await rig.server.httpGet('/v1/extensions')).json as {
      extensions: Array<{ number: string; inCall: boolean }>;
    };
    expect(extensions.map((e) => [e.number, e.inCall])).toEqual([
      ['1002', false],
      ['1003', true],
    ]);

    // The customer hangs up: the BYE goes to 1003's dialog, not 1002's.
    const byeTo1003 = dialog.nextRequest('BYE', target.client.received.length);
    expect((await s.call.a.transact('BYE')).status).toBe(200);
    target.client.send(responseTo(await byeTo1003, 200), rig.server.sipPort);
    await rig.noLiveCalls();
    await Promise.all([s.customerTalk.stop(), targetTalk.stop()]);
  }, 30000);

  it('1003 is busy: NOTIFY 486, the call goes on unchanged; a second REFER meanwhile is 491', async () => {
    const s = await scene();
    await sleep(300);
    const invitesBefore = target.client.received.length;
    expect((await refer(s.call.b, '1003')).status).toBe(202);
    await nthNotify(s.call.b, 1);
    const invite = await nextInvite(target, invitesBefore);

    expect((await refer(s.call.b, '1003')).status).toBe(491);
    expect((await refer(s.call.a, '1003')).status).toBe(491);

    await refuseInvite(target, invite, 486);
    const failed = await nthNotify(s.call.b, 2);
    expect(failed.header('Subscription-State')).toMatch(/^terminated/);
    expect(failed.body.trim()).toMatch(/^SIP\/2\.0 486 /);

    // Still customer ↔ 1002, both ways, with no BYE to anyone.
    await sleep(300);
    const from = performance.now();
    await sleep(1500);
    const to = performance.now();
    expect(toneVerdict('agent', heardBetween(s.agent, from, to), [CUSTOMER_HZ], [])).toMatchObject({
      missing: [],
      leaked: [],
    });
    expect(
      toneVerdict('customer', heardBetween(s.customer, from, to), [AGENT_HZ], []),
    ).toMatchObject({ missing: [], leaked: [] });
    const byes = rig.callee.received.filter(
      (r) => r.message.method === 'BYE' && r.message.callId === s.call.b.callId,
    );
    expect(byes).toHaveLength(0);

    // A re-INVITE is relayed again (no transfer holds the call any more).
    const relayed = rig.calleeGets(s.call, 'INVITE');
    const cseq = s.call.a.send('INVITE', { body: sdp(s.customer.port, { version: 2 }) });
    const toAgent = await relayed;
    rig.callee.send(
      responseTo(toAgent, 200, { body: sdp(s.agent.port, { version: 2 }) }),
      rig.server.sipPort,
    );
    const reinvite = await rig.trunk.waitForResponse(s.call.a.callId, 'INVITE', 5000, cseq);
    expect(reinvite.status).toBe(200);
    s.call.a.send('ACK', { cseq });

    await Promise.all([s.customerTalk.stop(), s.agentTalk.stop()]);
    await rig.hangUp(s.call);
  }, 30000);

  it('the agent hangs up right after the 202: the transfer still completes', async () => {
    const s = await scene();
    const invitesBefore = target.client.received.length;
    expect((await refer(s.call.b, '1003')).status).toBe(202);
    await nthNotify(s.call.b, 1);
    await s.agentTalk.stop();
    expect((await s.call.b.transact('BYE')).status).toBe(200);
    const invite = await nextInvite(target, invitesBefore);
    const targetPhone = await rig.phone();
    const dialog = await answerInvite(target, invite, sdp(targetPhone.port));
    await sleep(500);
    // 1002's dialog is over: no NOTIFY or BYE more; the customer talks to 1003.
    const toAgent = rig.callee.received.filter(
      (r) =>
        !r.message.isResponse &&
        r.message.callId === s.call.b.callId &&
        !['INVITE', 'ACK'].includes(r.message.method ?? ''),
    );
    expect(toAgent.map((r) => r.message.method)).toEqual(['NOTIFY']);
    expect(targetPhone.rtp.length).toBeGreaterThan(10);
    const byeTo1003 = dialog.nextRequest('BYE', target.client.received.length);
    expect((await s.call.a.transact('BYE')).status).toBe(200);
    target.client.send(responseTo(await byeTo1003, 200), rig.server.sipPort);
    await rig.noLiveCalls();
    await s.customerTalk.stop();
  }, 20000);

  it('refuses an attended transfer (Refer-To with Replaces) with 501', async () => {
    const s = await scene();
    const replaces = await refer(
      s.call.b,
      'sip:1003@127.0.0.1?Replaces=abc%40host%3Bto-tag%3D1%3Bfrom-tag%3D2',
    );
    expect(replaces.status).toBe(501);
    await Promise.all([s.customerTalk.stop(), s.agentTalk.stop()]);
    await rig.hangUp(s.call);
  }, 20000);
});
