import { describe, expect, it } from '@jest/globals';
import { configSchema } from '../../../../src/config/schema.js';
import { Permissions } from '../../../../src/monitoring/permissions.js';
import { SubscriptionCounts } from '../../../../src/presence/limits.js';
import { mayWatch } from '../../../../src/presence/watchPolicy.js';

describe('SubscriptionCounts', () => {
  it('refuses past each bound, and counts again after removals', () => {
    const c = new SubscriptionCounts({ maxPerWatcher: 2, maxPerWatched: 3, maxPerSource: 4 });
    const h = (watcher: string, watched: string, source = '10.0.0.1') => ({
      watcher,
      watched,
      source,
    });
    c.add(h('1005', '1001'));
    c.add(h('1005', '1002'));
    expect(c.check(h('1005', '1003'))).toBe('watcher');
    c.add(h('1006', '1001'));
    c.add(h('1007', '1001'));
    expect(c.check(h('1008', '1001', '10.0.0.2'))).toBe('watched');
    expect(c.check(h('1008', '1002'))).toBe('source');
    expect(c.check(h('1008', '1002', '10.0.0.2'))).toBeUndefined();
    c.remove(h('1005', '1002'));
    expect(c.check(h('1005', '1003', '10.0.0.2'))).toBeUndefined();
    expect(c.of('source', '10.0.0.1')).toBe(3);
  });
});

describe('who may watch whom', () => {
  const config = configSchema.parse({
    extensions: ['1001', '1002', '1003', '1005'].map((number) => ({
      number,
      password: `pw${number}`,
    })),
    monitoring: {
      enabled: true,
      groups: [{ name: 'g', monitors: ['1005'], members: ['1001', '1002'], modes: ['listen'] }],
    },
  });
  const p = new Permissions(config);

  it('monitoring: the members one may monitor, and oneself', () => {
    expect(mayWatch('monitoring', p, '1005', '1002')).toBe(true);
    expect(mayWatch('monitoring', p, '1005', '1003')).toBe(false);
    expect(mayWatch('monitoring', p, '1001', '1002')).toBe(false);
    expect(mayWatch('monitoring', p, '1001', '1001')).toBe(true);
    expect(mayWatch('monitoring', p, '1005', '9999')).toBe(false);
  });

  it('all: any extension watches any other, never a non-extension', () => {
    expect(mayWatch('all', p, '1001', '1002')).toBe(true);
    expect(mayWatch('all', p, '1003', '1005')).toBe(true);
    expect(mayWatch('all', p, '1001', '9999')).toBe(false);
  });

  it('monitoring off: nobody watches anyone else', () => {
    const off = new Permissions({
      ...config,
      monitoring: { ...config.monitoring, enabled: false },
    });
    expect(mayWatch('monitoring', off, '1005', '1002')).toBe(false);
  });
});
