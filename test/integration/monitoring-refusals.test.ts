/**
 * A supervisor's feature-code INVITE refused with the right status (docs/architecture.md §4.2,
 * monitoringService.ts): not a supervisor 403, no such extension 404, the target in no
 * call 480, the call full (maxParticipants) 486, the call taken over 403, monitoring
 * disabled 403, no SDP offer 488, the supervisor's own extension 403, a target that is
 * monitoring 403, a supervisor already monitoring 486. The server keeps
 * answering OPTIONS after each. Raw SIP with digest auth from the test (monitoring-rig.ts).
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomToken, type SipMessageView } from '../helpers/sipClient.js';
import { RawDialog, responseTo, sdp, type RawCall } from './calls-rawRig.js';
import type { FakePhone } from './media/fakePhone.js';
import { answerBye, startMonitorRig, type MonitorRig } from './monitoring-rig.js';

let rig: MonitorRig;

beforeAll(async () => {
  rig = await startMonitorRig();
}, 30000);

afterAll(async () => {
  await rig?.close();
});

async function trunkCall(): Promise<RawCall> {
  const [customer, agent] = [await rig.phone(), await rig.phone()];
  return rig.placeCall({ offer: sdp(customer.port), answer: () => sdp(agent.port) });
}

async function refused(from: string, dialled: string, offer: string | undefined) {
  const ext = await rig.extension(from);
  const phone = await rig.phone();
  const r = await ext.invite(dialled, offer === undefined ? undefined : sdp(phone.port));
  expect(await rig.options()).toBe(200);
  return r.final;
}

function statusOf(m: SipMessageView): { status: number | undefined; reason: string | undefined } {
  return { status: m.status, reason: m.reason };
}

describe('feature-code INVITEs refused', () => {
  it('403 when the caller is not a supervisor', async () => {
    const call = await trunkCall();
    expect(statusOf(await refused('1003', '*901002', 'sdp'))).toMatchObject({ status: 403 });
    await rig.hangUp(call);
  });

  it('404 for an extension that does not exist', async () => {
    expect((await refused('1005', '*909999', 'sdp')).status).toBe(404);
  });

  it('480 when the target is registered but in no call', async () => {
    await (await rig.extension('1004')).register();
    expect((await refused('1005', '*901004', 'sdp')).status).toBe(480);
  });

  it('403 for a supervisor targeting itself', async () => {
    expect((await refused('1005', '*901005', 'sdp')).status).toBe(403);
  });

  it('488 without an SDP offer, and the call goes on unmonitored', async () => {
    const call = await trunkCall();
    expect((await refused('1005', '*901002', undefined)).status).toBe(488);
    // The refusal left no session behind: a supervisor can still join.
    const sup = await rig.extension('1005');
    const m = await sup.invite('*901002', sdp((await rig.phone()).port));
    expect(m.final.status).toBe(200);
    const byeSup = answerBye(m.dialog as RawDialog, sup.client.received.length);
    await rig.hangUp(call);
    await byeSup;
  });

  it('486 when the call already has maxParticipants (3) legs', async () => {
    const call = await trunkCall();
    const first = await rig.extension('1005');
    const m = await first.invite('*901002', sdp((await rig.phone()).port));
    expect(m.final.status).toBe(200);
    expect((await refused('1006', '*911002', 'sdp')).status).toBe(486);
    const byeSup = answerBye(m.dialog as RawDialog, first.client.received.length);
    await rig.hangUp(call);
    await byeSup;
  });

  it('403 for a target that is itself monitoring; 486 for a supervisor already monitoring', async () => {
    const call = await trunkCall();
    const first = await rig.extension('1005');
    const m = await first.invite('*901002', sdp((await rig.phone()).port));
    expect(m.final.status).toBe(200);
    // A monitor leg is never itself monitored (docs/architecture.md §4.2).
    expect((await refused('1006', '*901005', 'sdp')).status).toBe(403);
    // A monitor is busy while it monitors.
    expect((await refused('1005', '*911003', 'sdp')).status).toBe(486);
    const byeSup = answerBye(m.dialog as RawDialog, first.client.received.length);
    await rig.hangUp(call);
    await byeSup;
  });

  it('403 once the call was taken over', async () => {
    // An internal call 1003 → 1002 (1002 the agent); 1005 takes it over, then 1006 tries
    // to monitor the call through its remaining party.
    const caller = await rig.extension('1003');
    const [callerPhone, agentPhone] = [await rig.phone(), await rig.phone()];
    const { a, b } = await internalCall(caller, callerPhone, agentPhone);
    const sup = await rig.extension('1005');
    const agentBye = b.nextRequest('BYE', rig.callee.received.length);
    const m = await sup.invite('*931002', sdp((await rig.phone()).port));
    expect(m.final.status).toBe(200);
    rig.callee.send(responseTo(await agentBye, 200), rig.server.sipPort);

    expect((await refused('1006', '*901003', 'sdp')).status).toBe(403);
    // The released agent is in no call any more.
    expect((await refused('1006', '*901002', 'sdp')).status).toBe(480);

    const callerBye = answerBye(a, caller.client.received.length);
    expect((await (m.dialog as RawDialog).transact('BYE')).status).toBe(200);
    await callerBye;
    await rig.noLiveCalls();
  });
});

/** 1003 (caller) calls 1002 (the rig's callee): both dialogs, as the raw clients see them. */
async function internalCall(
  caller: Awaited<ReturnType<MonitorRig['extension']>>,
  callerPhone: FakePhone,
  calleePhone: FakePhone,
): Promise<{ a: RawDialog; b: RawDialog }> {
  const seen = rig.callee.received.length;
  const placing = caller.invite('1002', sdp(callerPhone.port));
  const invite = await rig.callee.nextNewRequest('INVITE', seen);
  const tag = randomToken(4);
  rig.callee.send(
    responseTo(invite, 200, {
      toTag: tag,
      body: sdp(calleePhone.port),
      contactPort: rig.callee.localPort,
    }),
    rig.server.sipPort,
  );
  const placed = await placing;
  expect(placed.final.status).toBe(200);
  const contact = invite.header('Contact') ?? '';
  const b = new RawDialog(
    rig.callee,
    rig.server.sipPort,
    invite.callId as string,
    `${invite.header('To') as string};tag=${tag}`,
    invite.header('From') as string,
    /<([^>]+)>/.exec(contact)?.[1] ?? contact,
    0,
  );
  return { a: placed.dialog as RawDialog, b };
}

describe('with monitoring disabled', () => {
  let off: MonitorRig;

  beforeAll(async () => {
    off = await startMonitorRig({ monitoring: { enabled: false } });
  }, 30000);

  afterAll(async () => {
    await off?.close();
  });

  it('a supervisor gets 403 for a live call, and the server goes on', async () => {
    const [customer, agent] = [await off.phone(), await off.phone()];
    const call = await off.placeCall({ offer: sdp(customer.port), answer: () => sdp(agent.port) });
    const sup = await off.extension('1005');
    const r = await sup.invite('*901002', sdp((await off.phone()).port));
    expect(r.final.status).toBe(403);
    expect(await off.options()).toBe(200);
    const bye = call.b.nextRequest('BYE', off.callee.received.length);
    expect((await call.a.transact('BYE')).status).toBe(200);
    off.callee.send(responseTo(await bye, 200), off.server.sipPort);
    await off.noLiveCalls();
  });
});
