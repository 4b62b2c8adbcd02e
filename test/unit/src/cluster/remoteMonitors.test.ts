import { describe, expect, it } from '@jest/globals';
import { EventBus } from '../../../../src/events/eventBus.js';
import type { EventBody } from '../../../../src/events/eventTypes.js';
import { clusterKeys } from '../../../../src/cluster/keys.js';
import type { RedisConnection } from '../../../../src/cluster/redisConnection.js';
import { RemoteMonitors } from '../../../../src/cluster/remoteMonitors.js';
import { createLogger } from '../../../../src/logging.js';
import { FakeClock } from '../../sip/transaction/fakeClock.js';

const keys = clusterKeys('cw:');

function setup() {
  const events = new EventBus();
  const clock = new FakeClock();
  const held = new Set<string>(); // monitor:<id> keys present in Redis
  const redis = {
    available: true,
    commands: {
      mget: (names: string[]) => Promise.resolve(names.map((n) => (held.has(n) ? 'b' : null))),
    },
  } as unknown as RedisConnection;
  const remote = new RemoteMonitors({
    events,
    redis,
    keys,
    clock,
    logger: createLogger('silent'),
    refreshMs: 1000,
  });
  remote.start();
  const monitor = (type: 'monitor.started' | 'monitor.ended', id: string, instance?: string) =>
    events.publish({
      type,
      sessionId: id,
      callId: 'c1',
      supervisor: '1005',
      agent: '1002',
      mode: 'listen',
      ...(instance !== undefined ? { instance } : {}),
    } as unknown as EventBody);
  return { remote, clock, held, monitor };
}

describe('RemoteMonitors: supervisors monitoring on another instance', () => {
  it("follows the other instances' session events, not this instance's own", () => {
    const { remote, monitor } = setup();
    monitor('monitor.started', 'm1');
    expect(remote.isMonitoring('1005')).toBe(false);
    monitor('monitor.started', 'm2', 'b');
    expect(remote.isMonitoring('1005')).toBe(true);
    expect(remote.isMonitoring('1006')).toBe(false);
    monitor('monitor.ended', 'm2', 'b');
    expect(remote.isMonitoring('1005')).toBe(false);
    remote.stop();
  });

  it('forgets a session whose monitor index key lapsed (its instance died)', async () => {
    const { remote, clock, held, monitor } = setup();
    monitor('monitor.started', 'm2', 'b');
    held.add(keys.monitor('m2'));
    clock.advance(1000);
    await Promise.resolve();
    expect(remote.isMonitoring('1005')).toBe(true);
    held.clear();
    clock.advance(1000);
    await new Promise((r) => setImmediate(r));
    expect(remote.isMonitoring('1005')).toBe(false);
    remote.stop();
  });
});
