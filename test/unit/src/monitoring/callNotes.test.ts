import { describe, expect, it } from '@jest/globals';
import { CallNotes, MAX_TAGS, type HandChange } from '../../../../src/monitoring/callNotes.js';

function notes(sequence: string | null = '##') {
  let now = 1000;
  const n = new CallNotes(sequence, () => now);
  const events: Array<[string, HandChange]> = [];
  n.on('handRaised', (c) => events.push(['raised', c]));
  n.on('handLowered', (c) => events.push(['lowered', c]));
  return { n, events, advance: (ms: number) => (now += ms) };
}

describe('CallNotes', () => {
  it('raises a hand once, lowers it, and forgets the call at the end', () => {
    const { n, events } = notes();
    n.open('c1', '1001');
    expect(n.raise('c1', '1001')).toBe(true);
    expect(n.raise('c1', '1001')).toBe(true);
    expect(n.hand('c1')).toEqual({ raisedAt: 1000, by: '1001' });
    expect(n.lower('c1', '1005', 'supervisor-joined')).toBe(true);
    expect(n.hand('c1')).toBeUndefined();
    n.raise('c1', 'api-token');
    n.close('c1');
    expect(events.map(([e, c]) => [e, c.by, c.reason])).toEqual([
      ['raised', '1001', 'raised'],
      ['lowered', '1005', 'supervisor-joined'],
      ['raised', 'api-token', 'raised'],
      ['lowered', 'system', 'call-ended'],
    ]);
    expect(n.raise('c1', '1001')).toBe(false);
  });

  it('raises on the agent’s DTMF sequence keyed within the window', () => {
    const { n, events, advance } = notes('##');
    n.open('c1', '1001');
    n.agentDigit('c1', '#');
    advance(5000); // too slow: the sequence starts over
    n.agentDigit('c1', '#');
    expect(events).toEqual([]);
    advance(500);
    n.agentDigit('c1', '#');
    expect(events.map(([e, c]) => [e, c.agent, c.by])).toEqual([['raised', '1001', '1001']]);
  });

  it('ignores digits when the sequence is off, and other digits in between', () => {
    const off = notes(null);
    off.n.open('c1', '1001');
    off.n.agentDigit('c1', '#');
    off.n.agentDigit('c1', '#');
    expect(off.events).toEqual([]);
    const on = notes('*9');
    on.n.open('c1', '1001');
    for (const d of ['*', '1', '9']) on.n.agentDigit('c1', d);
    expect(on.events).toEqual([]);
    on.n.agentDigit('c1', '*');
    on.n.agentDigit('c1', '9');
    expect(on.events).toHaveLength(1);
  });

  it('keeps tags deduplicated and bounded', () => {
    const { n } = notes();
    expect(n.addTags('nope', ['x'])).toBe(false);
    n.open('c1', '1001');
    n.addTags('c1', ['vip', 'vip', 'billing']);
    expect(n.tags('c1')).toEqual(['vip', 'billing']);
    n.addTags(
      'c1',
      Array.from({ length: 100 }, (_, i) => `t${i}`),
    );
    expect(n.tags('c1')).toHaveLength(MAX_TAGS);
  });
});
