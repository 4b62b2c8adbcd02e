import { describe, expect, it } from '@jest/globals';
import { remoteListings, sharedListing } from '../../../../src/cluster/sharedListing.js';
import type { LiveCallView } from '../../../../src/monitoring/liveCalls.js';

const view: LiveCallView = {
  id: 'c1',
  state: 'answered',
  direction: 'internal',
  startedAt: '2026-01-01T00:00:00.000Z',
  answeredAt: '2026-01-01T00:00:01.000Z',
  durationSec: 0,
  agent: '1002',
  agentName: null,
  remote: { number: '1004', name: null },
  tags: ['vip'],
  groups: ['support'],
  hand: { raised: false, raisedAt: null, by: null },
  monitors: [],
  quality: null,
  queue: null,
};

describe('sharedListing: a call as the other instances list it', () => {
  it("carries the owner's join for each extension that may monitor the agent", () => {
    const entry = sharedListing(
      view,
      ['1001', '1005', '1006'],
      (s, agent) => agent === '1002' && s !== '1001',
      (s) => ({ modes: s === '1005' ? ['listen'] : [], refusal: null }),
    );
    expect(entry.joins).toEqual({
      '1005': { modes: ['listen'], refusal: null },
      '1006': { modes: [], refusal: null },
    });
    expect(
      sharedListing(
        { ...view, agent: null },
        ['1005'],
        () => true,
        () => {
          throw new Error('not asked');
        },
      ).joins,
    ).toEqual({});
  });

  it('filters like the local listing, with the duration brought up to now', () => {
    const entries = [
      sharedListing(
        view,
        [],
        () => false,
        () => ({ modes: [], refusal: null }),
      ),
    ];
    const now = Date.parse('2026-01-01T00:01:00.000Z');
    expect(remoteListings(entries, {}, now)[0]!.view.durationSec).toBe(60);
    expect(remoteListings(entries, { tag: 'vip', group: 'support' }, now)).toHaveLength(1);
    expect(remoteListings(entries, { agent: '1003' }, now)).toEqual([]);
    expect(remoteListings(entries, { minDurationSec: 61 }, now)).toEqual([]);
    expect(remoteListings(entries, { hand: true }, now)).toEqual([]);
  });
});
