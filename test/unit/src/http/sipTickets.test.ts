import { describe, expect, it } from '@jest/globals';
import {
  FlowIdentities,
  MAX_OUTSTANDING,
  SipTickets,
  TICKET_TTL_MS,
} from '../../../../src/http/sipTickets.js';

describe('SipTickets', () => {
  it('redeems a ticket once, for its extension, until it expires', () => {
    let now = 1_000;
    const tickets = new SipTickets(() => now);
    const a = tickets.issue('1002');
    expect(a.expiresAt).toBe(1_000 + TICKET_TTL_MS);
    expect(a.ticket).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const b = tickets.issue('1005');
    expect(b.ticket).not.toBe(a.ticket);
    expect(tickets.redeem(a.ticket)).toBe('1002');
    expect(tickets.redeem(a.ticket)).toBeUndefined();
    expect(tickets.redeem('nonsense')).toBeUndefined();
    expect(tickets.redeem('')).toBeUndefined();
    now += TICKET_TTL_MS;
    expect(tickets.redeem(b.ticket)).toBeUndefined();
    expect(tickets.size).toBe(0);
  });

  it('drops expired tickets as new ones are issued, and holds at most MAX_OUTSTANDING', () => {
    let now = 0;
    const tickets = new SipTickets(() => now, 10);
    tickets.issue('1002');
    tickets.issue('1003');
    now = 10;
    tickets.issue('1004');
    expect(tickets.size).toBe(1);
    const many = new SipTickets(() => 0);
    const first = many.issue('1');
    for (let i = 0; i < MAX_OUTSTANDING; i++) many.issue('2');
    expect(many.size).toBe(MAX_OUTSTANDING);
    expect(many.redeem(first.ticket)).toBeUndefined();
  });
});

describe('FlowIdentities', () => {
  it('binds a WebSocket flow to an extension until unbound; other transports never', () => {
    const ids = new FlowIdentities();
    const flow = { protocol: 'ws' as const, address: '127.0.0.1', port: 40000 };
    ids.bind(flow, '1002');
    expect(ids.extensionOf({ ...flow, connectionId: 7 } as typeof flow)).toBe('1002');
    expect(ids.extensionOf({ ...flow, port: 40001 })).toBeUndefined();
    expect(ids.extensionOf({ ...flow, protocol: 'udp' })).toBeUndefined();
    expect(ids.extensionOf({ ...flow, protocol: 'wss' })).toBeUndefined();
    ids.unbind(flow);
    expect(ids.extensionOf(flow)).toBeUndefined();
    expect(ids.size).toBe(0);
  });
});
