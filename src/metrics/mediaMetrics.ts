/**
 * Media metrics from the engine's reports (docs/architecture.md §15.10: the packet path
 * carries no metric calls). Workers report cumulative totals every few seconds; each
 * report is turned into counter increments by difference with the previous one. Legs
 * report their receive statistics (RFC 3550 A.3 loss, A.8 jitter) the same way.
 */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { LegStats, MediaCounters, WorkerStats } from '../../media/worker/protocol.js';

const DROP_REASONS: ReadonlyArray<[keyof MediaCounters, string]> = [
  ['dropMalformed', 'malformed'],
  ['dropForeign', 'foreign_source'],
  ['dropEarlyRtcp', 'early_rtcp'],
  ['dropPayloadType', 'payload_type'],
  ['dropDirection', 'direction'],
  ['dropDtmf', 'dtmf_consumed'],
  ['dropNoDestination', 'no_destination'],
  ['dropStale', 'stale'],
  ['dropCodec', 'codec'],
];

export class MediaMetrics {
  private readonly packets: Counter<'direction'>;
  private readonly mediaReceived: Counter;
  private readonly bytes: Counter<'direction'>;
  private readonly rtcp: Counter<'direction'>;
  private readonly fastRelayed: Counter;
  private readonly lastFastRelayed = new Map<number, number>();
  private readonly drops: Counter<'reason'>;
  private readonly lost: Counter;
  private readonly latched: Counter<'how'>;
  private readonly jitter: Histogram;
  private readonly workerLegs: Gauge<'worker'>;
  private readonly loopLag: Gauge<'worker'>;
  private readonly utilization: Gauge<'worker'>;
  private readonly webrtcLive: Gauge<'worker' | 'kind'>;
  private readonly lastWorker = new Map<number, MediaCounters>();
  private readonly lastLost = new Map<number, number>();

  constructor(registry: Registry) {
    const registers = [registry];
    this.packets = new Counter({
      name: 'callwatch_rtp_packets_total',
      help: 'RTP/RTCP datagrams received from (in) and RTP sent to (out) endpoints',
      labelNames: ['direction'] as const,
      registers,
    });
    // The denominator of a loss ratio (lost / (lost + received), RFC 3550 A.3): RTP only.
    // callwatch_rtp_packets_total{direction="in"} also holds RTCP and dropped datagrams.
    this.mediaReceived = new Counter({
      name: 'callwatch_rtp_media_packets_received_total',
      help: 'RTP packets accepted from endpoints (valid, from the latched source, a negotiated payload type); no RTCP',
      registers,
    });
    this.bytes = new Counter({
      name: 'callwatch_rtp_bytes_total',
      help: 'Bytes received from (in) and sent to (out) endpoints on media ports',
      labelNames: ['direction'] as const,
      registers,
    });
    this.fastRelayed = new Counter({
      name: 'callwatch_rtp_fast_relayed_packets_total',
      help: 'RTP packets the native io relayed without JavaScript (relay fast path); part of callwatch_rtp_packets_total',
      registers,
    });
    this.rtcp = new Counter({
      name: 'callwatch_rtcp_packets_total',
      help: 'RTCP compound packets received (in) and sent (out)',
      labelNames: ['direction'] as const,
      registers,
    });
    this.drops = new Counter({
      name: 'callwatch_rtp_dropped_total',
      help: 'Media datagrams not relayed, by reason (foreign_source: not the endpoint once it is known; early_rtcp: RTCP before it is)',
      labelNames: ['reason'] as const,
      registers,
    });
    this.lost = new Counter({
      name: 'callwatch_rtp_packets_lost_total',
      help: 'RTP packets lost between endpoints and the server (RFC 3550 A.3)',
      registers,
    });
    this.latched = new Counter({
      name: 'callwatch_rtp_latched_total',
      help: 'Legs latched to a source address (signalled: the SDP address; nat: another)',
      labelNames: ['how'] as const,
      registers,
    });
    this.jitter = new Histogram({
      name: 'callwatch_rtp_jitter_seconds',
      help: 'Interarrival jitter of received streams at each leg report (RFC 3550 A.8)',
      buckets: [0.001, 0.002, 0.005, 0.01, 0.02, 0.04, 0.08, 0.16],
      registers,
    });
    this.workerLegs = new Gauge({
      name: 'callwatch_media_legs',
      help: 'Media legs open, by worker',
      labelNames: ['worker'] as const,
      registers,
    });
    this.loopLag = new Gauge({
      name: 'callwatch_media_worker_loop_lag_seconds',
      help: 'Largest event-loop lag of a media worker over its last report interval',
      labelNames: ['worker'] as const,
      registers,
    });
    this.utilization = new Gauge({
      name: 'callwatch_media_worker_utilization',
      help: 'Event-loop utilisation of a media worker over its last report interval (0-1)',
      labelNames: ['worker'] as const,
      registers,
    });
    this.webrtcLive = new Gauge({
      name: 'callwatch_webrtc_live_objects',
      help: 'Live objects of WebRTC legs in a media worker (pairs: secure pairs; dtls, srtp: werift sessions); a leak shows here',
      labelNames: ['worker', 'kind'] as const,
      registers,
    });
  }

  /** A worker's periodic totals (MediaEngine 'stats'). */
  onWorkerStats(stats: WorkerStats): void {
    const worker = String(stats.worker);
    const now = stats.counters;
    const before = this.lastWorker.get(stats.worker);
    const delta = (key: keyof MediaCounters) => Math.max(0, now[key] - (before?.[key] ?? 0));
    this.packets.inc({ direction: 'in' }, delta('packetsIn'));
    this.packets.inc({ direction: 'out' }, delta('packetsOut'));
    this.mediaReceived.inc(delta('rtpIn'));
    this.bytes.inc({ direction: 'in' }, delta('bytesIn'));
    this.bytes.inc({ direction: 'out' }, delta('bytesOut'));
    this.rtcp.inc({ direction: 'in' }, delta('rtcpIn'));
    this.rtcp.inc({ direction: 'out' }, delta('rtcpOut'));
    for (const [key, reason] of DROP_REASONS) this.drops.inc({ reason }, delta(key));
    this.lastWorker.set(stats.worker, { ...now });
    const fast = stats.fastRelay?.packets ?? 0;
    this.fastRelayed.inc(Math.max(0, fast - (this.lastFastRelayed.get(stats.worker) ?? 0)));
    this.lastFastRelayed.set(stats.worker, fast);
    this.workerLegs.set({ worker }, stats.legs);
    this.loopLag.set({ worker }, stats.loopDelayMs.max / 1000);
    this.utilization.set({ worker }, stats.eventLoopUtilization);
    const live = stats.secureLive ?? { pairs: 0, dtls: 0, srtp: 0 };
    this.webrtcLive.set({ worker, kind: 'pairs' }, live.pairs);
    this.webrtcLive.set({ worker, kind: 'dtls' }, live.dtls);
    this.webrtcLive.set({ worker, kind: 'srtp' }, live.srtp);
  }

  /** A leg's periodic report (Leg 'stats'). */
  onLegStats(stats: LegStats): void {
    const inbound = stats.inbound;
    if (!inbound) return;
    const before = this.lastLost.get(stats.legId) ?? 0;
    if (inbound.lost > before) this.lost.inc(inbound.lost - before);
    this.lastLost.set(stats.legId, Math.max(before, inbound.lost));
    this.jitter.observe(inbound.jitterMs / 1000);
  }

  onLatched(signalled: boolean): void {
    this.latched.inc({ how: signalled ? 'signalled' : 'nat' });
  }

  /** Forgets a closed leg (its last report was already counted). */
  onLegClosed(legId: number): void {
    this.lastLost.delete(legId);
  }
}
