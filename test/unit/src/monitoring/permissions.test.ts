import { describe, expect, it } from '@jest/globals';
import { configSchema } from '../../../../src/config/schema.js';
import { Permissions } from '../../../../src/monitoring/permissions.js';

function permissions(monitoring: Record<string, unknown>, extensions?: unknown[]) {
  const config = configSchema.parse({
    extensions: extensions ?? [
      { number: '1001', password: 'pw1001' },
      { number: '1002', password: 'pw1002' },
      { number: '1003', password: 'pw1003', allowMonitoring: false },
      { number: '1005', password: 'pw1005', role: 'supervisor' },
      { number: '1006', password: 'pw1006', role: 'supervisor' },
    ],
    monitoring,
  });
  return new Permissions(config);
}

const GROUPS = [
  { name: 'all', monitors: ['1005'], members: ['1001', '1002', '1003'], modes: ['all'] },
  { name: 'listeners', monitors: ['1006'], members: ['1001'], modes: ['listen'] },
  { name: 'coaches', monitors: ['1006'], members: ['1001', '1002'], modes: ['whisper'] },
];

describe('Permissions', () => {
  it('refuses everything while monitoring is disabled (the default)', () => {
    const p = permissions({ groups: GROUPS });
    expect(p.monitoringEnabled).toBe(false);
    expect(p.check('1005', '1001', 'listen')).toBe('monitoring-disabled');
    expect(p.modesFor('1005', '1001')).toEqual([]);
    expect(p.isMonitor('1005')).toBe(false);
  });

  it('covers the members its groups name, one who opted out included, for the listing', () => {
    const p = permissions({ enabled: true, groups: GROUPS });
    // 1003 opted out: no mode, refused as member-forbids, but still 1005's to see.
    expect(p.modesFor('1005', '1003')).toEqual([]);
    expect(p.check('1005', '1003', 'listen')).toBe('member-forbids');
    expect(p.covers('1005', '1003')).toBe(true);
    expect(p.covers('1005', '1001')).toBe(true);
    // Not named by 1006's groups; nobody's while monitoring is disabled.
    expect(p.covers('1006', '1003')).toBe(false);
    expect(permissions({ groups: GROUPS }).covers('1005', '1001')).toBe(false);
  });

  it('gives every mode to an "all" group and the union of modes across groups', () => {
    const p = permissions({ enabled: true, groups: GROUPS });
    expect(p.modesFor('1005', '1001')).toEqual(['listen', 'whisper', 'barge', 'takeover']);
    expect(p.modesFor('1006', '1001')).toEqual(['listen', 'whisper']);
    expect(p.modesFor('1006', '1002')).toEqual(['whisper']);
    expect(p.check('1006', '1001', 'whisper')).toBeUndefined();
    expect(p.check('1006', '1002', 'listen')).toBe('mode-not-allowed');
    expect(p.check('1006', '1001', 'barge')).toBe('mode-not-allowed');
  });

  it('names each refusal, first failure first', () => {
    const p = permissions({ enabled: true, groups: GROUPS });
    expect(p.check('1005', '9999', 'listen')).toBe('unknown-extension');
    expect(p.check('9999', '1001', 'listen')).toBe('unknown-extension');
    expect(p.check('1005', '1005', 'listen')).toBe('self');
    expect(p.check('1005', '1003', 'listen')).toBe('member-forbids');
    expect(p.check('1001', '1002', 'listen')).toBe('not-permitted');
    expect(p.check('1006', '1005', 'listen')).toBe('not-permitted');
  });

  it('lists monitors, members and groups; a member that forbids monitoring is nobody’s', () => {
    const p = permissions({ enabled: true, groups: GROUPS });
    expect(p.membersOf('1005').sort()).toEqual(['1001', '1002']);
    expect(p.monitorsOf('1001').sort()).toEqual(['1005', '1006']);
    expect(p.monitorsOf('1003')).toEqual([]);
    expect(p.groupsOf('1001')).toEqual(['all', 'coaches', 'listeners']);
    expect(p.isMonitor('1006')).toBe(true);
    expect(p.isMonitor('1001')).toBe(false);
  });

  it('is validated at load: members and monitors must be extensions', () => {
    const result = configSchema.safeParse({
      extensions: [{ number: '1001', password: 'pw1001' }],
      monitoring: { enabled: true, groups: [{ name: 'g', monitors: ['1005'], members: ['1001'] }] },
    });
    expect(result.success).toBe(false);
    expect(JSON.stringify(result.error?.issues)).toContain('1005 is not an extension');
  });
});

describe('Permissions: queues as group members (docs/architecture.md §9.5)', () => {
  const config = configSchema.parse({
    extensions: [
      { number: '1001', password: 'pw1001' },
      { number: '1002', password: 'pw1002', allowMonitoring: false },
      { number: '1006', password: 'pw1006', role: 'supervisor' },
    ],
    queues: [{ number: '600', name: 'Support', members: ['1001', '1002'] }],
    monitoring: {
      enabled: true,
      groups: [{ name: 'q', monitors: ['1006'], members: ['600'], modes: ['listen'] }],
    },
  });
  const p = new Permissions(config);

  it('lets a monitor of a queue monitor the agent of a call answered through it', () => {
    expect(p.coversQueue('1006', '600')).toBe(true);
    expect(p.coversQueue('1006', '601')).toBe(false);
    expect(p.check('1006', '1001', 'listen', '600')).toBeUndefined();
    expect(p.check('1006', '1001', 'barge', '600')).toBe('mode-not-allowed');
    // Not the same agent's other calls, and not an agent who opted out.
    expect(p.check('1006', '1001', 'listen')).toBe('not-permitted');
    expect(p.check('1006', '1002', 'listen', '600')).toBe('member-forbids');
  });

  it('refuses a group member that is neither an extension nor a queue', () => {
    const result = configSchema.safeParse({
      extensions: [{ number: '1006', password: 'pw1006' }],
      monitoring: { groups: [{ name: 'g', monitors: ['1006'], members: ['600'] }] },
    });
    expect(result.success).toBe(false);
    expect(JSON.stringify(result.error?.issues)).toContain(
      '600 is neither an extension nor a queue',
    );
  });
});
