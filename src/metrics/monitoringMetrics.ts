/**
 * Monitoring and mixer metrics (docs/architecture.md §12.1): monitor sessions by mode, mode changes, frames mixed and
 * concealed, jitter-buffer depth, mixer tick lateness, recordings active, bytes written
 * and failed. Session metrics follow the monitoring service's events; the mixer's
 * come from each worker's periodic report, cumulative there and turned into increments
 * here by difference (the tick-lateness histogram is reported as the workers keep it).
 */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { MediaEngine, MixerStats } from '../../media/engine/index.js';
import { MONITOR_MODES } from '../monitoring/modes.js';
import type { MonitoringService } from '../monitoring/monitoringService.js';
import type { RecordingTap } from '../recording/recordingTap.js';

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
      for (const mode of MONITOR_MODES) this.set({ mode }, 0);
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
  // A failed recording is a call the business may have to keep and does not have.
  // Start failures (directory, file or worker refused) are counted by the tap; write
  // failures (an I/O error stopped the WAV) by the media workers when they happen, so the
  // alert fires during the call rather than after it. Each has one owner: no double count.
  const mixer = new MixerMetrics(registry);
  new Counter({
    name: 'callwatch_recording_errors_total',
    help: 'Call recordings that failed, by stage (start: never began; write: cut short by an I/O error)',
    labelNames: ['stage'] as const,
    registers,
    collect() {
      this.reset();
      this.inc({ stage: 'start' }, recordings.failures.start);
      this.inc({ stage: 'write' }, mixer.recordingErrors);
    },
  });
  engine.on('mixerStats', ({ worker, mixer: stats }) => mixer.onStats(worker, stats));
}

type Lateness = MixerStats['lateness'];
type HistogramResult = Awaited<ReturnType<Histogram['get']>>;

/**
 * A histogram whose buckets are kept by the workers (in ms, per worker, cumulative) rather
 * than observed here: prom-client's Histogram only takes observations, so its reports
 * (get() for JSON, getForPromString() for the text format) are replaced by the workers'
 * latest buckets summed, in seconds.
 */
class ReportedHistogram extends Histogram {
  private readonly latest = new Map<number, Lateness>();

  constructor(
    private readonly metricName: string,
    private readonly metricHelp: string,
    registry: Registry,
  ) {
    super({ name: metricName, help: metricHelp, registers: [registry] });
  }

  update(worker: number, lateness: Lateness): void {
    this.latest.set(worker, { ...lateness, counts: [...lateness.counts] });
  }

  override get(): Promise<HistogramResult> {
    return this.report();
  }

  /** What the registry's text exposition reads (absent from prom-client's typings). */
  getForPromString(): Promise<HistogramResult> {
    return this.report();
  }

  private report(): Promise<HistogramResult> {
    const le: number[] = [];
    const counts: number[] = [];
    let sum = 0;
    let count = 0;
    for (const h of this.latest.values()) {
      h.counts.forEach((c, i) => (counts[i] = (counts[i] ?? 0) + c));
      h.le.forEach((bound, i) => (le[i] = bound));
      sum += h.sum;
      count += h.count;
    }
    if (counts.length === 0) counts.push(0); // no report yet: an empty +Inf bucket
    const values: HistogramResult['values'] = [];
    let cumulative = 0;
    counts.forEach((c, i) => {
      cumulative += c;
      const bound = i < le.length ? String(le[i]! / 1000) : '+Inf';
      values.push({
        metricName: `${this.metricName}_bucket`,
        labels: { le: bound },
        value: cumulative,
      });
    });
    values.push({ metricName: `${this.metricName}_sum`, labels: {}, value: sum / 1000 });
    values.push({ metricName: `${this.metricName}_count`, labels: {}, value: count });
    // The shape prom-client's Histogram reports; its typings type `type` as a numeric enum
    // and want a collect function that the registry never reads.
    const report = { name: this.metricName, help: this.metricHelp, type: 'histogram' };
    return Promise.resolve({ ...report, aggregator: 'sum', values } as unknown as HistogramResult);
  }
}

class MixerMetrics {
  private readonly framesMixed: Counter;
  private readonly framesConcealed: Counter;
  private readonly framesCorrupt: Counter<'stage'>;
  private readonly late: Counter;
  private readonly ticksSkipped: Counter;
  private readonly recordingBytes: Counter;
  private readonly depth: Gauge<'worker'>;
  private readonly lateness: ReportedHistogram;
  private readonly last = new Map<number, MixerStats>();
  /** Recordings cut short by a write error, summed from the workers' reports. */
  recordingErrors = 0;

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
    this.framesCorrupt = new Counter({
      name: 'callwatch_media_frames_corrupt_total',
      help: 'Received payloads a decoder rejected as corrupt and replaced by concealment, by stage (mix: decoded for a mixed listener; recording: decoded for a recording)',
      labelNames: ['stage'] as const,
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
      name: 'callwatch_mixer_jitter_depth_seconds',
      help: 'Mean target playout delay of the jitter buffers, by worker',
      labelNames: ['worker'] as const,
      registers,
    });
    this.lateness = new ReportedHistogram(
      'callwatch_mixer_tick_lateness_seconds',
      'Mixer ticks by lateness behind their due time',
      registry,
    );
  }

  onStats(worker: number, now: MixerStats): void {
    const before = this.last.get(worker);
    const d = (a: number, b: number | undefined) => Math.max(0, a - (b ?? 0));
    this.framesMixed.inc(d(now.framesMixed, before?.framesMixed));
    this.framesConcealed.inc(d(now.framesConcealed, before?.framesConcealed));
    this.framesCorrupt.inc({ stage: 'mix' }, d(now.framesCorrupt, before?.framesCorrupt));
    this.framesCorrupt.inc(
      { stage: 'recording' },
      d(now.recordingFramesCorrupt, before?.recordingFramesCorrupt),
    );
    this.late.inc(d(now.packetsLate, before?.packetsLate));
    this.ticksSkipped.inc(d(now.ticksSkipped, before?.ticksSkipped));
    this.recordingBytes.inc(d(now.recordingBytes, before?.recordingBytes));
    this.recordingErrors += d(now.recordingErrors, before?.recordingErrors);
    if (now.jitterDepthMs !== null) {
      this.depth.set({ worker: String(worker) }, now.jitterDepthMs / 1000);
    }
    this.lateness.update(worker, now.lateness);
    this.last.set(worker, now);
  }
}
