import { describe, expect, it } from '@jest/globals';
import {
  legQuality,
  mosOfR,
  ratingOf,
  rFactor,
  worstRating,
} from '../../../../src/monitoring/callQuality.js';

describe('E-model (ITU-T G.107, simplified)', () => {
  it('gives G.711 without loss or delay R 93.2, MOS 4.41: good', () => {
    expect(rFactor('PCMU', 0)).toBeCloseTo(93.2, 5);
    expect(mosOfR(93.2)).toBeCloseTo(4.41, 2);
    expect(ratingOf(mosOfR(rFactor('PCMA', 0)))).toBe('good');
  });

  it('applies Ie,eff = Ie + (95 - Ie) Ppl / (Ppl + Bpl) (G.711 without PLC: Bpl 4.3)', () => {
    expect(rFactor('PCMU', 5)).toBeCloseTo(93.2 - (95 * 5) / (5 + 4.3), 5);
    expect(ratingOf(mosOfR(rFactor('PCMU', 5)))).toBe('poor');
    expect(ratingOf(mosOfR(rFactor('PCMU', 0.5)))).toBe('good');
    expect(ratingOf(mosOfR(rFactor('PCMU', 1)))).toBe('fair');
    // Codecs that conceal losses degrade more slowly.
    expect(rFactor('opus', 5)).toBeGreaterThan(rFactor('PCMU', 5));
  });

  it('takes delay off R (Id), more steeply beyond 177.3 ms', () => {
    expect(rFactor('PCMU', 0, 100)).toBeCloseTo(93.2 - 2.4, 5);
    expect(rFactor('PCMU', 0, 277.3)).toBeCloseTo(93.2 - 0.024 * 277.3 - 11, 5);
  });

  it('bounds MOS to 1 and 4.5 and rates by 4.0 / 3.6', () => {
    expect(mosOfR(-5)).toBe(1);
    expect(mosOfR(120)).toBe(4.5);
    expect(ratingOf(4.0)).toBe('good');
    expect(ratingOf(3.99)).toBe('fair');
    expect(ratingOf(3.6)).toBe('fair');
    expect(ratingOf(3.59)).toBe('poor');
    expect(worstRating([])).toBe('good');
    expect(worstRating(['good', 'poor', 'fair'])).toBe('poor');
    expect(worstRating(['good', 'fair'])).toBe('fair');
  });
});

describe('legQuality', () => {
  const sample = (expected: number, received: number, jitterMs = 1) => ({
    inbound: { expected, received, jitterMs },
    remote: null,
  });

  it('takes the loss of the interval since the previous sample', () => {
    const first = legQuality(undefined, sample(100, 100), 'PCMU');
    expect(first).toEqual({ lossPct: 0, jitterMs: 1, mos: 4.4, rating: 'good' });
    const lossy = legQuality(sample(100, 100), sample(200, 195, 3.25), 'PCMU');
    expect(lossy).toMatchObject({ lossPct: 5, jitterMs: 3.3, rating: 'poor' });
    // Nothing received in the interval: no figure from our side.
    expect(legQuality(sample(200, 195), sample(200, 195), 'PCMU')).toBeUndefined();
  });

  it("uses the worse of ours and the phone's fresh receiver report, and its RTT", () => {
    const remote = { fractionLost: 0.1, jitterMs: 12, rttMs: 400, ageMs: 1000 };
    const q = legQuality(
      undefined,
      { inbound: { expected: 50, received: 50, jitterMs: 2 }, remote },
      'PCMU',
    );
    expect(q).toMatchObject({ lossPct: 10, jitterMs: 12, rating: 'poor' });
    const stale = { ...remote, ageMs: 60_000 };
    expect(
      legQuality(
        undefined,
        { inbound: { expected: 50, received: 50, jitterMs: 2 }, remote: stale },
        'PCMU',
      ),
    ).toMatchObject({ lossPct: 0, rating: 'good' });
    expect(
      legQuality(undefined, { inbound: null, remote: { ...remote, fractionLost: 0 } }, 'PCMU'),
    ).toMatchObject({ lossPct: 0, jitterMs: 12 });
    expect(legQuality(undefined, { inbound: null, remote: null }, 'PCMU')).toBeUndefined();
  });
});
