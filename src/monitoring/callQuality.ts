/**
 * Call quality as it happens (docs/architecture.md §11.5): per leg, loss and jitter from
 * the media engine's own counters (RFC 3550 A.3 expected vs received from sequence
 * numbers, A.8 interarrival jitter) and from the phone's RTCP receiver reports (what it
 * received from us), and a MOS estimated with the ITU-T G.107 E-model, simplified:
 *
 *   R = R0 − Is − Id − Ie,eff + A, with R0 − Is = 93.2 (G.107 defaults), A = 0,
 *   Ie,eff = Ie + (95 − Ie) · Ppl / (Ppl / BurstR + Bpl)   (G.107 §7.6.2, BurstR = 1:
 *   random loss), Ie and Bpl per codec (G.113 Appendix I),
 *   Id from the one-way delay Ta = RTT / 2 when RTCP gave one, else 0, with the usual
 *   piecewise-linear fit of G.107's Id (Cole & Rosenbluth 2001):
 *   Id = 0.024·Ta + 0.11·(Ta − 177.3)·H(Ta − 177.3),
 *   MOS = 1 + 0.035·R + R·(R − 60)·(100 − R)·7·10⁻⁶ for 0 < R < 100 (G.107 Annex B).
 *
 * Ratings: good MOS ≥ 4.0, fair ≥ 3.6, else poor. Pure: no clock, no I/O.
 */

export type QualityCodec = 'PCMU' | 'PCMA' | 'G722' | 'opus';

/**
 * Equipment impairment Ie and packet-loss robustness Bpl per codec. G.711: G.113
 * Appendix I without packet-loss concealment (Ie 0, Bpl 4.3): a relayed G.711 stream is
 * concealed by the receiving phone, if at all, and the mixer's fade-out is not G.711
 * Appendix I PLC (Bpl 25.1 would need that). G.722 and Opus have no narrowband-scale
 * entry in G.113's table; they are rated as G.711 with concealment (Ie 0, Bpl 25.1,
 * G.113 Appendix I, G.711 with PLC), an estimate: both codecs conceal losses.
 */
export const CODEC_IMPAIRMENT: Readonly<Record<QualityCodec, { ie: number; bpl: number }>> = {
  PCMU: { ie: 0, bpl: 4.3 },
  PCMA: { ie: 0, bpl: 4.3 },
  G722: { ie: 0, bpl: 25.1 },
  opus: { ie: 0, bpl: 25.1 },
};

/** G.107 default R0 − Is. */
const R_DEFAULT = 93.2;

export const MOS_GOOD = 4.0;
export const MOS_FAIR = 3.6;

export type QualityRating = 'good' | 'fair' | 'poor';

export interface LegQuality {
  /** Packets lost, percent (the worse direction). */
  lossPct: number;
  /** Interarrival jitter, ms (the worse direction). */
  jitterMs: number;
  /** Estimated MOS, 1–4.5 (one decimal). */
  mos: number;
  rating: QualityRating;
}

/** The E-model's rating factor R for `codec` at `lossPct` % random loss and `delayMs` one way. */
export function rFactor(codec: QualityCodec, lossPct: number, delayMs = 0): number {
  const { ie, bpl } = CODEC_IMPAIRMENT[codec];
  const ppl = Math.min(100, Math.max(0, lossPct));
  const ieEff = ie + ((95 - ie) * ppl) / (ppl + bpl);
  const d = Math.max(0, delayMs);
  const id = 0.024 * d + (d > 177.3 ? 0.11 * (d - 177.3) : 0);
  return R_DEFAULT - id - ieEff;
}

/** G.107 Annex B: MOS (conversational quality, estimated) from R. */
export function mosOfR(r: number): number {
  if (r <= 0) return 1;
  if (r >= 100) return 4.5;
  return 1 + 0.035 * r + r * (r - 60) * (100 - r) * 7e-6;
}

export function ratingOf(mos: number): QualityRating {
  if (mos >= MOS_GOOD) return 'good';
  if (mos >= MOS_FAIR) return 'fair';
  return 'poor';
}

const RATING_ORDER: readonly QualityRating[] = ['good', 'fair', 'poor'];

/** The worst of some ratings ('good' for none). */
export function worstRating(ratings: readonly QualityRating[]): QualityRating {
  return ratings.reduce<QualityRating>(
    (worst, r) => (RATING_ORDER.indexOf(r) > RATING_ORDER.indexOf(worst) ? r : worst),
    'good',
  );
}

/** What one stats report of a leg says (media/worker/protocol.ts LegStats, reduced). */
export interface LegSample {
  /** Our counters on what the phone sent us (cumulative). */
  inbound: { expected: number; received: number; jitterMs: number } | null;
  /** The phone's last RTCP receiver report on what we sent it. */
  remote: { fractionLost: number; jitterMs: number; rttMs: number | null; ageMs: number } | null;
}

/** A receiver report older than this no longer says anything about now. */
export const REMOTE_REPORT_MAX_AGE_MS = 15_000;

const round1 = (x: number) => Math.round(x * 10) / 10;

/**
 * A leg's quality over the interval since `previous` (loss from the change in expected
 * and received), or undefined when neither direction says anything yet.
 */
export function legQuality(
  previous: LegSample | undefined,
  current: LegSample,
  codec: QualityCodec,
): LegQuality | undefined {
  let loss: number | undefined;
  let jitter: number | undefined;
  const inb = current.inbound;
  if (inb !== null) {
    const prev = previous?.inbound ?? null;
    const expected = inb.expected - (prev?.expected ?? 0);
    const received = inb.received - (prev?.received ?? 0);
    if (expected > 0) loss = (Math.max(0, expected - received) / expected) * 100;
    jitter = inb.jitterMs;
  }
  const remote = current.remote;
  let rtt: number | null = null;
  if (remote !== null && remote.ageMs <= REMOTE_REPORT_MAX_AGE_MS) {
    loss = Math.max(loss ?? 0, remote.fractionLost * 100);
    jitter = Math.max(jitter ?? 0, remote.jitterMs);
    rtt = remote.rttMs;
  }
  if (loss === undefined) return undefined;
  const mos = mosOfR(rFactor(codec, loss, rtt === null ? 0 : rtt / 2));
  return {
    lossPct: round1(loss),
    jitterMs: round1(jitter ?? 0),
    mos: round1(mos),
    rating: ratingOf(mos),
  };
}
