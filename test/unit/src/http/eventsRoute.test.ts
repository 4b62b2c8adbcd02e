import { afterEach, describe, expect, it } from '@jest/globals';
import type { FastifyInstance } from 'fastify';
import { EventBus } from '../../../../src/events/eventBus.js';
import type { EventBody } from '../../../../src/events/eventTypes.js';
import type { CanSee } from '../../../../src/events/visibility.js';
import { EventStreamClient } from '../../../helpers/eventStream.js';
import { apiApp, call, listen } from './apiApp.js';

const ADMIN = 'admin-token-0000000001';
const AGENT = 'agent-token-0000000001';

const reg = (extension: string): EventBody => ({
  type: 'registration.changed',
  extension,
  registered: true,
  contacts: 1,
});

let app: FastifyInstance | undefined;
let bus: EventBus;
const clients: EventStreamClient[] = [];

async function start(canSee?: CanSee): Promise<number> {
  bus = new EventBus();
  app = await apiApp({ events: bus, ...(canSee ? { canSee } : {}) });
  return listen(app);
}

async function connect(port: number, opts: Parameters<typeof EventStreamClient.connect>[1]) {
  const c = await EventStreamClient.connect(port, opts);
  clients.push(c);
  return c;
}

/** Waits until the server has subscribed `n` clients (the upgrade completes before). */
async function subscribers(n: number): Promise<void> {
  for (let i = 0; i < 200 && bus.subscriberCount !== n; i++) {
    await new Promise((r) => setTimeout(r, 5));
  }
  expect(bus.subscriberCount).toBe(n);
}

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  await app?.close();
  app = undefined;
});

describe('GET /v1/events', () => {
  it('streams events as JSON messages in seq order to a token in the header', async () => {
    const port = await start();
    const c = await connect(port, { token: ADMIN });
    await subscribers(1);
    for (const ext of ['1001', '1002', '1003']) bus.publish(reg(ext));
    const got = await c.waitForCount(3);
    expect(got.map((e) => [e.seq, e.extension])).toEqual([
      [1, '1001'],
      [2, '1002'],
      [3, '1003'],
    ]);
    expect(got[0]?.time).toMatch(/^\d{4}-\d\d-\d\dT/);
  });

  it('accepts ?token= and replays buffered events after ?since=', async () => {
    const port = await start();
    for (const ext of ['1', '2', '3']) bus.publish(reg(ext));
    const c = await connect(port, { token: ADMIN, tokenInQuery: true, since: 1 });
    await subscribers(1);
    bus.publish(reg('4'));
    expect((await c.waitForCount(3)).map((e) => e.seq)).toEqual([2, 3, 4]);
  });

  it('sends only what canSee lets the token see (default: admin only)', async () => {
    const port = await start();
    const agent = await connect(port, { token: AGENT });
    const admin = await connect(port, { token: ADMIN });
    await subscribers(2);
    bus.publish(reg('1001'));
    await admin.waitForCount(1);
    await agent.close();
    expect(agent.received).toEqual([]);

    await app?.close();
    const port2 = await start(
      (p, e) => e.type === 'registration.changed' && e.extension === p.extension,
    );
    const mine = await connect(port2, { token: AGENT });
    await subscribers(1);
    bus.publish(reg('1002'));
    bus.publish(reg('1001'));
    expect((await mine.next()).extension).toBe('1001');
  });

  it('closes with 4401 for no or an unknown token', async () => {
    const port = await start();
    for (const opts of [{}, { token: 'not-a-token-at-all' }, { token: 'x', tokenInQuery: true }]) {
      const c = await connect(port, opts);
      expect(await c.closed).toEqual({ code: 4401, reason: 'unauthorized' });
    }
    expect(bus.subscriberCount).toBe(0);
  });

  it('unsubscribes when the client goes away, and when the server closes', async () => {
    const port = await start();
    const a = await connect(port, { token: ADMIN });
    await connect(port, { token: ADMIN });
    await subscribers(2);
    await a.close();
    await subscribers(1);
    await app?.close();
    app = undefined;
    await subscribers(0);
  });

  it('answers a plain GET 426 (and 401 without a token)', async () => {
    const port = await start();
    const r = await call(port, {
      url: '/v1/events',
      headers: { authorization: `Bearer ${ADMIN}` },
    });
    expect(r.status).toBe(426);
    expect(r.json()).toMatchObject({ error: { code: 'upgrade-required' } });
    expect((await call(port, { url: '/v1/events' })).status).toBe(401);
  });

  it('refuses a bad ?since= with 400', async () => {
    const port = await start();
    const r = await call(port, {
      url: '/v1/events?since=-1',
      headers: { authorization: `Bearer ${ADMIN}` },
    });
    expect(r.status).toBe(400);
    await expect(EventStreamClient.connect(port, { token: ADMIN, since: -1 })).rejects.toThrow(
      /HTTP 400/,
    );
  });
});
