import { describe, expect, it } from '@jest/globals';
import type { LegStats } from '../../../../media/engine/index.js';
import {
  CallQualityService,
  type CallQualityView,
} from '../../../../src/monitoring/callQualityService.js';

const stats = (legId: number, expected: number, received: number): LegStats =>
  ({
    legId,
    inbound: { ssrc: 1, expected, received, lost: expected - received, jitterMs: 1 },
    remoteReport: null,
  }) as unknown as LegStats;

const tick = () => new Promise<void>((r) => queueMicrotask(r));

describe('CallQualityService', () => {
  it('rates each leg, the call by its worst leg, and publishes changes at most every 2 s', async () => {
    let now = 0;
    const published: Array<[string, string, CallQualityView]> = [];
    const q = new CallQualityService({
      now: () => now,
      publish: (callId, agent, quality) => published.push([callId, agent, quality]),
    });
    q.trackCall('c1', '1002', {
      customer: { legId: 1, codec: 'PCMU' },
      agent: { legId: 2, codec: 'PCMU' },
    });
    expect(q.qualityOf('c1')).toEqual({
      legs: { customer: null, agent: null, supervisors: [] },
      rating: 'good',
    });
    q.onLegStats(stats(1, 100, 100));
    q.onLegStats(stats(2, 100, 100));
    q.onLegStats(stats(99, 100, 0)); // not a tracked leg
    await tick();
    expect(published).toHaveLength(1);
    expect(published[0]![2].rating).toBe('good');

    // 1 s later the customer loses 5 %: too soon to publish.
    now = 1000;
    q.onLegStats(stats(1, 200, 195));
    await tick();
    expect(published).toHaveLength(1);
    expect(q.qualityOf('c1')).toMatchObject({
      rating: 'poor',
      legs: { customer: { lossPct: 5, rating: 'poor' }, agent: { rating: 'good' } },
    });
    // The next round, 2 s after the last publication, publishes it.
    now = 2000;
    q.onLegStats(stats(1, 300, 290));
    await tick();
    expect(published).toHaveLength(2);
    expect(published[1]![2].rating).toBe('poor');
    expect(q.legsByRating()).toEqual({ good: 1, fair: 0, poor: 1 });
    // Unchanged figures are not published again.
    now = 4000;
    q.onLegStats(stats(1, 400, 385));
    await tick();
    expect(published).toHaveLength(2);

    q.trackSupervisor('c1', '1005', 3, 'PCMU');
    q.onLegStats(stats(3, 50, 50));
    expect(q.qualityOf('c1')?.legs.supervisors).toEqual([
      { supervisor: '1005', lossPct: 0, jitterMs: 1, mos: 4.4, rating: 'good' },
    ]);
    q.untrackSupervisor('c1', '1005');
    expect(q.qualityOf('c1')?.legs.supervisors).toEqual([]);
    q.callEnded('c1');
    expect(q.qualityOf('c1')).toBeUndefined();
  });

  it('rates each leg by the codec negotiated for it, read at each report', async () => {
    const q = new CallQualityService({ now: () => 0 });
    let agentCodec: 'PCMU' | 'G722' = 'PCMU';
    q.trackCall('c1', '1002', {
      customer: { legId: 1, codec: 'PCMU' },
      agent: { legId: 2, codec: () => agentCodec },
    });
    // 5 % loss on both: G.711 without concealment (Bpl 4.3) is poor.
    q.onLegStats(stats(1, 100, 95));
    q.onLegStats(stats(2, 100, 95));
    const pcmu = q.qualityOf('c1')!.legs;
    expect(pcmu.customer).toMatchObject({ lossPct: 5, rating: 'poor' });
    expect(pcmu.agent).toEqual(pcmu.customer);
    // A re-INVITE moved the agent to G.722: the same loss is concealed (Bpl 25.1), fair.
    agentCodec = 'G722';
    q.onLegStats(stats(1, 200, 190));
    q.onLegStats(stats(2, 200, 190));
    const g722 = q.qualityOf('c1')!.legs;
    expect(g722.customer).toEqual(pcmu.customer);
    expect(g722.agent).toMatchObject({ lossPct: 5, rating: 'fair' });
    expect(g722.agent!.mos).toBeGreaterThan(pcmu.agent!.mos + 1);
    // A supervisor's leg likewise.
    q.trackSupervisor('c1', '1005', 3, () => 'opus');
    q.onLegStats(stats(3, 100, 95));
    expect(q.qualityOf('c1')!.legs.supervisors[0]).toMatchObject({ mos: g722.agent!.mos });
    await tick();
  });

  it('publishes a steady call once, not every round: small moves are not events', async () => {
    let now = 0;
    const published: CallQualityView[] = [];
    const q = new CallQualityService({ now: () => now, publish: (_c, _a, v) => published.push(v) });
    q.trackCall('c1', '1002', {
      customer: { legId: 1, codec: 'PCMU' },
      agent: { legId: 2, codec: 'PCMU' },
    });
    /** One round, 2 s after the previous: 100 packets expected per leg, `lost` of them lost. */
    const totalLost = [0, 0];
    const round = async (i: number, lost: [number, number], jitterMs: [number, number]) => {
      now = i * 2000;
      for (const [k, legId] of [1, 2].entries()) {
        totalLost[k]! += lost[k]!;
        q.onLegStats({
          legId,
          inbound: {
            ssrc: 1,
            expected: (i + 1) * 100,
            received: (i + 1) * 100 - totalLost[k]!,
            lost: totalLost[k],
            jitterMs: jitterMs[k],
          },
          remoteReport: null,
        } as unknown as LegStats);
      }
      await tick();
    };
    // 30 rounds (a minute) of a clean call whose jitter wanders between 5 and 14 ms.
    let seq = 0;
    for (; seq < 30; seq++) await round(seq, [0, 0], [5 + (seq % 10), 14 - (seq % 10)]);
    expect(published).toHaveLength(1);
    // The jitter steps up by 10 ms: an event.
    await round(seq++, [0, 0], [24, 14]);
    expect(published).toHaveLength(2);
    // 1 packet of 100 lost on the customer leg: 1 point, the MOS drops: an event.
    await round(seq++, [1, 0], [24, 14]);
    expect(published).toHaveLength(3);
    expect(published[2]!.legs.customer).toMatchObject({ lossPct: 1 });
    // The same again, then back to clean: one more (back to 0 %, good).
    await round(seq++, [1, 0], [24, 14]);
    expect(published).toHaveLength(3);
    await round(seq++, [0, 0], [24, 14]);
    expect(published).toHaveLength(4);
    expect(published[3]!.legs.customer).toMatchObject({ lossPct: 0, rating: 'good' });
    // /v1/calls stays current between events.
    await round(seq++, [0, 0], [27, 14]);
    expect(published).toHaveLength(4);
    expect(q.qualityOf('c1')!.legs.customer!.jitterMs).toBe(27);
  });
});
