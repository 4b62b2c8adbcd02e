import { describe, expect, it } from '@jest/globals';
import type { ApiEvent, EventBody } from '../../../../src/events/eventTypes.js';
import { adminOnly, groupsMayMonitor, scopeVisibility } from '../../../../src/events/visibility.js';
import type { Principal } from '../../../../src/http/api/auth.js';

const admin: Principal = { name: 'a', scope: 'admin', extension: null };
const sup1005: Principal = { name: 's', scope: 'supervisor', extension: '1005' };
const agent1001: Principal = { name: 'g', scope: 'agent', extension: '1001' };
const agent1002: Principal = { name: 'h', scope: 'agent', extension: '1002' };

let seq = 0;
const ev = (body: EventBody): ApiEvent =>
  ({ ...body, seq: ++seq, time: '2024-01-01T00:00:00.000Z' }) as ApiEvent;

const reg = (extension: string) =>
  ev({ type: 'registration.changed', extension, registered: true, contacts: 1 });
const call = (agent: string, remote: string) =>
  ev({ type: 'call.answered', callId: 'c', agent, remote, direction: 'inbound' });
const monitor = (type: 'monitor.started' | 'monitor.refused', agent: string) =>
  ev(
    type === 'monitor.refused'
      ? {
          type,
          sessionId: null,
          callId: null,
          supervisor: '1005',
          agent,
          mode: 'listen',
          reason: 'no-call',
        }
      : { type, sessionId: 'm1', callId: 'c', supervisor: '1005', agent, mode: 'listen' },
  );
const hand = (agent: string) =>
  ev({ type: 'hand.raised', callId: 'c', agent, by: agent, reason: 'raised' });

const mayMonitor = groupsMayMonitor([{ monitors: ['1005'], members: ['1001', '1002'] }]);

describe('event visibility', () => {
  it('defaults to admin tokens only', () => {
    expect(adminOnly(admin, reg('1001'))).toBe(true);
    expect(adminOnly(sup1005, reg('1001'))).toBe(false);
    expect(adminOnly(agent1001, reg('1001'))).toBe(false);
  });

  it('groupsMayMonitor pairs each monitor with each member of its groups', () => {
    expect(mayMonitor('1005', '1001')).toBe(true);
    expect(mayMonitor('1005', '1003')).toBe(false);
    expect(mayMonitor('1001', '1005')).toBe(false);
  });

  const canSee = scopeVisibility({ notifyAgents: true, mayMonitor });

  it('lets admin see everything', () => {
    for (const e of [reg('9'), call('9', '8'), monitor('monitor.refused', '9'), hand('9')]) {
      expect(canSee(admin, e)).toBe(true);
    }
  });

  it('lets a supervisor see its members, itself and its own monitoring', () => {
    expect(canSee(sup1005, reg('1001'))).toBe(true);
    expect(canSee(sup1005, reg('1005'))).toBe(true);
    expect(canSee(sup1005, reg('1003'))).toBe(false);
    expect(canSee(sup1005, call('1003', '0555'))).toBe(false);
    expect(canSee(sup1005, call('1003', '1002'))).toBe(true); // internal call with a member
    expect(canSee(sup1005, monitor('monitor.refused', '1003'))).toBe(true); // its own attempt
    expect(canSee(sup1005, hand('1002'))).toBe(true);
    expect(canSee(sup1005, hand('1003'))).toBe(false);
  });

  it('lets an agent see only itself, and its monitoring only when notified', () => {
    expect(canSee(agent1001, reg('1001'))).toBe(true);
    expect(canSee(agent1001, reg('1002'))).toBe(false);
    expect(canSee(agent1001, call('1001', '0555'))).toBe(true);
    expect(canSee(agent1001, call('1002', '1001'))).toBe(true);
    expect(canSee(agent1002, call('1001', '0555'))).toBe(false);
    expect(canSee(agent1001, monitor('monitor.started', '1001'))).toBe(true);
    expect(canSee(agent1002, monitor('monitor.started', '1001'))).toBe(false);
    expect(canSee(agent1001, monitor('monitor.refused', '1001'))).toBe(false);
    expect(canSee(agent1001, hand('1001'))).toBe(true);
    const quiet = scopeVisibility({ notifyAgents: false, mayMonitor });
    expect(quiet(agent1001, monitor('monitor.started', '1001'))).toBe(false);
    expect(quiet(agent1001, call('1001', '0555'))).toBe(true);
  });

  it('hides a hand lowered because a supervisor joined from an agent not notified', () => {
    const joined = ev({
      type: 'hand.lowered',
      callId: 'c',
      agent: '1001',
      by: '1005',
      reason: 'supervisor-joined',
    });
    const byAgent = ev({
      type: 'hand.lowered',
      callId: 'c',
      agent: '1001',
      by: '1001',
      reason: 'lowered',
    });
    const quiet = scopeVisibility({ notifyAgents: false, mayMonitor });
    const told = scopeVisibility({ notifyAgents: true, mayMonitor });
    expect(quiet(agent1001, joined)).toBe(false);
    expect(quiet(agent1001, byAgent)).toBe(true);
    expect(told(agent1001, joined)).toBe(true);
    expect(quiet(sup1005, joined)).toBe(true);
  });

  it('shows a presence change to the extension itself and to its supervisors', () => {
    const away = (extension: string) => ev({ type: 'presence.changed', extension, status: 'away' });
    expect(canSee(admin, away('1006'))).toBe(true);
    expect(canSee(sup1005, away('1005'))).toBe(true);
    expect(canSee(sup1005, away('1001'))).toBe(true);
    expect(canSee(agent1001, away('1001'))).toBe(true);
    expect(canSee(agent1001, away('1005'))).toBe(false);
    expect(canSee(agent1002, away('1001'))).toBe(false);
  });

  it('shows call quality to supervisors and admin, never to agents', () => {
    const quality = ev({
      type: 'call.quality',
      callId: 'c',
      agent: '1001',
      quality: { legs: { customer: null, agent: null, supervisors: [] }, rating: 'good' },
    });
    expect(canSee(admin, quality)).toBe(true);
    expect(canSee(sup1005, quality)).toBe(true);
    expect(canSee(agent1001, quality)).toBe(false);
  });

  it('shows a queue call to the supervisors whose groups name the queue', () => {
    const canSee = scopeVisibility({
      notifyAgents: true,
      mayMonitor: groupsMayMonitor([{ monitors: ['1006'], members: ['600'] }]),
    });
    const sup1006: Principal = { name: 'q', scope: 'supervisor', extension: '1006' };
    const queued = (agent: string) =>
      ev({
        type: 'call.answered',
        callId: 'c',
        agent,
        remote: '5551234',
        direction: 'inbound',
        queue: '600',
        waitMs: 1200,
      });
    expect(canSee(sup1006, queued('1003'))).toBe(true);
    expect(canSee(sup1006, call('1003', '5551234'))).toBe(false);
    expect(canSee(agent1001, queued('1003'))).toBe(false);
  });

  it('shows a cluster events gap to every token with an extension', () => {
    const canSee = scopeVisibility({ notifyAgents: false, mayMonitor });
    const gap = ev({ type: 'cluster.events-gap', since: '2024-01-01T00:00:00.000Z' });
    for (const p of [admin, sup1005, agent1001]) expect(canSee(p, gap)).toBe(true);
  });

  it('shows nothing to a non-admin token without an extension', () => {
    expect(canSee({ name: 'x', scope: 'supervisor', extension: null }, reg('1001'))).toBe(false);
  });
});
