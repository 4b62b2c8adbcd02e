/**
 * Call queues end to end (src/queues, docs/architecture.md §9.5) over raw SIP and RTP
 * (monitoring-rig.ts): the trunk calls a queue's DID and is answered at once, hearing the
 * hold tone; the members (1002 the rig's callee, 1003, 1004) get new INVITEs by the
 * queue's strategy; the one that answers is connected and each party hears the other's
 * tone. Also: the listing's `queue` and `?queue=`, a caller still waiting cannot be
 * monitored (queue-waiting), a supervisor whose group names the queue monitors the call
 * and hears both parties, roundrobin and longest-idle over a series of calls, a paused
 * member skipped, the maximum wait overflowing with a BYE carrying its Reason. Queue 606
 * holds its callers with a WAV file (a 700 Hz tone made by sox, looped): the caller hears
 * it while waiting and the agent once answered; the recording holds neither hold audio
 * nor silence from the wait. A missing hold file fails the start naming its key.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { apiClient, type ApiClient } from '../helpers/api.js';
import { expectTones, wavChannel } from '../helpers/phoneScene.js';
import { makeTempDir, removeTempDir } from '../helpers/processes.js';
import { startServer } from '../helpers/server.js';
import { relativeTonePower } from '../helpers/goertzel.js';
import { randomToken, type SipClient, type SipMessageView } from '../helpers/sipClient.js';
import { RawDialog, audioPort, responseTo, sdp } from './calls-rawRig.js';
import { sleep, type FakePhone } from './media/fakePhone.js';
import {
  AGENT_HZ,
  CUSTOMER_HZ,
  completedSidecar,
  SUPERVISOR_HZ,
  heardBetween,
  startMonitorRig,
  talk,
  toneVerdict,
  type MonitorRig,
} from './monitoring-rig.js';

const HOLD_HZ = 425;
/** Queue 606's WAV hold audio: a 700 Hz tone of 3 s, looped. */
const HOLD_WAV_HZ = 700;
const HOLD_WAV_MS = 3000;
/** Queue 607 announces positions every 3 s: intro 1500 Hz, "one" 2100 Hz, "two" 2700 Hz. */
const INTRO_HZ = 1500;
const ONE_HZ = 2100;
const TWO_HZ = 2700;
const ANNOUNCE_EVERY_SEC = 3;
const DIDS = {
  '5550200': '600',
  '5550201': '601',
  '5550202': '602',
  '5550203': '603',
  '5550204': '604',
  '5550206': '606',
  '5550207': '607',
  '5550208': '608',
  '5550209': '609',
};
const MEMBERS = ['1002', '1003', '1004'];

let rig: MonitorRig;
let api: ApiClient;
let tmp: string;

/** A mono 16-bit 8 kHz tone WAV made by sox (what a hold file is; music would do as well). */
function soxTone(file: string, hz: number, ms: number): string {
  execFileSync('sox', [
    '-n',
    '-r',
    '8000',
    '-c',
    '1',
    '-b',
    '16',
    file,
    'synth',
    String(ms / 1000),
    'sine',
    String(hz),
    'vol',
    '0.3',
  ]);
  return file;
}
/** The members' SIP sockets: 1002 is the rig's callee, 1003 and 1004 register here. */
const member = new Map<string, SipClient>();

beforeAll(async () => {
  tmp = makeTempDir('callwatch-queue-hold-');
  const holdFile = soxTone(path.join(tmp, 'hold.wav'), HOLD_WAV_HZ, HOLD_WAV_MS);
  rig = await startMonitorRig(
    {
      monitoring: {
        enabled: true,
        // 1006 monitors queue 600's calls only: no group names the agents for it.
        groups: [{ name: 'queue600', monitors: ['1006'], members: ['600'], modes: ['all'] }],
      },
      queues: [
        { number: '600', name: 'Support', members: ['1002', '1003'], ringTimeSec: 20 },
        { number: '601', name: 'Round', members: MEMBERS, strategy: 'roundrobin' },
        { number: '602', name: 'Idle', members: MEMBERS, strategy: 'longest-idle' },
        {
          number: '603',
          name: 'Short',
          members: ['1004'],
          maxWaitSec: 2,
          overflow: { hangup: { status: 486, reason: 'All Agents Busy' } },
        },
        {
          number: '604',
          name: 'Spill',
          members: ['1004'],
          maxWaitSec: 1,
          overflow: { extension: '605' },
        },
        {
          number: '605',
          name: 'Backup',
          members: ['1002'],
          maxWaitSec: 2,
          overflow: { extension: '1003' },
          holdAudio: { file: holdFile },
        },
        { number: '606', name: 'Music', members: ['1003'], holdAudio: { file: holdFile } },
        {
          number: '607',
          name: 'Announced',
          members: ['1002'],
          holdAudio: { file: holdFile },
          announcePosition: {
            everySec: ANNOUNCE_EVERY_SEC,
            prompts: {
              intro: soxTone(path.join(tmp, 'intro.wav'), INTRO_HZ, 800),
              numbers: [
                soxTone(path.join(tmp, 'one.wav'), ONE_HZ, 600),
                soxTone(path.join(tmp, 'two.wav'), TWO_HZ, 600),
              ],
            },
          },
        },
        // 1004 serves two queues: one ring at a time.
        { number: '608', name: 'First', members: ['1004'] },
        { number: '609', name: 'Second', members: ['1004'] },
      ],
    },
    undefined,
    {},
    DIDS,
  );
  api = apiClient(rig.server.httpPort);
  member.set('1002', rig.callee);
  for (const n of ['1003', '1004']) {
    const phone = await rig.extension(n);
    await phone.register();
    member.set(n, phone.client);
  }
}, 30000);

afterAll(async () => {
  await rig?.close();
  if (tmp !== undefined) removeTempDir(tmp);
});

/** A caller on the trunk, answered by the queue: its dialog, the SDP it got, its phone. */
interface QueueCaller {
  dialog: RawDialog;
  ok: SipMessageView;
  phone: FakePhone;
  talking: { stop(): Promise<void> };
}

async function callQueue(did: string): Promise<QueueCaller> {
  const phone = await rig.phone();
  const port = rig.server.sipPort;
  const trunkPort = rig.trunk.localPort;
  const callId = `${randomToken()}@127.0.0.1`;
  const fromTag = randomToken(4);
  const offer = sdp(phone.port);
  rig.trunk.send(
    [
      `INVITE sip:${did}@127.0.0.1:${port} SIP/2.0`,
      `Via: SIP/2.0/UDP 127.0.0.1:${trunkPort};branch=z9hG4bK${randomToken()};rport`,
      'Max-Forwards: 70',
      `From: "Customer" <sip:5551234@127.0.0.1>;tag=${fromTag}`,
      `To: <sip:${did}@127.0.0.1>`,
      `Call-ID: ${callId}`,
      'CSeq: 1 INVITE',
      `Contact: <sip:customer@127.0.0.1:${trunkPort}>`,
      'Content-Type: application/sdp',
      `Content-Length: ${Buffer.byteLength(offer)}`,
      '',
      offer,
    ].join('\r\n'),
    port,
  );
  const ok = await rig.trunk.waitForResponse(callId, 'INVITE', 5000, 1);
  expect(ok.status).toBe(200); // answered at once: the queue holds the caller
  const contact = ok.header('Contact') ?? '';
  const dialog = new RawDialog(
    rig.trunk,
    port,
    callId,
    `"Customer" <sip:5551234@127.0.0.1>;tag=${fromTag}`,
    ok.header('To') as string,
    /<([^>]+)>/.exec(contact)?.[1] ?? contact,
    1,
  );
  rig.trunk.send(dialog.request('ACK', { cseq: 1 }).text, port);
  return { dialog, ok, phone, talking: talk(phone, audioPort(ok.body), CUSTOMER_HZ) };
}

/** A member's phone rings: 180 to the server's INVITE (so a CANCEL may come, §9.1). */
function ring(ext: string, invite: SipMessageView): { invite: SipMessageView; tag: string } {
  const tag = randomToken(4);
  (member.get(ext) as SipClient).send(responseTo(invite, 180, { toTag: tag }), rig.server.sipPort);
  return { invite, tag };
}

async function ringing(
  ext: string,
  after: number | undefined,
): Promise<{ invite: SipMessageView; tag: string }> {
  const invite = await (member.get(ext) as SipClient).nextNewRequest('INVITE', after, 8000);
  return ring(ext, invite);
}

/** The ringing member answers: 200 with a FakePhone's SDP, ACK awaited; it talks. */
async function answer(ext: string, ring: { invite: SipMessageView; tag: string }) {
  const client = member.get(ext) as SipClient;
  const phone = await rig.phone();
  client.send(
    responseTo(ring.invite, 200, {
      toTag: ring.tag,
      body: sdp(phone.port),
      contactPort: client.localPort,
    }),
    rig.server.sipPort,
  );
  await client.waitForAck(ring.invite, ring.tag);
  const contact = ring.invite.header('Contact') ?? '';
  const dialog = new RawDialog(
    client,
    rig.server.sipPort,
    ring.invite.callId as string,
    `${ring.invite.header('To') as string};tag=${ring.tag}`,
    ring.invite.header('From') as string,
    /<([^>]+)>/.exec(contact)?.[1] ?? contact,
    0,
  );
  return { dialog, phone, talking: talk(phone, audioPort(ring.invite.body), AGENT_HZ) };
}

/** Whoever of `candidates` the server rings next (after the given indexes). */
async function whoRings(
  candidates: readonly string[],
  after: Map<string, number>,
): Promise<{ ext: string; ring: { invite: SipMessageView; tag: string } }> {
  const invites = candidates.map((ext) =>
    (member.get(ext) as SipClient)
      .nextNewRequest('INVITE', after.get(ext) ?? 0, 8000)
      .then((invite) => ({ ext, invite })),
  );
  for (const i of invites) i.catch(() => undefined); // the others time out: not rung
  const first = await Promise.race(invites);
  return { ext: first.ext, ring: ring(first.ext, first.invite) };
}

const marks = (): Map<string, number> =>
  new Map([...member].map(([ext, client]) => [ext, client.received.length]));

/** The caller hangs up; the agent answers the server's BYE. */
async function hangUp(caller: QueueCaller, agent: { dialog: RawDialog } | undefined) {
  const seen = agent?.dialog.client.received.length ?? 0;
  expect((await caller.dialog.transact('BYE')).status).toBe(200);
  await caller.talking.stop();
  if (agent !== undefined) {
    const bye = await agent.dialog.nextRequest('BYE', seen);
    agent.dialog.client.send(responseTo(bye, 200), rig.server.sipPort);
  }
  await rig.noLiveCalls();
}

interface CallView {
  id: string;
  state: string;
  agent: string | null;
  queue: { number: string; waiting: boolean; waitSec: number; agent: string | null } | null;
}

async function queueCalls(queue: string): Promise<CallView[]> {
  return ((await api.get(`/v1/calls?queue=${queue}`)).json as { calls: CallView[] }).calls;
}

/** From 0.5 s after an answer, 1.5 s of conversation: each hears the other, no hold audio. */
async function expectConversation(caller: FakePhone, agent: FakePhone, label: string) {
  await sleep(500);
  const from = performance.now();
  await sleep(1500);
  const to = performance.now();
  expect(
    toneVerdict(label, heardBetween(caller, from, to), [AGENT_HZ], [HOLD_WAV_HZ]),
  ).toMatchObject({ missing: [], leaked: [] });
  expect(
    toneVerdict('agent', heardBetween(agent, from, to), [CUSTOMER_HZ], [HOLD_WAV_HZ]),
  ).toMatchObject({ missing: [], leaked: [] });
}

/** Per 20 ms block of 8 kHz audio: which of `hz` carries most of its power (≥ 50 %). */
function dominantTones(audio: Int16Array, hz: readonly number[]): Array<number | null> {
  const blocks: Array<number | null> = [];
  for (let at = 0; at + 160 <= audio.length; at += 160) {
    const block = audio.subarray(at, at + 160);
    blocks.push(hz.find((f) => relativeTonePower(block, 8000, f) >= 0.5) ?? null);
  }
  return blocks;
}

/** Per 20 ms block of 8 kHz audio from block `from` to `to`: the hold file's share of its power. */
function holdPower(audio: Int16Array, from: number, to: number): number[] {
  const shares: number[] = [];
  for (let b = from; b < to; b++)
    shares.push(relativeTonePower(audio, 8000, HOLD_WAV_HZ, b * 160, 160));
  return shares;
}

describe('queues', () => {
  it('ringall: the caller holds, both members ring, the first to answer gets the call', async () => {
    const before = marks();
    const caller = await callQueue('5550200');
    const [r2, r3] = await Promise.all([
      ringing('1002', before.get('1002')),
      ringing('1003', before.get('1003')),
    ]);
    // The INVITEs come from the caller's number.
    expect(r2.invite.header('From')).toMatch(/sip:5551234@/);

    // Waiting: the hold tone, listed with ?queue=600 as waiting; not monitorable yet.
    const holdFrom = performance.now();
    await sleep(2500);
    expect(
      toneVerdict(
        'caller on hold',
        heardBetween(caller.phone, holdFrom, performance.now()),
        [HOLD_HZ],
        [AGENT_HZ],
      ),
    ).toMatchObject({ missing: [], leaked: [] });
    const waiting = await queueCalls('600');
    expect(waiting).toHaveLength(1);
    expect(waiting[0]).toMatchObject({ queue: { number: '600', waiting: true, agent: null } });
    expect(await queueCalls('601')).toEqual([]);
    const refused = await api.post(`/v1/calls/${encodeURIComponent(waiting[0]!.id)}/monitors`, {
      supervisor: '1006',
      mode: 'listen',
    });
    expect(refused.status).toBe(409);
    expect((refused.json as { error: { code: string } }).error.code).toBe('queue-waiting');
    const queues = (await api.get('/v1/queues')).json as {
      queues: Array<{
        number: string;
        waiting: unknown[];
        members: Array<{ extension: string; state: string }>;
      }>;
    };
    const q600 = queues.queues.find((q) => q.number === '600');
    expect(q600?.waiting).toHaveLength(1);
    expect(q600?.members.map((m) => [m.extension, m.state])).toEqual([
      ['1002', 'ringing'],
      ['1003', 'ringing'],
    ]);

    // 1003 answers first: 1002 gets a CANCEL, the parties hear each other.
    const seen2 = rig.callee.received.length;
    const agent = await answer('1003', r3);
    const cancel = await rig.callee.nextNewRequest('CANCEL', seen2);
    expect(cancel.callId).toBe(r2.invite.callId);
    rig.callee.send(responseTo(cancel, 200), rig.server.sipPort);
    rig.callee.send(responseTo(r2.invite, 487, { toTag: r2.tag }), rig.server.sipPort);
    await sleep(500);
    const from = performance.now();
    await sleep(1500);
    const to = performance.now();
    expect(
      toneVerdict('caller', heardBetween(caller.phone, from, to), [AGENT_HZ], []),
    ).toMatchObject({
      missing: [],
    });
    expect(
      toneVerdict('agent', heardBetween(agent.phone, from, to), [CUSTOMER_HZ], [HOLD_HZ]),
    ).toMatchObject({
      missing: [],
      leaked: [],
    });
    const answered = await queueCalls('600');
    expect(answered[0]).toMatchObject({
      state: 'answered',
      agent: '1003',
      queue: { number: '600', waiting: false, agent: '1003' },
    });
    // The member who answered is in a call now (busy for the queues and monitoring).
    const { extensions } = (await api.get('/v1/extensions')).json as {
      extensions: Array<{ number: string; inCall: boolean }>;
    };
    expect(
      extensions
        .filter((e) => ['1002', '1003'].includes(e.number))
        .map((e) => [e.number, e.inCall]),
    ).toEqual([
      ['1002', false],
      ['1003', true],
    ]);

    // 1006 monitors only through the queue: listen, hears both parties.
    const sup = await rig.extension('1006');
    const supPhone = await rig.phone();
    const m = await sup.invite('*901003', sdp(supPhone.port));
    expect(m.final.status).toBe(200);
    const supTalk = talk(supPhone, audioPort(m.final.body), SUPERVISOR_HZ);
    await sleep(500);
    const sFrom = performance.now();
    await sleep(1500);
    const sTo = performance.now();
    expect(
      toneVerdict('supervisor', heardBetween(supPhone, sFrom, sTo), [CUSTOMER_HZ, AGENT_HZ], []),
    ).toMatchObject({ missing: [] });
    expect(
      toneVerdict('caller', heardBetween(caller.phone, sFrom, sTo), [], [SUPERVISOR_HZ]),
    ).toMatchObject({
      leaked: [],
    });
    await supTalk.stop();
    const supBye = (m.dialog as RawDialog).nextRequest('BYE', sup.client.received.length);
    await agent.talking.stop();
    await hangUp(caller, agent);
    sup.client.send(responseTo(await supBye, 200), rig.server.sipPort);

    // The recording's sidecar: the agent the queue connected, and the caller's wait.
    const dir = (rig.server.config.recording as { directory: string }).directory;
    const sidecar = (await completedSidecar(dir, caller.dialog.callId)) as unknown as {
      parties: { agent: { extension: string | null } };
      queue: { number: string; waitMs: number; agent: string } | null;
    };
    expect(sidecar.parties.agent.extension).toBe('1003');
    expect(sidecar.queue).toMatchObject({ number: '600', agent: '1003' });
    expect(sidecar.queue?.waitMs).toBeGreaterThanOrEqual(2500);
  }, 40000);

  it('roundrobin goes round the members, longest-idle rings the one idle longest', async () => {
    const order = async (did: string, count: number): Promise<string[]> => {
      const got: string[] = [];
      for (let i = 0; i < count; i++) {
        const before = marks();
        const caller = await callQueue(did);
        const { ext, ring } = await whoRings(MEMBERS, before);
        const agent = await answer(ext, ring);
        got.push(ext);
        await agent.talking.stop();
        await hangUp(caller, agent);
      }
      return got;
    };
    expect(await order('5550201', 4)).toEqual(['1002', '1003', '1004', '1002']);

    // Longest idle (idle times count in each queue): two overlapping calls, the second
    // ends first; then 1004, never rung, is idle longest; then 1003, whose call ended
    // before 1002's (round robin would ring 1002 there).
    const got: string[] = [];
    const take = async () => {
      const before = marks();
      const caller = await callQueue('5550202');
      const { ext, ring } = await whoRings(MEMBERS, before);
      got.push(ext);
      return { caller, agent: await answer(ext, ring) };
    };
    const end = async (c: Awaited<ReturnType<typeof take>>) => {
      await c.agent.talking.stop();
      await c.caller.dialog.transact('BYE');
      await c.caller.talking.stop();
      const bye = await c.agent.dialog.nextRequest('BYE');
      c.agent.dialog.client.send(responseTo(bye, 200), rig.server.sipPort);
    };
    const first = await take();
    const second = await take();
    await end(second);
    await sleep(200);
    await end(first);
    await rig.noLiveCalls();
    await end(await take());
    await rig.noLiveCalls();
    await end(await take());
    await rig.noLiveCalls();
    expect(got).toEqual(['1002', '1003', '1004', '1003']);
  }, 60000);

  it('a paused member is skipped; unpaused, it is rung again', async () => {
    const paused = await api.patch('/v1/queues/601/members/1003', { paused: true });
    expect(paused.status).toBe(200);
    expect(paused.json).toMatchObject({ extension: '1003', paused: true });
    expect((await api.patch('/v1/queues/601/members/1005', { paused: true })).status).toBe(404);
    expect((await api.patch('/v1/queues/601/members/1003', { paused: 'yes' })).status).toBe(400);
    // Round robin after 1002 (the last rung in the previous test) would be 1003.
    const before = marks();
    const caller = await callQueue('5550201');
    const { ext, ring } = await whoRings(MEMBERS, before);
    expect(ext).toBe('1004');
    const agent = await answer(ext, ring);
    await agent.talking.stop();
    await hangUp(caller, agent);
    expect((await api.patch('/v1/queues/601/members/1003', { paused: false })).status).toBe(200);
    expect((await api.patch('/v1/queues/699/members/1003', { paused: true })).status).toBe(404);
    expect((await api.get('/v1/queues/699')).status).toBe(404);
  }, 30000);

  it('overflow goes on to another queue, then to an extension, which gets the call', async () => {
    const before = marks();
    const caller = await callQueue('5550204');
    const r4 = await ringing('1004', before.get('1004'));
    // After 1 s in 604: 1004 is cancelled, the caller waits in 605, where 1002 rings.
    const c4 = member.get('1004') as SipClient;
    const cancel4 = await c4.nextNewRequest('CANCEL', before.get('1004'));
    c4.send(responseTo(cancel4, 200), rig.server.sipPort);
    c4.send(responseTo(r4.invite, 487, { toTag: r4.tag }), rig.server.sipPort);
    const r2 = await ringing('1002', before.get('1002'));
    const listed = await queueCalls('605');
    expect(listed[0]).toMatchObject({ queue: { number: '605', waiting: true } });
    // In 605 the caller hears 605's hold audio (the WAV), and 604's tone no more.
    const inBackupFrom = performance.now() + 200;
    await sleep(1300);
    expect(
      toneVerdict(
        'caller moved to 605',
        heardBetween(caller.phone, inBackupFrom, performance.now()),
        [HOLD_WAV_HZ],
        [HOLD_HZ],
      ),
    ).toMatchObject({ missing: [], leaked: [] });
    // After 2 s in 605: 1002 is cancelled and the overflow extension 1003 is rung.
    const cancel2 = await rig.callee.nextNewRequest('CANCEL', before.get('1002'));
    rig.callee.send(responseTo(cancel2, 200), rig.server.sipPort);
    rig.callee.send(responseTo(r2.invite, 487, { toTag: r2.tag }), rig.server.sipPort);
    const agent = await answer('1003', await ringing('1003', before.get('1003')));
    await sleep(500);
    const from = performance.now();
    await sleep(1500);
    const to = performance.now();
    expect(
      toneVerdict('caller', heardBetween(caller.phone, from, to), [AGENT_HZ], []),
    ).toMatchObject({ missing: [] });
    expect((await queueCalls('605'))[0]).toMatchObject({
      state: 'answered',
      agent: '1003',
      queue: { number: '605', waiting: false, agent: '1003' },
    });
    await agent.talking.stop();
    await hangUp(caller, agent);
  }, 30000);

  it('a member toggles its pause in all its queues with *46', async () => {
    const phone = await rig.extension('1004');
    const pausedIn = async () =>
      (
        (await api.get('/v1/queues')).json as {
          queues: Array<{ number: string; members: Array<{ extension: string; paused: boolean }> }>;
        }
      ).queues
        .filter((q) => q.members.some((m) => m.extension === '1004' && m.paused))
        .map((q) => q.number);
    const first = await phone.invite('*46', undefined);
    expect([first.final.status, first.final.reason]).toEqual([603, 'Paused']);
    expect(await pausedIn()).toEqual(['601', '602', '603', '604', '608', '609']);
    const second = await phone.invite('*46', undefined);
    expect([second.final.status, second.final.reason]).toEqual([603, 'Unpaused']);
    expect(await pausedIn()).toEqual([]);
    const outsider = await rig.extension('1005');
    expect((await outsider.invite('*46', undefined)).final.status).toBe(404);
    await rig.noLiveCalls();
  }, 20000);

  it('the maximum wait overflows: the member gets a CANCEL, the caller a BYE with its Reason', async () => {
    const before = marks();
    const caller = await callQueue('5550203');
    const r4 = await ringing('1004', before.get('1004'));
    const seen = rig.trunk.received.length;
    const bye = await caller.dialog.nextRequest('BYE', seen, 6000);
    expect(bye.header('Reason')).toBe('SIP;cause=486;text="All Agents Busy"');
    rig.trunk.send(responseTo(bye, 200), rig.server.sipPort);
    const client = member.get('1004') as SipClient;
    const cancel = await client.nextNewRequest('CANCEL', before.get('1004'));
    expect(cancel.callId).toBe(r4.invite.callId);
    client.send(responseTo(cancel, 200), rig.server.sipPort);
    client.send(responseTo(r4.invite, 487, { toTag: r4.tag }), rig.server.sipPort);
    await caller.talking.stop();
    await rig.noLiveCalls();

    // A caller who hangs up while waiting is abandoned: the member's ring is cancelled.
    const again = marks();
    const gone = await callQueue('5550203');
    const r = await ringing('1004', again.get('1004'));
    expect((await gone.dialog.transact('BYE')).status).toBe(200);
    await gone.talking.stop();
    const cancelled = await client.nextNewRequest('CANCEL', again.get('1004'));
    expect(cancelled.callId).toBe(r.invite.callId);
    client.send(responseTo(cancelled, 200), rig.server.sipPort);
    client.send(responseTo(r.invite, 487, { toTag: r.tag }), rig.server.sipPort);
    await rig.noLiveCalls();

    const metrics = (await rig.server.httpGet('/metrics')).body;
    expect(metrics).toMatch(/callwatch_queue_calls_total\{queue="603",outcome="abandoned"\} 1/);
    expect(metrics).toMatch(/callwatch_queue_waiting\{queue="603"\} 0/);
    expect(metrics).toMatch(/callwatch_queue_calls_total\{queue="603",outcome="overflow"\} 1/);
    expect(metrics).toMatch(/callwatch_queue_calls_total\{queue="600",outcome="answered"\} 1/);
  }, 30000);

  it('WAV hold audio: the caller hears the file looped, then the agent; never recorded', async () => {
    const before = marks();
    const caller = await callQueue('5550206');
    const r3 = await ringing('1003', before.get('1003'));
    // Longer than one playing of the file: it loops, and it is not the tone hold audio.
    const holdFrom = performance.now();
    await sleep(HOLD_WAV_MS + 1000);
    const holdTo = performance.now();
    expect(
      toneVerdict(
        'caller on WAV hold',
        heardBetween(caller.phone, holdFrom, holdTo),
        [HOLD_WAV_HZ],
        [HOLD_HZ, AGENT_HZ],
      ),
    ).toMatchObject({ missing: [], leaked: [] });
    // The last second (the second playing) carries it too: looped, not played once.
    expect(
      toneVerdict(
        'caller on WAV hold, second playing',
        heardBetween(caller.phone, holdTo - 800, holdTo),
        [HOLD_WAV_HZ],
        [],
      ),
    ).toMatchObject({ missing: [] });

    const agent = await answer('1003', r3);
    await expectConversation(caller.phone, agent.phone, 'caller');
    await agent.talking.stop();
    await hangUp(caller, agent);

    // The recording starts when the member answered: the conversation, no hold audio.
    const dir = (rig.server.config.recording as { directory: string }).directory;
    const sidecar = (await completedSidecar(dir, caller.dialog.callId)) as unknown as {
      file: string;
      answeredAt: string;
      recordingStartedAt: string;
      queue: { number: string; waitMs: number; agent: string } | null;
    };
    expect(sidecar.queue).toMatchObject({ number: '606', agent: '1003' });
    expect(sidecar.queue?.waitMs).toBeGreaterThanOrEqual(HOLD_WAV_MS);
    expect(Date.parse(sidecar.recordingStartedAt)).toBeGreaterThanOrEqual(
      Date.parse(sidecar.answeredAt),
    );
    const wav = path.join(dir, path.basename(sidecar.file));
    const customer = wavChannel(wav, 0);
    const agentTrack = wavChannel(wav, 1);
    // Recorded ≈ the 2 s of conversation, not the ≥ 4 s wait before it.
    expect(customer.samples.length / customer.sampleRate).toBeLessThan(HOLD_WAV_MS / 1000);
    expectTones('recording, customer track', customer, [CUSTOMER_HZ], [HOLD_WAV_HZ]);
    expectTones('recording, agent track', agentTrack, [AGENT_HZ], [HOLD_WAV_HZ]);
  }, 30000);

  it('a member ringing for one queue is not rung by another until that ring ends', async () => {
    const client = member.get('1004') as SipClient;
    const before = marks();
    const first = await callQueue('5550208');
    const r1 = await ringing('1004', before.get('1004'));
    const afterFirst = client.received.length;
    const second = await callQueue('5550209');
    // One INVITE per agent at a time: nothing new reaches 1004 while it rings for 608.
    await sleep(1500);
    expect(
      client.received
        .slice(afterFirst)
        .filter((r) => !r.message.isResponse && r.message.method === 'INVITE'),
    ).toHaveLength(0);
    expect((await queueCalls('609'))[0]).toMatchObject({ queue: { waiting: true } });
    // The first caller gives up: its ring is cancelled, and 609's caller rings 1004.
    const seen = client.received.length;
    expect((await first.dialog.transact('BYE')).status).toBe(200);
    await first.talking.stop();
    const cancel = await client.nextNewRequest('CANCEL', seen);
    client.send(responseTo(cancel, 200), rig.server.sipPort);
    client.send(responseTo(r1.invite, 487, { toTag: r1.tag }), rig.server.sipPort);
    const r2 = await ringing('1004', seen);
    expect(r2.invite.callId).not.toBe(r1.invite.callId);
    const agent = await answer('1004', r2);
    await agent.talking.stop();
    await hangUp(second, agent);
  }, 30000);

  it('a waiting caller re-offers (new address, refresh, hold, resume): answered here, applied', async () => {
    const before = marks();
    const caller = await callQueue('5550206');
    const r3 = await ringing('1003', before.get('1003'));
    const serverPort = audioPort(caller.ok.body);
    // The caller's phone moves (a new address in a re-INVITE, RFC 3264 §8): the hold audio
    // follows it, and the answer keeps the server's port.
    await caller.talking.stop();
    const moved = await rig.phone();
    const reinvite = caller.dialog.send('INVITE', { body: sdp(moved.port, { version: 2 }) });
    const ok = await rig.trunk.waitForResponse(caller.dialog.callId, 'INVITE', 5000, reinvite);
    expect(ok.status).toBe(200);
    expect(audioPort(ok.body)).toBe(serverPort);
    rig.trunk.send(caller.dialog.request('ACK', { cseq: reinvite }).text, rig.server.sipPort);
    caller.talking = talk(moved, serverPort, CUSTOMER_HZ);
    const movedFrom = performance.now();
    await sleep(1500);
    expect(
      toneVerdict(
        'hold audio at the new address',
        heardBetween(moved, movedFrom + 300, performance.now()),
        [HOLD_WAV_HZ],
        [AGENT_HZ],
      ),
    ).toMatchObject({ missing: [], leaked: [] });
    // A session refresh (same version, RFC 4028): our SDP unchanged.
    const refresh = caller.dialog.send('INVITE', { body: sdp(moved.port, { version: 2 }) });
    const refreshed = await rig.trunk.waitForResponse(
      caller.dialog.callId,
      'INVITE',
      5000,
      refresh,
    );
    expect(refreshed.status).toBe(200);
    expect(refreshed.body).toBe(ok.body);
    rig.trunk.send(caller.dialog.request('ACK', { cseq: refresh }).text, rig.server.sipPort);
    // Hold and resume by UPDATE (RFC 3311): answered recvonly, then sendrecv again.
    const hold = await caller.dialog.transact(
      'UPDATE',
      sdp(moved.port, { version: 3, direction: 'sendonly' }),
    );
    expect(hold.status).toBe(200);
    expect(hold.body).toMatch(/^a=recvonly\r?$/m);
    const resume = await caller.dialog.transact('UPDATE', sdp(moved.port, { version: 4 }));
    expect(resume.status).toBe(200);
    expect(resume.body).toMatch(/^a=sendrecv\r?$/m);

    // The member answers: the conversation runs on the caller's new address.
    const agent = await answer('1003', r3);
    await expectConversation(moved, agent.phone, 'caller, moved');
    await agent.talking.stop();
    await hangUp(caller, agent);
  }, 30000);

  it('position announcements: the hold audio pauses for "caller number one", then resumes', async () => {
    const before = marks();
    // From the call on: what the caller heard starts with the hold audio's first packet.
    const from = performance.now();
    const caller = await callQueue('5550207');
    const r2 = await ringing('1002', before.get('1002'));
    await sleep(ANNOUNCE_EVERY_SEC * 1000 + 2800);
    const heard = heardBetween(caller.phone, from, performance.now());
    const blocks = dominantTones(heard, [HOLD_WAV_HZ, INTRO_HZ, ONE_HZ, TWO_HZ]);
    const first = (hz: number) => blocks.indexOf(hz);
    const last = (hz: number) => blocks.lastIndexOf(hz);
    const view = blocks.map((b) => (b === null ? '.' : String(b)[0])).join('');
    // Hold audio, then the intro, then "one" (first in line; never "two"), then hold again.
    expect({ view, two: first(TWO_HZ) }).toMatchObject({ two: -1 });
    expect({ view, holdFirst: first(HOLD_WAV_HZ) }).toMatchObject({ holdFirst: 0 });
    const introAt = first(INTRO_HZ);
    const oneEnd = last(ONE_HZ);
    // The first announcement comes everySec after the hold audio started (-1: none).
    const introLate = introAt > (ANNOUNCE_EVERY_SEC - 0.5) * 50;
    expect({ view, introAt, introLate }).toMatchObject({ introLate: true });
    expect(last(INTRO_HZ)).toBeLessThan(first(ONE_HZ));
    // The intro 0.8 s and "one" 0.6 s (1.4 s, 70 blocks), the hold audio silent meanwhile.
    expect(oneEnd - introAt).toBeGreaterThanOrEqual(60);
    const holdDuring = holdPower(heard, introAt + 1, oneEnd).filter((p) => p >= 0.1).length;
    expect({ view, holdDuring }).toMatchObject({ holdDuring: 0 });
    expect(last(HOLD_WAV_HZ)).toBeGreaterThan(oneEnd + 25); // resumed after
    expect(first(ONE_HZ)).toBeGreaterThan(introAt);

    // The member answers: the announcements end with the wait.
    const agent = await answer('1002', r2);
    await sleep(ANNOUNCE_EVERY_SEC * 1000 + 500);
    const talkFrom = performance.now() - ANNOUNCE_EVERY_SEC * 1000;
    expect(
      toneVerdict(
        'caller',
        heardBetween(caller.phone, talkFrom, performance.now()),
        [AGENT_HZ],
        [HOLD_WAV_HZ, INTRO_HZ, ONE_HZ],
      ),
    ).toMatchObject({ missing: [], leaked: [] });
    await agent.talking.stop();
    await hangUp(caller, agent);
  }, 30000);

  it('a missing hold file fails the start naming its key', async () => {
    const missing = path.join(tmp, 'missing.wav');
    await expect(
      startServer({
        queues: [
          { number: '600', name: 'Support', members: ['1001'], holdAudio: { file: missing } },
        ],
      }),
    ).rejects.toThrow(/queues\[0\]\.holdAudio\.file.*cannot read .*missing\.wav \(ENOENT\)/);
  }, 15000);
});
