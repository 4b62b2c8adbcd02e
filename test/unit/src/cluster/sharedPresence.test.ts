import { describe, expect, it } from '@jest/globals';
import { clusterKeys } from '../../../../src/cluster/keys.js';
import { parsePresenceEntry } from '../../../../src/cluster/sharedPresence.js';

describe('shared presence entries', () => {
  it('reads back a status with its extension and origin', () => {
    expect(parsePresenceEntry('{"extension":"1005","status":"away","origin":"b"}')).toEqual({
      extension: '1005',
      status: 'away',
      origin: 'b',
    });
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
