import { describe, expect, it } from '@jest/globals';
import { configSchema } from '../../../../src/config/schema.js';
import { agentNoticesOn, monitoredBy } from '../../../../src/monitoring/agentNotices.js';
import type { LiveCallView } from '../../../../src/monitoring/liveCalls.js';

const config = (monitoring: Record<string, unknown>) =>
  configSchema.parse({ extensions: [{ number: '1001', password: 'pw1001' }], monitoring });

describe('agentNoticesOn', () => {
  it('is on by default, off when notices.agent or the older notifyAgents is false', () => {
    expect(agentNoticesOn(config({}))).toBe(true);
    expect(config({}).monitoring.notices).toEqual({ agent: true });
    expect(agentNoticesOn(config({ notices: { agent: false } }))).toBe(false);
    expect(agentNoticesOn(config({ notifyAgents: false }))).toBe(false);
    expect(() => config({ notices: { agent: true, supervisor: true } })).toThrow();
  });
});

describe('monitoredBy', () => {
  const view = {
    monitors: [
      { id: 'm1', supervisor: '1005', supervisorName: 'Sam', mode: 'listen', state: 'active' },
      { id: 'm2', supervisor: '1006', supervisorName: null, mode: 'barge', state: 'calling' },
      { id: 'm3', supervisor: '1007', supervisorName: null, mode: 'listen', state: 'ended' },
    ],
  } as unknown as LiveCallView;

  it('lists the sessions not ended, without ids, when notices are on', () => {
    expect(monitoredBy(view, true)).toEqual([
      { supervisor: '1005', supervisorName: 'Sam', mode: 'listen' },
      { supervisor: '1006', supervisorName: null, mode: 'barge' },
    ]);
  });

  it('is empty when notices are off', () => {
    expect(monitoredBy(view, false)).toEqual([]);
  });
});
