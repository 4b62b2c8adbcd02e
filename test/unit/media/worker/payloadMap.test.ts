import { describe, it, expect } from '@jest/globals';
import { ALAW_TO_ULAW, ULAW_TO_ALAW } from '../../../../media/codecs/g711.js';
import {
  KIND_NONE,
  KIND_PCMA,
  KIND_PCMU,
  KIND_TELEPHONE_EVENT,
  PayloadMap,
  transcodeTable,
} from '../../../../media/worker/payloadMap.js';

describe('PayloadMap', () => {
  it('maps payload types both ways, the first listed codec preferred', () => {
    const map = new PayloadMap(
      [
        { name: 'PCMA', payloadType: 8 },
        { name: 'PCMU', payloadType: 0 },
        { name: 'PCMU', payloadType: 100 },
      ],
      { payloadType: 101 },
    );
    expect(map.kindOf[8]).toBe(KIND_PCMA);
    expect(map.kindOf[0]).toBe(KIND_PCMU);
    expect(map.kindOf[100]).toBe(KIND_PCMU);
    expect(map.kindOf[101]).toBe(KIND_TELEPHONE_EVENT);
    expect(map.kindOf[9]).toBe(KIND_NONE);
    expect(map.payloadTypeOf[KIND_PCMU]).toBe(0);
    expect(map.payloadTypeOf[KIND_TELEPHONE_EVENT]).toBe(101);
    expect(map.sendKind).toBe(KIND_PCMA);
  });

  it('has no telephone-event payload type when none was negotiated', () => {
    const map = new PayloadMap([{ name: 'PCMU', payloadType: 0 }], null);
    expect(map.payloadTypeOf[KIND_TELEPHONE_EVENT]).toBe(-1);
    expect(map.payloadTypeOf[KIND_PCMA]).toBe(-1);
  });

  it('transcodes only between the two laws', () => {
    expect(transcodeTable(KIND_PCMU, KIND_PCMA)).toBe(ULAW_TO_ALAW);
    expect(transcodeTable(KIND_PCMA, KIND_PCMU)).toBe(ALAW_TO_ULAW);
    expect(transcodeTable(KIND_PCMU, KIND_PCMU)).toBeNull();
  });
});
