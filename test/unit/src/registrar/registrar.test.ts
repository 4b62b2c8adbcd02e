import { describe, it, expect, beforeEach } from '@jest/globals';
import { parseMessage, type SipRequest } from '../../../../sip/message/index.js';
import {
  LocationService,
  type UnregisterReason,
} from '../../../../src/registrar/locationService.js';
import { Registrar } from '../../../../src/registrar/registrar.js';

const source = { protocol: 'udp' as const, address: '127.0.0.1', port: 5070 };
const options = {
  minExpires: 60,
  maxExpires: 3600,
  defaultExpires: 600,
  maxContactsPerExtension: 3,
};

function register(opts: {
  contacts?: string[];
  expires?: string;
  callId?: string;
  cseq?: number;
}): SipRequest {
  const lines = [
    'REGISTER sip:127.0.0.1 SIP/2.0',
    'Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bKr',
    'From: <sip:1001@127.0.0.1>;tag=f',
    'To: <sip:1001@127.0.0.1>',
    `Call-ID: ${opts.callId ?? 'c1'}`,
    `CSeq: ${opts.cseq ?? 1} REGISTER`,
    ...(opts.contacts ?? []).map((c) => `Contact: ${c}`),
    ...(opts.expires !== undefined ? [`Expires: ${opts.expires}`] : []),
    'Content-Length: 0',
    '',
    '',
  ];
  const r = parseMessage(Buffer.from(lines.join('\r\n')));
  if (!r.ok || r.message.kind !== 'request') throw new Error('bad fixture');
  return r.message;
}

describe('Registrar (RFC 3261 §10.3)', () => {
  let location: LocationService;
  let registrar: Registrar;
  let events: Array<[string, string, UnregisterReason?]>;

  beforeEach(() => {
    location = new LocationService();
    registrar = new Registrar(location, options);
    events = [];
    location.on('registered', (b) => events.push(['registered', b.contact]));
    location.on('unregistered', (b, reason) => events.push(['unregistered', b.contact, reason]));
  });

  it('binds a contact exactly as given, with the header Expires', () => {
    const contact =
      '"Phone" <sip:1001-0x55f8@127.0.0.1:5070;transport=udp>;+sip.instance="<urn:x>"';
    const r = registrar.handle(
      register({ contacts: [contact], expires: '120' }),
      '1001',
      source,
      0,
    );
    expect(r.status).toBe(200);
    expect(r.headers).toEqual([
      ['Contact', '<sip:1001-0x55f8@127.0.0.1:5070;transport=udp>;expires=120'],
    ]);
    expect(location.bindingsOf('1001')[0]?.contact).toBe(contact);
    expect(events).toEqual([['registered', contact]]);
  });

  it('prefers the contact expires parameter and clamps to maxExpires', () => {
    registrar.handle(
      register({ contacts: ['<sip:a@h>;expires=90000'], expires: '100' }),
      '1001',
      source,
      0,
    );
    expect(location.bindingsOf('1001')[0]?.expiresAt).toBe(3600_000);
  });

  it('uses the default expiry when none is given', () => {
    registrar.handle(register({ contacts: ['<sip:a@h>'] }), '1001', source, 0);
    expect(location.bindingsOf('1001')[0]?.expiresAt).toBe(600_000);
  });

  it('answers 423 with Min-Expires for a too short interval and binds nothing', () => {
    const r = registrar.handle(
      register({ contacts: ['<sip:a@h>'], expires: '30' }),
      '1001',
      source,
      0,
    );
    expect(r).toEqual({ status: 423, headers: [['Min-Expires', '60']] });
    expect(location.size).toBe(0);
  });

  it('keeps several contacts and lists them all; a query returns them', () => {
    registrar.handle(
      register({ contacts: ['<sip:a@h1>', '<sip:b@h2>'], expires: '100' }),
      '1001',
      source,
      0,
    );
    const q = registrar.handle(register({ cseq: 2 }), '1001', source, 10_000);
    expect(q.status).toBe(200);
    expect(q.headers).toEqual([
      ['Contact', '<sip:a@h1>;expires=90'],
      ['Contact', '<sip:b@h2>;expires=90'],
    ]);
  });

  it('refreshes a binding with the same URI instead of adding one', () => {
    registrar.handle(
      register({ contacts: ['<sip:a@H1:5060>'], expires: '100' }),
      '1001',
      source,
      0,
    );
    registrar.handle(
      register({ contacts: ['<sip:a@h1>'], expires: '200', cseq: 2 }),
      '1001',
      source,
      0,
    );
    expect(location.size).toBe(1);
    expect(location.bindingsOf('1001')[0]?.expiresAt).toBe(200_000);
  });

  it('removes one binding with expires=0 and all with * and Expires: 0', () => {
    registrar.handle(
      register({ contacts: ['<sip:a@h1>', '<sip:b@h2>'], expires: '100' }),
      '1001',
      source,
      0,
    );
    registrar.handle(register({ contacts: ['<sip:a@h1>;expires=0'], cseq: 2 }), '1001', source, 0);
    expect(location.bindingsOf('1001').map((b) => b.uri)).toEqual(['sip:b@h2']);
    const r = registrar.handle(
      register({ contacts: ['*'], expires: '0', cseq: 3 }),
      '1001',
      source,
      0,
    );
    expect(r.status).toBe(200);
    expect(location.size).toBe(0);
    expect(events.filter((e) => e[0] === 'unregistered').map((e) => e[2])).toEqual([
      'removed',
      'removed',
    ]);
  });

  it('refuses * without Expires: 0 or together with other contacts', () => {
    expect(
      registrar.handle(register({ contacts: ['*'], expires: '60' }), '1001', source, 0).status,
    ).toBe(400);
    expect(registrar.handle(register({ contacts: ['*'] }), '1001', source, 0).status).toBe(400);
    expect(
      registrar.handle(register({ contacts: ['*', '<sip:a@h>'], expires: '0' }), '1001', source, 0)
        .status,
    ).toBe(400);
  });

  it('refuses an out-of-order REGISTER of the same Call-ID (§10.3 step 7)', () => {
    registrar.handle(register({ contacts: ['<sip:a@h>'], cseq: 5 }), '1001', source, 0);
    const r = registrar.handle(
      register({ contacts: ['<sip:a@h>;expires=0'], cseq: 4 }),
      '1001',
      source,
      0,
    );
    expect(r.status).toBe(500);
    expect(location.size).toBe(1);
  });

  it('accepts a lower CSeq with another Call-ID (a rebooted phone)', () => {
    registrar.handle(register({ contacts: ['<sip:a@h>'], cseq: 5 }), '1001', source, 0);
    const r = registrar.handle(
      register({ contacts: ['<sip:a@h>'], cseq: 1, callId: 'c2' }),
      '1001',
      source,
      0,
    );
    expect(r.status).toBe(200);
  });

  it('keeps the newest contacts beyond maxContactsPerExtension', () => {
    for (let i = 0; i < 5; i++) {
      registrar.handle(
        register({ contacts: [`<sip:p${i}@h>`], callId: `c${i}` }),
        '1001',
        source,
        i,
      );
    }
    expect(location.bindingsOf('1001').map((b) => b.uri)).toEqual([
      'sip:p2@h',
      'sip:p3@h',
      'sip:p4@h',
    ]);
    expect(events.filter((e) => e[2] === 'replaced')).toHaveLength(2);
  });

  it('expires stale bindings on sweep with an expired event', () => {
    registrar.handle(register({ contacts: ['<sip:a@h>'], expires: '60' }), '1001', source, 0);
    location.sweep(59_999);
    expect(location.size).toBe(1);
    location.sweep(60_000);
    expect(location.size).toBe(0);
    expect(events.at(-1)).toEqual(['unregistered', '<sip:a@h>', 'expired']);
  });

  it('answers 400 for a malformed Expires', () => {
    const r = registrar.handle(
      register({ contacts: ['<sip:a@h>'], expires: 'soon' }),
      '1001',
      source,
      0,
    );
    expect(r.status).toBe(400);
    expect(location.size).toBe(0);
  });

  it('leaves malformed contacts to the parser, which answers them with 400', () => {
    const text = register({ contacts: ['<sip:a@h>'] })
      .headers.entries()
      .map((f) => `${f.name}: ${f.value === '<sip:a@h>' ? '<sip:a@h' : f.value}`);
    const r = parseMessage(Buffer.from(['REGISTER sip:h SIP/2.0', ...text, '', ''].join('\r\n')));
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.error.status).toBe(400);
      expect(r.request?.method).toBe('REGISTER');
    }
  });

  it('removes the bindings of a closed WebSocket flow only (RFC 5626 §3), not one refreshed over a new connection', () => {
    const flow = (port: number, connectionId: number) => ({
      protocol: 'ws' as const,
      address: '127.0.0.1',
      port,
      connectionId,
    });
    registrar.handle(
      register({ contacts: ['<sip:a@x.invalid;transport=ws>'] }),
      '1001',
      flow(40000, 1),
      0,
    );
    registrar.handle(
      register({ contacts: ['<sip:b@y.invalid;transport=ws>'], callId: 'c2' }),
      '1001',
      flow(40002, 2),
      0,
    );
    registrar.handle(
      register({ contacts: ['<sip:c@127.0.0.1:40000>'], callId: 'c3' }),
      '1001',
      source,
      0,
    );
    // b re-registers over a new connection (a browser that reconnected).
    registrar.handle(
      register({ contacts: ['<sip:b@y.invalid;transport=ws>'], callId: 'c2', cseq: 2 }),
      '1001',
      flow(40004, 3),
      0,
    );
    events = [];
    // The same address and port over UDP is another flow.
    expect(location.removeFlow({ protocol: 'udp', address: '127.0.0.1', port: 40000 })).toEqual([]);
    expect(location.removeFlow(flow(40000, 1)).map((b) => b.uri)).toEqual([
      'sip:a@x.invalid;transport=ws',
    ]);
    expect(location.removeFlow(flow(40002, 2))).toEqual([]);
    expect(events).toEqual([['unregistered', '<sip:a@x.invalid;transport=ws>', 'flow-closed']]);
    expect(
      location
        .bindingsOf('1001')
        .map((b) => b.uri)
        .sort(),
    ).toEqual(['sip:b@y.invalid;transport=ws', 'sip:c@127.0.0.1:40000']);
  });
});
