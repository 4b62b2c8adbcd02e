/**
 * A monitor session's life (monitorSession.ts, monitoringService.ts) over raw SIP with
 * FakePhones: the supervisor hanging up leaves the call running and closes its leg; the
 * call ending (either party) sends the supervisor a BYE; a 200 never ACKed ends the
 * session after 64·T1; a SIP INFO digit (application/dtmf-relay Signal=5) switches listen
 * to whisper, heard by the agent only. Short SIP timers (T1 100 ms: 64·T1 = 6.4 s).
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { performance } from 'node:perf_hooks';
import { boundUdpPorts } from '../helpers/ports.js';
import type { SipMessageView } from '../helpers/sipClient.js';
import { audioPort, responseTo, sdp, type RawCall, type RawDialog } from './calls-rawRig.js';
import { sleep, type FakePhone } from './media/fakePhone.js';
import {
  AGENT_HZ,
  CUSTOMER_HZ,
  SUPERVISOR_HZ,
  answerBye,
  eventually,
  heardBetween,
  startMonitorRig,
  talk,
  toneVerdict,
  type ExtensionPhone,
  type MonitorRig,
} from './monitoring-rig.js';

const T1 = 100;
let rig: MonitorRig;

beforeAll(async () => {
  rig = await startMonitorRig({ sip: { timers: { t1Ms: T1, t2Ms: 400, t4Ms: 500 } } });
}, 30000);

afterAll(async () => {
  await rig?.close();
});

interface Scene {
  call: RawCall;
  customer: FakePhone;
  agent: FakePhone;
  supPhone: FakePhone;
  sup: ExtensionPhone;
  stop(): Promise<void>;
}

/** A customer ↔ agent call with both talking (their tones). */
async function scene(): Promise<Scene> {
  const [customer, agent, supPhone] = [await rig.phone(), await rig.phone(), await rig.phone()];
  const call = await rig.placeCall({ offer: sdp(customer.port), answer: () => sdp(agent.port) });
  const talkers = [
    talk(customer, audioPort(call.sdpToA), CUSTOMER_HZ),
    talk(agent, audioPort(call.sdpToB), AGENT_HZ),
  ];
  const sup = await rig.extension('1005');
  return {
    call,
    customer,
    agent,
    supPhone,
    sup,
    stop: async () => void (await Promise.all(talkers.map((t) => t.stop()))),
  };
}

const ports = (): number[] => boundUdpPorts(rig.rtpRange.min, rig.rtpRange.max);

describe('monitor session life cycle', () => {
  it('the supervisor hangs up during listen: the call goes on, the monitor leg is closed', async () => {
    const s = await scene();
    await sleep(300);
    expect(ports()).toHaveLength(4); // two legs, RTP + RTCP each
    const m = await s.sup.invite('*901002', sdp(s.supPhone.port));
    expect(m.final.status).toBe(200);
    const supTalk = talk(s.supPhone, audioPort(m.final.body), SUPERVISOR_HZ);
    expect(await eventually(() => ports().length === 6, 2000)).toBe(true);
    await sleep(1000);
    expect(s.supPhone.rtp.length).toBeGreaterThan(20); // the supervisor hears the call

    expect((await (m.dialog as RawDialog).transact('BYE')).status).toBe(200);
    await supTalk.stop();
    expect(await eventually(() => ports().length === 4, 3000)).toEqual(true);

    // Both parties still relayed to each other, and no BYE went to either.
    const at = performance.now();
    const before = { c: s.customer.rtp.length, a: s.agent.rtp.length };
    await sleep(1500);
    const end = performance.now();
    expect(s.customer.rtp.length - before.c).toBeGreaterThan(50);
    expect(s.agent.rtp.length - before.a).toBeGreaterThan(50);
    expect(
      toneVerdict('customer', heardBetween(s.customer, at, end), [AGENT_HZ], [SUPERVISOR_HZ]),
    ).toMatchObject({ missing: [], leaked: [] });
    expect(
      toneVerdict('agent', heardBetween(s.agent, at, end), [CUSTOMER_HZ], [SUPERVISOR_HZ]),
    ).toMatchObject({ missing: [], leaked: [] });
    const byes = (c: typeof rig.trunk) =>
      c.received.filter((r) => r.message.method === 'BYE').length;
    expect(byes(rig.trunk) + byes(rig.callee)).toBe(0);
    expect(
      ((await rig.server.httpGet('/v1/calls')).json as { calls: unknown[] }).calls,
    ).toHaveLength(1);

    await s.stop();
    await rig.hangUp(s.call);
    expect(await eventually(() => ports().length === 0, 3000)).toBe(true);
  }, 20000);

  for (const who of ['agent', 'customer'] as const) {
    it(`the ${who} hangs up: the supervisor gets a BYE`, async () => {
      const s = await scene();
      const m = await s.sup.invite('*901002', sdp(s.supPhone.port));
      expect(m.final.status).toBe(200);
      await sleep(300);
      const supBye = answerBye(m.dialog as RawDialog, s.sup.client.received.length);
      if (who === 'agent') {
        const byeA = answerBye(s.call.a, rig.trunk.received.length);
        expect((await s.call.b.transact('BYE')).status).toBe(200);
        await byeA;
      } else {
        const byeB = answerBye(s.call.b, rig.callee.received.length);
        expect((await s.call.a.transact('BYE')).status).toBe(200);
        await byeB;
      }
      await supBye;
      await s.stop();
      await rig.noLiveCalls();
      expect(await eventually(() => ports().length === 0, 3000)).toBe(true);
    }, 20000);
  }

  it('a supervisor re-offer with no codec we have: 488 with Warning 305, listening goes on', async () => {
    const s = await scene();
    const m = await s.sup.invite('*901002', sdp(s.supPhone.port));
    expect(m.final.status).toBe(200);
    const dialog = m.dialog as RawDialog;
    const g729Only = sdp(s.supPhone.port)
      .replace(/^m=audio (\d+) RTP\/AVP .*$/m, 'm=audio $1 RTP/AVP 18')
      .replace(/^a=rtpmap:.*\r\n/gm, '')
      .replace(/^a=fmtp:.*\r\n/gm, '');
    const refused = await dialog.transact('INVITE', g729Only);
    expect(refused.status).toBe(488);
    expect(refused.header('Warning')).toMatch(/^305 \S+ "Incompatible media format"$/);
    // RFC 3261 §14.2: the session is unchanged, the supervisor still hears the call.
    const before = s.supPhone.rtp.length;
    await sleep(1000);
    expect(s.supPhone.rtp.length - before).toBeGreaterThan(30);
    expect((await dialog.transact('BYE')).status).toBe(200);
    await s.stop();
    await rig.hangUp(s.call);
  });

  it('a 200 never ACKed: retransmitted, then a BYE after 64·T1 and the leg is gone', async () => {
    const s = await scene();
    const seen = s.sup.client.received.length;
    const m = await s.sup.invite('*901002', sdp(s.supPhone.port), { ack: false });
    expect(m.final.status).toBe(200);
    const okAt = Date.now();
    expect(await eventually(() => ports().length === 6, 2000)).toBe(true);
    const bye = await (m.dialog as RawDialog).nextRequest('BYE', seen, 64 * T1 + 4000);
    const byeAfter = Date.now() - okAt;
    s.sup.client.send(responseTo(bye, 200), rig.server.sipPort);
    expect(byeAfter).toBeGreaterThanOrEqual(64 * T1 - 200);
    const oks = s.sup.client.received.filter(
      (r) => r.message.status === 200 && r.message.cseqMethod === 'INVITE',
    );
    expect(oks.length).toBeGreaterThan(3); // retransmitted: T1, 2T1, 4T1, then every T2
    expect(await eventually(() => ports().length === 4, 3000)).toBe(true);
    // The call itself goes on.
    const before = s.agent.rtp.length;
    await sleep(500);
    expect(s.agent.rtp.length - before).toBeGreaterThan(15);
    expect(
      rig.trunk.received.some(
        (r) => r.message.method === 'BYE' && r.message.callId === s.call.a.callId,
      ),
    ).toBe(false);
    await s.stop();
    await rig.hangUp(s.call);
  }, 30000);

  it('INFO Signal=5 switches listen to whisper: the agent hears the supervisor, the customer not', async () => {
    const s = await scene();
    const m = await s.sup.invite('*901002', sdp(s.supPhone.port));
    expect(m.final.status).toBe(200);
    const dialog = m.dialog as RawDialog;
    const supTalk = talk(s.supPhone, audioPort(m.final.body), SUPERVISOR_HZ);
    await sleep(500);
    const listenFrom = performance.now();
    await sleep(2000);
    const listenTo = performance.now();

    const cseq = dialog.send('INFO', {
      body: 'Signal=5\r\nDuration=160\r\n',
      contentType: 'application/dtmf-relay',
    });
    const info: SipMessageView = await s.sup.client.waitForResponse(
      dialog.callId,
      'INFO',
      3000,
      cseq,
    );
    expect(info.status).toBe(200);
    await sleep(500);
    const whisperFrom = performance.now();
    await sleep(2000);
    const whisperTo = performance.now();

    const verdicts = [
      toneVerdict(
        'agent, listen',
        heardBetween(s.agent, listenFrom, listenTo),
        [CUSTOMER_HZ],
        [SUPERVISOR_HZ],
      ),
      toneVerdict(
        'customer, listen',
        heardBetween(s.customer, listenFrom, listenTo),
        [AGENT_HZ],
        [SUPERVISOR_HZ],
      ),
      toneVerdict(
        'agent, whisper',
        heardBetween(s.agent, whisperFrom, whisperTo),
        [CUSTOMER_HZ, SUPERVISOR_HZ],
        [],
      ),
      toneVerdict(
        'customer, whisper',
        heardBetween(s.customer, whisperFrom, whisperTo),
        [AGENT_HZ],
        [SUPERVISOR_HZ],
      ),
      toneVerdict(
        'supervisor, whisper',
        heardBetween(s.supPhone, whisperFrom, whisperTo),
        [CUSTOMER_HZ, AGENT_HZ],
        [SUPERVISOR_HZ],
      ),
    ];
    for (const v of verdicts) expect(v).toMatchObject({ missing: [], leaked: [] });

    await supTalk.stop();
    const supBye = answerBye(dialog, s.sup.client.received.length);
    await s.stop();
    await rig.hangUp(s.call);
    await supBye;
  }, 20000);
});
