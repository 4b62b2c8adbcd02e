import { describe, expect, it } from '@jest/globals';
import { agentOf } from '../../../../src/calls/agent.js';

describe('agentOf: who the agent of a call is', () => {
  it('is the callee extension of an inbound call', () => {
    expect(agentOf('inbound', { b: '1001' })).toEqual({ extension: '1001', side: 'b' });
  });

  it('is the callee of an internal call, the caller when the callee side is released', () => {
    expect(agentOf('internal', { a: '1001', b: '1002' })).toEqual({ extension: '1002', side: 'b' });
    expect(agentOf('internal', { a: '1001', b: '1002' }, 'b')).toEqual({
      extension: '1001',
      side: 'a',
    });
  });

  it('is the calling extension of an outbound call, also after its callee became one', () => {
    expect(agentOf('outbound', { a: '1001' })).toEqual({ extension: '1001', side: 'a' });
    expect(agentOf('outbound', { a: '1001', b: '1003' })).toEqual({ extension: '1001', side: 'a' });
    expect(agentOf('outbound', { a: '1001', b: '1003' }, 'a')).toEqual({
      extension: '1003',
      side: 'b',
    });
  });

  it('is nobody when no side is an extension, or the only one was released', () => {
    expect(agentOf('inbound', {})).toBeUndefined();
    expect(agentOf('inbound', { b: '1001' }, 'b')).toBeUndefined();
  });
});
