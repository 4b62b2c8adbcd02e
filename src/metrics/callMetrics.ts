/**
 * Call and media metrics on the server's Registry. They subscribe to the call service's
 * and the media engine's events (docs/architecture.md §15.10: metrics observe, the logic carries no metric
 * calls); gauges read live values in collect(). No call id is ever a label.
 */
import { Counter, Gauge, type Registry } from 'prom-client';
import type { MediaEngine } from '../../media/engine/index.js';
import type { CallService } from '../calls/callService.js';
import { MediaMetrics } from './mediaMetrics.js';

function statusClass(status: number | undefined): string {
  return status === undefined ? 'none' : `${Math.floor(status / 100)}xx`;
}

export function registerCallMetrics(
  registry: Registry,
  calls: CallService,
  engine: MediaEngine,
): void {
  const registers = [registry];
  new Gauge({
    name: 'callwatch_calls_active',
    help: 'Calls in progress (not ended), by direction',
    labelNames: ['direction'] as const,
    registers,
    collect() {
      this.reset();
      for (const d of ['internal', 'inbound', 'outbound']) this.set({ direction: d }, 0);
      for (const r of calls.liveCalls()) this.inc({ direction: r.direction });
    },
  });
  const attempts = new Counter({
    name: 'callwatch_call_attempts_total',
    help: 'INVITEs that became calls (authenticated, routed or not), by direction',
    labelNames: ['direction'] as const,
    registers,
  });
  const outcomes = new Counter({
    name: 'callwatch_call_outcomes_total',
    help: 'Final status class the caller got (2xx answered, 4xx/5xx/6xx failed), by direction',
    labelNames: ['direction', 'class'] as const,
    registers,
  });
  calls.on('callStarted', (r) => attempts.inc({ direction: r.direction }));
  calls.on('ended', (r) =>
    outcomes.inc({ direction: r.direction, class: statusClass(r.finalStatus) }),
  );
  calls.on('rejected', (status, direction) => {
    attempts.inc({ direction });
    outcomes.inc({ direction, class: statusClass(status) });
  });

  // RTP, RTCP, loss, jitter, latching and worker health, from the engine's reports.
  const media = new MediaMetrics(registry);
  engine.on('stats', (stats) => media.onWorkerStats(stats));
  engine.on('legStats', (stats) => media.onLegStats(stats));
  engine.on('legLatched', ({ signalled }) => media.onLatched(signalled));
  engine.on('legClosed', (legId) => media.onLegClosed(legId));
}
