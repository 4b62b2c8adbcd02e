/**
 * Supervisor presence, join eligibility and the device a monitor leg rings, over the
 * REST API with raw SIP phones (monitoring-rig.ts: the trunk is the customer, 1002 the
 * agent its DID rings):
 * - `GET/PUT /v1/me/presence` for any token with an extension, `PUT
 *   /v1/extensions/{ext}/presence` for admin, `presence` in `/v1/extensions`, the
 *   `presence.changed` event; a supervisor who is away is refused everywhere with
 *   `monitor-unavailable` (409 over REST, 480 to its feature code), audited;
 * - each `/v1/calls` item tells a supervisor token whether and how it may join (`join`),
 *   from the same checks as a real start, and lists who monitors it (`monitors`, with
 *   the supervisor's name);
 * - `device: browser` rings only the supervisor's WebSocket contact, `phone` only the
 *   others, and none of that kind registered is `monitor-not-registered`.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { apiClient, readJsonLines, summary, type ApiClient } from '../helpers/api.js';
import { EventStreamClient } from '../helpers/eventStream.js';
import type { ExtensionSpec } from '../helpers/server.js';
import { randomToken, type SipMessageView } from '../helpers/sipClient.js';
import { WsSipClient } from '../helpers/wsSipClient.js';
import { RawDialog, sdp, type RawCall } from './calls-rawRig.js';
import {
  answerBye,
  answerServerInvite,
  ExtensionPhone,
  startMonitorRig,
  type MonitorRig,
} from './monitoring-rig.js';

const SAM = 'api-presence-supervisor-1005-token';
const LEE = 'api-presence-supervisor-1006-token';
const NIGHT = 'api-presence-supervisor-1007-token';
const AGENT = 'api-presence-agent-1002-token-00';
const EXTENSIONS = [
  { number: '1002', password: 'pw1002', displayName: 'Alice Agent' },
  { number: '1005', password: 'pw1005', role: 'supervisor', displayName: 'Sam Super' },
  { number: '1006', password: 'pw1006', role: 'supervisor' },
  { number: '1007', password: 'pw1007', role: 'supervisor' },
] as unknown as ExtensionSpec[];
const GROUPS = [
  { name: 'support', monitors: ['1005'], members: ['1002'], modes: ['all'] },
  // 1006 may only listen.
  { name: 'coaching', monitors: ['1006'], members: ['1002'], modes: ['listen'] },
  // 1007 never registers.
  { name: 'night', monitors: ['1007'], members: ['1002'], modes: ['all'] },
];

interface JoinView {
  modes: string[];
  refusal: { code: string; message: string } | null;
}
interface CallItem {
  id: string;
  agent: string | null;
  join?: JoinView;
  monitors: Array<Record<string, unknown>>;
}

let rig: MonitorRig;
let api: ApiClient;
let auditFile: string;
let sam: ExtensionPhone;
let lee: ExtensionPhone;

beforeAll(async () => {
  rig = await startMonitorRig(
    {
      monitoring: { enabled: true, maxParticipants: 4, groups: GROUPS },
      api: {
        tokens: [
          { name: 'sam', token: SAM, scope: 'supervisor', extension: '1005' },
          { name: 'lee', token: LEE, scope: 'supervisor', extension: '1006' },
          { name: 'night', token: NIGHT, scope: 'supervisor', extension: '1007' },
          { name: 'alice', token: AGENT, scope: 'agent', extension: '1002' },
        ],
      },
    },
    EXTENSIONS,
  );
  api = apiClient(rig.server.httpPort);
  auditFile = (rig.server.config.audit as { file: string }).file;
  sam = await rig.extension('1005');
  await sam.register();
  lee = await rig.extension('1006');
  await lee.register();
}, 30000);

afterAll(async () => {
  await rig?.close();
});

const monitors = (callId: string) => `/v1/calls/${encodeURIComponent(callId)}/monitors`;

async function trunkCall(): Promise<{ call: RawCall; id: string }> {
  const [customer, agent] = [await rig.phone(), await rig.phone()];
  const call = await rig.placeCall({ offer: sdp(customer.port), answer: () => sdp(agent.port) });
  const id = (await callsAs(undefined)).find((c) => c.agent === '1002')?.id;
  expect(id).toBeDefined();
  return { call, id: id! };
}

async function callsAs(token: string | undefined): Promise<CallItem[]> {
  const r = await api.get('/v1/calls', token);
  expect(r.status).toBe(200);
  return (r.json as { calls: CallItem[] }).calls;
}

async function callAs(token: string | undefined, id: string): Promise<CallItem> {
  const call = (await callsAs(token)).find((c) => c.id === id);
  expect(call).toBeDefined();
  return call!;
}

/** A raw phone answers the next INVITE the server sends it (200 with SDP, waits for the ACK). */
async function answerInvite(ext: ExtensionPhone, after: number): Promise<RawDialog> {
  return (await answerServerInvite(rig, ext, after)).dialog;
}

const invitesSince = (ext: ExtensionPhone, after: number): SipMessageView[] =>
  ext.client.received
    .slice(after)
    .map((r) => r.message)
    .filter((m) => m.method === 'INVITE');

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls every 100 ms (up to 5 s) until `cond` holds; returns whether it did. */
async function until(cond: () => Promise<boolean>): Promise<boolean> {
  for (let i = 0; i < 50; i++) {
    if (await cond()) return true;
    await sleep(100);
  }
  return cond();
}

/** Waits until the call lists one monitor session of `supervisor`, active. */
async function activeMonitor(id: string, supervisor: string): Promise<void> {
  const ok = await until(async () => {
    const item = await callAs(undefined, id);
    return item.monitors.some((m) => m.supervisor === supervisor && m.state === 'active');
  });
  expect(ok).toBe(true);
}

describe('supervisor presence', () => {
  it('is read and set per extension, listed, and published as presence.changed', async () => {
    expect(summary(await api.get('/v1/me/presence', SAM))).toEqual({
      status: 200,
      body: { status: 'available' },
    });
    // The test admin token acts as no extension.
    expect(summary(await api.get('/v1/me/presence'))).toMatchObject({
      status: 403,
      body: { error: { code: 'forbidden' } },
    });
    const stream = await EventStreamClient.connect(rig.server.httpPort, { token: SAM });
    const agentStream = await EventStreamClient.connect(rig.server.httpPort, { token: AGENT });
    try {
      const put = await api.request('PUT', '/v1/me/presence', {
        token: SAM,
        body: { status: 'away' },
      });
      expect(summary(put)).toEqual({ status: 200, body: { status: 'away' } });
      expect(await stream.next((e) => e.type === 'presence.changed')).toMatchObject({
        extension: '1005',
        status: 'away',
      });
      // An agent sets its own; the supervisor of its group sees it, it does not see 1005's.
      const agentPut = await api.request('PUT', '/v1/me/presence', {
        token: AGENT,
        body: { status: 'dnd' },
      });
      expect(summary(agentPut)).toEqual({ status: 200, body: { status: 'dnd' } });
      expect(await stream.next((e) => e.type === 'presence.changed')).toMatchObject({
        extension: '1002',
        status: 'dnd',
      });
      expect(await agentStream.next((e) => e.type === 'presence.changed')).toMatchObject({
        extension: '1002',
      });
      expect(agentStream.received.filter((e) => e.type === 'presence.changed')).toHaveLength(1);
    } finally {
      await stream.close();
      await agentStream.close();
    }

    const listed = (await api.get('/v1/extensions')).json as {
      extensions: Array<{ number: string; presence: string }>;
    };
    expect(Object.fromEntries(listed.extensions.map((e) => [e.number, e.presence]))).toEqual({
      '1002': 'dnd',
      '1005': 'away',
      '1006': 'available',
      '1007': 'available',
    });

    const bad: Array<[string, string, unknown, string | undefined, number]> = [
      ['an unknown status', '/v1/me/presence', { status: 'gone' }, SAM, 400],
      ['no status', '/v1/me/presence', {}, SAM, 400],
      ['an unknown extension', '/v1/extensions/9999/presence', { status: 'away' }, undefined, 404],
      ['a supervisor setting others', '/v1/extensions/1006/presence', { status: 'away' }, SAM, 403],
    ];
    for (const [label, path, body, token, status] of bad) {
      const r = await api.request('PUT', path, { token, body });
      expect({ label, status: r.status }).toEqual({ label, status });
    }
    const reset = await api.request('PUT', '/v1/extensions/1002/presence', {
      body: { status: 'available' },
    });
    expect(summary(reset)).toEqual({ status: 200, body: { status: 'available' } });
  });

  it('refuses a supervisor who is away with monitor-unavailable, on every trigger, and join says so', async () => {
    await api.request('PUT', '/v1/extensions/1005/presence', { body: { status: 'away' } });
    const { call, id } = await trunkCall();
    try {
      expect((await callAs(SAM, id)).join).toEqual({
        modes: [],
        refusal: { code: 'monitor-unavailable', message: expect.any(String) },
      });
      const before = (await readJsonLines(auditFile)).length;
      const r = await api.post(monitors(id), { mode: 'listen' }, SAM);
      expect(summary(r)).toMatchObject({
        status: 409,
        body: { error: { code: 'monitor-unavailable' } },
      });
      const audit = (await readJsonLines(auditFile)).slice(before);
      expect(audit).toEqual([
        expect.objectContaining({
          action: 'refusal',
          reason: 'monitor-unavailable',
          supervisor: '1005',
          agent: '1002',
        }),
      ]);
      // The feature code from the supervisor's phone: 480.
      const dialled = await sam.invite('*901002', sdp((await rig.phone()).port));
      expect(dialled.final.status).toBe(480);

      // Available again (an admin sets it): every mode, no refusal.
      await api.request('PUT', '/v1/extensions/1005/presence', {
        body: { status: 'available' },
      });
      expect((await callAs(SAM, id)).join).toEqual({
        modes: ['listen', 'whisper', 'barge', 'takeover'],
        refusal: null,
      });
    } finally {
      await rig.hangUp(call);
    }
  });
});

describe('join eligibility and monitors in /v1/calls', () => {
  it('gives each supervisor its modes or its refusal, and lists who monitors', async () => {
    const { call, id } = await trunkCall();
    try {
      expect((await callAs(LEE, id)).join).toEqual({ modes: ['listen'], refusal: null });
      expect((await callAs(NIGHT, id)).join).toEqual({
        modes: [],
        refusal: { code: 'monitor-not-registered', message: expect.any(String) },
      });
      // Neither the admin token (no extension) nor the agent gets a join.
      expect((await callAs(undefined, id)).join).toBeUndefined();
      expect((await callAs(AGENT, id)).join).toBeUndefined();
      // What join promised, a start gives; what it refused, a start refuses.
      const refused = await api.post(monitors(id), { mode: 'whisper' }, LEE);
      expect(summary(refused)).toMatchObject({
        status: 403,
        body: { error: { code: 'mode-not-allowed' } },
      });
      const refusedNight = await api.post(monitors(id), { mode: 'listen' }, NIGHT);
      expect(summary(refusedNight)).toMatchObject({
        status: 409,
        body: { error: { code: 'monitor-not-registered' } },
      });

      const after = sam.client.received.length;
      const started = await api.post(monitors(id), { mode: 'barge' }, SAM);
      expect(started.status).toBe(201);
      const session = started.json as { id: string };
      const dialog = await answerInvite(sam, after);
      await activeMonitor(id, '1005');
      const expected = {
        id: session.id,
        supervisor: '1005',
        supervisorName: 'Sam Super',
        mode: 'barge',
        state: 'active',
      };
      for (const token of [undefined, LEE]) {
        const item = await callAs(token, id);
        expect(item.monitors).toEqual([{ ...expected, since: expect.any(String) }]);
      }
      // Sam is busy now; Lee may still listen (maxParticipants 4).
      expect((await callAs(SAM, id)).join).toEqual({
        modes: [],
        refusal: { code: 'monitor-busy', message: expect.any(String) },
      });
      expect((await callAs(LEE, id)).join).toEqual({ modes: ['listen'], refusal: null });
      // The single call's route says the same.
      const one = await api.get(`/v1/calls/${encodeURIComponent(id)}`, LEE);
      expect((one.json as CallItem).join).toEqual({ modes: ['listen'], refusal: null });

      const byeAfter = dialog.client.received.length;
      expect((await api.delete(`/v1/monitors/${session.id}`, SAM)).status).toBe(204);
      await answerBye(dialog, byeAfter);
    } finally {
      await rig.hangUp(call);
    }
  });
});

describe('device: where the supervisor leg rings', () => {
  it('rings only the browser or only the phone, and refuses a kind not registered', async () => {
    const { call, id } = await trunkCall();
    const ws = await WsSipClient.connect(rig.server.httpPort);
    try {
      // Lee has only a desk phone so far.
      const none = await api.post(monitors(id), { mode: 'listen', device: 'browser' }, LEE);
      expect(summary(none)).toMatchObject({
        status: 409,
        body: { error: { code: 'monitor-not-registered', message: /browser/ } },
      });
      const bad = await api.post(monitors(id), { mode: 'listen', device: 'tablet' }, LEE);
      expect(bad.status).toBe(400);

      expect((await ws.register('1006', 'pw1006')).final.status).toBe(200);

      // browser: the WebSocket contact gets the INVITE (a WebRTC offer), the phone none.
      let udpAfter = lee.client.received.length;
      const wsAfter = ws.received.length;
      const toBrowser = await api.post(monitors(id), { mode: 'listen', device: 'browser' }, LEE);
      expect(toBrowser.status).toBe(201);
      const invite = await ws.waitFor(
        (m) => m.method === 'INVITE' && ws.received.indexOf(m) >= wsAfter,
      );
      expect(invite.body).toMatch(/UDP\/TLS\/RTP\/SAVPF/);
      ws.respond(invite, 486, 'Busy Here', { toTag: randomToken(4) });
      await ws.waitFor((m) => m.method === 'ACK' && m.callId === invite.callId);
      await sleep(300);
      expect(invitesSince(lee, udpAfter)).toEqual([]);
      // The refused ring ends the session: Lee may join again.
      expect(
        await until(async () => {
          const item = await callAs(LEE, id);
          return item.monitors.length === 0 && item.join?.modes.length === 1;
        }),
      ).toBe(true);

      // phone: the desk phone gets it, the browser none.
      udpAfter = lee.client.received.length;
      const wsBefore = ws.received.length;
      const toPhone = await api.post(monitors(id), { mode: 'listen', device: 'phone' }, LEE);
      expect(toPhone.status).toBe(201);
      const dialog = await answerInvite(lee, udpAfter);
      await activeMonitor(id, '1006');
      expect((await callAs(undefined, id)).monitors).toMatchObject([
        { supervisor: '1006', state: 'active', mode: 'listen' },
      ]);
      expect(ws.received.slice(wsBefore).filter((m) => m.method === 'INVITE')).toEqual([]);
      const byeAfter = dialog.client.received.length;
      const session = toPhone.json as { id: string };
      expect((await api.delete(`/v1/monitors/${session.id}`, LEE)).status).toBe(204);
      await answerBye(dialog, byeAfter);
    } finally {
      await ws.close();
      await rig.hangUp(call);
    }
  });
});

describe('the OpenAPI document', () => {
  it('describes presence, join, monitors and device with response schemas', async () => {
    const r = await api.get('/openapi.json', null);
    expect(r.status).toBe(200);
    type Schema = {
      type?: string;
      nullable?: boolean;
      required?: string[];
      enum?: string[];
      properties: Record<string, Schema>;
      items: Schema;
    };
    type Op = {
      requestBody?: { content: { 'application/json': { schema: Schema } } };
      responses: Record<string, { content: { 'application/json': { schema: Schema } } }>;
    };
    const doc = r.json as { paths: Record<string, Record<string, Op>> };
    const ok = (path: string, method: string, status = '200'): Schema =>
      doc.paths[path]![method]!.responses[status]!.content['application/json'].schema;
    const call = ok('/v1/calls', 'get').properties.calls!.items;
    const join = call.properties.join!;
    expect(join.required).toEqual(['modes', 'refusal']);
    expect(join.properties.refusal).toMatchObject({ type: 'object', nullable: true });
    expect(join.properties.refusal!.properties.code!.enum).toContain('monitor-unavailable');
    expect(call.properties.monitors!.items.required).toEqual([
      'id',
      'supervisor',
      'supervisorName',
      'mode',
      'state',
      'since',
    ]);
    expect(ok('/v1/calls/{id}', 'get').properties.join).toEqual(join);
    // Every field a call always has is required (generated client types are not optional).
    expect(call.required).toEqual(expect.arrayContaining(['id', 'agent', 'hand', 'quality']));
    expect(call.required).not.toContain('monitors');
    expect(ok('/v1/calls/{id}/monitors', 'post', '201').required).toContain('modes');
    const quality = call.properties.quality!;
    expect(quality).toMatchObject({ type: 'object', nullable: true, required: ['legs', 'rating'] });
    expect(quality.properties.legs!.properties.customer).toMatchObject({
      nullable: true,
      required: ['lossPct', 'jitterMs', 'mos', 'rating'],
    });
    expect(quality.properties.legs!.properties.supervisors!.items.required).toContain('supervisor');
    expect(call.properties.monitoredBy!.items.required).toEqual([
      'supervisor',
      'supervisorName',
      'mode',
    ]);
    const presence = { type: 'string', enum: ['available', 'away', 'dnd'] };
    expect(ok('/v1/me/presence', 'get').properties.status).toEqual(presence);
    expect(ok('/v1/me/presence', 'put').properties.status).toEqual(presence);
    expect(ok('/v1/extensions/{ext}/presence', 'put').properties.status).toEqual(presence);
    const ext = ok('/v1/extensions', 'get').properties.extensions!.items;
    expect(ext.required).toContain('presence');
    expect(ext.properties.presence).toEqual(presence);
    const body =
      doc.paths['/v1/calls/{id}/monitors']!.post!.requestBody!.content['application/json'].schema;
    expect(body.properties.device).toMatchObject({ type: 'string', enum: ['browser', 'phone'] });
  });
});
