/**
 * Live call quality per call (docs/architecture.md §11.5): follows the legs of answered
 * calls (customer, agent) and of attached supervisors, turns each leg's periodic engine
 * report ('legStats', every statsIntervalMs) into a LegQuality (callQuality.ts), and
 * keeps the latest per leg. `qualityOf` is what /v1/calls shows, always current; after
 * each stats round a call whose quality moved meaningfully since its last publication
 * (qualityMoved) is published (`call.quality`), at most once per PUBLISH_MIN_INTERVAL_MS:
 * a steady call publishes once, not every round, so it does not fill the event stream's
 * replay buffer. No timer of its own: the engine's reports drive it.
 */
import type { LegStats } from '../../media/engine/index.js';
import {
  legQuality,
  worstRating,
  type LegQuality,
  type LegSample,
  type QualityCodec,
  type QualityRating,
} from './callQuality.js';

export interface SupervisorLegQuality extends LegQuality {
  supervisor: string;
}

export interface CallQualityView {
  legs: {
    customer: LegQuality | null;
    agent: LegQuality | null;
    supervisors: SupervisorLegQuality[];
  };
  /** The worst leg's rating ('good' while no leg has figures yet). */
  rating: QualityRating;
}

/** Stats rounds come every 2 s; a little less absorbs timer jitter between rounds. */
export const PUBLISH_MIN_INTERVAL_MS = 1900;

/**
 * The steps that make a leg's figures worth an event (compared with the last published
 * ones, so a slow drift is published once it adds up to a step): loss by 1 percentage
 * point, jitter by 10 ms (a jitter buffer's usual granularity), MOS by 0.2.
 */
export const QUALITY_STEPS = { lossPct: 1, jitterMs: 10, mos: 0.2 } as const;

/** Whether `next` differs meaningfully from `prev`: a leg with figures came or went, a
 * leg's rating changed, or one of its figures moved by a QUALITY_STEPS step. */
export function qualityMoved(prev: CallQualityView | undefined, next: CallQualityView): boolean {
  if (prev === undefined || prev.rating !== next.rating) return true;
  const legs = (q: CallQualityView) =>
    new Map<string, LegQuality>([
      ...(q.legs.customer ? [['customer', q.legs.customer] as const] : []),
      ...(q.legs.agent ? [['agent', q.legs.agent] as const] : []),
      ...q.legs.supervisors.map((l) => [`supervisor ${l.supervisor}`, l] as const),
    ]);
  const [before, after] = [legs(prev), legs(next)];
  if (before.size !== after.size) return true;
  for (const [key, b] of after) {
    const a = before.get(key);
    if (a === undefined || a.rating !== b.rating) return true;
    if (Math.abs(a.lossPct - b.lossPct) >= QUALITY_STEPS.lossPct) return true;
    if (Math.abs(a.jitterMs - b.jitterMs) >= QUALITY_STEPS.jitterMs) return true;
    // Figures are rounded to one decimal: compare in tenths.
    if (Math.abs(Math.round(a.mos * 10) - Math.round(b.mos * 10)) >= QUALITY_STEPS.mos * 10) {
      return true;
    }
  }
  return false;
}

type Role = 'customer' | 'agent' | 'supervisor';

/**
 * A leg's codec for the E-model: fixed, or read at each report (the codec offer/answer
 * last chose: a re-INVITE may change it).
 */
export type LegCodecSource = QualityCodec | (() => QualityCodec);

interface TrackedLeg {
  callId: string;
  role: Role;
  supervisor?: string;
  codec: LegCodecSource;
  last?: LegSample;
  quality?: LegQuality;
}

interface TrackedCall {
  agent: string;
  legs: Set<number>;
  published?: CallQualityView;
  publishedAt?: number;
}

export interface CallQualityDeps {
  now(): number;
  /** A call's quality changed (after a stats round). */
  publish?(callId: string, agent: string, quality: CallQualityView): void;
}

export class CallQualityService {
  private readonly legs = new Map<number, TrackedLeg>();
  private readonly calls = new Map<string, TrackedCall>();
  private readonly dirty = new Set<string>();
  private flushQueued = false;

  constructor(private readonly deps: CallQualityDeps) {}

  /** An answered call: its customer's and agent's legs. */
  trackCall(
    callId: string,
    agent: string,
    legs: Record<'customer' | 'agent', { legId: number; codec: LegCodecSource }>,
  ): void {
    const call: TrackedCall = { agent, legs: new Set() };
    this.calls.set(callId, call);
    for (const role of ['customer', 'agent'] as const) {
      this.legs.set(legs[role].legId, { callId, role, codec: legs[role].codec });
      call.legs.add(legs[role].legId);
    }
  }

  /** A supervisor's leg joined the call. */
  trackSupervisor(callId: string, supervisor: string, legId: number, codec: LegCodecSource): void {
    const call = this.calls.get(callId);
    if (call === undefined) return;
    this.legs.set(legId, { callId, role: 'supervisor', supervisor, codec });
    call.legs.add(legId);
  }

  /** A supervisor's session ended. */
  untrackSupervisor(callId: string, supervisor: string): void {
    const call = this.calls.get(callId);
    if (call === undefined) return;
    for (const id of call.legs) {
      const leg = this.legs.get(id);
      if (leg?.role === 'supervisor' && leg.supervisor === supervisor) {
        this.legs.delete(id);
        call.legs.delete(id);
      }
    }
  }

  callEnded(callId: string): void {
    const call = this.calls.get(callId);
    if (call === undefined) return;
    for (const id of call.legs) this.legs.delete(id);
    this.calls.delete(callId);
    this.dirty.delete(callId);
  }

  /** One leg's periodic report from the engine. */
  onLegStats(stats: LegStats): void {
    const leg = this.legs.get(stats.legId);
    if (leg === undefined) return;
    const sample: LegSample = {
      inbound: stats.inbound,
      remote: stats.remoteReport,
    };
    const codec = typeof leg.codec === 'function' ? leg.codec() : leg.codec;
    const quality = legQuality(leg.last, sample, codec);
    leg.last = sample;
    if (quality !== undefined) leg.quality = quality;
    this.dirty.add(leg.callId);
    if (!this.flushQueued) {
      // A worker's report carries whole calls (a room's or relayed legs together,
      // docs/architecture.md §5.3), emitted in one go: publish after it.
      this.flushQueued = true;
      queueMicrotask(() => this.flush());
    }
  }

  /** Legs of live calls by their current rating (those with figures). */
  legsByRating(): Record<QualityRating, number> {
    const counts: Record<QualityRating, number> = { good: 0, fair: 0, poor: 0 };
    for (const leg of this.legs.values()) if (leg.quality) counts[leg.quality.rating]++;
    return counts;
  }

  qualityOf(callId: string): CallQualityView | undefined {
    const call = this.calls.get(callId);
    if (call === undefined) return undefined;
    let customer: LegQuality | null = null;
    let agent: LegQuality | null = null;
    const supervisors: SupervisorLegQuality[] = [];
    for (const id of call.legs) {
      const leg = this.legs.get(id);
      if (leg?.quality === undefined) continue;
      if (leg.role === 'customer') customer = leg.quality;
      else if (leg.role === 'agent') agent = leg.quality;
      else supervisors.push({ supervisor: leg.supervisor ?? '', ...leg.quality });
    }
    const rating = worstRating(
      [customer, agent, ...supervisors].flatMap((q) => (q === null ? [] : [q.rating])),
    );
    return { legs: { customer, agent, supervisors }, rating };
  }

  private flush(): void {
    this.flushQueued = false;
    const now = this.deps.now();
    for (const callId of this.dirty) {
      const call = this.calls.get(callId);
      const quality = this.qualityOf(callId);
      if (call === undefined || quality === undefined) continue;
      if (!qualityMoved(call.published, quality)) continue;
      // Too soon: the next stats round (the legs report every round) publishes it.
      if (call.publishedAt !== undefined && now - call.publishedAt < PUBLISH_MIN_INTERVAL_MS) {
        continue;
      }
      call.published = quality;
      call.publishedAt = now;
      this.deps.publish?.(callId, call.agent, quality);
    }
    this.dirty.clear();
  }
}
