import { describe, it, expect } from '@jest/globals';
import { Registry } from 'prom-client';
import type { MediaCounters, WorkerStats } from '../../../../media/worker/protocol.js';
import { MediaMetrics } from '../../../../src/metrics/mediaMetrics.js';

const zero: MediaCounters = {
  packetsIn: 0,
  bytesIn: 0,
  rtpIn: 0,
  packetsOut: 0,
  bytesOut: 0,
  rtcpIn: 0,
  rtcpOut: 0,
  dropMalformed: 0,
  dropForeign: 0,
  dropEarlyRtcp: 0,
  dropPayloadType: 0,
  dropDirection: 0,
  dropDtmf: 0,
  dropNoDestination: 0,
  dropStale: 0,
  dropCodec: 0,
} as MediaCounters;

function worker(counters: Partial<MediaCounters>): WorkerStats {
  return {
    worker: 0,
    legs: 2,
    counters: { ...zero, ...counters },
    cpuMs: null,
    eventLoopUtilization: 0.25,
    loopDelayMs: { mean: 0.1, max: 1.5 },
    io: 'dgram',
    ioCounters: {
      datagramsIn: 0,
      bytesIn: 0,
      datagramsOut: 0,
      bytesOut: 0,
      sendErrors: 0,
      receiveErrors: 0,
    },
  };
}

/** Sum of the samples named `name` (a histogram's `_count` included) matching `labels`. */
async function sample(registry: Registry, name: string, labels: Record<string, string> = {}) {
  let sum = 0;
  for (const metric of await registry.getMetricsAsJSON()) {
    const values = metric.values as Array<{
      labels: Record<string, unknown>;
      value: number;
      metricName?: string;
    }>;
    for (const v of values) {
      if ((v.metricName ?? metric.name) !== name) continue;
      if (Object.entries(labels).every(([k, x]) => String(v.labels[k]) === x)) sum += v.value;
    }
  }
  return sum;
}

describe('MediaMetrics', () => {
  it('turns cumulative worker totals into counter increments', async () => {
    const registry = new Registry();
    const m = new MediaMetrics(registry);
    m.onWorkerStats(worker({ packetsIn: 100, packetsOut: 90, dropForeign: 3 }));
    m.onWorkerStats(
      worker({
        packetsIn: 250,
        packetsOut: 240,
        dropForeign: 5,
        dropMalformed: 1,
        dropEarlyRtcp: 2,
      }),
    );
    expect(await sample(registry, 'callwatch_rtp_dropped_total', { reason: 'early_rtcp' })).toBe(2);
    expect(await sample(registry, 'callwatch_rtp_packets_total', { direction: 'in' })).toBe(250);
    expect(await sample(registry, 'callwatch_rtp_packets_total', { direction: 'out' })).toBe(240);
    expect(
      await sample(registry, 'callwatch_rtp_dropped_total', { reason: 'foreign_source' }),
    ).toBe(5);
    expect(await sample(registry, 'callwatch_rtp_dropped_total', { reason: 'malformed' })).toBe(1);
    expect(await sample(registry, 'callwatch_media_worker_loop_lag_seconds', { worker: '0' })).toBe(
      0.0015,
    );
    expect(await sample(registry, 'callwatch_media_legs', { worker: '0' })).toBe(2);
  });

  it('counts what the relay fast path carried, by difference per worker', async () => {
    const registry = new Registry();
    const m = new MediaMetrics(registry);
    const fast = () => sample(registry, 'callwatch_rtp_fast_relayed_packets_total');
    m.onWorkerStats(worker({ packetsOut: 100 }));
    expect(await fast()).toBe(0);
    m.onWorkerStats({ ...worker({ packetsOut: 300 }), fastRelay: { routes: 2, packets: 180 } });
    m.onWorkerStats({ ...worker({ packetsOut: 400 }), fastRelay: { routes: 2, packets: 260 } });
    expect(await fast()).toBe(260);
    m.onWorkerStats({ ...worker({}), worker: 1, fastRelay: { routes: 1, packets: 40 } });
    expect(await fast()).toBe(300);
  });

  it('counts received RTP apart from RTCP and dropped datagrams (the loss ratio denominator)', async () => {
    const registry = new Registry();
    const m = new MediaMetrics(registry);
    const received = () => sample(registry, 'callwatch_rtp_media_packets_received_total');
    m.onWorkerStats(worker({ packetsIn: 100, rtpIn: 90, rtcpIn: 4, dropForeign: 6 }));
    expect(await received()).toBe(90);
    // RTCP and a foreign source's packets arrive, no RTP: datagrams in move, RTP does not.
    m.onWorkerStats(worker({ packetsIn: 130, rtpIn: 90, rtcpIn: 9, dropForeign: 31 }));
    expect(await received()).toBe(90);
    expect(await sample(registry, 'callwatch_rtp_packets_total', { direction: 'in' })).toBe(130);
    // RTP only: it moves by exactly the RTP accepted.
    m.onWorkerStats(worker({ packetsIn: 180, rtpIn: 140, rtcpIn: 9, dropForeign: 31 }));
    expect(await received()).toBe(140);
  });

  it('counts loss per leg by difference and observes jitter', async () => {
    const registry = new Registry();
    const m = new MediaMetrics(registry);
    const leg = (lost: number, jitterMs: number) => ({
      legId: 7,
      direction: 'sendrecv' as const,
      latched: null,
      counters: zero,
      inbound: { ssrc: 1, received: 100, expected: 100 + lost, lost, jitterMs },
      remoteReport: null,
      lastRtpAgoMs: 20,
    });
    m.onLegStats(leg(2, 3));
    m.onLegStats(leg(5, 12));
    expect(await sample(registry, 'callwatch_rtp_packets_lost_total')).toBe(5);
    expect(await sample(registry, 'callwatch_rtp_jitter_seconds_count')).toBe(2);
    expect(await sample(registry, 'callwatch_rtp_jitter_seconds_sum')).toBeCloseTo(0.015, 9);
    expect(await sample(registry, 'callwatch_rtp_jitter_seconds_bucket', { le: '0.005' })).toBe(1);
    m.onLatched(true);
    m.onLatched(false);
    expect(await sample(registry, 'callwatch_rtp_latched_total', { how: 'nat' })).toBe(1);
  });
});
