import { describe, expect, it } from '@jest/globals';
import type { CallRecord } from '../../../../src/calls/callRecord.js';
import type { DialogView } from '../../../../src/presence/dialogInfo.js';
import { ExtensionDialogs } from '../../../../src/presence/extensionDialogs.js';

const NAMES: Record<string, string> = { '1001': 'Alice', '1002': 'Bob', '1003': 'Carol' };

function setup(phoneIds = false) {
  const changes: Array<[string, DialogView]> = [];
  const d = new ExtensionDialogs({
    uriOf: (n) => `sip:${n}@pbx`,
    displayNameOf: (n) => NAMES[n],
    ...(phoneIds
      ? {
          phoneDialog: (callId: string, side: 'a' | 'b') => ({
            callId: side === 'a' ? callId : `${callId}-out`,
            localTag: `phone-${side}`,
            remoteTag: `ours-${side}`,
          }),
        }
      : {}),
  });
  d.on('changed', (ext, view) => changes.push([ext, view]));
  return { d, changes };
}

function record(over: Partial<CallRecord> = {}): CallRecord {
  return {
    id: 'call-1',
    caller: '1001',
    callee: '1002',
    direction: 'internal',
    state: 'proceeding',
    startedAt: 0,
    ...over,
  };
}

describe('ExtensionDialogs (RFC 4235 §3.7.1 states from the call lifecycle)', () => {
  it('an internal call: the caller trying, both early when it rings, confirmed, then terminated once', () => {
    const { d, changes } = setup();
    const r = record();
    d.started(r, { a: '1001', b: '1002' });
    expect(changes.map(([e, v]) => [e, v.state, v.direction])).toEqual([
      ['1001', 'trying', 'initiator'],
    ]);
    expect(d.dialogsOf('1002')).toEqual([]);
    d.early(r);
    d.early(r); // a second 180 changes nothing
    expect(changes.slice(1).map(([e, v]) => [e, v.state, v.direction])).toEqual([
      ['1001', 'early', 'initiator'],
      ['1002', 'early', 'recipient'],
    ]);
    expect(d.dialogsOf('1002')).toEqual([
      {
        id: 'call-1-b',
        direction: 'recipient',
        state: 'early',
        local: { uri: 'sip:1002@pbx', display: 'Bob' },
        remote: { uri: 'sip:1001@pbx', display: 'Alice' },
      },
    ]);
    d.answered({ ...r, answeredAt: 5 });
    expect(d.dialogsOf('1002')[0]?.state).toBe('confirmed');
    changes.length = 0;
    d.ended({ ...r, state: 'ended', answeredAt: 5, endReason: 'caller-hangup' });
    expect(changes.map(([e, v]) => [e, v.state, v.event])).toEqual([
      ['1001', 'terminated', 'local-bye'],
      ['1002', 'terminated', 'remote-bye'],
    ]);
    expect(d.dialogsOf('1001')).toEqual([]);
    expect(d.dialogsOf('1002')).toEqual([]);
  });

  it('a trunk caller is named by its number and display name; a caller cancelling is `cancelled`', () => {
    const { d, changes } = setup();
    const r = record({ caller: '5551234', callerName: 'Customer', direction: 'inbound' });
    d.started(r, { b: '1002' });
    expect(changes).toEqual([]);
    d.early(r);
    expect(d.dialogsOf('1002')[0]?.remote).toEqual({ uri: 'sip:5551234@pbx', display: 'Customer' });
    d.ended({ ...r, state: 'ended', endReason: 'caller-hangup' });
    expect(changes.at(-1)?.[1]).toMatchObject({ state: 'terminated', event: 'cancelled' });
  });

  it('a call ended by a lost connection (a browser phone) is terminated with `error`', () => {
    const { d, changes } = setup();
    const r = record();
    d.started(r, { a: '1001', b: '1002' });
    d.answered({ ...r, answeredAt: 5 });
    changes.length = 0;
    d.ended({ ...r, state: 'ended', answeredAt: 5, endReason: 'connection-lost' });
    expect(changes.map(([e, v]) => [e, v.state, v.event])).toEqual([
      ['1001', 'terminated', 'error'],
      ['1002', 'terminated', 'error'],
    ]);
  });

  it('shows the phone-side Call-ID and tags when the call layer knows them', () => {
    const { d } = setup(true);
    const r = record();
    d.started(r, { a: '1001', b: '1002' });
    d.answered(r);
    expect(d.dialogsOf('1002')[0]).toMatchObject({
      callId: 'call-1-out',
      localTag: 'phone-b',
      remoteTag: 'ours-b',
    });
    expect(d.dialogsOf('1001')[0]).toMatchObject({ callId: 'call-1', localTag: 'phone-a' });
  });

  it('a blind transfer ends the transferring side and confirms the target', () => {
    const { d, changes } = setup();
    const r = record();
    d.started(r, { a: '1001', b: '1002' });
    d.answered(r);
    changes.length = 0;
    d.transferred('call-1', 'b', '1002', '1003');
    expect(changes.map(([e, v]) => [e, v.state, v.event])).toEqual([
      ['1002', 'terminated', 'replaced'],
      ['1003', 'confirmed', undefined],
      ['1001', 'confirmed', undefined],
    ]);
    expect(d.dialogsOf('1001')[0]?.remote).toEqual({ uri: 'sip:1003@pbx', display: 'Carol' });
    expect(d.dialogsOf('1002')).toEqual([]);
  });
});
