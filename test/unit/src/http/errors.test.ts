import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { FastifyInstance } from 'fastify';
import { ApiError, refusalToApiError, toApiError } from '../../../../src/http/api/errors.js';
import { MonitorRefusal } from '../../../../src/monitoring/refusals.js';
import { apiApp, bearer, call, listen } from './apiApp.js';

const ADMIN = bearer('admin-token-0000000001');

describe('ApiError', () => {
  it('serializes to {error:{code,message,details?}}', () => {
    expect(new ApiError(409, 'busy', 'is busy').toJSON()).toEqual({
      error: { code: 'busy', message: 'is busy' },
    });
    expect(new ApiError(400, 'bad-request', 'no', { details: [1] }).toJSON()).toEqual({
      error: { code: 'bad-request', message: 'no', details: [1] },
    });
  });

  it('turns a monitoring refusal into its HTTP status with the refusal code', () => {
    expect(refusalToApiError(new MonitorRefusal('no-call'))).toMatchObject({
      status: 404,
      code: 'no-call',
      message: 'the extension is in no answered call',
    });
    expect(refusalToApiError(new MonitorRefusal('monitor-busy')).status).toBe(409);
    expect(refusalToApiError(new MonitorRefusal('member-forbids')).status).toBe(403);
  });

  it('maps fastify client errors and leaves the rest to 500', () => {
    expect(toApiError(Object.assign(new Error('too big'), { statusCode: 413 }))).toMatchObject({
      status: 413,
      code: 'payload-too-large',
    });
    expect(toApiError(new Error('bug'))).toBeUndefined();
    expect(toApiError(Object.assign(new Error('x'), { statusCode: 503 }))).toBeUndefined();
  });
});

describe('the error handler', () => {
  let app: FastifyInstance;
  let port: number;
  const logs: string[] = [];

  beforeAll(async () => {
    app = await apiApp({ logs });
    const admin = { config: { scopes: ['admin'] as const } };
    app.get('/api-error', admin, async () => {
      throw new ApiError(409, 'conflict', 'already there', { details: { id: 'x' } });
    });
    app.get('/refusal', admin, async () => {
      throw new MonitorRefusal('max-participants');
    });
    app.get('/bug', admin, async () => {
      throw new Error('secret internals');
    });
    app.post(
      '/validated',
      {
        ...admin,
        schema: {
          body: {
            type: 'object',
            required: ['mode'],
            properties: { mode: { type: 'string', enum: ['listen', 'whisper'] } },
          },
        },
      },
      async () => ({ ok: true }),
    );
    port = await listen(app);
  });
  afterAll(async () => {
    await app.close();
  });

  it('answers an ApiError with its status and body', async () => {
    const r = await call(port, { url: '/api-error', headers: ADMIN });
    expect(r.status).toBe(409);
    expect(r.headers['content-type']).toMatch(/^application\/json/);
    expect(r.json()).toEqual({
      error: { code: 'conflict', message: 'already there', details: { id: 'x' } },
    });
  });

  it('answers a thrown MonitorRefusal like refusalToApiError', async () => {
    const r = await call(port, { url: '/refusal', headers: ADMIN });
    expect(r.status).toBe(409);
    expect(r.json()).toMatchObject({ error: { code: 'max-participants' } });
  });

  it('answers a schema violation 400 bad-request with details', async () => {
    const r = await call(port, {
      method: 'POST',
      url: '/validated',
      headers: ADMIN,
      payload: { mode: 'shout' },
    });
    expect(r.status).toBe(400);
    const body = r.json() as { error: { code: string; message: string; details: unknown[] } };
    expect(body.error.code).toBe('bad-request');
    expect(body.error.message).toMatch(/mode/);
    expect(body.error.details).toEqual([expect.objectContaining({ keyword: 'enum' })]);
  });

  it('answers malformed JSON 400 bad-request', async () => {
    const r = await call(port, {
      method: 'POST',
      url: '/validated',
      headers: ADMIN,
      rawJson: '{"mode":',
    });
    expect(r.status).toBe(400);
    expect(r.json()).toMatchObject({ error: { code: 'bad-request' } });
  });

  it('answers an unexpected error 500 internal, logged, without the stack', async () => {
    const r = await call(port, { url: '/bug', headers: ADMIN });
    expect(r.status).toBe(500);
    expect(r.json()).toEqual({ error: { code: 'internal', message: 'internal error' } });
    expect(r.body).not.toMatch(/secret|at /);
    expect(logs.some((l) => l.includes('secret internals'))).toBe(true);
  });

  it('answers an unknown route 404 not-found', async () => {
    const r = await call(port, { url: '/v1/nothing?x=1' });
    expect(r.status).toBe(404);
    expect(r.json()).toEqual({
      error: { code: 'not-found', message: 'no route GET /v1/nothing' },
    });
  });
});
