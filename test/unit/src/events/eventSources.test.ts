import { describe, expect, it } from '@jest/globals';
import type { CallRecord } from '../../../../src/calls/callRecord.js';
import type { CallService } from '../../../../src/calls/callService.js';
import { EventBus } from '../../../../src/events/eventBus.js';
import {
  callParties,
  publishCalls,
  publishRegistrations,
} from '../../../../src/events/eventSources.js';
import { LocationService, type Binding } from '../../../../src/registrar/locationService.js';
import { TypedEmitter } from '../../../../sip/util/typedEmitter.js';

function binding(extension: string, key: string): Binding {
  return {
    extension,
    contact: `<sip:${extension}@127.0.0.1:${key}>`,
    uri: `sip:${extension}@127.0.0.1:${key}`,
    key,
    callId: 'c',
    cseq: 1,
    expiresAt: 60000,
    registeredAt: 0,
    source: { protocol: 'udp', address: '127.0.0.1', port: 5070 },
  };
}

const record = (direction: CallRecord['direction']): CallRecord => ({
  id: 'call-1',
  caller: direction === 'inbound' ? '0555' : '1001',
  callee: direction === 'outbound' ? '0555' : '1002',
  direction,
  state: 'proceeding',
  startedAt: 0,
});

describe('event sources', () => {
  it('publishes registration changes, not refreshes, with the contact count', () => {
    const location = new LocationService();
    const bus = new EventBus();
    const detach = publishRegistrations(location, bus);
    location.upsert(binding('1001', 'a'));
    location.upsert(binding('1001', 'b'));
    location.upsert(binding('1001', 'b')); // refresh
    location.remove('1001', 'a', 'removed');
    location.remove('1001', 'b', 'expired');
    detach();
    location.upsert(binding('1001', 'a'));
    expect(
      bus.since(0).map((e) => e.type === 'registration.changed' && [e.registered, e.contacts]),
    ).toEqual([
      [true, 1],
      [true, 2],
      [true, 1],
      [false, 0],
    ]);
  });

  it('names the extension side agent and the other party remote', () => {
    expect(callParties(record('inbound'))).toMatchObject({ agent: '1002', remote: '0555' });
    expect(callParties(record('outbound'))).toMatchObject({ agent: '1001', remote: '0555' });
    expect(callParties(record('internal'))).toMatchObject({ agent: '1002', remote: '1001' });
  });

  it('publishes created, answered and ended calls', () => {
    const calls = new TypedEmitter<{
      callStarted: [CallRecord];
      answered: [CallRecord];
      ended: [CallRecord];
    }>();
    const bus = new EventBus();
    const detach = publishCalls(calls as unknown as CallService, bus);
    const r = record('inbound');
    calls.emit('callStarted', r);
    calls.emit('answered', r);
    calls.emit('ended', { ...r, endReason: 'caller-hangup' });
    detach();
    calls.emit('ended', r);
    expect(bus.since(0)).toEqual([
      expect.objectContaining({
        seq: 1,
        type: 'call.created',
        callId: 'call-1',
        direction: 'inbound',
      }),
      expect.objectContaining({ seq: 2, type: 'call.answered' }),
      expect.objectContaining({ seq: 3, type: 'call.ended', endReason: 'caller-hangup' }),
    ]);
  });
});
