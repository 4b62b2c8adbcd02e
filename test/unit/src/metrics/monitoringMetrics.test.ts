/**
 * Monitoring metrics fed by fakes of their sources: recording start failures as the tap
 * counts them, write failures as the workers report them (cumulative, per worker), corrupt
 * payloads by stage, and the mixer's tick-lateness histogram as the workers report it (ms,
 * per worker, cumulative) exposed in seconds as one Prometheus histogram.
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
    ticks: lateness.count,
    ticksSkipped: 0,
    framesMixed: 0,
    framesConcealed: 0,
    framesCorrupt: 0,
    packetsLate: 0,
    lateness,
    jitterDepthMs: 40,
    recordingsActive: 0,
    recordingsKeptByIo: 0,
    recordingBytes: 0,
    recordingErrors: 0,
    recordingFramesCorrupt: 0,
    ...extra,
  };
}

function setup() {
  const registry = new Registry();
  const engine = new EventEmitter();
  const monitoring = { active: [], on: () => undefined };
  const tap = { active: 0, failures: { start: 0 } };
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
  it('expose recording failures by stage: start from the tap, write from the workers', async () => {
    const { registry, tap, engine } = setup();
    const errors = async (stage: string) =>
      (await lines(registry)).get(`callwatch_recording_errors_total{stage="${stage}"}`);
    const lateness = { le: [1], counts: [0, 0], sum: 0, count: 0 };
    const report = (worker: number, recordingErrors: number) =>
      engine.emit('mixerStats', { worker, mixer: mixer(lateness, { recordingErrors }) });
    expect(await errors('start')).toBe(0);
    expect(await errors('write')).toBe(0);
    tap.failures.start = 2;
    expect(await errors('start')).toBe(2);
    expect(await errors('write')).toBe(0);

    // A write error mid-call: the worker's next report carries it, before the call ends.
    report(0, 1);
    expect(await errors('write')).toBe(1);
    // Reports are totals: repeating one adds nothing; another worker's add theirs.
    report(0, 1);
    report(1, 2);
    expect(await errors('write')).toBe(3);
    report(0, 2);
    expect(await errors('write')).toBe(4);
    expect(await errors('start')).toBe(2);
  });

  it('count corrupt payloads by stage from the workers’ totals', async () => {
    const { registry, engine } = setup();
    const lateness = { le: [1], counts: [0, 0], sum: 0, count: 0 };
    const report = (worker: number, framesCorrupt: number, recordingFramesCorrupt: number) =>
      engine.emit('mixerStats', {
        worker,
        mixer: mixer(lateness, { framesCorrupt, recordingFramesCorrupt }),
      });
    const corrupt = async (stage: string) =>
      (await lines(registry)).get(`callwatch_media_frames_corrupt_total{stage="${stage}"}`);
    report(0, 5, 2);
    report(0, 7, 2); // totals: +2 mix, +0 recording
    report(1, 1, 3);
    expect(await corrupt('mix')).toBe(8);
    expect(await corrupt('recording')).toBe(5);
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
