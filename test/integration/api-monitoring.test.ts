/**
 * Monitoring through the REST API with three real phones (baresip, auto-answer): a
 * customer (1002, 440 Hz) calls an agent (1001, 1000 Hz); `POST /v1/calls/{id}/monitors`
 * makes the server call the supervisor's phone (1005, 1800 Hz) with the auto-answer
 * headers, and the phone answers by itself. The supervisor hears both parties and nobody
 * hears it (listen); after `PATCH /v1/monitors/{id} {mode: whisper}` the agent hears it
 * and the customer does not; `DELETE /v1/monitors/{id}` sends the supervisor's phone a BYE
 * and the call goes on. Then a supervisor token starts a session as itself (naming anyone
 * else is 403), and the agent hanging up ends it with a BYE to the supervisor.
 * What each phone heard (its sndfile `dec` recording) is cut into phases by time and
 * checked with a Goertzel detector.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { apiClient, readJsonLines, summary, type ApiClient } from '../helpers/api.js';
import { tracedRequest, type BaresipPhone } from '../helpers/baresip.js';
import { readWav, type PcmAudio } from '../helpers/goertzel.js';
import {
  AGENT_HZ,
  CUSTOMER_HZ,
  dialAndAnswer,
  expectTones,
  PHASE_MS,
  PhonePool,
  SETTLE_MS,
  sleep,
  startMonitoringPhones,
  startPhoneServer,
  SUPERVISOR_HZ,
  toneWindow,
  waitFor,
} from '../helpers/phoneScene.js';
import { EventStreamClient } from '../helpers/eventStream.js';
import { TEST_ADMIN_TOKEN, type ServerHandle } from '../helpers/server.js';

const receivedBye = tracedRequest('received', 'BYE');

const SUPERVISOR_TOKEN = 'api-monitoring-supervisor-1005-token';
const EXTENSIONS = [
  { number: '1001', password: 'pw1001', role: 'agent' as const },
  { number: '1002', password: 'pw1002', role: 'agent' as const },
  { number: '1005', password: 'pw1005', role: 'supervisor' as const },
  { number: '1006', password: 'pw1006', role: 'supervisor' as const },
];
let server: ServerHandle;
let api: ApiClient;
const phones = new PhonePool(() => server);

beforeAll(async () => {
  server = await startPhoneServer(
    {
      monitoring: {
        groups: [
          { name: 'support', monitors: ['1005', '1006'], members: ['1001'], modes: ['all'] },
        ],
      },
      api: {
        tokens: [{ name: 'sam', token: SUPERVISOR_TOKEN, scope: 'supervisor', extension: '1005' }],
      },
    },
    EXTENSIONS,
  );
  api = apiClient(server.httpPort);
}, 30000);

afterEach(async () => {
  await phones.killAll();
});

afterAll(async () => {
  await server?.stop();
});

/** The `dec` recordings of a phone, oldest first (one per call; names carry the time). */
function heardFiles(p: BaresipPhone): string[] {
  return [...p.recordings().dec].sort();
}

interface CallView {
  id: string;
  state: string;
  agent: string | null;
  monitors: Array<{ id: string; supervisor: string; mode: string; state: string }>;
}

interface MonitorView {
  id: string;
  callId: string;
  supervisor: string;
  agent: string;
  mode: string;
  state: string;
}

/** The customer (1002) calls the agent (1001); resolves with the call's id. */
async function placeCall(customer: BaresipPhone, agent: BaresipPhone): Promise<string> {
  await dialAndAnswer(server, customer, agent, '1001');
  const calls = ((await api.get('/v1/calls')).json as { calls: CallView[] }).calls;
  expect(calls).toHaveLength(1);
  expect(calls[0]).toMatchObject({ state: 'answered', agent: '1001', monitors: [] });
  return calls[0]!.id;
}

async function callView(id: string): Promise<CallView> {
  const r = await api.get(`/v1/calls/${id}`);
  expect(r.status).toBe(200);
  return r.json as CallView;
}

/** The session is listed on the call as active in `mode`. */
async function expectActive(callId: string, sessionId: string, mode: string): Promise<void> {
  let last: CallView | undefined;
  const ok = await waitFor(async () => {
    last = await callView(callId);
    return last.monitors.some((m) => m.id === sessionId && m.state === 'active' && m.mode === mode);
  });
  expect({ ok, monitors: last?.monitors }).toMatchObject({ ok: true });
  expect(last!.monitors).toEqual([
    expect.objectContaining({ id: sessionId, supervisor: '1005', mode, state: 'active' }),
  ]);
}

describe('monitoring through the REST API, with real phones', () => {
  it('POST listens (auto-answer), PATCH whispers to the agent only, DELETE releases the supervisor', async () => {
    const { agent, customer, supervisor } = await startMonitoringPhones(phones);
    const callId = await placeCall(customer, agent);
    const callAt = Date.now();
    await sleep(1000);
    const events = await EventStreamClient.connect(server.httpPort, {
      token: TEST_ADMIN_TOKEN.token,
    });

    // POST: the server calls the supervisor's phone, which answers by itself.
    const started = await api.post(`/v1/calls/${encodeURIComponent(callId)}/monitors`, {
      supervisor: '1005',
      mode: 'listen',
    });
    expect(summary(started)).toMatchObject({
      status: 201,
      body: { callId, supervisor: '1005', agent: '1001', mode: 'listen' },
    });
    const session = started.json as MonitorView;
    expect(['calling', 'active']).toContain(session.state);
    await supervisor.waitForEvent('CALL_ESTABLISHED', 10000);
    const listenAt = Date.now();
    // The stream says when the ringing session became active, not only that it started.
    const announced = [
      await events.next((e) => e.type === 'monitor.started', 5000),
      await events.next((e) => e.type === 'monitor.answered', 5000),
    ];
    expect(announced.map((e) => [e.type, e.sessionId, e.supervisor, e.mode])).toEqual([
      ['monitor.started', session.id, '1005', 'listen'],
      ['monitor.answered', session.id, '1005', 'listen'],
    ]);
    await events.close();

    // The INVITE the phone got carried both auto-answer conventions.
    const receivedInvite = tracedRequest('received', 'INVITE');
    const invites = (await supervisor.waitForTrace(receivedInvite)).filter(receivedInvite);
    expect(invites.length).toBeGreaterThanOrEqual(1);
    const invite = invites[0]!.message;
    expect(invite.header('Call-Info')).toMatch(/;\s*answer-after=0/);
    expect(invite.header('Alert-Info')).toMatch(/;\s*info=alert-autoanswer/);
    // The supervisor never dialled: the call came from the server.
    expect(supervisor.sentRequests('INVITE')).toHaveLength(0);

    await expectActive(callId, session.id, 'listen');
    await sleep(PHASE_MS);

    // PATCH to whisper: the agent hears the supervisor, the customer does not.
    const patched = await api.patch(`/v1/monitors/${session.id}`, { mode: 'whisper' });
    expect(summary(patched)).toMatchObject({
      status: 200,
      body: { id: session.id, mode: 'whisper', state: 'active' },
    });
    expect((patched.json as { modes: Array<{ mode: string }> }).modes.map((m) => m.mode)).toEqual([
      'listen',
      'whisper',
    ]);
    const whisperAt = Date.now();
    await expectActive(callId, session.id, 'whisper');
    await sleep(PHASE_MS);

    // DELETE: 204, the supervisor's phone gets a BYE, the call goes on without monitors.
    const deleted = await api.delete(`/v1/monitors/${session.id}`);
    expect({ status: deleted.status, body: deleted.body }).toEqual({ status: 204, body: '' });
    const stopAt = Date.now();
    await supervisor.waitForEvent('CALL_CLOSED', 10000);
    expect((await supervisor.waitForTrace(receivedBye)).some(receivedBye)).toBe(true);
    expect(await callView(callId)).toMatchObject({ id: callId, state: 'answered', monitors: [] });
    expect((await api.delete(`/v1/monitors/${session.id}`)).status).toBe(404);
    expect((await api.patch(`/v1/monitors/${session.id}`, { mode: 'barge' })).status).toBe(404);
    await sleep(PHASE_MS);
    const afterAt = Date.now();
    // Still up on both phones.
    expect(customer.ctrl.events.some((e) => e.type === 'CALL_CLOSED')).toBe(false);
    expect(agent.ctrl.events.some((e) => e.type === 'CALL_CLOSED')).toBe(false);

    expect((await customer.command('hangup')).ok).toBe(true);
    await customer.waitForEvent('CALL_CLOSED', 10000);
    await agent.waitForEvent('CALL_CLOSED', 10000);
    expect((await api.get(`/v1/calls/${encodeURIComponent(callId)}`)).status).toBe(404);

    const [supFile] = heardFiles(supervisor);
    const [agentFile] = heardFiles(agent);
    const [customerFile] = heardFiles(customer);
    const s = (from: number, to: number) => toneWindow(readWav(supFile!), listenAt, from, to);
    const a = (from: number, to: number) => toneWindow(readWav(agentFile!), callAt, from, to);
    const c = (from: number, to: number) => toneWindow(readWav(customerFile!), callAt, from, to);
    const [C, A, S] = [CUSTOMER_HZ, AGENT_HZ, SUPERVISOR_HZ];
    const phases: Array<[string, PcmAudio, number[], number[]]> = [
      ['supervisor, listen', s(listenAt + SETTLE_MS, whisperAt), [C, A], [S]],
      ['agent, listen', a(listenAt + SETTLE_MS, whisperAt), [C], [S]],
      ['customer, listen', c(listenAt + SETTLE_MS, whisperAt), [A], [S]],
      ['supervisor, whisper', s(whisperAt + SETTLE_MS, stopAt), [C, A], [S]],
      ['agent, whisper', a(whisperAt + SETTLE_MS, stopAt), [C, S], []],
      ['customer, whisper', c(whisperAt + SETTLE_MS, stopAt), [A], [S]],
      ['agent, after DELETE', a(stopAt + SETTLE_MS, afterAt), [C], [S]],
      ['customer, after DELETE', c(stopAt + SETTLE_MS, afterAt), [A], [S]],
    ];
    for (const [label, audio, present, absent] of phases) {
      expectTones(label, audio, present, absent);
    }

    // The audit file tells the same story.
    const audit = await readJsonLines((server.config.audit as { file: string }).file);
    const story = audit
      .filter((e) => e.sessionId === session.id)
      .map((e) => [e.action, e.mode, e.reason]);
    expect(story).toEqual([
      ['start', 'listen', null],
      ['mode-change', 'whisper', null],
      ['stop', 'whisper', 'stopped'],
    ]);
    for (const p of phones.all) expect(await p.quit()).toBe(0);
    phones.forget();
  }, 90000);

  it('a supervisor token acts as itself; the agent hanging up sends the supervisor a BYE', async () => {
    const { agent, customer, supervisor } = await startMonitoringPhones(phones);
    const callId = await placeCall(customer, agent);
    const path = `/v1/calls/${encodeURIComponent(callId)}/monitors`;

    // Naming another supervisor with a supervisor token: 403, and nothing is started.
    expect(
      summary(await api.post(path, { supervisor: '1006', mode: 'listen' }, SUPERVISOR_TOKEN)),
    ).toMatchObject({ status: 403, body: { error: { code: 'forbidden' } } });
    // An admin token must name the supervisor.
    expect(summary(await api.post(path, { mode: 'listen' }))).toMatchObject({
      status: 400,
      body: { error: { code: 'bad-request' } },
    });
    expect((await callView(callId)).monitors).toEqual([]);

    // Naming nobody (or itself): the token's own extension.
    const started = await api.post(path, { mode: 'listen' }, SUPERVISOR_TOKEN);
    expect(summary(started)).toMatchObject({
      status: 201,
      body: { callId, supervisor: '1005', agent: '1001', mode: 'listen' },
    });
    const session = started.json as MonitorView;
    await supervisor.waitForEvent('CALL_ESTABLISHED', 10000);
    await expectActive(callId, session.id, 'listen');

    // The supervisor token steers its own session.
    const patched = await api.patch(
      `/v1/monitors/${session.id}`,
      { mode: 'whisper' },
      SUPERVISOR_TOKEN,
    );
    expect(summary(patched)).toMatchObject({ status: 200, body: { mode: 'whisper' } });
    await sleep(1000);

    // The agent hangs up: the call ends and the supervisor's phone gets a BYE.
    expect((await agent.command('hangup')).ok).toBe(true);
    await agent.waitForEvent('CALL_CLOSED', 10000);
    await customer.waitForEvent('CALL_CLOSED', 10000);
    await supervisor.waitForEvent('CALL_CLOSED', 10000);
    expect((await supervisor.waitForTrace(receivedBye)).some(receivedBye)).toBe(true);
    expect((await api.get(`/v1/calls/${encodeURIComponent(callId)}`)).status).toBe(404);
    expect((await api.delete(`/v1/monitors/${session.id}`, SUPERVISOR_TOKEN)).status).toBe(404);

    const audit = await readJsonLines((server.config.audit as { file: string }).file);
    expect(
      audit.filter((e) => e.sessionId === session.id).map((e) => [e.action, e.actor, e.reason]),
    ).toEqual([
      ['start', 'sam', null],
      ['mode-change', 'sam', null],
      ['stop', null, 'call-ended'],
    ]);
    for (const p of phones.all) expect(await p.quit()).toBe(0);
    phones.forget();
  }, 60000);

  it('a server with a monitored call whose phones vanished shuts down promptly', async () => {
    const { agent, customer, supervisor } = await startMonitoringPhones(phones);
    const callId = await placeCall(customer, agent);
    const started = await api.post(`/v1/calls/${encodeURIComponent(callId)}/monitors`, {
      supervisor: '1005',
      mode: 'listen',
    });
    expect(started.status).toBe(201);
    await supervisor.waitForEvent('CALL_ESTABLISHED', 10000);
    await expectActive(callId, (started.json as MonitorView).id, 'listen');
    // Nobody will answer the BYEs: the shutdown waits a bounded time, not Timer F (32 s).
    await phones.killAll();
    const t0 = Date.now();
    expect(await server.stop({ graceMs: 8000 })).toBe(0);
    expect(Date.now() - t0).toBeLessThan(8000);
  }, 60000);
});
