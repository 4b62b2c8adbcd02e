/**
 * Takeover dialled directly (*93<ext>), over raw SIP with FakePhones: the agent's side
 * gets a BYE, the customer then hears the supervisor (and no longer the agent); a
 * re-INVITE from the customer is answered by the server itself (nothing relayed to the
 * released agent); the supervisor's BYE ends the call (the customer gets a BYE) and the
 * recording's sidecar says supervisor-hangup.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { performance } from 'node:perf_hooks';
import { audioPort, sdp, type RawDialog } from './calls-rawRig.js';
import { sleep } from './media/fakePhone.js';
import {
  AGENT_HZ,
  CUSTOMER_HZ,
  SUPERVISOR_HZ,
  answerBye,
  completedSidecar,
  heardBetween,
  startMonitorRig,
  talk,
  toneVerdict,
  type MonitorRig,
} from './monitoring-rig.js';

let rig: MonitorRig;

beforeAll(async () => {
  rig = await startMonitorRig({ sip: { timers: { t1Ms: 100, t2Ms: 400, t4Ms: 500 } } });
}, 30000);

afterAll(async () => {
  await rig?.close();
});

describe('takeover by feature code', () => {
  it('releases the agent, gives the customer to the supervisor, ends with its BYE', async () => {
    const [customer, agent, supPhone] = [await rig.phone(), await rig.phone(), await rig.phone()];
    const call = await rig.placeCall({ offer: sdp(customer.port), answer: () => sdp(agent.port) });
    const talkers = [
      talk(customer, audioPort(call.sdpToA), CUSTOMER_HZ),
      talk(agent, audioPort(call.sdpToB), AGENT_HZ),
    ];
    await sleep(300);
    const sup = await rig.extension('1005');
    const agentBye = answerBye(call.b, rig.callee.received.length);
    const m = await sup.invite('*931002', sdp(supPhone.port));
    expect(m.final.status).toBe(200);
    const dialog = m.dialog as RawDialog;
    await agentBye;
    talkers.push(talk(supPhone, audioPort(m.final.body), SUPERVISOR_HZ));
    // The released agent is in no call any more (it may take another).
    const inCall = async (n: string) =>
      (
        (await rig.server.httpGet('/v1/extensions')).json as {
          extensions: Array<{ number: string; inCall: boolean }>;
        }
      ).extensions.find((e) => e.number === n)?.inCall;
    expect(await inCall('1002')).toBe(false);

    await sleep(500);
    const from = performance.now();
    await sleep(2000);
    const to = performance.now();
    expect(
      toneVerdict('customer', heardBetween(customer, from, to), [SUPERVISOR_HZ], [AGENT_HZ]),
    ).toMatchObject({ missing: [], leaked: [] });
    expect(
      toneVerdict('supervisor', heardBetween(supPhone, from, to), [CUSTOMER_HZ], [AGENT_HZ]),
    ).toMatchObject({ missing: [], leaked: [] });

    // A re-INVITE from the customer: 200 from the server, nothing to the released agent.
    const calleeSeen = rig.callee.received.length;
    const cseq = call.a.send('INVITE', { body: sdp(customer.port, { version: 2 }) });
    const ok = await rig.trunk.waitForResponse(call.a.callId, 'INVITE', 3000, cseq);
    expect(ok.status).toBe(200);
    expect(audioPort(ok.body)).toBe(audioPort(call.sdpToA));
    call.a.send('ACK', { cseq });
    await sleep(500);
    expect(rig.callee.received.slice(calleeSeen).filter((r) => !r.message.isResponse)).toHaveLength(
      0,
    );
    // The call still runs: the customer still hears the supervisor.
    const after = customer.rtp.length;
    await sleep(500);
    expect(customer.rtp.length - after).toBeGreaterThan(15);

    // The supervisor hangs up: the call ends, the customer gets a BYE.
    const customerBye = answerBye(call.a, rig.trunk.received.length);
    expect((await dialog.transact('BYE')).status).toBe(200);
    await customerBye;
    await Promise.all(talkers.map((t) => t.stop()));
    await rig.noLiveCalls();

    const dir = (rig.server.config.recording as { directory: string }).directory;
    const sidecar = await completedSidecar(dir, call.a.callId);
    expect(sidecar.endReason).toBe('supervisor-hangup');
    expect(sidecar.monitoring).toHaveLength(1);
    expect(sidecar.monitoring[0]).toMatchObject({ supervisor: '1005', agent: '1002' });
    expect(sidecar.monitoring[0]!.modes.map((x) => x.mode)).toEqual(['takeover']);
    // Nothing more reached the released agent after its BYE.
    expect(rig.callee.received.slice(calleeSeen).filter((r) => !r.message.isResponse)).toEqual([]);
  }, 30000);
});
