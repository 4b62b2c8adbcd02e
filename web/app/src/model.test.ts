import { describe, expect, it } from 'vitest';
import {
  agentBanner,
  durationAt,
  filterChoices,
  formatDuration,
  matchesFilter,
  qualityLines,
  queueLabel,
  sortCalls,
  type LiveCall,
} from './model.js';

const T0 = Date.parse('2026-01-01T10:00:00Z');

function call(id: string, over: Partial<LiveCall> = {}): LiveCall {
  return {
    id,
    state: 'answered',
    direction: 'inbound',
    startedAt: new Date(T0).toISOString(),
    answeredAt: new Date(T0 + 2000).toISOString(),
    durationSec: 0,
    agent: '1001',
    agentName: 'Alice',
    remote: { number: '+3312345678', name: null },
    tags: [],
    groups: ['sales'],
    hand: { raised: false, raisedAt: null, by: null },
    monitors: [],
    ...over,
  };
}

describe('the Call Monitor model', () => {
  it('ticks the duration from the answer', () => {
    const c = call('a');
    expect(durationAt(c, T0 + 2000)).toBe(0);
    expect(durationAt(c, T0 + 65_500)).toBe(63);
    expect(durationAt(c, T0)).toBe(0); // never negative
    expect(formatDuration(7)).toBe('0:07');
    expect(formatDuration(754)).toBe('12:34');
    expect(formatDuration(3723)).toBe('1:02:03');
  });

  it('puts raised hands on top, the longest waiting first, then the oldest calls', () => {
    const hand = (at: number) => ({
      raised: true,
      raisedAt: new Date(T0 + at).toISOString(),
      by: '1001',
    });
    const list = [
      call('old', { startedAt: new Date(T0 - 60_000).toISOString() }),
      call('new'),
      call('hand-late', { hand: hand(5000) }),
      call('hand-early', { hand: hand(1000) }),
    ];
    expect(sortCalls(list).map((c) => c.id)).toEqual(['hand-early', 'hand-late', 'old', 'new']);
  });

  it('filters by duration, agent, group, direction, tag and hand', () => {
    const c = call('a', { tags: ['vip'], hand: { raised: true, raisedAt: null, by: null } });
    const now = T0 + 32_000; // 30 s answered
    expect(matchesFilter(c, {}, now)).toBe(true);
    expect(matchesFilter(c, { minDurationSec: 30 }, now)).toBe(true);
    expect(matchesFilter(c, { minDurationSec: 31 }, now)).toBe(false);
    expect(matchesFilter(c, { maxDurationSec: 29 }, now)).toBe(false);
    expect(matchesFilter(c, { agent: '1001' }, now)).toBe(true);
    expect(matchesFilter(c, { agent: '1002' }, now)).toBe(false);
    expect(matchesFilter(c, { group: 'sales' }, now)).toBe(true);
    expect(matchesFilter(c, { group: 'support' }, now)).toBe(false);
    expect(matchesFilter(c, { direction: 'outbound' }, now)).toBe(false);
    expect(matchesFilter(c, { tag: 'vip' }, now)).toBe(true);
    expect(matchesFilter(c, { tag: 'angry' }, now)).toBe(false);
    expect(matchesFilter(c, { hand: true }, now)).toBe(true);
    expect(matchesFilter(call('b'), { hand: true }, now)).toBe(false);
    const queued = call('q', {
      queue: { number: '600', waiting: false, waitSec: 42, agent: '1001' },
    });
    expect(matchesFilter(queued, { queue: '600' }, now)).toBe(true);
    expect(matchesFilter(queued, { queue: '601' }, now)).toBe(false);
    expect(matchesFilter(c, { queue: '600' }, now)).toBe(false);
  });

  it('offers the queues of the calls on screen and labels a queue call', () => {
    const waiting = { number: '600', waiting: true, waitSec: 3, agent: null };
    expect(filterChoices([call('a', { queue: waiting }), call('b')]).queues).toEqual(['600']);
    expect(queueLabel(waiting)).toBe('600, waiting');
    expect(queueLabel({ ...waiting, waiting: false, waitSec: 42, agent: '1001' })).toBe(
      '600, waited 0:42',
    );
    expect(queueLabel(null)).toBe('—');
    expect(queueLabel(undefined)).toBe('—');
  });

  it('offers the agents, groups and tags of the calls on screen', () => {
    expect(
      filterChoices([call('a', { tags: ['b', 'a'] }), call('b', { agent: '1002', groups: ['x'] })]),
    ).toEqual({ agents: ['1001', '1002'], groups: ['sales', 'x'], tags: ['a', 'b'], queues: [] });
  });

  it('says the mode to the agent with the supervisor’s name', () => {
    expect(agentBanner('Sam', 'listen')).toBe('Sam is listening to this call.');
    expect(agentBanner('Sam', 'whisper')).toMatch(/^Sam is talking to you\./);
    expect(agentBanner('Sam', 'barge')).toBe('Sam is talking to you and the customer.');
    expect(agentBanner('Sam', 'takeover')).toBe('Sam has taken over this call.');
  });

  it('describes each leg’s quality', () => {
    const leg = { lossPct: 5.04, jitterMs: 12.4, mos: 3.12, rating: 'poor' as const };
    expect(
      qualityLines({ rating: 'poor', legs: { customer: leg, agent: null, supervisors: [leg] } }),
    ).toEqual([
      'Customer: poor, loss 5.0 %, jitter 12 ms, MOS 3.1',
      'Supervisor 1: poor, loss 5.0 %, jitter 12 ms, MOS 3.1',
    ]);
  });
});
