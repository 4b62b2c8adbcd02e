import { afterEach, describe, expect, it } from '@jest/globals';
import type { FastifyInstance } from 'fastify';
import type { StartRequest } from '../../../../src/monitoring/monitoringService.js';
import type { RefusalCode } from '../../../../src/monitoring/refusals.js';
import { ApiError } from '../../../../src/http/api/errors.js';
import {
  CTI_MESSAGES_PATH,
  getIgnoringCase,
  parseCtiMessage,
  registerCtiRoutes,
} from '../../../../src/http/api/ctiRoutes.js';
import {
  monitoringStub,
  REFUSAL_BY_AGENT,
  refuseByAgent,
} from '../../../helpers/monitoringStub.js';
import { apiApp, bearer, call, listen } from './apiApp.js';

const ADMIN = 'admin-token-0000000001';
const SUPERVISOR = 'supervisor-token-00001'; // sam, extension 1005
const AGENT = 'agent-token-0000000001';

/** The published sample request (docs/architecture.md §11.2), plus its missing comma. */
const SEED_SAMPLE = {
  channel: 'Cisco',
  topic: 'Agent',
  subtopic: 'SetSilentMonitoring',
  data: { Username: '47483650', FromAddress: '5004', ToAddress: '5025' },
};

function badRequestOf(body: unknown): ApiError {
  try {
    parseCtiMessage(body);
  } catch (err) {
    if (err instanceof ApiError) return err;
    throw err;
  }
  throw new Error('parsed');
}

describe('parseCtiMessage', () => {
  it("reads the seed's sample request", () => {
    expect(parseCtiMessage(SEED_SAMPLE)).toEqual({
      supervisor: '5004',
      agent: '5025',
      topic: 'agent',
      userName: '47483650',
      source: null,
    });
  });

  it("reads the seed's parameter table spelling (topic Team, camelCase, UserName)", () => {
    expect(
      parseCtiMessage({
        channel: 'Cisco',
        topic: 'Team',
        subtopic: 'SetSilentMonitoring',
        source: 'wallboard',
        data: { fromAddress: '5004', toAddress: 5025, UserName: '47483657' },
      }),
    ).toEqual({
      supervisor: '5004',
      agent: '5025',
      topic: 'team',
      userName: '47483657',
      source: 'wallboard',
    });
  });

  it('ignores the case of every name and of channel, topic and subtopic', () => {
    expect(
      parseCtiMessage({
        Channel: 'CISCO',
        TOPIC: 'agent',
        SubTopic: 'setSilentMonitoring',
        Data: { FROMADDRESS: '1005', toaddress: '1001' },
      }),
    ).toMatchObject({ supervisor: '1005', agent: '1001', userName: null });
  });

  it('refuses another channel, subtopic or topic, and a missing address, with 400', () => {
    const cases: unknown[] = [
      null,
      [],
      'SetSilentMonitoring',
      { ...SEED_SAMPLE, channel: 'Avaya' },
      { ...SEED_SAMPLE, channel: undefined },
      { ...SEED_SAMPLE, subtopic: 'SetBargeIn' },
      { ...SEED_SAMPLE, subtopic: undefined },
      { ...SEED_SAMPLE, topic: 'Queue' },
      { ...SEED_SAMPLE, data: undefined },
      { ...SEED_SAMPLE, data: 'x' },
      { ...SEED_SAMPLE, data: { FromAddress: '5004' } },
      { ...SEED_SAMPLE, data: { FromAddress: '', ToAddress: '5025' } },
    ];
    for (const body of cases) {
      const err = badRequestOf(body);
      expect({ body, status: err.status, code: err.code }).toEqual({
        body,
        status: 400,
        code: 'bad-request',
      });
    }
    expect(badRequestOf({ ...SEED_SAMPLE, data: {} }).details).toEqual({
      missing: ['fromAddress', 'toAddress'],
    });
  });
});

describe('getIgnoringCase', () => {
  it('prefers the exact key, then the first key equal without case', () => {
    expect(getIgnoringCase({ a: 1, A: 2 }, 'A')).toBe(2);
    expect(getIgnoringCase({ Ab: 1, aB: 2 }, 'ab')).toBe(1);
    expect(getIgnoringCase({ b: 1 }, 'a')).toBeUndefined();
  });
});

describe('POST /api/cti/messages', () => {
  let app: FastifyInstance | undefined;
  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  async function start(outcome: (r: StartRequest) => RefusalCode | undefined) {
    const { monitoring, started } = monitoringStub(outcome);
    app = await apiApp();
    registerCtiRoutes(app, { monitoring });
    return { port: await listen(app), started };
  }

  const post = (port: number, token: string | undefined, payload: unknown) =>
    call(port, {
      method: 'POST',
      url: CTI_MESSAGES_PATH,
      payload,
      ...(token !== undefined ? { headers: bearer(token) } : {}),
    });

  const message = (from: string, to: string) => ({
    ...SEED_SAMPLE,
    data: { Username: '47483650', FromAddress: from, ToAddress: to },
  });

  it('starts listen for FromAddress on ToAddress: 202 with the session id', async () => {
    const { port, started } = await start(() => undefined);
    const r = await post(port, ADMIN, message('1005', '1001'));
    expect({ status: r.status, body: r.json() }).toEqual({
      status: 202,
      body: { status: 'accepted', sessionId: 'm1' },
    });
    expect(started).toEqual([
      { supervisor: '1005', agent: '1001', mode: 'listen', trigger: 'cti', actor: 'root' },
    ]);
    const own = await post(port, SUPERVISOR, message('1005', '1001'));
    expect(own.status).toBe(202);
    expect(started[1]).toMatchObject({ actor: 'sam' });
  });

  it('answers refusals with their code and HTTP status', async () => {
    const { port } = await start(refuseByAgent);
    const got: Record<string, [number, string]> = {};
    for (const agent of Object.keys(REFUSAL_BY_AGENT)) {
      const r = await post(port, ADMIN, message('1005', agent));
      got[agent] = [r.status, (r.json() as { error: { code: string } }).error.code];
    }
    expect(got).toEqual({
      '9999': [404, 'unknown-extension'],
      '1002': [404, 'no-call'],
      '1003': [403, 'member-forbids'],
      '1004': [403, 'mode-not-allowed'],
      '1006': [409, 'monitor-busy'],
    });
  });

  it('answers 400 to another message, 401 without a token, 403 to the wrong token', async () => {
    const { port, started } = await start(() => undefined);
    const other = await post(port, ADMIN, { ...SEED_SAMPLE, subtopic: 'SetBargeIn' });
    expect({ status: other.status, body: other.json() }).toMatchObject({
      status: 400,
      body: { error: { code: 'bad-request' } },
    });
    const malformed = await call(port, {
      method: 'POST',
      url: CTI_MESSAGES_PATH,
      rawJson: '{"channel": "Cisco" "topic": "Agent"}',
      headers: bearer(ADMIN),
    });
    expect(malformed.status).toBe(400);
    expect(malformed.json()).toMatchObject({ error: { code: 'bad-request' } });
    expect((await post(port, undefined, message('1005', '1001'))).status).toBe(401);
    const agent = await post(port, AGENT, message('1001', '1002'));
    expect(agent.status).toBe(403);
    const notOwn = await post(port, SUPERVISOR, message('1006', '1001'));
    expect({ status: notOwn.status, body: notOwn.json() }).toMatchObject({
      status: 403,
      body: { error: { code: 'forbidden' } },
    });
    expect(started).toEqual([]);
  });
});
