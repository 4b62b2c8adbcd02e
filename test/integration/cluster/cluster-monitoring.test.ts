/**
 * Monitoring a call anchored on the instance the supervisor's phone does not talk to
 * (docs/architecture.md "Several instances"): a Redis, two callwatch instances and
 * Kamailio in front, all real; phones (baresip) know only Kamailio.
 *
 * The customer (1004, 440 Hz) and the agent (1002, 1000 Hz) are both pinned to instance
 * a, so a anchors their call; the supervisor's phone (1005, 1800 Hz, auto-answer) is
 * pinned to b. Each mode is checked by tone on what each phone heard, and a's recording
 * never holds the supervisor.
 *
 * - The API, every request sent to b with the supervisor's own token: b lists a's call
 *   (filters, join, monitors), b hands each action to a, a rings the supervisor's phone
 *   (through Kamailio, on the binding b accepted). Refusals answer b's client exactly as
 *   a answers its own; the audit entries land on a; b's event stream shows a's events.
 * - The feature code: the supervisor dials *901002, Kamailio sends it to b, b redirects
 *   it to a, Kamailio relays it there; a challenges and authenticates the phone and
 *   attaches it; DTMF 5 and 6 switch to whisper and barge. A phone that may not monitor
 *   gets a's refusal, never the redirect.
 * - Redis stopped: b answers 503 `cluster-unavailable` for a's call (480 to the feature
 *   code) while a serves its own call; Redis back, both work again by themselves.
 * - Yeastar and CTI requests, and a web session signed in on b, act on a's call; presence
 *   set on one instance is what the other checks; a supervisor monitoring on a is busy
 *   for b.
 * - Presence with Redis stopped: each instance answers and checks the status it last knew;
 *   a change made during the outage is shared when Redis is back, the later change winning.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { apiClient, apiRequest, summary, type ApiClient } from '../../helpers/api.js';
import { startBaresip, type BaresipPhone, type TracedSip } from '../../helpers/baresip.js';
import { EventStreamClient, type StreamEvent } from '../../helpers/eventStream.js';
import { type PcmAudio } from '../../helpers/goertzel.js';
import {
  AGENT_HZ,
  CUSTOMER_HZ,
  expectTones,
  heardAudio,
  PHASE_MS,
  SETTLE_MS,
  sleep,
  SUPERVISOR_HZ,
  toneWindow,
  waitFor,
  wavChannel,
} from '../../helpers/phoneScene.js';
import { TEST_ADMIN_TOKEN, type ExtensionSpec, type ServerHandle } from '../../helpers/server.js';
import {
  instanceSpec,
  KamailioProc,
  probedIn,
  RedisProc,
  sharedCalls,
  startInstance,
  type InstanceSpec,
} from './clusterRig.js';

const SUPERVISOR_TOKEN = 'cluster-monitor-api-supervisor-1005';
const AGENT_TOKEN = 'cluster-monitor-api-agent-1002';
const EXTENSIONS: ExtensionSpec[] = ['1001', '1002', '1003', '1004', '1005'].map((n) => ({
  number: n,
  password: `pw${n}`,
  role: n === '1005' ? 'supervisor' : 'agent',
}));
const OVERRIDES = {
  monitoring: {
    groups: [{ name: 'support', monitors: ['1005'], members: ['1002', '1001'], modes: ['all'] }],
  },
  api: {
    tokens: [
      { name: 'sam', token: SUPERVISOR_TOKEN, scope: 'supervisor', extension: '1005' },
      { name: 'alex', token: AGENT_TOKEN, scope: 'agent', extension: '1002' },
    ],
  },
};

let redis: RedisProc | undefined;
let kamailio: KamailioProc | undefined;
const specs: InstanceSpec[] = [];
const instances = new Map<string, ServerHandle>();
let phones: BaresipPhone[] = [];
let streams: EventStreamClient[] = [];

beforeAll(async () => {
  redis = await RedisProc.start();
  specs.push(await instanceSpec('a'), await instanceSpec('b'));
  for (const spec of specs) {
    instances.set(spec.id, await startInstance(spec, redis.url, EXTENSIONS, OVERRIDES));
  }
  kamailio = await KamailioProc.start(specs.map((s) => s.sipPort));
  for (const server of instances.values()) expect(await probedIn(server)).toBe(true);
}, 120000);

afterEach(async () => {
  await Promise.all(phones.map((p) => p.kill()));
  phones = [];
  await Promise.all(streams.map((c) => c.close()));
  streams = [];
});

async function eventStream(server: ServerHandle, since?: number): Promise<EventStreamClient> {
  const client = await EventStreamClient.connect(server.httpPort, {
    token: TEST_ADMIN_TOKEN.token,
    ...(since !== undefined ? { since } : {}),
  });
  streams.push(client);
  return client;
}

/** The call's and the session's events a stream received: type and origin instance. */
function callEvents(received: readonly StreamEvent[], callId: string): Array<[string, unknown]> {
  return received
    .filter((e) => e.callId === callId && e.type !== 'call.quality')
    .map((e) => [e.type, e.instance]);
}

afterAll(async () => {
  await kamailio?.stop();
  for (const server of instances.values()) await server.stop({ expectCode: null });
  await redis?.close();
}, 60000);

async function phone(user: string, toneHz: number): Promise<BaresipPhone> {
  const p = await startBaresip({
    user,
    password: `pw${user}`,
    serverPort: kamailio!.port,
    toneHz,
  });
  phones.push(p);
  await p.waitForRegistration(10000);
  return p;
}

/** Which instance Kamailio sent an extension's REGISTER to. */
function pinnedInstance(user: string): Promise<string | undefined> {
  return kamailio!.pinnedInstance(user, specs);
}

interface MonitorView {
  id: string;
  callId: string;
  supervisor: string;
  agent: string;
  mode: string;
  state: string;
}

interface CallView {
  id: string;
  agent: string | null;
  join?: unknown;
  monitors: Array<{ id: string; supervisor: string; mode: string; state: string }>;
}

/** An error reply as one comparable value: status and error code. */
function refusal(r: { status: number; json?: unknown }): { status: number; code: unknown } {
  return { status: r.status, code: (r.json as { error?: { code?: unknown } })?.error?.code };
}

/** Every instance knows each phone's current contact (bindings are shared). */
async function knownEverywhere(list: readonly BaresipPhone[]): Promise<void> {
  for (const server of instances.values()) {
    const known = async () => {
      const regs = await server.registrations();
      return list.every((p) =>
        regs.some(
          (r) => r.extension === p.user && r.contacts.some((c) => c.uri.includes(`:${p.sipPort}`)),
        ),
      );
    };
    expect(await waitFor(known, 5000)).toBe(true);
  }
}

/** The customer (1004) calls the agent (1002); resolves with the call's id and start. */
async function placeCall(
  customer: BaresipPhone,
  agent: BaresipPhone,
  via: ServerHandle,
): Promise<{ id: string; callAt: number }> {
  expect((await customer.command('dial', `sip:1002@127.0.0.1:${kamailio!.port}`)).ok).toBe(true);
  await customer.waitForEvent('CALL_ESTABLISHED', 10000);
  await agent.waitForEvent('CALL_ESTABLISHED', 10000);
  const callAt = Date.now();
  let callId: string | undefined;
  expect(
    await waitFor(async () => {
      const call = (await sharedCalls(via)).find((c) => c.caller === '1004');
      callId = call?.state === 'answered' && call.instance === 'a' ? call.id : undefined;
      return callId !== undefined;
    }, 5000),
  ).toBe(true);
  return { id: callId!, callAt };
}

/** The WAV call recordings in an instance's recording directory. */
function recordings(server: ServerHandle): string[] {
  const dir = (server.config.recording as { directory: string }).directory;
  try {
    return readdirSync(dir)
      .filter((f) => f.endsWith('.wav'))
      .map((f) => path.join(dir, f));
  } catch {
    return [];
  }
}

/**
 * The supervisor joins a's call `id` in listen mode through b's API, the session is
 * active on a (the phone's answer processed there), then leaves through b.
 */
async function joinViaBAndLeave(
  id: string,
  supervisor: BaresipPhone,
  viaB: ApiClient,
  onA: ApiClient,
): Promise<void> {
  const started = await viaB.post(`/v1/calls/${id}/monitors`, { mode: 'listen' });
  expect(summary(started)).toMatchObject({ status: 201, body: { callId: id } });
  await supervisor.waitForEvent('CALL_ESTABLISHED', 10000);
  await leaveOnceActive(id, (started.json as MonitorView).id, supervisor, onA, viaB);
}

/**
 * Session `sessionId` on a's call `id` is active on a (the phone's answer processed
 * there); then it is ended through `leaveVia` and the supervisor's phone hangs up.
 */
async function leaveOnceActive(
  id: string,
  sessionId: string,
  supervisor: BaresipPhone,
  onA: ApiClient,
  leaveVia: ApiClient,
): Promise<void> {
  expect(
    await waitFor(
      async () =>
        ((await onA.get(`/v1/calls/${id}`)).json as CallView).monitors.some(
          (m) => m.id === sessionId && m.state === 'active',
        ),
      5000,
    ),
  ).toBe(true);
  expect((await leaveVia.delete(`/v1/monitors/${sessionId}`)).status).toBe(204);
  await supervisor.waitForEvent('CALL_CLOSED', 10000);
}

/**
 * The recording of the call, on a: the customer on the left, the agent on the right,
 * the supervisor on neither; b recorded nothing.
 */
async function expectRecordingWithoutSupervisor(
  known: readonly string[],
  callAt: number,
  endAt: number,
): Promise<void> {
  const a = instances.get('a')!;
  expect(recordings(instances.get('b')!)).toEqual([]);
  let fresh: string[] = [];
  expect(
    await waitFor(
      async () => (fresh = recordings(a).filter((f) => !known.includes(f))).length === 1,
      5000,
    ),
  ).toBe(true);
  await sleep(500); // the room completes the WAV just after the BYEs
  const whole = (audio: PcmAudio) => toneWindow(audio, callAt, callAt + SETTLE_MS, endAt);
  expectTones(
    'recording left',
    whole(wavChannel(fresh[0]!, 0)),
    [CUSTOMER_HZ],
    [SUPERVISOR_HZ, AGENT_HZ],
  );
  expectTones(
    'recording right',
    whole(wavChannel(fresh[0]!, 1)),
    [AGENT_HZ],
    [SUPERVISOR_HZ, CUSTOMER_HZ],
  );
}

describe('monitoring a call the other instance anchors', () => {
  it('the API sent to b is carried out by a: listen, whisper, barge by tone; refusals as on one instance', async () => {
    const a = instances.get('a')!;
    const b = instances.get('b')!;
    const viaB: ApiClient = apiClient(b.httpPort, SUPERVISOR_TOKEN);
    const onA: ApiClient = apiClient(a.httpPort, SUPERVISOR_TOKEN);

    const agent = await phone('1002', AGENT_HZ);
    const customer = await phone('1004', CUSTOMER_HZ);
    const supervisor = await phone('1005', SUPERVISOR_HZ);
    // The hash of the From user pins them (cluster-calls.test.ts lists the pins).
    expect(await Promise.all(['1002', '1004', '1005'].map(pinnedInstance))).toEqual([
      'a',
      'a',
      'b',
    ]);
    await knownEverywhere([agent, customer, supervisor]);

    const onBEvents = await eventStream(b);
    const before = recordings(a);
    const { id, callAt } = await placeCall(customer, agent, b);
    // b lists a's call with its filters, and the join a computed for the supervisor.
    const listed = async (query = '') =>
      ((await viaB.get(`/v1/calls${query}`)).json as { calls: CallView[] }).calls;
    expect(await listed()).toEqual([
      expect.objectContaining({
        id,
        agent: '1002',
        monitors: [],
        join: { modes: ['listen', 'whisper', 'barge', 'takeover'], refusal: null },
      }),
    ]);
    expect((await listed('?agent=1002')).map((c) => c.id)).toEqual([id]);
    expect(await listed('?agent=1003')).toEqual([]);
    expect((await listed('?hand=false')).map((c) => c.id)).toEqual([id]);
    expect(await listed('?hand=true')).toEqual([]);

    // Refused before any forwarding, by b itself: a wrong token, an agent's scope.
    expect(
      refusal(await viaB.post(`/v1/calls/${id}/monitors`, { mode: 'listen' }, 'wrong-token')),
    ).toEqual({ status: 401, code: 'unauthorized' });
    expect(
      refusal(await viaB.post(`/v1/calls/${id}/monitors`, { mode: 'listen' }, AGENT_TOKEN)),
    ).toEqual({ status: 403, code: 'forbidden' });
    // Refused by the owner, and answered through b exactly as a answers it.
    const naming = { mode: 'listen', supervisor: '1001' };
    const namingOnA = await onA.post(`/v1/calls/${id}/monitors`, naming);
    const namingViaB = await viaB.post(`/v1/calls/${id}/monitors`, naming);
    expect(refusal(namingOnA)).toEqual({ status: 403, code: 'forbidden' });
    expect(summary(namingViaB)).toEqual(summary(namingOnA));
    expect(namingViaB.headers['x-callwatch-handled-by']).toBe('a');

    // POST to b: a starts the session and rings the supervisor's phone.
    const started = await viaB.post(`/v1/calls/${id}/monitors`, { mode: 'listen' });
    expect(summary(started)).toMatchObject({ status: 201, body: { callId: id, agent: '1002' } });
    expect(started.headers['x-callwatch-handled-by']).toBe('a');
    const session = started.json as MonitorView;
    await supervisor.waitForEvent('CALL_ESTABLISHED', 10000);
    const listenAt = Date.now();
    // The call as b shows it (from a): the session is on it.
    const shown = await viaB.get(`/v1/calls/${id}`);
    expect(shown.status).toBe(200);
    expect((shown.json as CallView).monitors).toEqual([
      expect.objectContaining({ id: session.id, supervisor: '1005', mode: 'listen' }),
    ]);
    // b's list shows the session (the owner wrote the call again when it started).
    expect(
      await waitFor(
        async () => (await listed())[0]?.monitors.some((m) => m.id === session.id) === true,
        3000,
      ),
    ).toBe(true);
    // A second start is refused by a with its own code, and b says the same.
    const againOnA = await onA.post(`/v1/calls/${id}/monitors`, { mode: 'listen' });
    const againViaB = await viaB.post(`/v1/calls/${id}/monitors`, { mode: 'listen' });
    expect(againOnA.status).toBeGreaterThanOrEqual(400);
    expect(summary(againViaB)).toEqual(summary(againOnA));
    await sleep(PHASE_MS);

    const whisper = await viaB.patch(`/v1/monitors/${session.id}`, { mode: 'whisper' });
    expect(summary(whisper)).toMatchObject({ status: 200, body: { mode: 'whisper' } });
    const whisperAt = Date.now();
    await sleep(PHASE_MS);

    const barge = await viaB.patch(`/v1/monitors/${session.id}`, { mode: 'barge' });
    expect(summary(barge)).toMatchObject({ status: 200, body: { mode: 'barge' } });
    const bargeAt = Date.now();
    await sleep(PHASE_MS);
    const endAt = Date.now();

    const left = await viaB.delete(`/v1/monitors/${session.id}`);
    expect(left.status).toBe(204);
    expect(left.headers['x-callwatch-handled-by']).toBe('a');
    await supervisor.waitForEvent('CALL_CLOSED', 10000);
    // The session is gone: b now answers 404 like a does.
    expect(refusal(await viaB.delete(`/v1/monitors/${session.id}`))).toEqual(
      refusal(await onA.delete(`/v1/monitors/${session.id}`)),
    );

    await customer.command('hangup');
    await customer.waitForEvent('CALL_CLOSED', 10000);
    await agent.waitForEvent('CALL_CLOSED', 10000);

    const C = CUSTOMER_HZ;
    const A = AGENT_HZ;
    const S = SUPERVISOR_HZ;
    const c = (from: number, to: number) => toneWindow(heardAudio(customer), callAt, from, to);
    const ag = (from: number, to: number) => toneWindow(heardAudio(agent), callAt, from, to);
    const s = (from: number, to: number) => toneWindow(heardAudio(supervisor), listenAt, from, to);
    const phases: Array<[string, PcmAudio, number[], number[]]> = [
      ['supervisor, listen', s(listenAt + SETTLE_MS, whisperAt), [C, A], [S]],
      ['agent, listen', ag(listenAt + SETTLE_MS, whisperAt), [C], [S]],
      ['customer, listen', c(listenAt + SETTLE_MS, whisperAt), [A], [S]],
      ['agent, whisper', ag(whisperAt + SETTLE_MS, bargeAt), [C, S], []],
      ['customer, whisper', c(whisperAt + SETTLE_MS, bargeAt), [A], [S]],
      ['agent, barge', ag(bargeAt + SETTLE_MS, endAt), [C, S], []],
      ['customer, barge', c(bargeAt + SETTLE_MS, endAt), [A, S], []],
    ];
    for (const [label, audio, present, absent] of phases)
      expectTones(label, audio, present, absent);

    await expectRecordingWithoutSupervisor(before, callAt, endAt);

    // b's event stream saw a's call and session, each event once, naming a as origin…
    const expected: Array<[string, unknown]> = [
      ['call.created', 'a'],
      ['call.answered', 'a'],
      ['monitor.started', 'a'],
      ['monitor.answered', 'a'],
      ['monitor.mode-changed', 'a'],
      ['monitor.mode-changed', 'a'],
      ['monitor.ended', 'a'],
      ['call.ended', 'a'],
    ];
    const seen = () => callEvents(onBEvents.received, id).filter(([t]) => t !== 'monitor.refused');
    await waitFor(async () => seen().length >= expected.length, 5000);
    expect(seen()).toEqual(expected);
    // …and a client resuming on b with ?since= gets them again, in b's own order.
    const first = onBEvents.received.find((e) => e.callId === id)!;
    const resumed = await eventStream(b, first.seq - 1);
    const seqs = (c: EventStreamClient) =>
      c.received.filter((e) => e.callId === id).map((e) => [e.seq, e.type]);
    await waitFor(async () => seqs(resumed).length >= seqs(onBEvents).length, 5000);
    expect(seqs(resumed)).toEqual(seqs(onBEvents));
    expect(callEvents(resumed.received, id)).toEqual(callEvents(onBEvents.received, id));

    // The audit entries of b's requests are a's, with the token's name as the actor.
    const actions = async (server: ServerHandle) =>
      (
        (await server.httpGet('/v1/audit?supervisor=1005')).json as {
          entries: Array<{ action: string; actor: string; trigger: string; mode: string | null }>;
        }
      ).entries
        .filter((e) => e.actor === 'sam' && e.action !== 'refusal')
        .map((e) => [e.action, e.mode, e.trigger]);
    expect(await actions(a)).toEqual([
      ['start', 'listen', 'api'],
      ['mode-change', 'whisper', 'api'],
      ['mode-change', 'barge', 'api'],
      ['stop', 'barge', 'api'],
    ]);
    expect(await actions(b)).toEqual([]);
  }, 120000);

  it('Yeastar and CTI requests sent to b act on the call a anchors: listen and whisper by tone; refusals as a answers them', async () => {
    const a = instances.get('a')!;
    const b = instances.get('b')!;
    const viaB = apiClient(b.httpPort, SUPERVISOR_TOKEN);
    const onA = apiClient(a.httpPort, SUPERVISOR_TOKEN);
    const agent = await phone('1002', AGENT_HZ);
    const customer = await phone('1004', CUSTOMER_HZ);
    const supervisor = await phone('1005', SUPERVISOR_HZ);
    await knownEverywhere([agent, customer, supervisor]);
    const { id, callAt } = await placeCall(customer, agent, b);
    // Yeastar's way: the token in the query, no Authorization header.
    const yeastar = (client: ApiClient, path: string, body: unknown, token = SUPERVISOR_TOKEN) =>
      client.request('POST', `/api/v1.1.0/extension/${path}?token=${token}`, {
        token: null,
        body,
      });
    const listenBody = { listener: '1005', listenedext: '1002' };

    // Refused by the owner, and answered through b exactly as a answers it: a supervisor
    // token naming another listener (10009), an agent in no call (10007, decided here).
    const naming = { listener: '1001', listenedext: '1002' };
    const namingOnA = await yeastar(onA, 'listen', naming);
    const namingViaB = await yeastar(viaB, 'listen', naming);
    expect(summary(namingOnA)).toEqual({ status: 200, body: { status: 'Failed', errno: '10009' } });
    expect(summary(namingViaB)).toEqual(summary(namingOnA));
    expect(namingViaB.headers['x-callwatch-handled-by']).toBe('a');
    const idle = { listener: '1005', listenedext: '1003' };
    expect(summary(await yeastar(viaB, 'listen', idle))).toEqual(
      summary(await yeastar(onA, 'listen', idle)),
    );

    // Yeastar listen sent to b: a starts the session and rings the supervisor.
    const started = await yeastar(viaB, 'listen', listenBody);
    expect(summary(started)).toEqual({ status: 200, body: { status: 'Success' } });
    expect(started.headers['x-callwatch-handled-by']).toBe('a');
    await supervisor.waitForEvent('CALL_ESTABLISHED', 10000);
    const listenAt = Date.now();
    const sessionsOnA = async () =>
      ((await onA.get(`/v1/calls/${id}`)).json as CallView).monitors.filter(
        (m) => m.state !== 'ended',
      );
    const [yeastarSession] = await sessionsOnA();
    expect(yeastarSession).toMatchObject({ supervisor: '1005', mode: 'listen' });
    // A second start: a answers "not idle" (10008), and so does b.
    const againViaB = await yeastar(viaB, 'whisper', { whisperer: '1005', whisperedext: '1002' });
    expect(summary(againViaB)).toEqual({ status: 200, body: { status: 'Failed', errno: '10008' } });
    expect(againViaB.headers['x-callwatch-handled-by']).toBe('a');
    await sleep(PHASE_MS);
    const listenEnd = Date.now();
    expect((await viaB.delete(`/v1/monitors/${yeastarSession!.id}`)).status).toBe(204);
    await supervisor.waitForEvent('CALL_CLOSED', 10000);

    // CTI SetSilentMonitoring sent to b: a's session id comes back, the mode changes and
    // the session ends through b too.
    const cti = {
      channel: 'Cisco',
      topic: 'Agent',
      subtopic: 'SetSilentMonitoring',
      data: { FromAddress: '1005', ToAddress: '1002' },
    };
    const ctiStarted = await viaB.post('/api/cti/messages', cti);
    expect(summary(ctiStarted)).toMatchObject({ status: 202, body: { status: 'accepted' } });
    expect(ctiStarted.headers['x-callwatch-handled-by']).toBe('a');
    const ctiSession = (ctiStarted.json as { sessionId: string }).sessionId;
    expect((await sessionsOnA()).map((m) => [m.id, m.mode])).toEqual([[ctiSession, 'listen']]);
    await supervisor.waitForEvent('CALL_ESTABLISHED', 10000);
    const whisper = await viaB.patch(`/v1/monitors/${ctiSession}`, { mode: 'whisper' });
    expect(summary(whisper)).toMatchObject({ status: 200, body: { mode: 'whisper' } });
    const whisperAt = Date.now();
    await sleep(PHASE_MS);
    const whisperEnd = Date.now();
    // A CTI message naming another supervisor: a's 403, through b.
    const other = { ...cti, data: { FromAddress: '1001', ToAddress: '1002' } };
    expect(refusal(await viaB.post('/api/cti/messages', other))).toEqual(
      refusal(await onA.post('/api/cti/messages', other)),
    );
    expect((await viaB.delete(`/v1/monitors/${ctiSession}`)).status).toBe(204);
    await supervisor.waitForEvent('CALL_CLOSED', 10000);
    expect(await sessionsOnA()).toEqual([]);

    await customer.command('hangup');
    await customer.waitForEvent('CALL_CLOSED', 10000);
    await agent.waitForEvent('CALL_CLOSED', 10000);

    const C = CUSTOMER_HZ;
    const A = AGENT_HZ;
    const S = SUPERVISOR_HZ;
    const c = (from: number, to: number) => toneWindow(heardAudio(customer), callAt, from, to);
    const ag = (from: number, to: number) => toneWindow(heardAudio(agent), callAt, from, to);
    const phases: Array<[string, PcmAudio, number[], number[]]> = [
      ['agent, Yeastar listen', ag(listenAt + SETTLE_MS, listenEnd), [C], [S]],
      ['customer, Yeastar listen', c(listenAt + SETTLE_MS, listenEnd), [A], [S]],
      ['agent, CTI then whisper', ag(whisperAt + SETTLE_MS, whisperEnd), [C, S], []],
      ['customer, CTI then whisper', c(whisperAt + SETTLE_MS, whisperEnd), [A], [S]],
    ];
    for (const [label, audio, present, absent] of phases)
      expectTones(label, audio, present, absent);

    // The sessions are a's, with their triggers; b audited nothing.
    const actions = async (server: ServerHandle) =>
      (
        (await server.httpGet('/v1/audit?supervisor=1005')).json as {
          entries: Array<{ action: string; actor: string; trigger: string; mode: string | null }>;
        }
      ).entries
        .filter((e) => e.actor === 'sam' && e.action === 'start')
        .map((e) => [e.trigger, e.mode]);
    expect(await actions(a)).toEqual(
      expect.arrayContaining([
        ['yeastar', 'listen'],
        ['cti', 'listen'],
      ]),
    );
    expect(await actions(b)).toEqual([]);
  }, 120000);

  it('a web session signed in on b acts on the call a anchors, through b and on a; signed out on b, it is gone on a', async () => {
    const a = instances.get('a')!;
    const b = instances.get('b')!;
    const agent = await phone('1002', AGENT_HZ);
    const customer = await phone('1004', CUSTOMER_HZ);
    const supervisor = await phone('1005', SUPERVISOR_HZ);
    await knownEverywhere([agent, customer, supervisor]);
    const { id } = await placeCall(customer, agent, b);

    const signIn = await apiRequest(b.httpPort, 'POST', '/v1/session', {
      token: null,
      body: { extension: '1005', password: 'pw1005' },
    });
    expect(summary(signIn)).toMatchObject({ status: 200, body: { extension: '1005' } });
    const setCookie = [signIn.headers['set-cookie'] ?? []].flat().join(';');
    const cookie = /callwatch_session=([^;]+)/.exec(setCookie)?.[0];
    expect(cookie).toBeDefined();
    // A browser sends its cookie and no token.
    const withSession = (server: ServerHandle) => ({
      request: (method: string, path: string, body?: unknown) =>
        apiRequest(server.httpPort, method, path, {
          token: null,
          headers: { cookie: cookie! },
          ...(body !== undefined ? { body } : {}),
        }),
    });
    const viaB = withSession(b);
    const onA = withSession(a);
    expect(summary(await onA.request('GET', '/v1/session'))).toMatchObject({
      status: 200,
      body: { extension: '1005', scope: 'supervisor' },
    });

    // Join through b: a starts the session, as the signed-in supervisor.
    const started = await viaB.request('POST', `/v1/calls/${id}/monitors`, { mode: 'listen' });
    expect(summary(started)).toMatchObject({
      status: 201,
      body: { callId: id, supervisor: '1005' },
    });
    expect(started.headers['x-callwatch-handled-by']).toBe('a');
    const session = (started.json as MonitorView).id;
    await supervisor.waitForEvent('CALL_ESTABLISHED', 10000);
    const listenAt = Date.now();
    await sleep(PHASE_MS);
    const listenEnd = Date.now();
    // The same cookie on a itself: a acts on its own call.
    const whisper = await onA.request('PATCH', `/v1/monitors/${session}`, { mode: 'whisper' });
    expect(summary(whisper)).toMatchObject({ status: 200, body: { mode: 'whisper' } });
    expect(whisper.headers['x-callwatch-handled-by']).toBeUndefined();
    const left = await viaB.request('DELETE', `/v1/monitors/${session}`);
    expect(left.status).toBe(204);
    expect(left.headers['x-callwatch-handled-by']).toBe('a');
    await supervisor.waitForEvent('CALL_CLOSED', 10000);
    expectTones(
      'supervisor, listen (web session through b)',
      toneWindow(heardAudio(supervisor), listenAt, listenAt + SETTLE_MS, listenEnd),
      [CUSTOMER_HZ, AGENT_HZ],
      [SUPERVISOR_HZ],
    );

    // a's audit names the web session as the actor; b audited nothing of it.
    const actions = async (server: ServerHandle) =>
      (
        (await server.httpGet('/v1/audit?supervisor=1005')).json as {
          entries: Array<{ action: string; actor: string; mode: string | null }>;
        }
      ).entries
        .filter((e) => e.actor === 'web-1005' && e.action !== 'refusal')
        .map((e) => [e.action, e.mode]);
    expect(await actions(a)).toEqual([
      ['start', 'listen'],
      ['mode-change', 'whisper'],
      ['stop', 'whisper'],
    ]);
    expect(await actions(b)).toEqual([]);

    // Signed out on b: the session is gone on a at once, for a's own calls too.
    expect((await viaB.request('DELETE', '/v1/session')).status).toBe(204);
    expect(refusal(await onA.request('GET', '/v1/session'))).toEqual({
      status: 401,
      code: 'unauthorized',
    });
    expect(
      refusal(await onA.request('POST', `/v1/calls/${id}/monitors`, { mode: 'listen' })),
    ).toEqual({ status: 401, code: 'unauthorized' });
    expect(
      refusal(await viaB.request('POST', `/v1/calls/${id}/monitors`, { mode: 'listen' })),
    ).toEqual({ status: 401, code: 'unauthorized' });

    await customer.command('hangup');
    await customer.waitForEvent('CALL_CLOSED', 10000);
    await agent.waitForEvent('CALL_CLOSED', 10000);
  }, 120000);

  it("presence set on b is what a checks: away on b, a refuses; available on a, b's copy follows", async () => {
    const a = instances.get('a')!;
    const b = instances.get('b')!;
    const viaB = apiClient(b.httpPort, SUPERVISOR_TOKEN);
    const onA = apiClient(a.httpPort, SUPERVISOR_TOKEN);
    const agent = await phone('1002', AGENT_HZ);
    const customer = await phone('1004', CUSTOMER_HZ);
    const supervisor = await phone('1005', SUPERVISOR_HZ);
    await knownEverywhere([agent, customer, supervisor]);
    const { id } = await placeCall(customer, agent, b);
    const onAEvents = await eventStream(a);
    const statusOn = async (client: ApiClient) =>
      ((await client.get('/v1/me/presence')).json as { status: string }).status;

    // Away, set on b: a (the call's owner) knows it and refuses, through b and itself.
    expect(
      summary(await viaB.request('PUT', '/v1/me/presence', { body: { status: 'away' } })),
    ).toEqual({ status: 200, body: { status: 'away' } });
    expect(await waitFor(async () => (await statusOn(onA)) === 'away', 3000)).toBe(true);
    const refusedViaB = await viaB.post(`/v1/calls/${id}/monitors`, { mode: 'listen' });
    expect(refusal(refusedViaB)).toEqual({ status: 409, code: 'monitor-unavailable' });
    expect(refusedViaB.headers['x-callwatch-handled-by']).toBe('a');
    expect(refusal(await onA.post(`/v1/calls/${id}/monitors`, { mode: 'listen' }))).toEqual({
      status: 409,
      code: 'monitor-unavailable',
    });
    // a raised presence.changed on its own stream for the change made on b.
    expect(
      await waitFor(
        async () =>
          onAEvents.received.some(
            (e) => e.type === 'presence.changed' && e.extension === '1005' && e.status === 'away',
          ),
        3000,
      ),
    ).toBe(true);

    // Available again, set on a this time: b follows, and a lets the supervisor join.
    expect(
      summary(await onA.request('PUT', '/v1/me/presence', { body: { status: 'available' } })),
    ).toEqual({ status: 200, body: { status: 'available' } });
    expect(await waitFor(async () => (await statusOn(viaB)) === 'available', 3000)).toBe(true);
    // Held longer than the presence entries' expiry: nothing lapses back or forth.
    await sleep(6000);
    expect([await statusOn(onA), await statusOn(viaB)]).toEqual(['available', 'available']);
    await joinViaBAndLeave(id, supervisor, viaB, onA);

    // Dnd on b, held past the expiry: b refreshes it, so a still refuses.
    await viaB.request('PUT', '/v1/me/presence', { body: { status: 'dnd' } });
    expect(await waitFor(async () => (await statusOn(onA)) === 'dnd', 3000)).toBe(true);
    await sleep(6000);
    expect(await statusOn(onA)).toBe('dnd');
    expect(refusal(await viaB.post(`/v1/calls/${id}/monitors`, { mode: 'listen' }))).toEqual({
      status: 409,
      code: 'monitor-unavailable',
    });
    await viaB.request('PUT', '/v1/me/presence', { body: { status: 'available' } });
    expect(await waitFor(async () => (await statusOn(onA)) === 'available', 3000)).toBe(true);

    await customer.command('hangup');
    await customer.waitForEvent('CALL_CLOSED', 10000);
    await agent.waitForEvent('CALL_CLOSED', 10000);
  }, 120000);

  it('a feature code reaching b is redirected to a: listen, whisper, barge by tone', async () => {
    const a = instances.get('a')!;
    const b = instances.get('b')!;
    const agent = await phone('1002', AGENT_HZ);
    const customer = await phone('1004', CUSTOMER_HZ);
    const supervisor = await phone('1005', SUPERVISOR_HZ);
    const intruder = await phone('1003', 1300);
    expect(await pinnedInstance('1003')).toBe('b');
    await knownEverywhere([agent, customer, supervisor, intruder]);
    const before = recordings(a);
    const { callAt } = await placeCall(customer, agent, b);

    // 1003 may not monitor: a refuses it as one instance does (403), and the phone never
    // saw the redirect b gave Kamailio.
    expect((await intruder.command('dial', `sip:*901002@127.0.0.1:${kamailio!.port}`)).ok).toBe(
      true,
    );
    await intruder.waitForEvent('CALL_CLOSED', 10000);
    const inviteFinal = (t: TracedSip): boolean =>
      t.direction === 'received' &&
      (t.message.status ?? 0) >= 200 &&
      / INVITE$/i.test(t.message.header('CSeq') ?? '');
    const finals = (await intruder.waitForTrace(inviteFinal))
      .filter(inviteFinal)
      .map((t) => t.message.status);
    expect(finals.at(-1)).toBe(403);
    expect(finals).not.toContain(302);

    expect((await supervisor.command('dial', `sip:*901002@127.0.0.1:${kamailio!.port}`)).ok).toBe(
      true,
    );
    await supervisor.waitForEvent('CALL_ESTABLISHED', 10000);
    const listenAt = Date.now();
    // b redirected it, Kamailio relayed it to a, and a challenged and accepted the phone.
    expect(kamailio!.log()).toMatch(
      new RegExp(
        `INVITE from 1005 redirected to instance sip:\\*901002@127\\.0\\.0\\.1:${specs[0]!.sipPort}`,
      ),
    );
    expect(supervisor.trace().some((t) => t.message.status === 302)).toBe(false);
    await sleep(PHASE_MS);

    expect((await supervisor.command('sndcode', '5')).ok).toBe(true);
    const whisperAt = Date.now();
    await sleep(PHASE_MS);

    expect((await supervisor.command('sndcode', '6')).ok).toBe(true);
    const bargeAt = Date.now();
    await sleep(PHASE_MS);
    const endAt = Date.now();

    await supervisor.command('hangup');
    await supervisor.waitForEvent('CALL_CLOSED', 10000);
    await customer.command('hangup');
    await customer.waitForEvent('CALL_CLOSED', 10000);
    await agent.waitForEvent('CALL_CLOSED', 10000);

    const C = CUSTOMER_HZ;
    const A = AGENT_HZ;
    const S = SUPERVISOR_HZ;
    const c = (from: number, to: number) => toneWindow(heardAudio(customer), callAt, from, to);
    const ag = (from: number, to: number) => toneWindow(heardAudio(agent), callAt, from, to);
    const s = (from: number, to: number) => toneWindow(heardAudio(supervisor), listenAt, from, to);
    const phases: Array<[string, PcmAudio, number[], number[]]> = [
      ['supervisor, listen', s(listenAt + SETTLE_MS, whisperAt), [C, A], [S]],
      ['agent, listen', ag(listenAt + SETTLE_MS, whisperAt), [C], [S]],
      ['customer, listen', c(listenAt + SETTLE_MS, whisperAt), [A], [S]],
      ['agent, whisper', ag(whisperAt + SETTLE_MS, bargeAt), [C, S], []],
      ['customer, whisper', c(whisperAt + SETTLE_MS, bargeAt), [A], [S]],
      ['agent, barge', ag(bargeAt + SETTLE_MS, endAt), [C, S], []],
      ['customer, barge', c(bargeAt + SETTLE_MS, endAt), [A, S], []],
    ];
    for (const [label, audio, present, absent] of phases) {
      expectTones(label, audio, present, absent);
    }
    await expectRecordingWithoutSupervisor(before, callAt, endAt);

    // The session and the refusal are a's, in a's audit log; b has none of them.
    const entries = async (server: ServerHandle) =>
      (
        (await server.httpGet('/v1/audit?agent=1002')).json as {
          entries: Array<{ action: string; trigger: string; actor: string; reason: string | null }>;
        }
      ).entries
        .filter((e) => e.trigger === 'feature-code' || e.trigger === 'dtmf')
        .map((e) => [e.action, e.actor]);
    expect(await entries(a)).toEqual(
      expect.arrayContaining([
        ['refusal', '1003'],
        ['start', '1005'],
      ]),
    );
    expect(await entries(b)).toEqual([]);
  }, 120000);

  it('Redis down: requests for the other instance answer 503 (SIP 480), local ones work; both recover', async () => {
    const a = instances.get('a')!;
    const b = instances.get('b')!;
    const viaB = apiClient(b.httpPort, SUPERVISOR_TOKEN);
    const onA = apiClient(a.httpPort, SUPERVISOR_TOKEN);
    const agent = await phone('1002', AGENT_HZ);
    const customer = await phone('1004', CUSTOMER_HZ);
    const supervisor = await phone('1005', SUPERVISOR_HZ);
    await knownEverywhere([agent, customer, supervisor]);
    const { id } = await placeCall(customer, agent, b);
    expect((await viaB.get(`/v1/calls/${id}`)).status).toBe(200);
    const onBEvents = await eventStream(b);

    const downAt = Date.now();
    await redis!.stop();
    const down = await viaB.get(`/v1/calls/${id}`);
    expect(refusal(down)).toEqual({ status: 503, code: 'cluster-unavailable' });
    expect(down.headers['retry-after']).toBe('1');
    // a answers for its own call without Redis; the list of every instance's calls cannot.
    expect((await onA.get(`/v1/calls/${id}`)).status).toBe(200);
    expect(refusal(await viaB.get('/v1/calls'))).toEqual({
      status: 503,
      code: 'cluster-unavailable',
    });
    // The feature code reaching b cannot be placed: 480 (503 would take b out of Kamailio's set).
    expect((await supervisor.command('dial', `sip:*901002@127.0.0.1:${kamailio!.port}`)).ok).toBe(
      true,
    );
    await supervisor.waitForEvent('CALL_CLOSED', 10000);
    // (Not the refusal of an agent in no call, also 480: the reason says which.)
    // The INVITE's final answer (the phone's other transactions, e.g. a REGISTER refresh,
    // are not this check's business; all finals are in the message if it fails). The trace
    // is read from the phone's log, a channel apart from its events: the close event may
    // come first, so the final is awaited there (bounded) before it is judged.
    const receivedFinals = () =>
      supervisor
        .trace()
        .filter((t) => t.direction === 'received' && (t.message.status ?? 0) >= 200)
        .map((t) => ({
          status: t.message.status,
          reason: t.message.reason,
          cseq: t.message.header('CSeq'),
        }));
    const inviteFinal = () =>
      receivedFinals()
        .filter((f) => / INVITE$/i.test(f.cseq ?? ''))
        .at(-1);
    await waitFor(async () => inviteFinal() !== undefined, 5000);
    const finals = receivedFinals();
    const final = inviteFinal();
    // Where Kamailio sent it (b, unless b had just dropped out of its set).
    const routed = [
      ...kamailio!.log().matchAll(/INVITE from 1005 to instance sip:127\.0\.0\.1:(\d+)/g),
    ].map((m) => specs.find((spec) => String(spec.sipPort) === m[1])?.id);
    expect({ final, finals, routed }).toMatchObject({
      final: { status: 480, reason: 'Shared State Unavailable' },
    });

    await redis!.run();
    // Recovered by themselves: the owner writes its call and heartbeat again.
    expect(
      await waitFor(async () => (await viaB.get(`/v1/calls/${id}`)).status === 200, 15000),
    ).toBe(true);
    // b's stream says a's events of the outage are lost (the web app reloads its list).
    expect(
      await waitFor(
        async () => onBEvents.received.some((e) => e.type === 'cluster.events-gap'),
        5000,
      ),
    ).toBe(true);
    const gaps = onBEvents.received.filter((e) => e.type === 'cluster.events-gap');
    expect(gaps).toHaveLength(1);
    expect(Date.parse(gaps[0]!.since as string)).toBeGreaterThanOrEqual(downAt - 1000);
    const all = await viaB.get('/v1/calls');
    expect(all.status).toBe(200);
    expect((all.json as { calls: CallView[] }).calls.map((c) => c.id)).toEqual([id]);
    expect((await supervisor.command('dial', `sip:*901002@127.0.0.1:${kamailio!.port}`)).ok).toBe(
      true,
    );
    await supervisor.waitForEvent('CALL_ESTABLISHED', 10000);
    await supervisor.command('hangup');
    await supervisor.waitForEvent('CALL_CLOSED', 10000);
    await customer.command('hangup');
    await customer.waitForEvent('CALL_CLOSED', 10000);
  }, 120000);

  it('presence with Redis down: each instance answers and checks what it last knew; back, the later change wins', async () => {
    const a = instances.get('a')!;
    const b = instances.get('b')!;
    const viaB = apiClient(b.httpPort, SUPERVISOR_TOKEN);
    const onA = apiClient(a.httpPort, SUPERVISOR_TOKEN);
    const agent = await phone('1002', AGENT_HZ);
    const customer = await phone('1004', CUSTOMER_HZ);
    const supervisor = await phone('1005', SUPERVISOR_HZ);
    await knownEverywhere([agent, customer, supervisor]);
    const { id } = await placeCall(customer, agent, b);
    const statusOn = async (client: ApiClient) => {
      const r = await client.get('/v1/me/presence');
      return r.status === 200 ? (r.json as { status: string }).status : `HTTP ${r.status}`;
    };
    const redisUp = async (server: ServerHandle) =>
      (await server.metrics()).find((m) => m.name === 'callwatch_cluster_redis_up')?.value;

    // Away, set on b while Redis is up: a knows it.
    await viaB.request('PUT', '/v1/me/presence', { body: { status: 'away' } });
    expect(await waitFor(async () => (await statusOn(onA)) === 'away', 3000)).toBe(true);
    const onBEvents = await eventStream(b);

    await redis!.stop();
    for (const server of [a, b]) {
      expect(await waitFor(async () => (await redisUp(server)) === 0, 5000)).toBe(true);
    }
    // Held past the entries' expiry: both answer the status they last knew (nothing
    // lapses without Redis), and a, the call's owner, still refuses the supervisor.
    await sleep(6000);
    expect([await statusOn(onA), await statusOn(viaB)]).toEqual(['away', 'away']);
    expect(refusal(await onA.post(`/v1/calls/${id}/monitors`, { mode: 'listen' }))).toEqual({
      status: 409,
      code: 'monitor-unavailable',
    });
    // Available, set on a during the outage (later than b's away): a answers it at once,
    // b cannot know it yet.
    expect(
      summary(await onA.request('PUT', '/v1/me/presence', { body: { status: 'available' } })),
    ).toEqual({ status: 200, body: { status: 'available' } });
    expect(await statusOn(viaB)).toBe('away');

    await redis!.run();
    // Recovered by itself: the later change (a's) wins on both instances, b raises it on
    // its stream, and it holds past the expiry (b's older away is not written back).
    expect(await waitFor(async () => (await statusOn(viaB)) === 'available', 15000)).toBe(true);
    expect(
      onBEvents.received.some(
        (e) => e.type === 'presence.changed' && e.extension === '1005' && e.status === 'available',
      ),
    ).toBe(true);
    await sleep(6000);
    expect([await statusOn(onA), await statusOn(viaB)]).toEqual(['available', 'available']);
    expect(redis!.keys('callwatch:presence:*')).toEqual([]);
    // a lets the supervisor join again.
    await joinViaBAndLeave(id, supervisor, viaB, onA);

    await customer.command('hangup');
    await customer.waitForEvent('CALL_CLOSED', 10000);
    await agent.waitForEvent('CALL_CLOSED', 10000);
  }, 120000);

  // Last: it leaves a recording on b, which the tests above check b does not have.
  it('a supervisor monitoring on a is busy for b: b refuses monitor-busy as one instance would', async () => {
    const a = instances.get('a')!;
    const b = instances.get('b')!;
    const onA = apiClient(a.httpPort, SUPERVISOR_TOKEN);
    const onB = apiClient(b.httpPort, SUPERVISOR_TOKEN);
    const agent = await phone('1002', AGENT_HZ);
    const customer = await phone('1004', CUSTOMER_HZ);
    const supervisor = await phone('1005', SUPERVISOR_HZ);
    // A second call, anchored on b: 1003 calls 1001 (both pinned to b).
    const other = await phone('1001', 1300);
    const otherCaller = await phone('1003', 600);
    expect(await Promise.all(['1001', '1003'].map(pinnedInstance))).toEqual(['b', 'b']);
    await knownEverywhere([agent, customer, supervisor, other, otherCaller]);
    const { id } = await placeCall(customer, agent, b);
    expect((await otherCaller.command('dial', `sip:1001@127.0.0.1:${kamailio!.port}`)).ok).toBe(
      true,
    );
    await otherCaller.waitForEvent('CALL_ESTABLISHED', 10000);
    await other.waitForEvent('CALL_ESTABLISHED', 10000);
    let otherId: string | undefined;
    expect(
      await waitFor(async () => {
        const call = (await sharedCalls(b)).find((c) => c.caller === '1003');
        otherId = call?.state === 'answered' && call.instance === 'b' ? call.id : undefined;
        return otherId !== undefined;
      }, 5000),
    ).toBe(true);

    // Listening on a's call (started on a).
    const started = await onA.post(`/v1/calls/${id}/monitors`, { mode: 'listen' });
    expect(started.status).toBe(201);
    await supervisor.waitForEvent('CALL_ESTABLISHED', 10000);
    const sessionId = (started.json as MonitorView).id;
    // b refuses another session for the same supervisor, asked directly or through a.
    const busy = { status: 409, code: 'monitor-busy' };
    expect(
      await waitFor(
        async () =>
          refusal(await onB.post(`/v1/calls/${otherId}/monitors`, { mode: 'listen' })).code ===
          'monitor-busy',
        3000,
      ),
    ).toBe(true);
    const throughA = await onA.post(`/v1/calls/${otherId}/monitors`, { mode: 'listen' });
    expect(refusal(throughA)).toEqual(busy);
    expect(throughA.headers['x-callwatch-handled-by']).toBe('b');
    // b's listing says so too (join's refusal).
    const listedOnB = ((await onB.get('/v1/calls')).json as { calls: CallView[] }).calls;
    expect(listedOnB.find((c) => c.id === otherId)?.join).toEqual({
      modes: [],
      refusal: expect.objectContaining({ code: 'monitor-busy' }),
    });

    // Left on a: b lets the supervisor start on b's call.
    await leaveOnceActive(id, sessionId, supervisor, onA, onA);
    let second: Awaited<ReturnType<ApiClient['post']>> | undefined;
    expect(
      await waitFor(async () => {
        second = await onB.post(`/v1/calls/${otherId}/monitors`, { mode: 'listen' });
        return second.status === 201;
      }, 3000),
    ).toBe(true);
    await supervisor.waitForEvent('CALL_ESTABLISHED', 10000);
    const secondId = (second!.json as MonitorView).id;
    expect(
      await waitFor(
        async () =>
          ((await onB.get(`/v1/calls/${otherId}`)).json as CallView).monitors.some(
            (m) => m.id === secondId && m.state === 'active',
          ),
        5000,
      ),
    ).toBe(true);
    expect((await onB.delete(`/v1/monitors/${secondId}`)).status).toBe(204);
    await supervisor.waitForEvent('CALL_CLOSED', 10000);

    for (const [caller, callee] of [
      [customer, agent],
      [otherCaller, other],
    ] as const) {
      await caller.command('hangup');
      await caller.waitForEvent('CALL_CLOSED', 10000);
      await callee.waitForEvent('CALL_CLOSED', 10000);
    }
  }, 120000);
});
