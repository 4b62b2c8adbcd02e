/**
 * docs/architecture.md §4.6: "monitoring ends when the agent leg ends or is transferred away". A supervisor
 * (1005) listens to agent 1002; 1002 blind-transfers the customer to 1003 (REFER): the
 * supervisor gets a BYE, the live-call listing shows 1003 as the agent and no monitor,
 * the audit log has the stop with reason agent-transferred, and the new agent can be
 * monitored on the same call.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { audioPort, responseTo, sdp } from './calls-rawRig.js';
import { sleep } from './media/fakePhone.js';
import {
  AGENT_HZ,
  CUSTOMER_HZ,
  answerBye,
  eventually,
  startMonitorRig,
  talk,
  type ExtensionPhone,
  type MonitorRig,
} from './monitoring-rig.js';
import { answerInvite, nextInvite, nthNotify, refer } from './transfer-rig.js';

let rig: MonitorRig;
let target: ExtensionPhone;

beforeAll(async () => {
  rig = await startMonitorRig();
  target = await rig.extension('1003');
  await target.register();
}, 30000);

afterAll(async () => {
  await rig?.close();
});

interface ListedCall {
  agent: string | null;
  monitors: Array<{ supervisor: string }>;
}

const listed = async (): Promise<ListedCall[]> =>
  ((await rig.server.httpGet('/v1/calls')).json as { calls: ListedCall[] }).calls;

describe('monitoring and blind transfer', () => {
  it('the agent transfers the call away: the supervisor gets a BYE, no monitor is left', async () => {
    const [customer, agent, supPhone, targetPhone, sup2Phone] = [
      await rig.phone(),
      await rig.phone(),
      await rig.phone(),
      await rig.phone(),
      await rig.phone(),
    ];
    const call = await rig.placeCall({ offer: sdp(customer.port), answer: () => sdp(agent.port) });
    const talkers = [
      talk(customer, audioPort(call.sdpToA), CUSTOMER_HZ),
      talk(agent, audioPort(call.sdpToB), AGENT_HZ),
    ];
    const sup = await rig.extension('1005');
    const m = await sup.invite('*901002', sdp(supPhone.port));
    expect(m.final.status).toBe(200);
    expect((await listed())[0]?.monitors.map((x) => x.supervisor)).toEqual(['1005']);
    await sleep(300);

    const supBye = answerBye(m.dialog!, sup.client.received.length);
    const invitesBefore = target.client.received.length;
    expect((await refer(call.b, '1003')).status).toBe(202);
    await nthNotify(call.b, 1);
    const invite = await nextInvite(target, invitesBefore);
    const byeToAgent = call.b.nextRequest('BYE', rig.callee.received.length);
    const dialog = await answerInvite(target, invite, sdp(targetPhone.port));
    expect((await nthNotify(call.b, 2)).body.trim()).toBe('SIP/2.0 200 OK');
    rig.callee.send(responseTo(await byeToAgent, 200), rig.server.sipPort);

    // The supervisor's session ends with the agent's leg; the call goes on with 1003.
    await supBye;
    expect(
      await eventually(async () => {
        const calls = await listed();
        return calls.length === 1 && calls[0]?.agent === '1003' && calls[0].monitors.length === 0;
      }, 3000),
    ).toBe(true);
    const stopped = async () => {
      const audit = (await rig.server.httpGet('/v1/audit')).json as {
        entries: Array<{ action: string; reason: string | null; agent: string | null }>;
      };
      return audit.entries.some(
        (e) => e.action === 'stop' && e.reason === 'agent-transferred' && e.agent === '1002',
      );
    };
    expect(await eventually(stopped, 3000)).toBe(true);

    // The new agent can be monitored on the same call.
    const sup2 = await rig.extension('1006');
    const m2 = await sup2.invite('*901003', sdp(sup2Phone.port));
    expect(m2.final.status).toBe(200);
    expect((await listed())[0]?.monitors.map((x) => x.supervisor)).toEqual(['1006']);

    // The customer hangs up: 1003 and the second supervisor get BYEs.
    const byeTo1003 = answerBye(dialog, target.client.received.length);
    const sup2Bye = answerBye(m2.dialog!, sup2.client.received.length);
    expect((await call.a.transact('BYE')).status).toBe(200);
    await Promise.all([byeTo1003, sup2Bye]);
    await rig.noLiveCalls();
    await Promise.all(talkers.map((t) => t.stop()));
  }, 30000);
});
