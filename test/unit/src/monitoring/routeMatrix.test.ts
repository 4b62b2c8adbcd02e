import { describe, it, expect } from '@jest/globals';
import { roomRoutes, routeMatrix, toIndices } from '../../../../src/monitoring/routeMatrix.js';
import { MONITOR_MODES } from '../../../../src/monitoring/modes.js';
import type { MonitorMode, Participant } from '../../../../src/monitoring/routeMatrix.js';

const customer: Participant = { id: 'C', role: 'customer' };
const agent: Participant = { id: 'A', role: 'agent' };
const sup = (id: string, mode?: MonitorMode): Participant => ({ id, role: 'supervisor', mode });

/** The matrix as a plain object: { C: [...], A: [...], …, rec: { customer, agent } }. */
function routes(participants: Participant[]): Record<string, unknown> {
  const m = routeMatrix(participants);
  return { ...Object.fromEntries(m.hears), rec: m.recording };
}

describe('routeMatrix (docs/architecture.md §6.1)', () => {
  it('an unmonitored call: customer and agent hear each other', () => {
    expect(routes([customer, agent])).toEqual({
      C: ['A'],
      A: ['C'],
      rec: { customer: ['C'], agent: ['A'] },
    });
  });

  it('listen: the supervisor hears both, nobody hears the supervisor', () => {
    expect(routes([customer, agent, sup('S', 'listen')])).toEqual({
      C: ['A'],
      A: ['C'],
      S: ['C', 'A'],
      rec: { customer: ['C'], agent: ['A'] },
    });
  });

  it('a supervisor without a mode listens', () => {
    expect(routes([customer, agent, sup('S')])).toEqual(
      routes([customer, agent, sup('S', 'listen')]),
    );
  });

  it('whisper: only the agent hears the supervisor', () => {
    expect(routes([customer, agent, sup('S', 'whisper')])).toEqual({
      C: ['A'],
      A: ['C', 'S'],
      S: ['C', 'A'],
      rec: { customer: ['C'], agent: ['A'] },
    });
  });

  it('barge: agent and customer hear the supervisor, the recording still does not', () => {
    expect(routes([customer, agent, sup('S', 'barge')])).toEqual({
      C: ['A', 'S'],
      A: ['C', 'S'],
      S: ['C', 'A'],
      rec: { customer: ['C'], agent: ['A'] },
    });
  });

  it('takeover: the supervisor is the agent, recorded on the agent track; the agent is gone', () => {
    expect(routes([customer, agent, sup('S', 'takeover')])).toEqual({
      C: ['S'],
      A: [],
      S: ['C'],
      rec: { customer: ['C'], agent: ['S'] },
    });
  });

  it('two supervisors, one whispering and one listening', () => {
    expect(routes([customer, agent, sup('W', 'whisper'), sup('L', 'listen')])).toEqual({
      C: ['A'],
      A: ['C', 'W'],
      W: ['C', 'A'],
      L: ['C', 'A', 'W'],
      rec: { customer: ['C'], agent: ['A'] },
    });
  });

  it('two whisperers: the agent hears both summed, each hears the other', () => {
    expect(routes([customer, agent, sup('W1', 'whisper'), sup('W2', 'whisper')])).toEqual({
      C: ['A'],
      A: ['C', 'W1', 'W2'],
      W1: ['C', 'A', 'W2'],
      W2: ['C', 'A', 'W1'],
      rec: { customer: ['C'], agent: ['A'] },
    });
  });

  it('a barging and a whispering supervisor', () => {
    expect(routes([customer, agent, sup('B', 'barge'), sup('W', 'whisper')])).toEqual({
      C: ['A', 'B'],
      A: ['C', 'B', 'W'],
      B: ['C', 'A', 'W'],
      W: ['C', 'A', 'B'],
      rec: { customer: ['C'], agent: ['A'] },
    });
  });

  it('after a takeover, other supervisors monitor the new agent', () => {
    expect(routes([customer, agent, sup('T', 'takeover'), sup('L', 'listen')])).toEqual({
      C: ['T'],
      A: [],
      T: ['C'],
      L: ['C', 'T'],
      rec: { customer: ['C'], agent: ['T'] },
    });
    expect(routes([customer, agent, sup('T', 'takeover'), sup('W', 'whisper')])).toEqual({
      C: ['T'],
      A: [],
      T: ['C', 'W'],
      W: ['C', 'T'],
      rec: { customer: ['C'], agent: ['T'] },
    });
  });

  it('holds the invariants for every pair of supervisor modes', () => {
    const modes = MONITOR_MODES;
    for (const m1 of modes) {
      for (const m2 of modes) {
        if (m1 === 'takeover' && m2 === 'takeover') continue;
        const ps = [customer, agent, sup('S1', m1), sup('S2', m2)];
        const { hears, recording } = routeMatrix(ps);
        const modeOf = new Map([
          ['S1', m1],
          ['S2', m2],
        ]);
        for (const [id, heard] of hears) expect(heard).not.toContain(id);
        for (const s of ['S1', 'S2']) {
          const mode = modeOf.get(s);
          if (mode !== 'takeover')
            expect([...recording.customer, ...recording.agent]).not.toContain(s);
          if (mode === 'listen' || mode === 'whisper') expect(hears.get('C')).not.toContain(s);
          if (mode === 'listen') {
            for (const heard of hears.values()) expect(heard).not.toContain(s);
          }
        }
        const takeover = m1 === 'takeover' ? 'S1' : m2 === 'takeover' ? 'S2' : undefined;
        expect(recording.agent).toEqual([takeover ?? 'A']);
        expect(hears.get('C')).toContain(takeover ?? 'A');
      }
    }
  });

  it('ignores a mode on a non-supervisor', () => {
    expect(
      routes([
        { ...customer, mode: 'barge' },
        { ...agent, mode: 'takeover' },
      ]),
    ).toEqual(routes([customer, agent]));
  });

  it('rejects duplicate ids and a second takeover', () => {
    expect(() => routeMatrix([customer, customer])).toThrow(RangeError);
    expect(() =>
      routeMatrix([customer, agent, sup('S1', 'takeover'), sup('S2', 'takeover')]),
    ).toThrow(RangeError);
  });

  it('maps ids to mixer source indices', () => {
    const order = ['C', 'A', 'S'];
    const m = routeMatrix([customer, agent, sup('S', 'barge')]);
    expect(order.map((id) => toIndices(m.hears.get(id)!, order))).toEqual([
      [1, 2],
      [0, 2],
      [0, 1],
    ]);
    expect(toIndices(m.recording.agent, order)).toEqual([1]);
    expect(() => toIndices(['X'], order)).toThrow(RangeError);
  });
});

describe('roomRoutes: the matrix as the media room takes it', () => {
  const unity = (...ids: string[]) => ids.map((leg) => ({ leg, gain: 1 }));

  it('an unmonitored call: each party hears the other at unity, customer left, agent right', () => {
    expect(roomRoutes([customer, agent])).toEqual({
      members: [
        { leg: 'C', hears: unity('A') },
        { leg: 'A', hears: unity('C') },
      ],
      recordingTracks: [['C'], ['A']],
    });
  });

  it('every mode: the same routes as the matrix, at gain 1, members in input order', () => {
    for (const mode of MONITOR_MODES) {
      const ps = [agent, sup('S', mode), customer];
      const m = routeMatrix(ps);
      const routes = roomRoutes(ps);
      expect(routes.members.map((r) => r.leg)).toEqual(['A', 'S', 'C']);
      for (const r of routes.members) {
        expect(r.hears).toEqual(unity(...m.hears.get(r.leg)!));
        expect(r.hears.map((h) => h.leg)).not.toContain(r.leg);
      }
      expect(routes.recordingTracks).toEqual([[...m.recording.customer], [...m.recording.agent]]);
    }
  });

  it('whisper and takeover, spelled out', () => {
    expect(roomRoutes([customer, agent, sup('S', 'whisper')])).toEqual({
      members: [
        { leg: 'C', hears: unity('A') },
        { leg: 'A', hears: unity('C', 'S') },
        { leg: 'S', hears: unity('C', 'A') },
      ],
      recordingTracks: [['C'], ['A']],
    });
    // The released agent hears nobody and is heard by nobody; the supervisor is recorded.
    expect(roomRoutes([customer, agent, sup('S', 'takeover')])).toEqual({
      members: [
        { leg: 'C', hears: unity('S') },
        { leg: 'A', hears: [] },
        { leg: 'S', hears: unity('C') },
      ],
      recordingTracks: [['C'], ['S']],
    });
  });

  it('works on any id type (the product passes Leg objects) and rejects what the matrix rejects', () => {
    const c = { name: 'c' };
    const a = { name: 'a' };
    const routes = roomRoutes([
      { id: c, role: 'customer' },
      { id: a, role: 'agent' },
    ]);
    expect(routes.members[0]!.hears[0]!.leg).toBe(a);
    expect(routes.recordingTracks[1][0]).toBe(a);
    expect(() =>
      roomRoutes([customer, agent, sup('S1', 'takeover'), sup('S2', 'takeover')]),
    ).toThrow(RangeError);
  });
});
