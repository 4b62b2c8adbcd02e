/**
 * The queue routes (src/http/api/queueRoutes.ts) over a real QueueService-shaped stand-in:
 * who sees which queue, who may pause whom, and bad input answered 4xx JSON.
 */
import { afterEach, describe, expect, it } from '@jest/globals';
import type { FastifyInstance } from 'fastify';
import { registerQueueRoutes } from '../../../../src/http/api/queueRoutes.js';
import type { QueueView } from '../../../../src/queues/queueRunner.js';
import { TOKENS, apiApp, bearer, call, listen } from './apiApp.js';

const [ADMIN, SUPERVISOR, AGENT] = TOKENS.map((t) => t.token) as [string, string, string];

const views: QueueView[] = [
  {
    number: '600',
    name: 'Support',
    strategy: 'ringall',
    waiting: [{ callId: 'c1', position: 1, waitingMs: 4500 }],
    members: [
      { extension: '1001', state: 'ringing', paused: false, available: true, idleMs: null },
      { extension: '1002', state: 'idle', paused: false, available: true, idleMs: 61_000 },
    ],
  },
  {
    number: '601',
    name: 'Sales',
    strategy: 'roundrobin',
    waiting: [],
    members: [{ extension: '1003', state: 'idle', paused: false, available: false, idleMs: 0 }],
  },
];

let app: FastifyInstance | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

async function start(): Promise<{ port: number; paused: string[] }> {
  const paused: string[] = [];
  app = await apiApp();
  registerQueueRoutes(app, {
    queues: {
      views: () => views,
      view: (n) => views.find((v) => v.number === n),
      pause: (queue, member, p) => {
        const view = views.find((v) => v.number === queue);
        if (view === undefined) return 'no-queue';
        if (!view.members.some((m) => m.extension === member)) return 'not-member';
        paused.push(`${queue}/${member}=${p}`);
        return 'ok';
      },
    },
    monitorsQueue: (supervisor, queue) => supervisor === '1005' && queue === '601',
  });
  return { port: await listen(app), paused };
}

const get = (port: number, url: string, token: string) =>
  call(port, { url, headers: bearer(token) });
const patch = (port: number, url: string, token: string, payload: unknown) =>
  call(port, { method: 'PATCH', url, headers: bearer(token), payload });

describe('queue routes', () => {
  it('lists every queue to admin, a member its own, a supervisor the queues it monitors', async () => {
    const { port } = await start();
    const all = (await get(port, '/v1/queues', ADMIN)).json() as { queues: unknown[] };
    expect(all.queues).toEqual([
      {
        number: '600',
        name: 'Support',
        strategy: 'ringall',
        waiting: [{ callId: 'c1', position: 1, waitSec: 4 }],
        members: [
          { extension: '1001', state: 'ringing', paused: false, available: true, idleSec: null },
          { extension: '1002', state: 'idle', paused: false, available: true, idleSec: 61 },
        ],
      },
      expect.objectContaining({ number: '601' }),
    ]);
    const mine = (await get(port, '/v1/queues', AGENT)).json() as { queues: QueueView[] };
    expect(mine.queues.map((q) => q.number)).toEqual(['600']);
    const monitored = (await get(port, '/v1/queues', SUPERVISOR)).json() as { queues: QueueView[] };
    expect(monitored.queues.map((q) => q.number)).toEqual(['601']);
    expect((await get(port, '/v1/queues/601', AGENT)).status).toBe(404);
    expect((await get(port, '/v1/queues/600', AGENT)).status).toBe(200);
  });

  it('pauses: admin anyone, others only themselves; bad input is a 4xx JSON error', async () => {
    const { port, paused } = await start();
    expect(
      (await patch(port, '/v1/queues/600/members/1002', ADMIN, { paused: true })).json(),
    ).toEqual({ extension: '1002', state: 'idle', paused: false, available: true, idleSec: 61 });
    expect((await patch(port, '/v1/queues/600/members/1001', AGENT, { paused: true })).status).toBe(
      200,
    );
    const other = await patch(port, '/v1/queues/600/members/1002', AGENT, { paused: true });
    expect({
      status: other.status,
      code: (other.json() as { error: { code: string } }).error.code,
    }).toEqual({ status: 403, code: 'forbidden' });
    const bad = await patch(port, '/v1/queues/600/members/1002', ADMIN, { paused: 'maybe' });
    expect({
      status: bad.status,
      code: (bad.json() as { error: { code: string } }).error.code,
    }).toEqual({ status: 400, code: 'bad-request' });
    expect(
      (await patch(port, '/v1/queues/6%2000/members/1002', ADMIN, { paused: true })).status,
    ).toBe(400);
    expect((await patch(port, '/v1/queues/600/members/1002', ADMIN, {})).status).toBe(400);
    expect((await patch(port, '/v1/queues/699/members/1002', ADMIN, { paused: true })).status).toBe(
      404,
    );
    expect((await patch(port, '/v1/queues/601/members/1002', ADMIN, { paused: true })).status).toBe(
      404,
    );
    expect(paused).toEqual(['600/1002=true', '600/1001=true']);
  });
});
