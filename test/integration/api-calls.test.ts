/**
 * The live-call listing of the REST API against three concurrent calls with real phones
 * (baresip) and a raw SIP carrier:
 *   B inbound  carrier → DID → 1002          (group sales,   first, longest)
 *   C outbound 1003 dials 0555123 → carrier  (group support, 3 s later)
 *   A internal 1004 → 1001                   (group sales,   3 s later, shortest)
 * Each filter of `GET /v1/calls` (agent, group, direction, tag, minDuration, maxDuration,
 * hand) returns exactly the expected calls; tags are added with `POST …/tags`; hands are
 * raised by the agent's '##' (DTMF from its phone) and by an agent token, lowered by a
 * supervisor joining and by the agent; an agent token sees only its own calls;
 * `GET /v1/extensions` shows registration, in-call and monitoring state and who may
 * monitor; `GET /v1/audit` has the story (admin: everything, a supervisor: its own).
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { apiClient, summary, type ApiClient } from '../helpers/api.js';
import { PhonePool, sleep, startPhoneServer, waitFor } from '../helpers/phoneScene.js';
import { allocatePort } from '../helpers/ports.js';
import { type ServerHandle } from '../helpers/server.js';
import { randomToken, SipClient, type SipMessageView } from '../helpers/sipClient.js';
import { responseTo, sdp } from './calls-rawRig.js';

const DID = '5550100';
const TOKENS = {
  sam: 'api-calls-supervisor-1005-token',
  sue: 'api-calls-supervisor-1006-token',
  alice: 'api-calls-agent-1001-token',
  carol: 'api-calls-agent-1003-token',
};
const EXTENSIONS = [
  { number: '1001', password: 'pw1001', displayName: 'Alice', role: 'agent' as const },
  { number: '1002', password: 'pw1002', displayName: 'Bob', role: 'agent' as const },
  { number: '1003', password: 'pw1003', displayName: 'Carol', role: 'agent' as const },
  { number: '1004', password: 'pw1004', displayName: 'Dave', role: 'agent' as const },
  { number: '1005', password: 'pw1005', displayName: 'Sam', role: 'supervisor' as const },
  { number: '1006', password: 'pw1006', displayName: 'Sue', role: 'supervisor' as const },
];

interface CallView {
  id: string;
  state: string;
  direction: string;
  durationSec: number;
  agent: string | null;
  agentName: string | null;
  remote: { number: string; name: string | null };
  tags: string[];
  groups: string[];
  hand: { raised: boolean; raisedAt: string | null; by: string | null };
  monitors: Array<{ id: string; supervisor: string; mode: string; state: string }>;
}

let server: ServerHandle;
let api: ApiClient;
let carrierIn: SipClient;
let carrierOut: SipClient;
const phones = new PhonePool(() => server);

beforeAll(async () => {
  const [inPort, outPort] = [await allocatePort(), await allocatePort()];
  server = await startPhoneServer(
    {
      // The carrier sends no RTP: keep its legs alive for the test's length.
      media: { rtpTimeoutSec: 120 },
      trunks: [
        {
          name: 'carrier-in',
          host: '127.0.0.1',
          port: inPort,
          sourcePort: inPort,
          dids: { [DID]: '1002' },
        },
        {
          name: 'carrier-out',
          host: '127.0.0.1',
          port: outPort,
          sourcePort: outPort,
          prefixes: ['0'],
          dids: {},
        },
      ],
      monitoring: {
        groups: [
          { name: 'sales', monitors: ['1005', '1006'], members: ['1001', '1002'], modes: ['all'] },
          { name: 'support', monitors: ['1005'], members: ['1003'], modes: ['listen', 'whisper'] },
        ],
      },
      api: {
        tokens: [
          { name: 'sam', token: TOKENS.sam, scope: 'supervisor', extension: '1005' },
          { name: 'sue', token: TOKENS.sue, scope: 'supervisor', extension: '1006' },
          { name: 'alice', token: TOKENS.alice, scope: 'agent', extension: '1001' },
          { name: 'carol', token: TOKENS.carol, scope: 'agent', extension: '1003' },
        ],
      },
    },
    EXTENSIONS,
  );
  api = apiClient(server.httpPort);
  carrierIn = await SipClient.udp(inPort);
  carrierOut = await SipClient.udp(outPort);
}, 30000);

afterAll(async () => {
  await phones.killAll();
  await carrierIn?.close();
  await carrierOut?.close();
  await server?.stop();
});

/** The carrier calls the DID from +15551234 and ACKs the 200. */
async function carrierCalls(): Promise<{ callId: string; ok: SipMessageView }> {
  const port = server.sipPort;
  const callId = `${randomToken()}@127.0.0.1`;
  const offer = sdp(carrierIn.localPort + 100);
  const from = `<sip:+15551234@127.0.0.1>;tag=${randomToken(4)}`;
  carrierIn.send(
    [
      `INVITE sip:${DID}@127.0.0.1:${port} SIP/2.0`,
      `Via: SIP/2.0/UDP 127.0.0.1:${carrierIn.localPort};branch=z9hG4bK${randomToken()};rport`,
      'Max-Forwards: 70',
      `From: ${from}`,
      `To: <sip:${DID}@127.0.0.1>`,
      `Call-ID: ${callId}`,
      'CSeq: 1 INVITE',
      `Contact: <sip:carrier@127.0.0.1:${carrierIn.localPort}>`,
      'Content-Type: application/sdp',
      `Content-Length: ${Buffer.byteLength(offer)}`,
      '',
      offer,
    ].join('\r\n'),
    port,
  );
  const ok = await carrierIn.waitForResponse(callId, 'INVITE', 10000, 1);
  expect(ok.status).toBe(200);
  const contact = ok.header('Contact') ?? '';
  const target = /<([^>]+)>/.exec(contact)?.[1] ?? contact;
  carrierIn.send(
    [
      `ACK ${target} SIP/2.0`,
      `Via: SIP/2.0/UDP 127.0.0.1:${carrierIn.localPort};branch=z9hG4bK${randomToken()};rport`,
      'Max-Forwards: 70',
      `From: ${from}`,
      `To: ${ok.header('To') ?? ''}`,
      `Call-ID: ${callId}`,
      'CSeq: 1 ACK',
      'Content-Length: 0',
      '',
      '',
    ].join('\r\n'),
    port,
  );
  return { callId, ok };
}

/** The carrier answers the server's next INVITE (an outbound call). */
async function carrierAnswers(): Promise<void> {
  const invite = await carrierOut.nextNewRequest('INVITE', carrierOut.received.length, 10000);
  const tag = randomToken(4);
  carrierOut.send(
    responseTo(invite, 200, {
      toTag: tag,
      body: sdp(carrierOut.localPort + 100),
      contactPort: carrierOut.localPort,
    }),
    server.sipPort,
  );
  await carrierOut.waitForAck(invite, tag);
}

/** Answers the server's next BYE to `carrier`. */
async function carrierAnswersBye(carrier: SipClient, after: number): Promise<void> {
  const bye = await carrier.waitFor(
    (m) => m.method === 'BYE' && carrier.received.findIndex((r) => r.message === m) >= after,
    10000,
  );
  carrier.send(responseTo(bye.message, 200), server.sipPort);
}

async function list(query = '', token?: string): Promise<CallView[]> {
  const r = await api.get(`/v1/calls${query}`, token);
  expect({ query, status: r.status }).toEqual({ query, status: 200 });
  return (r.json as { calls: CallView[] }).calls;
}

async function call(id: string, token?: string): Promise<CallView> {
  const r = await api.get(`/v1/calls/${encodeURIComponent(id)}`, token);
  expect(r.status).toBe(200);
  return r.json as CallView;
}

describe('live calls through the REST API', () => {
  it('lists three concurrent calls with every filter, tags, hands, visibility and audit', async () => {
    const bob = await phones.phone('1002', 500);
    const carol = await phones.phone('1003', 600);
    const alice = await phones.phone('1001', 1000);
    const dave = await phones.phone('1004', 440);
    const sam = await phones.phone('1005', 1800);

    // B: inbound, first.
    await carrierCalls();
    await bob.waitForEvent('CALL_ESTABLISHED', 10000);
    await sleep(3000);
    // C: outbound.
    expect((await carol.command('dial', `sip:0555123@127.0.0.1:${server.sipPort}`)).ok).toBe(true);
    await carrierAnswers();
    await carol.waitForEvent('CALL_ESTABLISHED', 10000);
    await sleep(3000);
    // A: internal.
    expect((await dave.command('dial', `sip:1001@127.0.0.1:${server.sipPort}`)).ok).toBe(true);
    await dave.waitForEvent('CALL_ESTABLISHED', 10000);
    await alice.waitForEvent('CALL_ESTABLISHED', 10000);

    const all = await list();
    expect(all).toHaveLength(3);
    const byAgent = (agent: string) => all.find((c) => c.agent === agent) as CallView;
    const [A, B, C] = [byAgent('1001'), byAgent('1002'), byAgent('1003')];
    expect(A).toMatchObject({
      state: 'answered',
      direction: 'internal',
      agentName: 'Alice',
      remote: { number: '1004', name: 'Dave' },
      groups: ['sales'],
      tags: [],
      hand: { raised: false },
      monitors: [],
    });
    expect(B).toMatchObject({
      direction: 'inbound',
      agentName: 'Bob',
      remote: { number: '+15551234' },
      groups: ['sales'],
    });
    expect(C).toMatchObject({ direction: 'outbound', agentName: 'Carol', groups: ['support'] });
    expect(C.remote.number).toMatch(/555123$/);
    const ids = (calls: CallView[]) => calls.map((c) => c.id).sort();
    const expectIds = async (query: string, expected: CallView[], token?: string) =>
      expect({ query, ids: ids(await list(query, token)) }).toEqual({ query, ids: ids(expected) });

    // Tags: a supervisor or admin adds them; agents may not.
    const tagged = await api.post(`/v1/calls/${encodeURIComponent(B.id)}/tags`, {
      tags: ['vip', 'billing'],
    });
    expect(summary(tagged)).toMatchObject({
      status: 200,
      body: { id: B.id, tags: ['vip', 'billing'] },
    });
    expect(
      summary(
        await api.post(
          `/v1/calls/${encodeURIComponent(C.id)}/tags`,
          { tags: ['billing'] },
          TOKENS.sam,
        ),
      ),
    ).toMatchObject({ status: 200, body: { tags: ['billing'] } });
    // Added twice: kept once.
    await api.post(`/v1/calls/${encodeURIComponent(C.id)}/tags`, { tags: ['billing'] });
    expect((await call(C.id)).tags).toEqual(['billing']);
    expect(
      (await api.post(`/v1/calls/${encodeURIComponent(A.id)}/tags`, { tags: ['x'] }, TOKENS.alice))
        .status,
    ).toBe(403);
    // 1006's groups do not cover 1003: C does not exist for it.
    expect(
      (await api.post(`/v1/calls/${encodeURIComponent(C.id)}/tags`, { tags: ['x'] }, TOKENS.sue))
        .status,
    ).toBe(404);
    expect(
      summary(await api.post(`/v1/calls/${encodeURIComponent(A.id)}/tags`, { tags: [] })),
    ).toMatchObject({ status: 400, body: { error: { code: 'bad-request' } } });

    // Hands: 1001 keys '##' on its phone; 1003 raises its hand through the API.
    expect((await alice.command('sndcode', '##')).ok).toBe(true);
    expect(await waitFor(async () => (await call(A.id)).hand.raised)).toBe(true);
    expect((await call(A.id)).hand).toMatchObject({ raised: true, by: '1001' });
    const raised = await api.post(
      `/v1/calls/${encodeURIComponent(C.id)}/hand`,
      undefined,
      TOKENS.carol,
    );
    expect(summary(raised)).toMatchObject({
      status: 200,
      body: { id: C.id, hand: { raised: true, by: '1003' } },
    });
    // Another agent's call: not found for an agent token.
    expect(
      (await api.post(`/v1/calls/${encodeURIComponent(B.id)}/hand`, undefined, TOKENS.carol))
        .status,
    ).toBe(404);
    expect(
      (await api.post(`/v1/calls/${encodeURIComponent(C.id)}/hand`, undefined, TOKENS.alice))
        .status,
    ).toBe(404);
    expect(
      (await api.delete(`/v1/calls/${encodeURIComponent(A.id)}/hand`, TOKENS.carol)).status,
    ).toBe(404);
    // A supervisor may see a call but not raise its agent's hand.
    expect(
      (await api.post(`/v1/calls/${encodeURIComponent(B.id)}/hand`, undefined, TOKENS.sam)).status,
    ).toBe(403);
    expect((await call(B.id)).hand.raised).toBe(false);

    // Every filter. Durations: B ≥ C + 3 s ≥ A + 6 s.
    const now = await list();
    const d = (c: CallView) => now.find((x) => x.id === c.id)!.durationSec;
    expect(d(B) - d(C)).toBeGreaterThanOrEqual(2);
    expect(d(C) - d(A)).toBeGreaterThanOrEqual(2);
    await expectIds('', [A, B, C]);
    await expectIds('?agent=1001', [A]);
    await expectIds('?agent=1003', [C]);
    await expectIds('?agent=1004', []);
    await expectIds('?group=sales', [A, B]);
    await expectIds('?group=support', [C]);
    await expectIds('?group=nobody', []);
    await expectIds('?direction=inbound', [B]);
    await expectIds('?direction=outbound', [C]);
    await expectIds('?direction=internal', [A]);
    await expectIds('?tag=vip', [B]);
    await expectIds('?tag=billing', [B, C]);
    await expectIds('?tag=none', []);
    await expectIds('?hand=true', [A, C]);
    await expectIds('?hand=false', [B]);
    await expectIds(`?minDuration=${d(B)}`, [B]);
    await expectIds(`?minDuration=${d(C)}`, [B, C]);
    await expectIds(`?maxDuration=${d(A) + 1}`, [A]);
    await expectIds(`?maxDuration=${d(C) + 1}`, [A, C]);
    await expectIds(`?minDuration=${d(C)}&maxDuration=${d(C) + 1}`, [C]);
    await expectIds('?direction=inbound&tag=billing', [B]);
    await expectIds('?group=sales&hand=true', [A]);
    for (const bad of ['?direction=sideways', '?minDuration=-1', '?hand=maybe']) {
      expect({ bad, ...summary(await api.get(`/v1/calls${bad}`)) }).toMatchObject({
        bad,
        status: 400,
        body: { error: { code: 'bad-request' } },
      });
    }

    // Visibility: an agent sees its own calls only; a supervisor its groups' calls.
    await expectIds('', [A], TOKENS.alice);
    await expectIds('?hand=true', [A], TOKENS.alice);
    await expectIds('', [C], TOKENS.carol);
    await expectIds('?agent=1001', [], TOKENS.carol);
    await expectIds('', [A, B, C], TOKENS.sam);
    await expectIds('', [A, B], TOKENS.sue);
    expect((await api.get(`/v1/calls/${encodeURIComponent(C.id)}`, TOKENS.alice)).status).toBe(404);
    expect((await api.get(`/v1/calls/${encodeURIComponent(A.id)}`, TOKENS.alice)).status).toBe(200);

    // Extensions: registered, in a call, who may monitor them.
    type ExtensionView = {
      number: string;
      registered: boolean;
      inCall: boolean;
      monitoring: boolean;
      groups: string[];
      monitoredBy: Array<{ extension: string; modes: string[] }>;
    };
    const extensions = async (token?: string) => {
      const r = await api.get('/v1/extensions', token);
      expect(r.status).toBe(200);
      return (r.json as { extensions: ExtensionView[] }).extensions;
    };
    const ext = (list: ExtensionView[], n: string) => list.find((e) => e.number === n);
    let exts = await extensions();
    expect(exts.map((e) => e.number).sort()).toEqual([
      '1001',
      '1002',
      '1003',
      '1004',
      '1005',
      '1006',
    ]);
    expect(ext(exts, '1001')).toMatchObject({
      registered: true,
      inCall: true,
      monitoring: false,
      groups: ['sales'],
      monitoredBy: [
        { extension: '1005', modes: ['listen', 'whisper', 'barge', 'takeover'] },
        { extension: '1006', modes: ['listen', 'whisper', 'barge', 'takeover'] },
      ],
    });
    expect(ext(exts, '1003')).toMatchObject({
      registered: true,
      inCall: true,
      monitoredBy: [{ extension: '1005', modes: ['listen', 'whisper'] }],
    });
    expect(ext(exts, '1004')).toMatchObject({ registered: true, inCall: true, monitoredBy: [] });
    expect(ext(exts, '1005')).toMatchObject({ registered: true, inCall: false, monitoring: false });
    expect(ext(exts, '1006')).toMatchObject({ registered: false, inCall: false });
    // A supervisor sees itself and the members its groups cover; an agent may not ask.
    expect((await extensions(TOKENS.sue)).map((e) => e.number).sort()).toEqual([
      '1001',
      '1002',
      '1006',
    ]);
    expect((await api.get('/v1/extensions', TOKENS.alice)).status).toBe(403);

    // A supervisor joins A: the agent's hand is lowered.
    const joined = await api.post(`/v1/calls/${encodeURIComponent(A.id)}/monitors`, {
      supervisor: '1005',
      mode: 'listen',
    });
    expect(joined.status).toBe(201);
    const session = joined.json as { id: string };
    await sam.waitForEvent('CALL_ESTABLISHED', 10000);
    expect(await waitFor(async () => !(await call(A.id)).hand.raised)).toBe(true);
    expect((await call(A.id)).monitors).toEqual([
      expect.objectContaining({
        id: session.id,
        supervisor: '1005',
        mode: 'listen',
        state: 'active',
      }),
    ]);
    exts = await extensions();
    expect(ext(exts, '1005')).toMatchObject({ monitoring: true });
    // 1006 would be a fourth leg: refused (and audited as 1006's).
    expect(
      summary(
        await api.post(`/v1/calls/${encodeURIComponent(A.id)}/monitors`, {
          supervisor: '1006',
          mode: 'listen',
        }),
      ),
    ).toMatchObject({ status: 409, body: { error: { code: 'max-participants' } } });
    // 1003 lowers its own hand.
    const lowered = await api.delete(`/v1/calls/${encodeURIComponent(C.id)}/hand`, TOKENS.carol);
    expect(summary(lowered)).toMatchObject({ status: 200, body: { hand: { raised: false } } });
    await expectIds('?hand=true', []);
    await expectIds('?hand=false', [A, B, C]);

    // The audit log: admin sees every entry, a supervisor only its own.
    type Entry = {
      action: string;
      supervisor: string | null;
      agent: string | null;
      callId: string | null;
      reason: string | null;
      actor: string | null;
    };
    const audit = async (query = '', token?: string) => {
      const r = await api.get(`/v1/audit${query}`, token);
      expect(r.status).toBe(200);
      return (r.json as { entries: Entry[] }).entries;
    };
    const story = (entries: Entry[]) =>
      entries.map((e) => [e.action, e.agent, e.supervisor, e.reason]);
    const everything = await audit();
    expect(story(everything)).toEqual([
      ['hand-raised', '1001', null, 'raised'],
      ['hand-raised', '1003', null, 'raised'],
      ['start', '1001', '1005', null],
      ['hand-lowered', '1001', '1005', 'supervisor-joined'],
      ['refusal', '1001', '1006', 'max-participants'],
      ['hand-lowered', '1003', null, 'lowered'],
    ]);
    expect(everything.find((e) => e.action === 'start')).toMatchObject({
      callId: A.id,
      actor: 'test-admin',
    });
    const sams = [
      ['start', '1001', '1005', null],
      ['hand-lowered', '1001', '1005', 'supervisor-joined'],
    ];
    expect(story(await audit('', TOKENS.sam))).toEqual(sams);
    // A supervisor token cannot read another supervisor's entries by asking.
    expect(story(await audit('?supervisor=1006', TOKENS.sam))).toEqual(sams);
    expect(story(await audit('', TOKENS.sue))).toEqual([
      ['refusal', '1001', '1006', 'max-participants'],
    ]);
    expect(story(await audit('?supervisor=1006'))).toEqual([
      ['refusal', '1001', '1006', 'max-participants'],
    ]);
    expect(story(await audit('?agent=1003'))).toEqual([
      ['hand-raised', '1003', null, 'raised'],
      ['hand-lowered', '1003', null, 'lowered'],
    ]);
    expect((await api.get('/v1/audit', TOKENS.alice)).status).toBe(403);

    // Everyone hangs up: the supervisor's leg goes with A, the listing empties.
    expect((await dave.command('hangup')).ok).toBe(true);
    await alice.waitForEvent('CALL_CLOSED', 10000);
    await sam.waitForEvent('CALL_CLOSED', 10000);
    const inAt = carrierIn.received.length;
    expect((await bob.command('hangup')).ok).toBe(true);
    await carrierAnswersBye(carrierIn, inAt);
    const outAt = carrierOut.received.length;
    expect((await carol.command('hangup')).ok).toBe(true);
    await carrierAnswersBye(carrierOut, outAt);
    expect(await waitFor(async () => (await list()).length === 0)).toBe(true);
  }, 90000);
});
