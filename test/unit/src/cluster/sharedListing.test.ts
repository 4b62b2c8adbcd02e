import { describe, expect, it } from '@jest/globals';
import {
  parseCallFacts,
  remoteListings,
  sharedListing,
} from '../../../../src/cluster/sharedListing.js';
import type { CallFacts } from '../../../../src/monitoring/joinChecks.js';
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

const facts: CallFacts = {
  agent: '1002',
  call: { queue: '600', takenOver: false, legs: 3 },
  agentMonitoring: false,
};

/** Through the index as the other instances read it: JSON written, JSON read. */
const viaRedis = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;

describe('sharedListing: a call as the other instances list it', () => {
  it("carries the owner's facts about the call, not a join per supervisor", () => {
    const entry = sharedListing(view, facts);
    expect(entry).toEqual({ view, facts });
    expect(Object.keys(entry)).toEqual(['view', 'facts']);
  });

  it('reads back what the owner wrote, every kind of call', () => {
    const kinds: CallFacts[] = [
      facts,
      { agent: '1002', call: { takenOver: true, legs: 2 }, agentMonitoring: true },
      { agent: '1002', agentMonitoring: false },
      { unanswered: { code: 'queue-waiting', message: 'waiting' }, agentMonitoring: false },
      { unanswered: { code: 'no-call', message: 'no answered call c1' }, agentMonitoring: false },
    ];
    for (const k of kinds) expect(parseCallFacts(viaRedis(k))).toEqual(k);
  });

  it('drops facts that are not well-formed (the call is then listed without a join)', () => {
    const bad: unknown[] = [
      undefined,
      null,
      'x',
      {},
      { agentMonitoring: 'no' },
      { agentMonitoring: false, agent: 1002 },
      { agentMonitoring: false, unanswered: { code: 'nonsense', message: 'm' } },
      { agentMonitoring: false, unanswered: { code: 'no-call' } },
      { agentMonitoring: false, call: { takenOver: false } },
      { agentMonitoring: false, call: { takenOver: false, legs: 2, queue: 600 } },
      // What an owner of the version that computed joins wrote.
      { joins: { '1005': { modes: ['listen'], refusal: null } } },
    ];
    for (const b of bad) expect(parseCallFacts(b)).toBeUndefined();
    const [listed] = remoteListings(
      [{ view, facts: { agentMonitoring: 'no' } as unknown as CallFacts }],
      {},
      Date.parse(view.startedAt),
    );
    expect(listed).toEqual({ view });
  });

  it('filters like the local listing, with the duration brought up to now', () => {
    const entries = [viaRedis(sharedListing(view, facts))];
    const now = Date.parse('2026-01-01T00:01:00.000Z');
    expect(remoteListings(entries, {}, now)[0]).toEqual({
      view: { ...view, durationSec: 60 },
      facts,
    });
    expect(remoteListings(entries, { tag: 'vip', group: 'support' }, now)).toHaveLength(1);
    expect(remoteListings(entries, { agent: '1003' }, now)).toEqual([]);
    expect(remoteListings(entries, { minDurationSec: 61 }, now)).toEqual([]);
    expect(remoteListings(entries, { hand: true }, now)).toEqual([]);
  });
});
