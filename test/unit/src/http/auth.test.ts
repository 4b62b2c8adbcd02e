import { afterEach, describe, expect, it } from '@jest/globals';
import Fastify, { type FastifyInstance } from 'fastify';
import {
  bearerTokenOf,
  checkScope,
  principalOf,
  registerAuth,
  TokenStore,
} from '../../../../src/http/api/auth.js';
import { ApiError } from '../../../../src/http/api/errors.js';
import { apiApp, bearer, call, listen, TOKENS } from './apiApp.js';

describe('TokenStore', () => {
  const store = new TokenStore(TOKENS);

  it('finds the principal of a configured token', () => {
    expect(store.authenticate('admin-token-0000000001')).toEqual({
      name: 'root',
      scope: 'admin',
      extension: null,
    });
    expect(store.authenticate('agent-token-0000000001')).toEqual({
      name: 'alice',
      scope: 'agent',
      extension: '1001',
    });
  });

  it('knows no other token: prefixes, longer strings, empty or none', () => {
    for (const t of ['admin-token-000000000', 'admin-token-00000000011', '', undefined]) {
      expect(store.authenticate(t)).toBeUndefined();
    }
  });

  it('hands out frozen principals', () => {
    expect(Object.isFrozen(store.authenticate('admin-token-0000000001'))).toBe(true);
  });
});

describe('bearerTokenOf', () => {
  it('reads the Bearer scheme, case-insensitively', () => {
    expect(bearerTokenOf('Bearer abc')).toBe('abc');
    expect(bearerTokenOf('bearer   abc ')).toBe('abc');
  });

  it('ignores other schemes and malformed values', () => {
    for (const h of [undefined, '', 'Basic YWJj', 'Bearer', 'Bearer a b', 'Bearerabc']) {
      expect(bearerTokenOf(h)).toBeUndefined();
    }
  });
});

describe('checkScope', () => {
  const sup = { name: 's', scope: 'supervisor', extension: '1005' } as const;

  it('answers 401 without a principal, 403 for a scope not listed', () => {
    expect(checkScope(undefined, ['admin'])).toMatchObject({ status: 401, code: 'unauthorized' });
    expect(checkScope(undefined, ['admin'])?.headers).toEqual({ 'www-authenticate': 'Bearer' });
    expect(checkScope(sup, ['admin'])).toMatchObject({ status: 403, code: 'forbidden' });
    expect(checkScope(sup, ['admin', 'supervisor'])).toBeUndefined();
  });
});

describe('the token check on routes', () => {
  let app: FastifyInstance | undefined;
  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  let port = 0;
  const inject = (opts: Parameters<typeof call>[1]) => call(port, opts);

  async function withRoutes(): Promise<FastifyInstance> {
    const a = await apiApp();
    a.get('/open', { config: { public: true } }, async (request) => ({
      principal: request.principal,
    }));
    a.get('/sup', { config: { scopes: ['admin', 'supervisor'] } }, async (request) => ({
      principal: principalOf(request),
    }));
    a.get('/q', { config: { scopes: ['agent'], tokenInQuery: true } }, async (request) => ({
      name: principalOf(request).name,
    }));
    a.post(
      '/body',
      {
        config: { scopes: ['admin'] },
        schema: {
          body: { type: 'object', required: ['x'], properties: { x: { type: 'integer' } } },
        },
      },
      async () => ({ ok: true }),
    );
    port = await listen(a);
    return a;
  }

  it('lets public routes through without a token', async () => {
    app = await withRoutes();
    const r = await inject({ url: '/open' });
    expect(r.status).toBe(200);
    expect(r.json()).toEqual({ principal: null });
  });

  it('answers 401 with WWW-Authenticate for no or an unknown token', async () => {
    app = await withRoutes();
    for (const headers of [{}, bearer('nope-nope-nope-nope'), { authorization: 'Basic eDp5' }]) {
      const r = await inject({ url: '/sup', headers });
      expect(r.status).toBe(401);
      expect(r.headers['www-authenticate']).toBe('Bearer');
      expect(r.json()).toEqual({
        error: { code: 'unauthorized', message: expect.any(String) },
      });
    }
  });

  it('answers 403 for a scope the route does not allow', async () => {
    app = await withRoutes();
    const r = await inject({ url: '/sup', headers: bearer('agent-token-0000000001') });
    expect(r.status).toBe(403);
    expect(r.json()).toMatchObject({ error: { code: 'forbidden' } });
  });

  it('sets request.principal for an allowed token', async () => {
    app = await withRoutes();
    const r = await inject({ url: '/sup', headers: bearer('supervisor-token-00001') });
    expect(r.status).toBe(200);
    expect(r.json()).toEqual({
      principal: { name: 'sam', scope: 'supervisor', extension: '1005' },
    });
  });

  it('takes ?token= only on routes that allow it', async () => {
    app = await withRoutes();
    expect((await inject({ url: '/q?token=agent-token-0000000001' })).json()).toEqual({
      name: 'alice',
    });
    const r = await inject({ url: '/sup?token=supervisor-token-00001' });
    expect(r.status).toBe(401);
  });

  it('checks the token before the body (401, not 400, for a bad body without a token)', async () => {
    app = await withRoutes();
    const r = await inject({ method: 'POST', url: '/body', payload: { x: 'no' } });
    expect(r.status).toBe(401);
  });

  it('answers 404 for unknown paths with or without a token', async () => {
    app = await withRoutes();
    expect((await inject({ url: '/nowhere' })).status).toBe(404);
  });

  it('refuses a route that says neither scopes nor public', async () => {
    const bare = Fastify();
    registerAuth(bare, new TokenStore(TOKENS));
    expect(() => bare.get('/x', async () => ({}))).toThrow(/config.scopes or config.public/);
    expect(() => bare.get('/y', { config: { scopes: [] } }, async () => ({}))).toThrow();
    await bare.close();
  });

  it('principalOf throws 401 when there is no principal', () => {
    expect(() => principalOf({ principal: null } as never)).toThrow(ApiError);
  });
});
