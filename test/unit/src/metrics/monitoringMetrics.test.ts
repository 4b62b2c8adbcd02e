/**
 * Monitoring metrics fed by fakes of their sources: recording failures as the tap counts
 * them, and the mixer's tick-lateness histogram as the workers report it (ms, per worker,
 * cumulative) exposed in seconds as one Prometheus histogram.
 */
import { EventEmitter } from 'node:events';
import { describe, expect, it } from '@jest/globals';
import { Registry } from 'prom-client';
import type { MediaEngine, MixerStats } from '../../../../media/engine/index.js';
import { registerMonitoringMetrics } from '../../../../src/metrics/monitoringMetrics.js';
import type { MonitoringService } from '../../../../src/monitoring/monitoringService.js';
import type { RecordingTap } from '../../../../src/recording/recordingTap.js';

function mixer(lateness: MixerStats['lateness'], extra: Partial<MixerStats> = {}): MixerStats {
  return {
    rooms: 1,
    clockedRooms: 1,
    monitors: { listen: 0, whisper: 0, barge: 0, takeover: 0 },
    ticks: lateness.count,
    ticksSkipped: 0,
    framesMixed: 0,
    framesConcealed: 0,
    packetsLate: 0,
    lateness,
    jitterDepthMs: 40,
    recordingsActive: 0,
    recordingBytes: 0,
    ...extra,
  };
}

function setup() {
  const registry = new Registry();
  const engine = new EventEmitter();
  const monitoring = { active: [], on: () => undefined };
  const tap = { active: 0, failures: { start: 0, write: 0 } };
  registerMonitoringMetrics(
    registry,
    monitoring as unknown as MonitoringService,
    engine as unknown as MediaEngine,
    tap as unknown as RecordingTap,
  );
  return { registry, engine, tap };
}

/** The exposition's sample lines, `name{labels} value` → value. */
async function lines(registry: Registry): Promise<Map<string, number>> {
  const text = await registry.metrics();
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const at = line.lastIndexOf(' ');
    out.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return out;
}

describe('monitoring metrics', () => {
  it('expose the tap’s recording failures by stage, and follow them', async () => {
    const { registry, tap } = setup();
    let m = await lines(registry);
    expect(m.get('callwatch_recording_errors_total{stage="start"}')).toBe(0);
    expect(m.get('callwatch_recording_errors_total{stage="write"}')).toBe(0);
    tap.failures.start = 2;
    tap.failures.write = 1;
    m = await lines(registry);
    expect(m.get('callwatch_recording_errors_total{stage="start"}')).toBe(2);
    expect(m.get('callwatch_recording_errors_total{stage="write"}')).toBe(1);
  });

  it('report the workers’ tick lateness as one histogram in seconds', async () => {
    const { registry, engine } = setup();
    const le = [1, 5];
    engine.emit('mixerStats', {
      worker: 0,
      mixer: mixer({ le, counts: [10, 2, 1], sum: 20, count: 13 }, { ticksSkipped: 3 }),
    });
    engine.emit('mixerStats', {
      worker: 1,
      mixer: mixer({ le, counts: [5, 0, 0], sum: 2, count: 5 }),
    });
    // Worker 0 reports again: its totals replace (not add to) its previous report.
    engine.emit('mixerStats', {
      worker: 0,
      mixer: mixer({ le, counts: [20, 2, 1], sum: 25, count: 23 }, { ticksSkipped: 4 }),
    });
    const text = await registry.metrics();
    expect(text).toContain('# TYPE callwatch_mixer_tick_lateness_seconds histogram');
    const m = await lines(registry);
    expect(m.get('callwatch_mixer_tick_lateness_seconds_bucket{le="0.001"}')).toBe(25);
    expect(m.get('callwatch_mixer_tick_lateness_seconds_bucket{le="0.005"}')).toBe(27);
    expect(m.get('callwatch_mixer_tick_lateness_seconds_bucket{le="+Inf"}')).toBe(28);
    expect(m.get('callwatch_mixer_tick_lateness_seconds_count')).toBe(28);
    expect(m.get('callwatch_mixer_tick_lateness_seconds_sum')).toBeCloseTo(0.027, 9);
    expect(m.get('callwatch_mixer_ticks_skipped_total')).toBe(4);
    expect(m.get('callwatch_mixer_jitter_depth_seconds{worker="0"}')).toBe(0.04);
  });

  it('report an empty lateness histogram before any worker report', async () => {
    const { registry } = setup();
    const m = await lines(registry);
    expect(m.get('callwatch_mixer_tick_lateness_seconds_count')).toBe(0);
    expect(m.get('callwatch_mixer_tick_lateness_seconds_sum')).toBe(0);
  });
});
