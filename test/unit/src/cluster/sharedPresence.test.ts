import { describe, expect, it } from '@jest/globals';
import { clusterKeys } from '../../../../src/cluster/keys.js';
import {
  overriddenOwn,
  parsePresenceEntry,
  type OwnStatus,
  type PresenceEntry,
} from '../../../../src/cluster/sharedPresence.js';

describe('shared presence entries', () => {
  it('reads back a status with its extension, origin and time (0 when it has none)', () => {
    expect(parsePresenceEntry('{"extension":"1005","status":"away","origin":"b"}')).toEqual({
      extension: '1005',
      status: 'away',
      origin: 'b',
      at: 0,
    });
    expect(
      parsePresenceEntry('{"extension":"1005","status":"away","origin":"b","at":1700000000123}')
        ?.at,
    ).toBe(1700000000123);
    expect(
      parsePresenceEntry('{"extension":"1005","status":"away","origin":"b","at":"soon"}')?.at,
    ).toBe(0);
    expect(parsePresenceEntry('{"extension":"1005","status":"dnd","origin":"a"}')?.status).toBe(
      'dnd',
    );
  });

  it('refuses anything else', () => {
    expect(parsePresenceEntry('{"extension":"1005","status":"busy","origin":"b"}')).toBeUndefined();
    expect(parsePresenceEntry('{"extension":"1005","status":"away"}')).toBeUndefined();
    expect(parsePresenceEntry('{"status":"away","origin":"b"}')).toBeUndefined();
    expect(parsePresenceEntry('null')).toBeUndefined();
    expect(parsePresenceEntry('away')).toBeUndefined();
  });

  it('keys every entry under the prefix, beside the channel', () => {
    const keys = clusterKeys('cw:');
    expect(keys.presence('1005')).toBe('cw:presence:1005');
    expect(keys.presencePattern).toBe('cw:presence:*');
    expect(keys.presenceChannel).toBe('cw:presence');
  });
});

describe('overriddenOwn: two instances changed one status during an outage', () => {
  const own = (status: OwnStatus['status'], at: number): OwnStatus => ({
    status,
    at,
    shared: false,
  });
  const entry = (extension: string, status: PresenceEntry['status'], origin: string, at: number) =>
    [extension, { extension, status, origin, at }] as const;

  it("yields to another instance's later change, keeps its own later one", () => {
    const mine = new Map([
      ['1005', own('available', 2000)],
      ['1006', own('dnd', 2000)],
      ['1007', own('away', 2000)],
    ]);
    const found = new Map([
      entry('1005', 'away', 'b', 3000),
      entry('1006', 'away', 'b', 1000),
      entry('1007', 'dnd', 'a', 9000), // its own key (written by this instance): no conflict
      entry('1008', 'dnd', 'b', 9000), // not ours
    ]);
    expect(overriddenOwn(mine, found, 'a')).toEqual(['1005']);
  });
});
