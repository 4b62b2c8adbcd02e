import { describe, expect, it } from '@jest/globals';
import { bestFinalResponse } from '../../../../src/calls/bestResponse.js';

const r = (status: number, reason = `R${status}`) => ({ status, reason });

describe('bestFinalResponse (RFC 3261 §16.7 step 6)', () => {
  it('prefers a 6xx over everything', () => {
    expect(bestFinalResponse([r(486), r(603), r(500)]).status).toBe(603);
  });

  it('prefers 4xx over 5xx, keeping the first of a class', () => {
    expect(bestFinalResponse([r(500), r(486, 'Busy Here'), r(404)])).toEqual(r(486, 'Busy Here'));
  });

  it('prefers 4xx over 3xx over 5xx', () => {
    expect(bestFinalResponse([r(502), r(302)]).status).toBe(302);
    expect(bestFinalResponse([r(302), r(480)]).status).toBe(480);
  });

  it('never relays 503: it becomes 500', () => {
    expect(bestFinalResponse([r(503)])).toEqual({ status: 500, reason: 'Server Internal Error' });
  });

  it('is 408 when no fork answered at all', () => {
    expect(bestFinalResponse([]).status).toBe(408);
  });
});
