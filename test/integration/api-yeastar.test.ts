/**
 * The Yeastar S-Series endpoints (src/http/api/yeastarRoutes.ts) on the real server with
 * three baresip phones: a customer (1002, 440 Hz) calls an agent (1001, 1000 Hz); the
 * supervisor (1005, 1800 Hz, auto-answer) is started through
 * `POST /api/v1.1.0/extension/{listen,whisper,barge}?token=…`, its phone is called and
 * answers, and the session shows in the metrics (and, for listen, the supervisor hears
 * both parties). Every errno is reached: 10004, 10006, 10007, 10008 (already monitoring;
 * not registered), 10009 (member forbids; not in a group; another monitor's token), 10010,
 * and the token errors 20004 / 20005. Every reply is HTTP 200, as Yeastar's.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
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
import {
  TEST_ADMIN_TOKEN,
  type ExtensionSpec,
  type HttpResult,
  type ServerHandle,
} from '../helpers/server.js';

const SUPERVISOR_TOKEN = 'yeastar-supervisor-1005-token';
const ADMIN_TOKEN = TEST_ADMIN_TOKEN.token;

/**
 * 1001 agent, 1002 customer, 1003 forbids monitoring, 1004 in no group of 1005; 1005
 * monitors 1001 and 1003 in every mode; 1006 and 1007 may only listen to 1001 (1007 never
 * registers).
 */
const EXTENSIONS = [
  { number: '1001', password: 'pw1001', role: 'agent' },
  { number: '1002', password: 'pw1002', role: 'agent' },
  { number: '1003', password: 'pw1003', role: 'agent', allowMonitoring: false },
  { number: '1004', password: 'pw1004', role: 'agent' },
  { number: '1005', password: 'pw1005', role: 'supervisor' },
  { number: '1006', password: 'pw1006', role: 'supervisor' },
  { number: '1007', password: 'pw1007', role: 'supervisor' },
] as unknown as ExtensionSpec[];

let server: ServerHandle;
let agent: BaresipPhone;
let customer: BaresipPhone;
let supervisor: BaresipPhone;
const phones = new PhonePool(() => server);

/** POST to a Yeastar endpoint: `?token=` unless null, a JSON body (or `raw` as is). */
function yeastar(
  path: 'listen' | 'whisper' | 'barge',
  body: unknown,
  opts: { token?: string | null; raw?: string; contentType?: string } = {},
): Promise<HttpResult> {
  const token = opts.token === undefined ? ADMIN_TOKEN : opts.token;
  const url = `/api/v1.1.0/extension/${path}${token === null ? '' : `?token=${encodeURIComponent(token)}`}`;
  return apiRequest(server.httpPort, 'POST', url, {
    token: null,
    body,
    raw: opts.raw,
    contentType: opts.contentType,
  });
}

/** The reply of a Yeastar call as { status, body } for one expect(). */
async function reply(r: Promise<HttpResult>): Promise<{ status: number; body: unknown }> {
  return summary(await r);
}

const failed = (errno: string) => ({ status: 200, body: { status: 'Failed', errno } });
const SUCCESS = { status: 200, body: { status: 'Success' } };

/** The supervisor's phone answered the server's call: the session is active in `mode`. */
async function expectAttached(mode: string): Promise<void> {
  await supervisor.waitForEvent('CALL_ESTABLISHED', 10000);
  expect(await waitFor(async () => (await activeSessions(server, mode)) === 1)).toBe(true);
}

/** The supervisor hangs up: the session ends. */
async function supervisorHangsUp(): Promise<void> {
  expect((await supervisor.command('hangup')).ok).toBe(true);
  await supervisor.waitForEvent('CALL_CLOSED', 10000);
  expect(
    await waitFor(async () => {
      const samples = await server.metrics();
      return samples
        .filter((s) => s.name === 'callwatch_monitor_sessions_active')
        .every((s) => s.value === 0);
    }),
  ).toBe(true);
}

beforeAll(async () => {
  server = await startPhoneServer(
    {
      monitoring: {
        enabled: true,
        groups: [
          { name: 'full', monitors: ['1005'], members: ['1001', '1003'], modes: ['all'] },
          { name: 'listeners', monitors: ['1006', '1007'], members: ['1001'], modes: ['listen'] },
        ],
      },
      api: {
        tokens: [{ name: 'sam', token: SUPERVISOR_TOKEN, scope: 'supervisor', extension: '1005' }],
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

describe('Yeastar endpoints without a call', () => {
  it('10007 when the agent is in no call', async () => {
    expect(await reply(yeastar('listen', { listener: '1005', listenedext: '1001' }))).toEqual(
      failed('10007'),
    );
    expect(await reply(yeastar('barge', { bargein: '1005', bargedext: '1001' }))).toEqual(
      failed('10007'),
    );
  });

  it('10004 for a missing or empty field, or a body that is not JSON', async () => {
    expect(await reply(yeastar('listen', { listener: '1005' }))).toEqual(failed('10004'));
    expect(await reply(yeastar('whisper', { whisperer: '', whisperedext: '1001' }))).toEqual(
      failed('10004'),
    );
    // The other endpoint's field names are blank parameters here.
    expect(await reply(yeastar('barge', { listener: '1005', listenedext: '1001' }))).toEqual(
      failed('10004'),
    );
    expect(await reply(yeastar('listen', undefined, { raw: '{"listener":"1005"' }))).toEqual(
      failed('10004'),
    );
    expect(
      await reply(
        yeastar('listen', undefined, {
          raw: 'listener=1005&listenedext=1001',
          contentType: 'application/x-www-form-urlencoded',
        }),
      ),
    ).toEqual(failed('10004'));
  });

  it('10006 for an extension that does not exist', async () => {
    expect(await reply(yeastar('listen', { listener: '1005', listenedext: '9999' }))).toEqual(
      failed('10006'),
    );
    expect(await reply(yeastar('listen', { listener: '9999', listenedext: '1001' }))).toEqual(
      failed('10006'),
    );
  });

  it('10009 when the member forbids monitoring, or no group lets the monitor', async () => {
    expect(await reply(yeastar('listen', { listener: '1005', listenedext: '1003' }))).toEqual(
      failed('10009'),
    );
    expect(await reply(yeastar('listen', { listener: '1005', listenedext: '1004' }))).toEqual(
      failed('10009'),
    );
    // A supervisor token acts as its own extension only.
    expect(
      await reply(
        yeastar('listen', { listener: '1006', listenedext: '1001' }, { token: SUPERVISOR_TOKEN }),
      ),
    ).toEqual(failed('10009'));
  });

  it("10010 when the monitor's groups do not allow the mode", async () => {
    expect(await reply(yeastar('whisper', { whisperer: '1006', whisperedext: '1001' }))).toEqual(
      failed('10010'),
    );
    expect(await reply(yeastar('barge', { bargein: '1006', bargedext: '1001' }))).toEqual(
      failed('10010'),
    );
  });

  it('20005 without a token, 20004 with an unknown one (HTTP 200 both)', async () => {
    const body = { listener: '1005', listenedext: '1001' };
    expect(await reply(yeastar('listen', body, { token: null }))).toEqual(failed('20005'));
    expect(await reply(yeastar('listen', body, { token: 'no-such-token-here' }))).toEqual(
      failed('20004'),
    );
  });
});

describe('Yeastar endpoints on a live call', () => {
  let callAt = 0;

  beforeAll(async () => {
    await dialAndAnswer(server, customer, agent, '1001');
    callAt = Date.now();
    await sleep(500);
  }, 30000);

  it('listen: Success, the supervisor is called, attached, and hears both parties', async () => {
    expect(await reply(yeastar('listen', { listener: '1005', listenedext: '1001' }))).toEqual(
      SUCCESS,
    );
    await expectAttached('listen');
    const listenAt = Date.now();
    await sleep(PHASE_MS);
    const endAt = Date.now();

    // 10008: the supervisor is already monitoring.
    expect(await reply(yeastar('listen', { listener: '1005', listenedext: '1001' }))).toEqual(
      failed('10008'),
    );
    await supervisorHangsUp();

    const { dec } = supervisor.recordings();
    expect(dec).toHaveLength(1);
    const heard = readWav(dec[0]!);
    expectTones(
      'supervisor, listen',
      toneWindow(heard, listenAt, listenAt + SETTLE_MS, endAt),
      [CUSTOMER_HZ, AGENT_HZ],
      [],
    );
    // Nobody hears the supervisor in listen mode.
    const agentHeard = readWav(agent.recordings().dec[0]!);
    expectTones(
      'agent, listen',
      toneWindow(agentHeard, callAt, listenAt + SETTLE_MS, endAt),
      [CUSTOMER_HZ],
      [SUPERVISOR_HZ],
    );
  }, 40000);

  it('whisper: Success with the supervisor token, attached in whisper', async () => {
    expect(
      await reply(
        yeastar(
          'whisper',
          { whisperer: '1005', whisperedext: '1001' },
          { token: SUPERVISOR_TOKEN },
        ),
      ),
    ).toEqual(SUCCESS);
    await expectAttached('whisper');
    const whisperAt = Date.now();
    await sleep(PHASE_MS);
    const endAt = Date.now();
    await supervisorHangsUp();
    // The agent hears the supervisor, the customer does not.
    expectTones(
      'agent, whisper',
      toneWindow(readWav(agent.recordings().dec[0]!), callAt, whisperAt + SETTLE_MS, endAt),
      [CUSTOMER_HZ, SUPERVISOR_HZ],
      [],
    );
    expectTones(
      'customer, whisper',
      toneWindow(readWav(customer.recordings().dec[0]!), callAt, whisperAt + SETTLE_MS, endAt),
      [AGENT_HZ],
      [SUPERVISOR_HZ],
    );
  }, 30000);

  it('barge: Success, attached in barge', async () => {
    expect(await reply(yeastar('barge', { bargein: '1005', bargedext: '1001' }))).toEqual(SUCCESS);
    await expectAttached('barge');
    const bargeAt = Date.now();
    await sleep(PHASE_MS);
    const endAt = Date.now();
    await supervisorHangsUp();
    expectTones(
      'customer, barge',
      toneWindow(readWav(customer.recordings().dec[0]!), callAt, bargeAt + SETTLE_MS, endAt),
      [AGENT_HZ, SUPERVISOR_HZ],
      [],
    );
  }, 30000);

  it('10008 when the monitor has no registered phone', async () => {
    expect(await reply(yeastar('listen', { listener: '1007', listenedext: '1001' }))).toEqual(
      failed('10008'),
    );
  });

  it('the audit log holds the Yeastar starts and refusals, with the token names', async () => {
    const file = (server.config.audit as { file: string }).file;
    const entries = readFileSync(file, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { action: string; trigger: string; actor: string; mode: string })
      .filter((e) => e.trigger === 'yeastar');
    expect(entries.filter((e) => e.action === 'start').map((e) => [e.mode, e.actor])).toEqual([
      ['listen', TEST_ADMIN_TOKEN.name],
      ['whisper', 'sam'],
      ['barge', TEST_ADMIN_TOKEN.name],
    ]);
    expect(entries.filter((e) => e.action === 'refusal').length).toBeGreaterThanOrEqual(8);
  });

  afterAll(async () => {
    await customer.command('hangup');
    await agent.waitForEvent('CALL_CLOSED', 10000);
  }, 20000);
});
