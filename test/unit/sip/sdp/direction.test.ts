import { describe, expect, it } from '@jest/globals';
import {
  answerDirection,
  effectiveDirection,
  holdDirection,
  intersectDirections,
  isHeld,
  resumeDirection,
  reverseDirection,
  type Direction,
} from '../../../../sip/sdp/index.js';

const ALL: Direction[] = ['sendrecv', 'sendonly', 'recvonly', 'inactive'];

describe('direction helpers', () => {
  it('answers each offered direction as RFC 3264 §6.1 says', () => {
    expect(ALL.map((d) => answerDirection(d))).toEqual([
      'sendrecv',
      'recvonly',
      'sendonly',
      'inactive',
    ]);
    // An answerer that only wants to listen.
    expect(answerDirection('sendrecv', 'recvonly')).toBe('recvonly');
    expect(answerDirection('recvonly', 'recvonly')).toBe('inactive');
  });

  it('reverses and intersects', () => {
    expect(ALL.map(reverseDirection)).toEqual(['sendrecv', 'recvonly', 'sendonly', 'inactive']);
    expect(intersectDirections('sendonly', 'recvonly')).toBe('inactive');
    expect(intersectDirections('sendrecv', 'sendonly')).toBe('sendonly');
  });

  it('treats c=0.0.0.0 as "receives nothing" (RFC 3264 §8.4)', () => {
    expect(effectiveDirection({ direction: 'sendrecv', nullAddress: true })).toBe('sendonly');
    expect(effectiveDirection({ direction: 'recvonly', nullAddress: true })).toBe('inactive');
    expect(effectiveDirection({ direction: 'recvonly', nullAddress: false })).toBe('recvonly');
  });

  it('says when the peer holds the call', () => {
    expect(ALL.map((direction) => isHeld({ direction, nullAddress: false }))).toEqual([
      false,
      true,
      false,
      true,
    ]);
    expect(isHeld({ direction: 'sendrecv', nullAddress: true })).toBe(true);
  });

  it('offers hold and resume as RFC 3264 §8.4 does', () => {
    expect(holdDirection('sendrecv')).toBe('sendonly');
    expect(holdDirection('recvonly')).toBe('inactive');
    expect(resumeDirection('sendonly')).toBe('sendrecv');
    expect(resumeDirection('inactive')).toBe('recvonly');
  });
});
