import { describe, expect, it } from '@jest/globals';
import { redirectCandidate } from '../../../../src/cluster/featureCodeRedirect.js';
import { remoteEventBody, type SharedEventMessage } from '../../../../src/cluster/sharedEvents.js';
import { parseMessage, type SipRequest } from '../../../../sip/message/index.js';

const CODES = { listen: '*90', whisper: '*91', barge: '*92', takeover: '*93' } as const;

function request(method: string, uri: string, opts: { vias?: number; toTag?: boolean } = {}) {
  const vias = Array.from(
    { length: opts.vias ?? 2 },
    (_, i) => `Via: SIP/2.0/UDP 127.0.0.${i + 1}:5060;branch=z9hG4bK-${i}`,
  );
  const lines = [
    `${method} ${uri} SIP/2.0`,
    ...vias,
    'From: <sip:1005@callwatch>;tag=f1',
    `To: <${uri}>${opts.toTag ? ';tag=t1' : ''}`,
    'Call-ID: c1',
    `CSeq: 1 ${method}`,
    'Max-Forwards: 70',
    'Content-Length: 0',
    '',
    '',
  ];
  const r = parseMessage(Buffer.from(lines.join('\r\n')));
  if (!r.ok || r.message.kind !== 'request') throw new Error('bad fixture');
  return r.message as SipRequest;
}

describe('redirectCandidate: feature codes another instance may own', () => {
  it('takes a new feature-code INVITE that came through a proxy', () => {
    expect(redirectCandidate(request('INVITE', 'sip:*901002@10.0.0.1'), CODES)).toEqual({
      agent: '1002',
      user: '*901002',
    });
    expect(redirectCandidate(request('INVITE', 'sip:*931002@10.0.0.1'), CODES)?.agent).toBe('1002');
  });

  it('leaves ordinary calls, in-dialog requests, other methods and direct requests alone', () => {
    expect(redirectCandidate(request('INVITE', 'sip:1002@10.0.0.1'), CODES)).toBeUndefined();
    expect(
      redirectCandidate(request('INVITE', 'sip:*901002@10.0.0.1', { toTag: true }), CODES),
    ).toBeUndefined();
    expect(redirectCandidate(request('OPTIONS', 'sip:*901002@10.0.0.1'), CODES)).toBeUndefined();
    expect(
      redirectCandidate(request('INVITE', 'sip:*901002@10.0.0.1', { vias: 1 }), CODES),
    ).toBeUndefined();
    expect(redirectCandidate(request('INVITE', 'sip:*90@10.0.0.1'), CODES)).toBeUndefined();
  });
});

function message(origin: string, run: string, seq: number, type = 'call.created'): string {
  const event = { seq, time: '2026-01-01T00:00:00.000Z', type, callId: 'c1', agent: '1002' };
  return JSON.stringify({ origin, run, event } as unknown as SharedEventMessage);
}

describe('remoteEventBody: the other instances events, once each', () => {
  it("republishes another instance's event with its origin, without its seq and time", () => {
    expect(remoteEventBody(message('a', 'r1', 1), 'b', new Map())).toEqual({
      type: 'call.created',
      callId: 'c1',
      agent: '1002',
      instance: 'a',
    });
  });

  it('skips its own events, duplicates, unshared types and garbage', () => {
    const seen = new Map<string, number>();
    expect(remoteEventBody(message('b', 'r1', 1), 'b', seen)).toBeUndefined();
    expect(remoteEventBody(message('a', 'r1', 2), 'b', seen)).toBeDefined();
    expect(remoteEventBody(message('a', 'r1', 2), 'b', seen)).toBeUndefined();
    expect(remoteEventBody(message('a', 'r1', 1), 'b', seen)).toBeUndefined();
    expect(remoteEventBody(message('a', 'r1', 3, 'registration.changed'), 'b', seen)).toBe(
      undefined,
    );
    expect(remoteEventBody('not json', 'b', seen)).toBeUndefined();
    expect(remoteEventBody('{"origin":"a"}', 'b', seen)).toBeUndefined();
  });

  it('starts counting again for a restarted instance (a new run)', () => {
    const seen = new Map<string, number>();
    expect(remoteEventBody(message('a', 'r1', 5), 'b', seen)).toBeDefined();
    expect(remoteEventBody(message('a', 'r2', 1), 'b', seen)).toBeDefined();
  });
});
