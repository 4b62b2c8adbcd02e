import { describe, expect, it } from '@jest/globals';
import { newTag, statelessTag } from '../../../sip/ids.js';
import { request } from './transaction/harness.js';

describe('tags (RFC 3261 §19.3)', () => {
  it('newTag() is 48 random bits, a fresh one each time', () => {
    const tags = new Set(Array.from({ length: 100 }, () => newTag()));
    expect(tags.size).toBe(100);
    for (const t of tags) expect(t).toMatch(/^[0-9a-f]{12}$/);
  });

  it('statelessTag() is the same for the same request, different for another (§8.2.7)', () => {
    const a = request({ method: 'REGISTER', branch: 'z9hG4bK-a' });
    const again = request({ method: 'REGISTER', branch: 'z9hG4bK-a' });
    const b = request({ method: 'REGISTER', branch: 'z9hG4bK-b' });
    expect(statelessTag(a)).toMatch(/^[0-9a-f]{12}$/);
    expect(statelessTag(again)).toBe(statelessTag(a));
    expect(statelessTag(b)).not.toBe(statelessTag(a));
  });
});
