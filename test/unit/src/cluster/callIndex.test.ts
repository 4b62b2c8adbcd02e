import { describe, expect, it } from '@jest/globals';
import {
  indexedCall,
  LocalCallIndex,
  parseIndexedCall,
  type CallSource,
} from '../../../../src/cluster/callIndex.js';
import type { CallRecord } from '../../../../src/calls/callRecord.js';
import { clusterKeys } from '../../../../src/cluster/keys.js';

const toWall = (ms: number) => new Date(Date.UTC(2026, 0, 1) + ms);

const answered: CallRecord = {
  id: 'call-1',
  caller: '1001',
  callee: '1002',
  direction: 'internal',
  state: 'answered',
  startedAt: 1000,
  answeredAt: 3000,
};

describe('the live-call index', () => {
  it('describes a call with its owner and wall-clock times', () => {
    expect(indexedCall(answered, 'a', toWall)).toEqual({
      id: 'call-1',
      instance: 'a',
      caller: '1001',
      callee: '1002',
      direction: 'internal',
      state: 'answered',
      startedAt: '2026-01-01T00:00:01.000Z',
      answeredAt: '2026-01-01T00:00:03.000Z',
    });
    const ringing = indexedCall(
      { ...answered, state: 'early', answeredAt: undefined },
      'a',
      toWall,
    );
    expect(ringing).not.toHaveProperty('answeredAt');
  });

  it('on one instance is the call service’s own memory', async () => {
    const source: CallSource = {
      liveCalls: () => [answered],
      callRecord: (id) => (id === answered.id ? answered : undefined),
      on: () => undefined,
      off: () => undefined,
    };
    const index = new LocalCallIndex(source, 'solo', toWall);
    expect(await index.list()).toEqual([indexedCall(answered, 'solo', toWall)]);
    expect(await index.ownerOf('call-1')).toBe('solo');
    expect(await index.ownerOf('call-2')).toBeUndefined();
  });

  it('reads back what it wrote, and nothing that is not a call', () => {
    const call = indexedCall(answered, 'b', toWall);
    expect(parseIndexedCall(JSON.stringify(call))).toEqual(call);
    expect(parseIndexedCall('{"id":"x"}')).toBeUndefined();
    expect(parseIndexedCall('[')).toBeUndefined();
  });

  it('keeps every key under the configured prefix', () => {
    const keys = clusterKeys('cw1:');
    expect([
      keys.binding('1001', 'sip:x@y'),
      keys.call('c'),
      keys.callIndex,
      keys.instance('a'),
      keys.bindingChannel,
    ]).toEqual([
      'cw1:binding:1001:sip:x@y',
      'cw1:call:c',
      'cw1:calls',
      'cw1:instance:a',
      'cw1:bindings',
    ]);
    expect(keys.bindingPattern).toBe('cw1:binding:*');
  });
});
