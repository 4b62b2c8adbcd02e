/**
 * Monitoring and mixer metrics (docs/architecture.md §12.1): monitor sessions by mode, mode changes,
 * frames mixed and concealed, jitter-buffer depth, mixer tick lateness, recordings active
 * and bytes written. Session metrics follow the monitoring service's events; the mixer's
 * come from each worker's periodic report, cumulative there and turned into increments
 * here by difference (the tick-lateness histogram too, bucket by bucket).
 */
import { Counter, Gauge, type Registry } from 'prom-client';
import type { MediaEngine, MixerStats, MonitorMode } from '../../media/engine/index.js';
import type { MonitoringService } from '../monitoring/monitoringService.js';
import type { RecordingTap } from '../recording/recordingTap.js';

const MODES: readonly MonitorMode[] = ['listen', 'whisper', 'barge', 'takeover'];

export function registerMonitoringMetrics(
  registry: Registry,
  monitoring: MonitoringService,
  engine: MediaEngine,
  recordings: RecordingTap,
): void {
  const registers = [registry];
  new Gauge({
    name: 'callwatch_monitor_sessions_active',
    help: 'Supervisors monitoring a call now, by mode',
    labelNames: ['mode'] as const,
    registers,
    collect() {
      this.reset();
      for (const mode of MODES) this.set({ mode }, 0);
      for (const s of monitoring.active) this.inc({ mode: s.modes[s.modes.length - 1]!.mode });
    },
  });
  const started = new Counter({
    name: 'callwatch_monitor_sessions_total',
    help: 'Monitor sessions started, by the mode they started in',
    labelNames: ['mode'] as const,
    registers,
  });
  const changes = new Counter({
    name: 'callwatch_monitor_mode_changes_total',
    help: 'Mode changes of running monitor sessions, by the new mode',
    labelNames: ['mode'] as const,
    registers,
  });
  monitoring.on('started', (s) => started.inc({ mode: s.modes[0]!.mode }));
  monitoring.on('modeChanged', (s) => changes.inc({ mode: s.modes[s.modes.length - 1]!.mode }));

  new Gauge({
    name: 'callwatch_recordings_active',
    help: 'Calls being recorded now',
    registers,
    collect() {
      this.set(recordings.active);
    },
  });
  const mixer = new MixerMetrics(registry);
  engine.on('mixerStats', ({ worker, mixer: stats }) => mixer.onStats(worker, stats));
}

class MixerMetrics {
  private readonly framesMixed: Counter;
  private readonly framesConcealed: Counter;
  private readonly late: Counter;
  private readonly ticksSkipped: Counter;
  private readonly recordingBytes: Counter;
  private readonly depth: Gauge<'worker'>;
  private readonly lateness: Counter<'le'>;
  private readonly latenessSum: Counter;
  private readonly latenessCount: Counter;
  private readonly last = new Map<number, MixerStats>();

  constructor(registry: Registry) {
    const registers = [registry];
    this.framesMixed = new Counter({
      name: 'callwatch_mixer_frames_mixed_total',
      help: 'Mixed 20 ms frames sent to listeners',
      registers,
    });
    this.framesConcealed = new Counter({
      name: 'callwatch_mixer_frames_concealed_total',
      help: 'Source frames filled by loss concealment in the jitter buffers',
      registers,
    });
    this.late = new Counter({
      name: 'callwatch_mixer_packets_late_total',
      help: 'Packets that reached a jitter buffer after their playout time (discarded)',
      registers,
    });
    this.ticksSkipped = new Counter({
      name: 'callwatch_mixer_ticks_skipped_total',
      help: 'Mixer frames skipped because a worker fell too far behind its clock',
      registers,
    });
    this.recordingBytes = new Counter({
      name: 'callwatch_recording_bytes_total',
      help: 'Audio bytes written to call recordings',
      registers,
    });
    this.depth = new Gauge({
      name: 'callwatch_mixer_jitter_depth_ms',
      help: 'Mean target playout delay of the jitter buffers, by worker',
      labelNames: ['worker'] as const,
      registers,
    });
    // A histogram fed from the worker's own buckets: prom-client's Histogram only takes
    // observations, so the buckets are exposed as cumulative counters of the same shape.
    this.lateness = new Counter({
      name: 'callwatch_mixer_tick_lateness_ms_bucket',
      help: 'Mixer ticks by lateness behind their due time (cumulative buckets, ms)',
      labelNames: ['le'] as const,
      registers,
    });
    this.latenessSum = new Counter({
      name: 'callwatch_mixer_tick_lateness_ms_sum',
      help: 'Sum of mixer tick lateness (ms)',
      registers,
    });
    this.latenessCount = new Counter({
      name: 'callwatch_mixer_tick_lateness_ms_count',
      help: 'Mixer ticks run',
      registers,
    });
  }

  onStats(worker: number, now: MixerStats): void {
    const before = this.last.get(worker);
    const d = (a: number, b: number | undefined) => Math.max(0, a - (b ?? 0));
    this.framesMixed.inc(d(now.framesMixed, before?.framesMixed));
    this.framesConcealed.inc(d(now.framesConcealed, before?.framesConcealed));
    this.late.inc(d(now.packetsLate, before?.packetsLate));
    this.ticksSkipped.inc(d(now.ticksSkipped, before?.ticksSkipped));
    this.recordingBytes.inc(d(now.recordingBytes, before?.recordingBytes));
    if (now.jitterDepthMs !== null) this.depth.set({ worker: String(worker) }, now.jitterDepthMs);
    let cumulative = 0;
    let cumulativeBefore = 0;
    now.lateness.counts.forEach((count, i) => {
      cumulative += count;
      cumulativeBefore += before?.lateness.counts[i] ?? 0;
      const le = i < now.lateness.le.length ? String(now.lateness.le[i]) : '+Inf';
      this.lateness.inc({ le }, Math.max(0, cumulative - cumulativeBefore));
    });
    this.latenessSum.inc(d(now.lateness.sum, before?.lateness.sum));
    this.latenessCount.inc(d(now.lateness.count, before?.lateness.count));
    this.last.set(worker, now);
  }
}
