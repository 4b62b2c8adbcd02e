/**
 * Live call quality (docs/architecture.md §11.5, §12.1): the legs of live calls by their
 * current rating (good / fair / poor, from the E-model MOS), read at scrape time.
 */
import { Gauge, type Registry } from 'prom-client';
import type { CallQualityService } from '../monitoring/callQualityService.js';

export function registerCallQualityMetrics(registry: Registry, quality: CallQualityService): void {
  new Gauge({
    name: 'callwatch_call_quality_legs',
    help: 'Legs of live calls by their current quality rating (E-model MOS: good >= 4.0, fair >= 3.6)',
    labelNames: ['rating'] as const,
    registers: [registry],
    collect() {
      for (const [rating, n] of Object.entries(quality.legsByRating())) this.set({ rating }, n);
    },
  });
}
