import { describe, expect, it } from '@jest/globals';
import { nextCallState } from '../../../../src/calls/callRecord.js';

describe('call state machine', () => {
  it('goes proceeding → early → answered → ended', () => {
    expect(nextCallState('proceeding', 'provisional')).toBe('early');
    expect(nextCallState('early', 'provisional')).toBe('early');
    expect(nextCallState('early', 'answer')).toBe('answered');
    expect(nextCallState('answered', 'end')).toBe('ended');
  });

  it('may be answered without ringing, and end from any live state', () => {
    expect(nextCallState('proceeding', 'answer')).toBe('answered');
    expect(nextCallState('proceeding', 'end')).toBe('ended');
    expect(nextCallState('early', 'end')).toBe('ended');
  });

  it('refuses what does not apply', () => {
    expect(nextCallState('answered', 'provisional')).toBeUndefined();
    expect(nextCallState('answered', 'answer')).toBeUndefined();
    expect(nextCallState('ended', 'answer')).toBeUndefined();
    expect(nextCallState('ended', 'end')).toBeUndefined();
  });
});
