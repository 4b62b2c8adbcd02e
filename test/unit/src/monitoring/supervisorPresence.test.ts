import { describe, expect, it } from '@jest/globals';
import {
  bindingsForDevice,
  isBrowserContact,
} from '../../../../src/monitoring/monitoringService.js';
import {
  httpStatusOf,
  MonitorRefusal,
  REFUSAL_CODES,
  sipStatusOf,
  yeastarErrnoOf,
} from '../../../../src/monitoring/refusals.js';
import { SupervisorPresence } from '../../../../src/monitoring/supervisorPresence.js';

describe('SupervisorPresence', () => {
  it('starts everyone available and emits only real changes', () => {
    const presence = new SupervisorPresence();
    const changes: unknown[] = [];
    presence.on('changed', (c) => changes.push(c));
    expect(presence.statusOf('1005')).toBe('available');
    expect(presence.set('1005', 'available')).toBe('available');
    expect(changes).toEqual([]);
    expect(presence.set('1005', 'away')).toBe('away');
    expect(presence.set('1005', 'away')).toBe('away');
    expect(presence.set('1005', 'dnd')).toBe('dnd');
    expect(presence.statusOf('1005')).toBe('dnd');
    expect(presence.statusOf('1006')).toBe('available');
    expect(presence.set('1005', 'available')).toBe('available');
    expect(presence.statusOf('1005')).toBe('available');
    expect(changes).toEqual([
      { extension: '1005', status: 'away' },
      { extension: '1005', status: 'dnd' },
      { extension: '1005', status: 'available' },
    ]);
  });
});

describe('monitor-unavailable', () => {
  it('is a 409 over REST, 480 to a feature code, 10008 (not idle) to Yeastar', () => {
    expect(REFUSAL_CODES).toContain('monitor-unavailable');
    expect(httpStatusOf('monitor-unavailable')).toBe(409);
    expect(sipStatusOf('monitor-unavailable')).toBe(480);
    expect(yeastarErrnoOf('monitor-unavailable')).toBe('10008');
    expect(new MonitorRefusal('monitor-unavailable').message).toMatch(/not available/);
  });
});

describe('bindingsForDevice', () => {
  const source = { protocol: 'udp' as const, address: '127.0.0.1', port: 5060 };
  const phone = { uri: 'sip:1005@127.0.0.1:5062', source };
  const browser = { uri: 'sip:1005@abc.invalid;transport=ws', source };
  const secure = { uri: 'sip:1005@def.invalid;Transport=WSS;ob', source };
  const tcp = { uri: 'sip:1005@127.0.0.1:5062;transport=tcp', source };

  it('tells browsers (RFC 7118 ;transport=ws/wss) from phones', () => {
    expect(isBrowserContact(browser.uri)).toBe(true);
    expect(isBrowserContact(secure.uri)).toBe(true);
    expect(isBrowserContact(phone.uri)).toBe(false);
    expect(isBrowserContact(tcp.uri)).toBe(false);
  });

  it('rings all contacts by default, only browsers or only the others when asked', () => {
    const all = [phone, browser, secure, tcp];
    expect(bindingsForDevice(all, undefined)).toEqual(all);
    expect(bindingsForDevice(all, 'browser')).toEqual([browser, secure]);
    expect(bindingsForDevice(all, 'phone')).toEqual([phone, tcp]);
    expect(bindingsForDevice([phone], 'browser')).toEqual([]);
  });
});
