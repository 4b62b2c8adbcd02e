/**
 * The mirroring of the location service through Redis, against a recording stand-in for
 * the Redis connection: what is announced, what is applied, and that nothing applied
 * from another instance is announced back.
 */
import { describe, expect, it } from '@jest/globals';
import { EventEmitter } from 'node:events';
import { pino } from 'pino';
import type { Clock } from '../../../../sip/clock.js';
import { toShared } from '../../../../src/cluster/bindingCodec.js';
import { clusterKeys } from '../../../../src/cluster/keys.js';
import type { RedisConnection } from '../../../../src/cluster/redisConnection.js';
import { SharedLocation } from '../../../../src/cluster/sharedLocation.js';
import { LocationService, type Binding } from '../../../../src/registrar/locationService.js';

type Op = [string, ...unknown[]];

function fakeRedis() {
  const ops: Op[] = [];
  const pipeline = () => {
    const p = {
      set: (...a: unknown[]) => (ops.push(['set', ...a]), p),
      publish: (...a: unknown[]) => (ops.push(['publish', ...a]), p),
      del: (...a: unknown[]) => (ops.push(['del', ...a]), p),
      get: () => p,
      pttl: () => p,
      exec: () => Promise.resolve([]),
    };
    return p;
  };
  const commands = { pipeline, scan: () => Promise.resolve(['0', [] as string[]]) };
  const subscriber = Object.assign(new EventEmitter(), { subscribe: () => Promise.resolve(1) });
  const ready = new EventEmitter();
  const redis = {
    commands,
    subscriber,
    run: <T>(f: (r: typeof commands) => Promise<T>) => f(commands),
    on: (e: string, l: () => void) => ready.on(e, l),
    off: (e: string, l: () => void) => ready.off(e, l),
  };
  return { redis: redis as unknown as RedisConnection, ops, subscriber };
}

let now = 1000;
const clock: Clock = { now: () => now, setTimer: () => ({ cancel: () => undefined }) };
const keys = clusterKeys('cw:');

function binding(extension: string, n: number, cseq = 1): Binding {
  const uri = `sip:${extension}-${n}@10.0.0.${n}:5060`;
  return {
    extension,
    contact: `<${uri}>`,
    uri,
    key: uri,
    callId: `call-${extension}-${n}`,
    cseq,
    expiresAt: now + 60_000,
    registeredAt: now,
    source: { protocol: 'udp', address: '127.0.0.1', port: 5060 },
  };
}

async function setup() {
  const location = new LocationService();
  const fake = fakeRedis();
  const shared = new SharedLocation({
    instanceId: 'a',
    location,
    redis: fake.redis,
    keys,
    clock,
    logger: pino({ level: 'silent' }),
  });
  await shared.start();
  const remote = (message: unknown) =>
    fake.subscriber.emit('message', keys.bindingChannel, JSON.stringify(message));
  return { location, ops: fake.ops, remote, shared };
}

describe('registrations shared through Redis', () => {
  it('writes and announces a binding this instance accepted, with its expiry', async () => {
    const { location, ops } = await setup();
    location.upsert(binding('1001', 1));
    expect(ops.map((o) => o[0])).toEqual(['set', 'publish']);
    expect(ops[0]!.slice(1, 2)).toEqual([keys.binding('1001', binding('1001', 1).key)]);
    expect(ops[0]!.slice(3)).toEqual(['PX', 60_000]);
    expect(JSON.parse(ops[1]![2] as string)).toMatchObject({ op: 'up', binding: { origin: 'a' } });
  });

  it('applies another instance’s bindings and removals without announcing them back', async () => {
    const { location, ops, remote } = await setup();
    remote({ op: 'up', binding: toShared(binding('1002', 2), 'b', now) });
    expect(location.activeBindings('1002', now)).toHaveLength(1);
    remote({ op: 'down', origin: 'b', extension: '1002', key: binding('1002', 2).key });
    expect(location.activeBindings('1002', now)).toHaveLength(0);
    expect(ops).toEqual([]);
  });

  it('ignores its own announcements and unreadable ones', async () => {
    const { location, remote } = await setup();
    remote({ op: 'up', binding: toShared(binding('1003', 3), 'a', now) });
    remote({ op: 'up', binding: { origin: 'b' } });
    expect(location.size).toBe(0);
  });

  it('takes over a binding the phone refreshed here, and keeps a newer one of its own', async () => {
    const { location, ops, remote } = await setup();
    remote({ op: 'up', binding: toShared(binding('1004', 4, 1), 'b', now) });
    location.upsert(binding('1004', 4, 2)); // the phone's refresh reached this instance
    expect(ops.map((o) => o[0])).toEqual(['set', 'publish']);
    // An older copy from the other instance does not undo it.
    remote({ op: 'up', binding: toShared(binding('1004', 4, 1), 'b', now) });
    expect(location.bindingsOf('1004')[0]?.cseq).toBe(2);
  });

  it('lets lapsed bindings lapse in Redis by themselves, and announces removals', async () => {
    const { location, ops } = await setup();
    location.upsert(binding('1005', 5));
    location.upsert(binding('1006', 6));
    ops.length = 0;
    now += 61_000;
    location.sweep(now);
    expect(ops).toEqual([]);
    now -= 61_000;
    location.upsert(binding('1007', 7));
    ops.length = 0;
    location.remove('1007', binding('1007', 7).key, 'removed');
    expect(ops.map((o) => o[0])).toEqual(['del', 'publish']);
  });

  it('shares no binding over a connection', async () => {
    const { location, ops } = await setup();
    location.upsert({
      ...binding('1008', 8),
      source: { protocol: 'wss', address: '127.0.0.1', port: 1, connectionId: 3 },
    });
    location.removeAll('1008', 'flow-closed');
    expect(ops).toEqual([]);
  });
});
