/**
 * BLF metrics (docs/architecture.md §9.4, §12.1): subscriptions running now, NOTIFYs
 * sent by the Subscription-State they carry, and SUBSCRIBEs refused by reason (digest
 * challenges are the normal first step and are not counted).
 */
import { Counter, Gauge, type Registry } from 'prom-client';
import type { PresenceService } from '../presence/presenceService.js';

export function registerPresenceMetrics(registry: Registry, presence: PresenceService): void {
  const registers = [registry];
  new Gauge({
    name: 'callwatch_blf_subscriptions_active',
    help: 'BLF (dialog event package) subscriptions running now',
    registers,
    collect() {
      this.set(presence.active);
    },
  });
  const notifies = new Counter({
    name: 'callwatch_blf_notifies_total',
    help: 'BLF NOTIFYs sent, by Subscription-State (active, terminated)',
    labelNames: ['state'] as const,
    registers,
  });
  const refusals = new Counter({
    name: 'callwatch_blf_refusals_total',
    help: 'SUBSCRIBEs refused, by reason (bad-event, not-permitted, limit-source, …)',
    labelNames: ['reason'] as const,
    registers,
  });
  for (const state of ['active', 'terminated']) notifies.inc({ state }, 0);
  presence.on('notifySent', (state) => notifies.inc({ state }));
  presence.on('refused', (reason) => refusals.inc({ reason }));
}
