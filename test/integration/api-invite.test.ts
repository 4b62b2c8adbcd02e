/**
 * Two ways a third phone joins a call through the REST API, with real phones (baresip):
 * - an agent invites another agent (`callMonitorAccess`, docs/architecture.md §11.1) into its own call with
 *   `POST /v1/calls/{id}/invite`: the invited agent's phone is rung and joins as a third
 *   party, heard by both sides (barge); an agent without callMonitorAccess is refused, and
 *   an agent token cannot invite into someone else's call;
 * - a supervisor's phone that does not auto-answer rings: the session is 'calling' until
 *   the phone is answered by hand, then 'active', and the supervisor hears the call.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { apiClient, summary, type ApiClient } from '../helpers/api.js';
import { startBaresip, type BaresipPhone } from '../helpers/baresip.js';
import {
  AGENT_HZ,
  CUSTOMER_HZ,
  PHASE_MS,
  PhonePool,
  SETTLE_MS,
  SUPERVISOR_HZ,
  dialAndAnswer,
  expectTones,
  heardAudio,
  sleep,
  startPhoneServer,
  toneWindow,
  waitFor,
} from '../helpers/phoneScene.js';
import type { ServerHandle } from '../helpers/server.js';

const AGENT_TOKEN = 'api-invite-agent-1001-token';
const EXTENSIONS = [
  { number: '1001', password: 'pw1001', role: 'agent' as const },
  { number: '1002', password: 'pw1002', role: 'agent' as const },
  { number: '1003', password: 'pw1003', role: 'agent' as const, callMonitorAccess: true },
  { number: '1004', password: 'pw1004', role: 'agent' as const },
  { number: '1005', password: 'pw1005', role: 'supervisor' as const },
];

let server: ServerHandle;
let api: ApiClient;
const phones = new PhonePool(() => server);
let extra: BaresipPhone[] = [];

beforeAll(async () => {
  server = await startPhoneServer(
    {
      monitoring: {
        groups: [{ name: 'support', monitors: ['1005'], members: ['1001'], modes: ['all'] }],
      },
      api: {
        tokens: [{ name: 'alice', token: AGENT_TOKEN, scope: 'agent', extension: '1001' }],
      },
    },
    EXTENSIONS,
  );
  api = apiClient(server.httpPort);
}, 30000);

afterEach(async () => {
  await phones.killAll();
  await Promise.all(extra.map((p) => p.kill()));
  extra = [];
});

afterAll(async () => {
  await server?.stop();
});

interface CallView {
  id: string;
  agent: string | null;
  monitors: Array<{ id: string; supervisor: string; mode: string; state: string }>;
}

async function onlyCall(): Promise<CallView> {
  const r = await server.httpGet('/v1/calls');
  const calls = (r.json as { calls: CallView[] }).calls;
  expect(calls).toHaveLength(1);
  return calls[0]!;
}

describe('joining a call through the REST API', () => {
  it('an agent invites an agent with callMonitorAccess: heard by both parties', async () => {
    const agent = await phones.phone('1001', AGENT_HZ);
    const customer = await phones.phone('1002', CUSTOMER_HZ);
    const invited = await phones.phone('1003', SUPERVISOR_HZ);
    await phones.phone('1004', 600);
    await dialAndAnswer(server, customer, agent, '1001');
    const callAt = Date.now();
    const call = await onlyCall();
    const path = `/v1/calls/${encodeURIComponent(call.id)}/invite`;

    // 1004 has no callMonitorAccess; the agent token invites into its own call only.
    expect(summary(await api.post(path, { agent: '1004' }, AGENT_TOKEN))).toMatchObject({
      status: 403,
      body: { error: { code: 'not-permitted' } },
    });

    const r = await api.post(path, { agent: '1003' }, AGENT_TOKEN);
    expect(summary(r)).toMatchObject({
      status: 201,
      body: { supervisor: '1003', agent: '1001', mode: 'barge' },
    });
    await invited.waitForEvent('CALL_ESTABLISHED', 10000);
    const joinedAt = Date.now();
    await sleep(PHASE_MS);
    const endAt = Date.now();
    expect((await onlyCall()).monitors).toMatchObject([
      { supervisor: '1003', mode: 'barge', state: 'active' },
    ]);

    await customer.command('hangup');
    await invited.waitForEvent('CALL_CLOSED', 10000);
    const window = (p: BaresipPhone, since: number) =>
      toneWindow(heardAudio(p), since, joinedAt + SETTLE_MS, endAt);
    expectTones('customer', window(customer, callAt), [AGENT_HZ, SUPERVISOR_HZ], []);
    expectTones('agent', window(agent, callAt), [CUSTOMER_HZ, SUPERVISOR_HZ], []);
    expectTones('invited agent', window(invited, joinedAt), [CUSTOMER_HZ, AGENT_HZ], []);
  }, 60000);

  it('an agent token cannot invite into a call that is not its own', async () => {
    const agent = await phones.phone('1004', AGENT_HZ);
    const customer = await phones.phone('1002', CUSTOMER_HZ);
    await dialAndAnswer(server, customer, agent, '1004');
    const call = await onlyCall();
    const r = await api.post(
      `/v1/calls/${encodeURIComponent(call.id)}/invite`,
      { agent: '1003' },
      AGENT_TOKEN,
    );
    expect(summary(r)).toMatchObject({ status: 404, body: { error: { code: 'not-found' } } });
    await customer.command('hangup');
    await agent.waitForEvent('CALL_CLOSED', 10000);
  }, 60000);

  it("a supervisor's phone that does not auto-answer rings, and joins when answered", async () => {
    const agent = await phones.phone('1001', AGENT_HZ);
    const customer = await phones.phone('1002', CUSTOMER_HZ);
    const supervisor = await startBaresip({
      user: '1005',
      password: 'pw1005',
      serverPort: server.sipPort,
      toneHz: SUPERVISOR_HZ,
      audioCodecs: 'pcmu',
      answerMode: 'manual',
    });
    extra.push(supervisor);
    await supervisor.waitForRegistration(10000);
    await dialAndAnswer(server, customer, agent, '1001');
    const call = await onlyCall();

    const r = await api.post(`/v1/calls/${encodeURIComponent(call.id)}/monitors`, {
      supervisor: '1005',
      mode: 'listen',
    });
    expect(summary(r)).toMatchObject({ status: 201, body: { state: 'calling' } });
    await supervisor.waitForEvent('CALL_INCOMING', 10000);
    await sleep(1000);
    // Still ringing: listed, not yet in the call.
    expect((await onlyCall()).monitors).toMatchObject([{ supervisor: '1005', state: 'calling' }]);

    expect((await supervisor.command('accept')).ok).toBe(true);
    await supervisor.waitForEvent('CALL_ESTABLISHED', 10000);
    const answeredAt = Date.now();
    expect(
      await waitFor(async () => (await onlyCall()).monitors[0]?.state === 'active', 5000),
    ).toBe(true);
    await sleep(PHASE_MS);
    const endAt = Date.now();
    await customer.command('hangup');
    await supervisor.waitForEvent('CALL_CLOSED', 10000);
    expectTones(
      'supervisor after answering',
      toneWindow(heardAudio(supervisor), answeredAt, answeredAt + SETTLE_MS, endAt),
      [CUSTOMER_HZ, AGENT_HZ],
      [SUPERVISOR_HZ],
    );
  }, 60000);
});
