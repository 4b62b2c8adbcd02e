import { describe, it, expect } from '@jest/globals';
import { ALAW_TO_ULAW, ULAW_TO_ALAW } from '../../../../media/codecs/g711.js';
import { CODEC_NAMES } from '../../../../media/codecs/codec.js';
import {
  CODEC_OF_KIND,
  KIND_COUNT,
  KIND_NONE,
  KIND_OF_CODEC,
  KIND_PCMA,
  KIND_PCMU,
  KIND_TELEPHONE_EVENT,
  PayloadMap,
  transcodeTable,
} from '../../../../media/worker/payloadMap.js';

describe('PayloadMap', () => {
  it('of: one shared map per negotiation, a new one when order, types or DTMF differ', () => {
    const pcma = { name: 'PCMA', payloadType: 8 } as const;
    const pcmu = { name: 'PCMU', payloadType: 0 } as const;
    const map = PayloadMap.of([pcma, pcmu], { payloadType: 101 });
    expect(PayloadMap.of([{ ...pcma }, { ...pcmu }], { payloadType: 101, clockRate: 8000 })).toBe(
      map,
    );
    expect(map).toEqual(new PayloadMap([pcma, pcmu], { payloadType: 101 }));
    for (const other of [
      PayloadMap.of([pcmu, pcma], { payloadType: 101 }),
      PayloadMap.of([pcma, { name: 'PCMU', payloadType: 100 }], { payloadType: 101 }),
      PayloadMap.of([pcma, pcmu], { payloadType: 96 }),
      PayloadMap.of([pcma, pcmu], { payloadType: 101, clockRate: 48000 }),
      PayloadMap.of([pcma, pcmu], null),
      PayloadMap.of([pcma], { payloadType: 101 }),
    ]) {
      expect(other).not.toBe(map);
    }
    expect(PayloadMap.of([pcmu, pcma], { payloadType: 101 }).sendCodec).toBe('PCMU');
  });

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
    const { G722, opus } = KIND_OF_CODEC;
    for (const [from, to] of [
      [G722, KIND_PCMU],
      [KIND_PCMA, G722],
      [opus, G722],
      [KIND_PCMU, opus],
    ] as const) {
      expect(transcodeTable(from, to)).toBeNull();
    }
  });

  it('has one kind per codec of the codec table, telephone-event apart', () => {
    const kinds = CODEC_NAMES.map((name) => KIND_OF_CODEC[name]);
    expect(new Set([...kinds, KIND_NONE, KIND_TELEPHONE_EVENT]).size).toBe(CODEC_NAMES.length + 2);
    for (const name of CODEC_NAMES) expect(CODEC_OF_KIND[KIND_OF_CODEC[name]]).toBe(name);
    expect(CODEC_OF_KIND[KIND_TELEPHONE_EVENT]).toBeUndefined();
    expect(Math.max(...kinds, KIND_TELEPHONE_EVENT)).toBeLessThan(KIND_COUNT);
  });

  it('maps G.722 and a dynamic Opus with telephone-event/48000', () => {
    const map = new PayloadMap(
      [
        { name: 'opus', payloadType: 96 },
        { name: 'G722', payloadType: 9 },
        { name: 'PCMU', payloadType: 0 },
      ],
      { payloadType: 110, clockRate: 48000 },
    );
    expect(map.kindOf[96]).toBe(KIND_OF_CODEC.opus);
    expect(map.kindOf[9]).toBe(KIND_OF_CODEC.G722);
    expect(map.kindOf[110]).toBe(KIND_TELEPHONE_EVENT);
    expect(map.kindOf[111]).toBe(KIND_NONE);
    expect(map.payloadTypeOf[KIND_OF_CODEC.opus]).toBe(96);
    expect(map.sendKind).toBe(KIND_OF_CODEC.opus);
    expect(map.sendCodec).toBe('opus');
    expect(map.telephoneEventClockRate).toBe(48000);
    expect(map.has(KIND_OF_CODEC.G722)).toBe(true);
    expect(map.has(KIND_PCMA)).toBe(false);
    expect(new PayloadMap([{ name: 'PCMU', payloadType: 0 }], { payloadType: 101 })).toMatchObject({
      telephoneEventClockRate: 8000,
    });
  });
});
