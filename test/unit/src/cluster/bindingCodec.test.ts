import { describe, expect, it } from '@jest/globals';
import {
  fromShared,
  parseBindingChange,
  parseSharedBinding,
  shareable,
  toShared,
} from '../../../../src/cluster/bindingCodec.js';
import type { Binding } from '../../../../src/registrar/locationService.js';

const binding: Binding = {
  extension: '1001',
  contact: '<sip:1001-x@10.0.0.5:5062>;expires=60',
  uri: 'sip:1001-x@10.0.0.5:5062',
  key: 'sip:1001-x@10.0.0.5:5062',
  callId: 'abc',
  cseq: 7,
  expiresAt: 61_000,
  registeredAt: 1_000,
  source: { protocol: 'udp', address: '127.0.0.1', port: 5060 },
  userAgent: 'baresip',
};

describe('bindings shared between instances', () => {
  it('travel with times relative to the writer and come back on the reader’s clock', () => {
    const shared = toShared(binding, 'a', 11_000);
    expect(shared).toMatchObject({ origin: 'a', remainingMs: 50_000, ageMs: 10_000 });
    // The reader's clock has another origin: the binding keeps its remaining time and age.
    const back = fromShared(JSON.parse(JSON.stringify(shared)) as typeof shared, 500_000);
    expect(back).toEqual({ ...binding, expiresAt: 550_000, registeredAt: 490_000 });
    // A key's PTTL, when read from Redis, is the better remaining time.
    expect(fromShared(shared, 500_000, 20_000).expiresAt).toBe(520_000);
  });

  it('keeps the source only as an address (no connection id)', () => {
    const viaTcp = { ...binding, source: { ...binding.source, connectionId: 4 } };
    expect(toShared(viaTcp, 'a', 0).source).toEqual({
      protocol: 'udp',
      address: '127.0.0.1',
      port: 5060,
    });
  });

  it('shares UDP bindings only: a connection ends at the instance that holds it', () => {
    expect(shareable(binding)).toBe(true);
    expect(shareable({ ...binding, source: { ...binding.source, protocol: 'tcp' } })).toBe(false);
    expect(shareable({ ...binding, source: { ...binding.source, protocol: 'wss' } })).toBe(false);
  });

  it('parses channel messages and refuses anything else', () => {
    const up = { op: 'up', binding: toShared(binding, 'b', 1_000) };
    expect(parseBindingChange(JSON.stringify(up))).toEqual(up);
    const down = { op: 'down', origin: 'b', extension: '1001', key: binding.key };
    expect(parseBindingChange(JSON.stringify(down))).toEqual(down);
    expect(parseBindingChange('not json')).toBeUndefined();
    expect(parseBindingChange('{"op":"down","origin":"b"}')).toBeUndefined();
    expect(
      parseBindingChange(JSON.stringify({ op: 'up', binding: { origin: 'b' } })),
    ).toBeUndefined();
    const badProtocol = {
      ...toShared(binding, 'b', 0),
      source: { protocol: 'sctp', address: 'x', port: 1 },
    };
    expect(parseSharedBinding(badProtocol)).toBeUndefined();
    expect(parseSharedBinding(null)).toBeUndefined();
  });
});
