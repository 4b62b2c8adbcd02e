/**
 * Every refusal of `POST /v1/calls/{id}/monitors` through the REST API, with its stable
 * code and HTTP status (monitoring/refusals.ts), each one appended to the audit file as
 * action `refusal` with the code before the API answered: unknown extension 404, no call
 * 404, the monitor not idle 409 (already monitoring, or in a call), the member forbids
 * 403, the mode not allowed for the group 403, maxParticipants reached 409, the target a
 * monitor 403, self 403, not permitted 403, the monitor not registered 409, monitoring
 * disabled 403 (a second server). Bad tokens (401) and malformed bodies (400) are
 * answered before the monitoring service is asked. A call of a member who opted out is
 * still listed to the supervisors its groups name, with `join` refused (member-forbids).
 *
 * Raw SIP (monitoring-rig.ts): the customer is the trunk, 1002 the agent the trunk's DID
 * rings; other extensions are raw phones that register, place calls and answer the
 * server's INVITEs themselves.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { apiClient, readJsonLines, summary, type ApiClient } from '../helpers/api.js';
import { waitFor } from '../helpers/phoneScene.js';
import type { ExtensionSpec } from '../helpers/server.js';
import { RawDialog, responseTo, sdp, type RawCall } from './calls-rawRig.js';
import {
  answerBye,
  answerServerInvite,
  ExtensionPhone,
  startMonitorRig,
  type MonitorRig,
} from './monitoring-rig.js';

const SUPERVISOR_TOKEN = 'api-refusals-supervisor-1005-token';
/** 1006, whose groups do not name 1008. */
const COACH_TOKEN = 'api-refusals-supervisor-1006-token';
const EXTENSIONS = [
  { number: '1002', password: 'pw1002' },
  { number: '1003', password: 'pw1003' },
  { number: '1004', password: 'pw1004' },
  { number: '1008', password: 'pw1008', allowMonitoring: false },
  { number: '1005', password: 'pw1005', role: 'supervisor' },
  { number: '1006', password: 'pw1006', role: 'supervisor' },
  { number: '1007', password: 'pw1007', role: 'supervisor' },
] as unknown as ExtensionSpec[];
const GROUPS = [
  {
    name: 'support',
    monitors: ['1005'],
    members: ['1002', '1003', '1004', '1008'],
    modes: ['all'],
  },
  // 1006 may only listen, to 1002 and to the supervisor 1005.
  { name: 'coaching', monitors: ['1006'], members: ['1002', '1005'], modes: ['listen'] },
  // 1007 never registers.
  { name: 'night', monitors: ['1007'], members: ['1002'], modes: ['all'] },
];

let rig: MonitorRig;
let api: ApiClient;
let auditFile: string;

beforeAll(async () => {
  rig = await startMonitorRig(
    {
      monitoring: { enabled: true, maxParticipants: 3, groups: GROUPS },
      api: {
        tokens: [
          { name: 'sam', token: SUPERVISOR_TOKEN, scope: 'supervisor', extension: '1005' },
          { name: 'coach', token: COACH_TOKEN, scope: 'supervisor', extension: '1006' },
        ],
      },
    },
    EXTENSIONS,
  );
  api = apiClient(rig.server.httpPort);
  auditFile = (rig.server.config.audit as { file: string }).file;
}, 30000);

afterAll(async () => {
  await rig?.close();
});

const monitors = (callId: string) => `/v1/calls/${encodeURIComponent(callId)}/monitors`;

async function refusals(file = auditFile): Promise<Record<string, unknown>[]> {
  return (await readJsonLines(file)).filter((e) => e.action === 'refusal');
}

/**
 * POSTs a monitor request that must be refused with `status` and `code`; the audit file
 * then holds one more refusal entry, with that code.
 */
async function expectRefused(
  path: string,
  body: unknown,
  status: number,
  code: string,
  opts: { token?: string; api?: ApiClient; auditFile?: string } = {},
): Promise<Record<string, unknown>> {
  const file = opts.auditFile ?? auditFile;
  const before = (await refusals(file)).length;
  const r = await (opts.api ?? api).post(path, body, opts.token);
  expect(summary(r)).toMatchObject({ status, body: { error: { code } } });
  expect(typeof (r.json as { error: { message: unknown } }).error.message).toBe('string');
  const after = await refusals(file);
  expect(after).toHaveLength(before + 1);
  const entry = after[after.length - 1]!;
  expect(entry).toMatchObject({ action: 'refusal', trigger: 'api', reason: code });
  return entry;
}

async function trunkCall(): Promise<RawCall> {
  const [customer, agent] = [await rig.phone(), await rig.phone()];
  return rig.placeCall({ offer: sdp(customer.port), answer: () => sdp(agent.port) });
}

/** A raw phone answers the next INVITE the server sends it (200 with SDP, waits for the ACK). */
const answerInvite = (ext: ExtensionPhone) => answerServerInvite(rig, ext);

interface InternalCall {
  id: string;
  caller: RawDialog;
  callee: RawDialog;
}

/** `caller` calls `callee`, who answers; resolves with the call id the API lists. */
async function internalCall(caller: ExtensionPhone, callee: ExtensionPhone): Promise<InternalCall> {
  const media = await rig.phone();
  const placing = caller.invite(callee.number, sdp(media.port));
  const answered = await answerInvite(callee);
  const placed = await placing;
  expect(placed.final.status).toBe(200);
  const calls = (
    (await api.get('/v1/calls')).json as {
      calls: Array<{ id: string; agent: string; state: string }>;
    }
  ).calls;
  const call = calls.find((c) => c.agent === callee.number && c.state === 'answered');
  expect(call).toBeDefined();
  return { id: call!.id, caller: placed.dialog!, callee: answered.dialog };
}

/** The caller hangs up; the callee answers the server's BYE. */
async function hangUpInternal(call: InternalCall): Promise<void> {
  const after = call.callee.client.received.length;
  expect((await call.caller.transact('BYE')).status).toBe(200);
  await answerBye(call.callee, after);
}

async function callIdOf(agent: string): Promise<string> {
  const calls = (
    (await api.get('/v1/calls')).json as { calls: Array<{ id: string; agent: string }> }
  ).calls;
  const call = calls.find((c) => c.agent === agent);
  expect(call).toBeDefined();
  return call!.id;
}

describe('monitoring refusals through the REST API', () => {
  it('401 without a valid token, 400 for a malformed body', async () => {
    const path = monitors('whatever');
    for (const token of [null, 'no-such-token-0000']) {
      const r = await api.post(path, { supervisor: '1005', mode: 'listen' }, token);
      expect(summary(r)).toMatchObject({ status: 401, body: { error: { code: 'unauthorized' } } });
      expect(r.headers['www-authenticate']).toBe('Bearer');
    }
    expect(
      summary(
        await api.request('PATCH', '/v1/monitors/m1', { token: 'bad', body: { mode: 'listen' } }),
      ),
    ).toMatchObject({ status: 401, body: { error: { code: 'unauthorized' } } });
    expect(summary(await api.delete('/v1/monitors/m1', 'bad'))).toMatchObject({ status: 401 });

    const bad: Array<[string, Parameters<ApiClient['request']>[2]]> = [
      ['not JSON', { raw: '{"supervisor":"1005","mode":' }],
      ['no mode', { body: { supervisor: '1005' } }],
      ['unknown mode', { body: { supervisor: '1005', mode: 'spy' } }],
      ['supervisor not an extension', { body: { supervisor: '10 05', mode: 'listen' } }],
      ['an array', { body: [] }],
      ['an unknown field', { body: { supervisor: '1005', mode: 'listen', spy: true } }],
    ];
    for (const [label, opts] of bad) {
      const r = await api.request('POST', path, opts);
      expect({ label, ...summary(r) }).toMatchObject({
        label,
        status: 400,
        body: { error: { code: 'bad-request' } },
      });
    }
    const patch = await api.patch('/v1/monitors/m1', { mode: 'loud' });
    expect(summary(patch)).toMatchObject({ status: 400, body: { error: { code: 'bad-request' } } });
    // An unknown query parameter is refused too, not ignored.
    const listing = await rig.server.httpGet('/v1/calls?agnet=1001');
    expect(listing.status).toBe(400);
  });

  it('404 no-call for a call that does not exist', async () => {
    const entry = await expectRefused(
      monitors('no-such-call'),
      { supervisor: '1005', mode: 'listen' },
      404,
      'no-call',
    );
    expect(entry).toMatchObject({
      supervisor: '1005',
      callId: 'no-such-call',
      actor: 'test-admin',
    });
  });

  it('404 unknown-extension, 403 mode-not-allowed, 409 monitor-not-registered on a live call', async () => {
    const call = await trunkCall();
    const id = await callIdOf('1002');
    await expectRefused(
      monitors(id),
      { supervisor: '9999', mode: 'listen' },
      404,
      'unknown-extension',
    );
    const entry = await expectRefused(
      monitors(id),
      { supervisor: '1006', mode: 'whisper' },
      403,
      'mode-not-allowed',
    );
    expect(entry).toMatchObject({ supervisor: '1006', agent: '1002', mode: 'whisper', callId: id });
    await expectRefused(
      monitors(id),
      { supervisor: '1007', mode: 'listen' },
      409,
      'monitor-not-registered',
    );
    await rig.hangUp(call);
  });

  it('403 member-forbids for a member with allowMonitoring: false; its call is listed with Join refused', async () => {
    const caller = await rig.extension('1003');
    const callee = await rig.extension('1008');
    await callee.register();
    const internal = await internalCall(caller, callee);
    const id = internal.id;
    await expectRefused(
      monitors(id),
      { supervisor: '1005', mode: 'listen' },
      403,
      'member-forbids',
    );
    // A supervisor token acting as itself meets the same refusal.
    await expectRefused(monitors(id), { mode: 'listen' }, 403, 'member-forbids', {
      token: SUPERVISOR_TOKEN,
    });
    // Its groups name 1008: the call is listed, Join refused with the stable code, so the
    // screen can say the agent opted out; the refusal is the same a start met.
    const refusedJoin = {
      modes: [],
      refusal: { code: 'member-forbids', message: 'this extension may not be monitored' },
    };
    const listed = await api.get('/v1/calls', SUPERVISOR_TOKEN);
    expect((listed.json as { calls: Array<{ id: string }> }).calls).toEqual([
      expect.objectContaining({ id, agent: '1008', join: refusedJoin }),
    ]);
    const one = await api.get(`/v1/calls/${id}`, SUPERVISOR_TOKEN);
    expect(summary(one)).toMatchObject({ status: 200, body: { id, join: refusedJoin } });
    // 1006's groups do not name 1008: not listed, not found.
    const coach = await api.get('/v1/calls', COACH_TOKEN);
    expect(summary(coach)).toMatchObject({ status: 200, body: { calls: [] } });
    const coachOne = await api.get(`/v1/calls/${id}`, COACH_TOKEN);
    expect(summary(coachOne)).toMatchObject({ status: 404 });
    await hangUpInternal(internal);
  });

  it('409 monitor-busy, 409 max-participants, 403 self, not-permitted; answering a call ends monitoring', async () => {
    const call = await trunkCall();
    const x = await callIdOf('1002');
    const sup = await rig.extension('1005');
    await sup.register();
    const coach = await rig.extension('1006');
    await coach.register();

    // 1005 monitors the call: the server calls its phone, which answers.
    const answering = answerInvite(sup);
    const started = await api.post(monitors(x), { supervisor: '1005', mode: 'listen' });
    expect(started.status).toBe(201);
    const session = started.json as { id: string };
    const { invite } = await answering;
    expect(invite.header('Call-Info')).toMatch(/answer-after=0/);

    // Already monitoring: not idle.
    await expectRefused(monitors(x), { supervisor: '1005', mode: 'barge' }, 409, 'monitor-busy');
    // The call is full (customer, agent, 1005: maxParticipants 3).
    await expectRefused(
      monitors(x),
      { supervisor: '1006', mode: 'listen' },
      409,
      'max-participants',
    );

    // While monitoring, 1005 takes a call from 1004. Answering a call ends the supervisor's
    // monitoring (call waiting, docs/architecture.md §4.6): the monitor dialog gets a BYE,
    // so a monitor is never also the agent of a call someone else could monitor.
    const byeAt = sup.client.received.length;
    const caller = await rig.extension('1004');
    const internal = await internalCall(caller, sup);
    const y = internal.id;
    const bye = await sup.client.waitFor(
      (m) => m.method === 'BYE' && m.callId === invite.callId,
      5000,
    );
    expect(sup.client.received.indexOf(bye)).toBeGreaterThanOrEqual(byeAt);
    sup.client.send(responseTo(bye.message, 200), sup.serverPort);
    type Entry = { action: string; reason: string; sessionId: string | null };
    const stops = async () =>
      ((await api.get('/v1/audit')).json as { entries: Entry[] }).entries.filter(
        (e) =>
          e.action === 'stop' &&
          e.sessionId === session.id &&
          e.reason === 'supervisor-answered-call',
      );
    expect(await waitFor(async () => (await stops()).length === 1, 5000)).toBe(true);
    // 1005 on its own call; 1007 has no group over 1005.
    await expectRefused(monitors(y), { supervisor: '1005', mode: 'listen' }, 403, 'self');
    await expectRefused(monitors(y), { supervisor: '1007', mode: 'listen' }, 403, 'not-permitted');
    // 1005 is in the call with 1004: not idle.
    await expectRefused(monitors(x), { supervisor: '1005', mode: 'listen' }, 409, 'monitor-busy', {
      token: SUPERVISOR_TOKEN,
    });
    await hangUpInternal(internal);
    await rig.hangUp(call);
  });

  it('every refusal is in the audit file, and the API reads them back', async () => {
    const codes = (await refusals()).map((e) => e.reason);
    for (const code of [
      'no-call',
      'unknown-extension',
      'mode-not-allowed',
      'monitor-not-registered',
      'member-forbids',
      'monitor-busy',
      'max-participants',
      'self',
      'not-permitted',
    ]) {
      expect(codes).toContain(code);
    }
    const r = await api.get('/v1/audit');
    expect(r.status).toBe(200);
    const fromApi = (r.json as { entries: Array<{ action: string; reason: string }> }).entries
      .filter((e) => e.action === 'refusal')
      .map((e) => e.reason);
    expect(fromApi).toEqual(codes);
  });
});

describe('monitoring disabled', () => {
  let off: MonitorRig;

  beforeAll(async () => {
    off = await startMonitorRig({ monitoring: { enabled: false } });
  }, 30000);

  afterAll(async () => {
    await off?.close();
  });

  it('403 monitoring-disabled, audited', async () => {
    const offApi = apiClient(off.server.httpPort);
    const [customer, agent] = [await off.phone(), await off.phone()];
    const call = await off.placeCall({ offer: sdp(customer.port), answer: () => sdp(agent.port) });
    const calls = ((await offApi.get('/v1/calls')).json as { calls: Array<{ id: string }> }).calls;
    expect(calls).toHaveLength(1);
    await expectRefused(
      monitors(calls[0]!.id),
      { supervisor: '1005', mode: 'listen' },
      403,
      'monitoring-disabled',
      { api: offApi, auditFile: (off.server.config.audit as { file: string }).file },
    );
    await off.hangUp(call);
  });
});
