import { afterEach, describe, expect, it } from '@jest/globals';
import type { FastifyInstance } from 'fastify';
import type { StartRequest } from '../../../../src/monitoring/monitoringService.js';
import { MonitorRefusal, type RefusalCode } from '../../../../src/monitoring/refusals.js';
import { ApiError } from '../../../../src/http/api/errors.js';
import {
  parseYeastarBody,
  registerYeastarRoutes,
  YEASTAR_ENDPOINTS,
  yeastarErrnoOfError,
} from '../../../../src/http/api/yeastarRoutes.js';
import {
  monitoringStub,
  REFUSAL_BY_AGENT,
  refuseByAgent,
} from '../../../helpers/monitoringStub.js';
import { apiApp, bearer, call, listen } from './apiApp.js';

const ADMIN = 'admin-token-0000000001';
const SUPERVISOR = 'supervisor-token-00001'; // sam, extension 1005
const AGENT = 'agent-token-0000000001';

const [LISTEN, WHISPER, BARGE] = YEASTAR_ENDPOINTS as [
  (typeof YEASTAR_ENDPOINTS)[number],
  (typeof YEASTAR_ENDPOINTS)[number],
  (typeof YEASTAR_ENDPOINTS)[number],
];

describe('parseYeastarBody', () => {
  it('reads the two fields of each endpoint', () => {
    expect(parseYeastarBody(LISTEN, { listener: '1005', listenedext: '1001' })).toEqual({
      supervisor: '1005',
      agent: '1001',
    });
    expect(parseYeastarBody(WHISPER, { whisperer: '1005', whisperedext: '1001' })).toEqual({
      supervisor: '1005',
      agent: '1001',
    });
    expect(parseYeastarBody(BARGE, { bargein: ' 1005 ', bargedext: 1001 })).toEqual({
      supervisor: '1005',
      agent: '1001',
    });
  });

  it('finds a blank parameter: missing, empty, whitespace, wrong type, not an object', () => {
    for (const body of [
      { listener: '1005' },
      { listenedext: '1001' },
      { listener: '', listenedext: '1001' },
      { listener: '1005', listenedext: '  ' },
      { listener: {}, listenedext: '1001' },
      { listener: null, listenedext: '1001' },
      { whisperer: '1005', whisperedext: '1001' },
      [],
      null,
      'listener=1005',
    ]) {
      expect(parseYeastarBody(LISTEN, body)).toBeUndefined();
    }
  });
});

describe('yeastarErrnoOfError', () => {
  it('maps refusals with yeastarErrnoOf', () => {
    const cases: Array<[RefusalCode, string]> = [
      ['unknown-extension', '10006'],
      ['no-call', '10007'],
      ['monitor-busy', '10008'],
      ['monitor-not-registered', '10008'],
      ['monitor-unavailable', '10008'],
      ['max-participants', '10008'],
      ['member-forbids', '10009'],
      ['not-permitted', '10009'],
      ['monitoring-disabled', '10009'],
      ['target-is-monitor', '10009'],
      ['mode-not-allowed', '10010'],
    ];
    for (const [code, errno] of cases) {
      expect(yeastarErrnoOfError(new MonitorRefusal(code), true)).toBe(errno);
    }
  });

  it('maps token failures, scope failures and body errors', () => {
    const unauthorized = new ApiError(401, 'unauthorized', 'x');
    expect(yeastarErrnoOfError(unauthorized, true)).toBe('20004');
    expect(yeastarErrnoOfError(unauthorized, false)).toBe('20005');
    expect(yeastarErrnoOfError(new ApiError(403, 'forbidden', 'x'), true)).toBe('10009');
    expect(yeastarErrnoOfError({ statusCode: 413, message: 'too large' }, true)).toBe('10004');
    expect(yeastarErrnoOfError({ validation: [], statusCode: 400 }, true)).toBe('10004');
    expect(yeastarErrnoOfError(new Error('boom'), true)).toBeUndefined();
  });
});

describe('the Yeastar routes on the API', () => {
  let app: FastifyInstance | undefined;
  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  async function start(outcome: (r: StartRequest) => RefusalCode | Error | undefined) {
    const { monitoring, started } = monitoringStub(outcome);
    app = await apiApp();
    await registerYeastarRoutes(app, { monitoring });
    // The REST API's own errors stay JSON errors beside the adapter.
    app.post('/v1/other', { config: { scopes: ['admin'] } }, async () => ({ ok: true }));
    const port = await listen(app);
    return { port, started };
  }

  const post = (
    port: number,
    path: string,
    opts: { token?: string; payload?: unknown; rawJson?: string; headers?: Record<string, string> },
  ) =>
    call(port, {
      method: 'POST',
      url: `/api/v1.1.0/extension/${path}${opts.token === undefined ? '' : `?token=${opts.token}`}`,
      ...(opts.payload !== undefined ? { payload: opts.payload } : {}),
      ...(opts.rawJson !== undefined ? { rawJson: opts.rawJson } : {}),
      ...(opts.headers ? { headers: opts.headers } : {}),
    });

  it('starts each mode with trigger yeastar and the token name as actor', async () => {
    const { port, started } = await start(() => undefined);
    const bodies: Array<[string, object]> = [
      ['listen', { listener: '1005', listenedext: '1001' }],
      ['whisper', { whisperer: '1005', whisperedext: '1001' }],
      ['barge', { bargein: '1005', bargedext: '1001' }],
    ];
    for (const [path, payload] of bodies) {
      const r = await post(port, path, { token: ADMIN, payload });
      expect({ status: r.status, body: r.json() }).toEqual({
        status: 200,
        body: { status: 'Success' },
      });
    }
    expect(started).toEqual([
      { supervisor: '1005', agent: '1001', mode: 'listen', trigger: 'yeastar', actor: 'root' },
      { supervisor: '1005', agent: '1001', mode: 'whisper', trigger: 'yeastar', actor: 'root' },
      { supervisor: '1005', agent: '1001', mode: 'barge', trigger: 'yeastar', actor: 'root' },
    ]);
  });

  it('takes the token as a bearer header too, and a body of any content type', async () => {
    const { port, started } = await start(() => undefined);
    const r = await post(port, 'listen', {
      rawJson: '{"listener":"1005","listenedext":"1001"}',
      headers: { ...bearer(SUPERVISOR), 'content-type': 'text/plain' },
    });
    expect(r.json()).toEqual({ status: 'Success' });
    expect(started[0]).toMatchObject({ supervisor: '1005', actor: 'sam' });
  });

  it('answers 10004 for a blank parameter or a body that is not JSON', async () => {
    const { port, started } = await start(() => undefined);
    for (const opts of [
      { payload: { listener: '1005' } },
      { payload: { listener: '', listenedext: '1001' } },
      { rawJson: '{"listener":"1005",' },
      { rawJson: '' },
      { rawJson: 'listener=1005&listenedext=1001' },
    ]) {
      const r = await post(port, 'listen', { token: ADMIN, ...opts });
      expect({ status: r.status, body: r.json() }).toEqual({
        status: 200,
        body: { status: 'Failed', errno: '10004' },
      });
    }
    expect(started).toEqual([]);
  });

  it('answers the refusal errno', async () => {
    const { port } = await start(refuseByAgent);
    const errnos: Record<string, string> = {};
    for (const agent of Object.keys(REFUSAL_BY_AGENT)) {
      const r = await post(port, 'whisper', {
        token: ADMIN,
        payload: { whisperer: '1005', whisperedext: agent },
      });
      expect(r.status).toBe(200);
      errnos[agent] = (r.json() as { errno: string }).errno;
    }
    expect(errnos).toEqual({
      '9999': '10006',
      '1002': '10007',
      '1003': '10009',
      '1004': '10010',
      '1006': '10008',
    });
  });

  it('answers 20005 without a token and 20004 with an unknown one, HTTP 200', async () => {
    const { port, started } = await start(() => undefined);
    const payload = { listener: '1005', listenedext: '1001' };
    const none = await post(port, 'listen', { payload });
    expect({ status: none.status, body: none.json() }).toEqual({
      status: 200,
      body: { status: 'Failed', errno: '20005' },
    });
    const empty = await post(port, 'listen', { token: '', payload });
    expect(empty.json()).toEqual({ status: 'Failed', errno: '20005' });
    const unknown = await post(port, 'listen', { token: 'nope-nope-nope', payload });
    expect(unknown.json()).toEqual({ status: 'Failed', errno: '20004' });
    expect(started).toEqual([]);
  });

  it('answers 10009 to an agent token and to a supervisor token naming another monitor', async () => {
    const { port, started } = await start(() => undefined);
    const agent = await post(port, 'listen', {
      token: AGENT,
      payload: { listener: '1001', listenedext: '1002' },
    });
    expect(agent.json()).toEqual({ status: 'Failed', errno: '10009' });
    const other = await post(port, 'barge', {
      token: SUPERVISOR,
      payload: { bargein: '1006', bargedext: '1001' },
    });
    expect(other.json()).toEqual({ status: 'Failed', errno: '10009' });
    expect(started).toEqual([]);
  });

  it('answers HTTP 500 for an unexpected failure, and leaves other routes alone', async () => {
    const { port } = await start(() => new Error('boom'));
    const r = await post(port, 'listen', {
      token: ADMIN,
      payload: { listener: '1005', listenedext: '1001' },
    });
    expect({ status: r.status, body: r.json() }).toEqual({
      status: 500,
      body: { status: 'Failed', errno: '10003' },
    });
    const other = await call(port, { method: 'POST', url: '/v1/other', payload: {} });
    expect(other.status).toBe(401);
    expect(other.json()).toMatchObject({ error: { code: 'unauthorized' } });
    const bad = await call(port, {
      method: 'POST',
      url: '/v1/other',
      rawJson: '{',
      headers: bearer(ADMIN),
    });
    expect(bad.status).toBe(400);
    expect(bad.json()).toMatchObject({ error: { code: 'bad-request' } });
  });

  it('documents the endpoints in the OpenAPI document', async () => {
    const { port } = await start(() => undefined);
    const doc = (await call(port, { url: '/openapi.json' })).json() as {
      paths: Record<string, unknown>;
    };
    for (const e of YEASTAR_ENDPOINTS) {
      expect(doc.paths).toHaveProperty([`/api/v1.1.0/extension/${e.path}`, 'post']);
    }
  });
});
