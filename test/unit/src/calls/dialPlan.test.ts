import { describe, it, expect } from '@jest/globals';
import { parseConfig } from '../../../../src/config/load.js';
import {
  directionOf,
  route,
  trunkForSource,
  type DialPlanDeps,
} from '../../../../src/calls/dialPlan.js';

const config = parseConfig({
  extensions: [
    { number: '1001', password: 'secret1' },
    { number: '1002', password: 'secret2' },
  ],
  trunks: [
    {
      name: 'carrier',
      host: '127.0.0.1',
      port: 5080,
      sourcePort: 5080,
      prefixes: ['0'],
      stripPrefix: true,
      dids: { '5550100': '1001', '5550102': '1002' },
    },
    { name: 'intl', host: '192.0.2.7', prefixes: ['00'], dids: {} },
  ],
});

const registered = new Set(['1001']);
const deps: DialPlanDeps = {
  extensions: new Map(config.extensions.map((e) => [e.number, e])),
  trunks: config.trunks,
  queues: new Map(),
  isRegistered: (e) => registered.has(e),
};
const fromExt = { kind: 'extension' as const, extension: '1002' };

describe('dial plan', () => {
  it('rings a registered extension, 480 for an unregistered one, 404 for unknown numbers', () => {
    expect(route(fromExt, '1001', deps)).toEqual({ kind: 'extension', extension: '1001' });
    expect(route(fromExt, '1002', deps)).toMatchObject({ kind: 'reject', status: 480 });
    expect(route(fromExt, '7777', deps)).toMatchObject({ kind: 'reject', status: 404 });
  });

  it('sends prefixed numbers to the trunk with the longest matching prefix', () => {
    const out = route(fromExt, '0155512', deps);
    expect(out).toMatchObject({ kind: 'trunk', number: '155512' });
    expect(out.kind === 'trunk' && out.trunk.name).toBe('carrier');
    const intl = route(fromExt, '0044207', deps);
    expect(intl.kind === 'trunk' && intl.trunk.name).toBe('intl');
    expect(intl).toMatchObject({ number: '0044207' });
    expect(route(fromExt, '0', deps)).toMatchObject({ kind: 'reject', status: 404 });
  });

  it('maps an inbound DID to its extension', () => {
    const carrier = { kind: 'trunk' as const, trunk: 'carrier' };
    expect(route(carrier, '5550100', deps)).toEqual({ kind: 'extension', extension: '1001' });
    expect(route(carrier, '5550102', deps)).toMatchObject({ kind: 'reject', status: 480 });
    expect(route(carrier, '1001', deps)).toMatchObject({ kind: 'reject', status: 404 });
  });

  it('tells the direction', () => {
    expect(
      directionOf({ kind: 'trunk', trunk: 'carrier' }, { kind: 'extension', extension: '1001' }),
    ).toBe('inbound');
    expect(directionOf(fromExt, route(fromExt, '0123', deps))).toBe('outbound');
    expect(directionOf(fromExt, route(fromExt, '1001', deps))).toBe('internal');
  });

  it('recognises a trunk by source address and, when set, port', () => {
    expect(trunkForSource(config.trunks, '127.0.0.1', 5080)?.name).toBe('carrier');
    expect(trunkForSource(config.trunks, '127.0.0.1', 5064)).toBeUndefined();
    expect(trunkForSource(config.trunks, '192.0.2.7', 40000)?.name).toBe('intl');
  });

  it('enters a queue from a DID or an extension dialling its number, registered or not', () => {
    const withQueue = parseConfig({
      extensions: [{ number: '1001', password: 'secret1' }],
      trunks: [{ name: 'carrier', host: '127.0.0.1', dids: { '5550200': '600' } }],
      queues: [{ number: '600', name: 'Support', members: ['1001'] }],
    });
    const queueDeps: DialPlanDeps = {
      extensions: new Map(withQueue.extensions.map((e) => [e.number, e])),
      trunks: withQueue.trunks,
      queues: new Map(withQueue.queues.map((q) => [q.number, q])),
      isRegistered: () => false,
    };
    const carrier = { kind: 'trunk' as const, trunk: 'carrier' };
    const fromDid = route(carrier, '5550200', queueDeps);
    expect(fromDid.kind === 'queue' && fromDid.queue.name).toBe('Support');
    expect(route(fromExt, '600', queueDeps)).toMatchObject({ kind: 'queue' });
    expect(directionOf(carrier, fromDid)).toBe('inbound');
    expect(route(carrier, '600', queueDeps)).toMatchObject({ kind: 'reject', status: 404 });
  });

  it('refuses a DID that maps to no extension at config load', () => {
    expect(() =>
      parseConfig({ trunks: [{ name: 't', host: '127.0.0.1', dids: { '1': '9999' } }] }),
    ).toThrow(/trunks\[0\]\.dids\.1: DID 1 maps to 9999/);
  });
});
