/**
 * The CTI adapter (src/http/api/ctiRoutes.ts) on the real server with three baresip
 * phones: a customer (1002, 440 Hz) calls an agent (1001, 1000 Hz); a Cisco
 * SetSilentMonitoring message (docs/architecture.md §11.2) from a supervisor token calls the supervisor's
 * phone (1005, 1800 Hz, auto-answer), which is attached in listen mode and hears both
 * parties. Refusals are the REST API's JSON errors; other messages are 400 bad-request.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { apiRequest, summary } from '../helpers/api.js';
import { type BaresipPhone } from '../helpers/baresip.js';
import { readWav } from '../helpers/goertzel.js';
import {
  activeSessions,
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
import type { ExtensionSpec, ServerHandle } from '../helpers/server.js';

const SUPERVISOR_TOKEN = 'cti-supervisor-1005-token';
const AGENT_TOKEN = 'cti-agent-1001-token-abcdef';

/** 1001 agent, 1002 customer, 1003 forbids monitoring; 1005 monitors 1001 and 1003. */
const EXTENSIONS = [
  { number: '1001', password: 'pw1001', role: 'agent' },
  { number: '1002', password: 'pw1002', role: 'agent' },
  { number: '1003', password: 'pw1003', role: 'agent', allowMonitoring: false },
  { number: '1005', password: 'pw1005', role: 'supervisor' },
] as unknown as ExtensionSpec[];

let server: ServerHandle;
let agent: BaresipPhone;
let customer: BaresipPhone;
let supervisor: BaresipPhone;
const phones = new PhonePool(() => server);

/** POST /api/cti/messages with a bearer token (none when null); `raw` is sent as is. */
async function cti(
  message: unknown,
  opts: { token?: string | null; raw?: string } = {},
): Promise<{ status: number; body: unknown }> {
  return summary(
    await apiRequest(server.httpPort, 'POST', '/api/cti/messages', {
      token: opts.token,
      body: message,
      raw: opts.raw,
    }),
  );
}

/** The published sample message (docs/architecture.md §11.2), from `from` to `to`. */
const setSilentMonitoring = (from: string, to: string) => ({
  channel: 'Cisco',
  topic: 'Agent',
  subtopic: 'SetSilentMonitoring',
  data: { Username: '47483650', FromAddress: from, ToAddress: to },
});

const refused = (status: number, code: string) => ({
  status,
  body: { error: { code, message: expect.any(String) } },
});

beforeAll(async () => {
  server = await startPhoneServer(
    {
      monitoring: {
        enabled: true,
        groups: [{ name: 'team', monitors: ['1005'], members: ['1001', '1003'], modes: ['all'] }],
      },
      api: {
        tokens: [
          { name: 'sam', token: SUPERVISOR_TOKEN, scope: 'supervisor', extension: '1005' },
          { name: 'alice', token: AGENT_TOKEN, scope: 'agent', extension: '1001' },
        ],
      },
    },
    EXTENSIONS,
  );
  ({ agent, customer, supervisor } = await startMonitoringPhones(phones));
}, 60000);

afterAll(async () => {
  await phones.killAll();
  await server?.stop();
});

describe('CTI messages refused', () => {
  it('401 without a token or with an unknown one, 403 for an agent or another supervisor', async () => {
    const message = setSilentMonitoring('1005', '1001');
    expect(await cti(message, { token: null })).toEqual(refused(401, 'unauthorized'));
    expect(await cti(message, { token: 'no-such-token-here' })).toEqual(
      refused(401, 'unauthorized'),
    );
    expect(await cti(setSilentMonitoring('1001', '1002'), { token: AGENT_TOKEN })).toEqual(
      refused(403, 'forbidden'),
    );
    expect(await cti(setSilentMonitoring('1006', '1001'), { token: SUPERVISOR_TOKEN })).toEqual(
      refused(403, 'forbidden'),
    );
  });

  it('400 bad-request for another channel or subtopic, no address, or bad JSON', async () => {
    const message = setSilentMonitoring('1005', '1001');
    for (const other of [
      { ...message, channel: 'Avaya' },
      { ...message, subtopic: 'SetBargeIn' },
      { ...message, data: { FromAddress: '1005' } },
    ]) {
      expect({ other, reply: await cti(other) }).toMatchObject({
        other,
        reply: refused(400, 'bad-request'),
      });
    }
    // The published sample verbatim lacks a comma after "subtopic": not JSON.
    const seedVerbatim =
      '{"channel": "Cisco", "topic": "Agent", "subtopic": "SetSilentMonitoring"\n' +
      '"data": {"Username": "47483650", "FromAddress": "1005", "ToAddress": "1001"}}';
    expect(await cti(undefined, { raw: seedVerbatim })).toEqual(refused(400, 'bad-request'));
  });

  it('monitoring refusals: unknown extension 404, no call 404, member forbids 403', async () => {
    expect(await cti(setSilentMonitoring('1005', '9999'))).toEqual(
      refused(404, 'unknown-extension'),
    );
    expect(await cti(setSilentMonitoring('1005', '1001'))).toEqual(refused(404, 'no-call'));
    expect(await cti(setSilentMonitoring('1005', '1003'))).toEqual(refused(403, 'member-forbids'));
  });
});

describe('SetSilentMonitoring on a live call', () => {
  it('attaches the supervisor in listen: it hears both parties, nobody hears it', async () => {
    await dialAndAnswer(server, customer, agent, '1001');
    const callAt = Date.now();
    await sleep(500);

    // The published parameter-table spelling: topic Team, camelCase addresses, UserName.
    const accepted = await cti(
      {
        channel: 'Cisco',
        topic: 'Team',
        subtopic: 'SetSilentMonitoring',
        source: 'api-cti.test',
        data: { fromAddress: '1005', toAddress: '1001', UserName: '47483657' },
      },
      { token: SUPERVISOR_TOKEN },
    );
    expect(accepted).toEqual({
      status: 202,
      body: { status: 'accepted', sessionId: expect.any(String) },
    });
    await supervisor.waitForEvent('CALL_ESTABLISHED', 10000);
    expect(await waitFor(async () => (await activeSessions(server, 'listen')) === 1)).toBe(true);
    const listenAt = Date.now();
    await sleep(PHASE_MS);
    const endAt = Date.now();

    // The supervisor is busy now: 409 monitor-busy.
    expect(await cti(setSilentMonitoring('1005', '1001'))).toEqual(refused(409, 'monitor-busy'));

    // The session is the one the reply named (GET /v1/calls lists its monitors).
    const sessionId = (accepted.body as { sessionId: string }).sessionId;
    const listed = await server.httpGet('/v1/calls');
    expect(listed.body).toContain(sessionId);

    expect((await supervisor.command('hangup')).ok).toBe(true);
    await supervisor.waitForEvent('CALL_CLOSED', 10000);
    expect(await waitFor(async () => (await activeSessions(server, 'listen')) === 0)).toBe(true);

    const supHeard = readWav(supervisor.recordings().dec[0]!);
    expectTones(
      'supervisor, listen',
      toneWindow(supHeard, listenAt, listenAt + SETTLE_MS, endAt),
      [CUSTOMER_HZ, AGENT_HZ],
      [],
    );
    expectTones(
      'customer, listen',
      toneWindow(readWav(customer.recordings().dec[0]!), callAt, listenAt + SETTLE_MS, endAt),
      [AGENT_HZ],
      [SUPERVISOR_HZ],
    );

    await customer.command('hangup');
    await agent.waitForEvent('CALL_CLOSED', 10000);
  }, 60000);
});
