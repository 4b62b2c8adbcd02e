import { describe, expect, it } from '@jest/globals';
import { configSchema } from '../../../../src/config/schema.js';

describe('presence config', () => {
  it('has working defaults', () => {
    expect(configSchema.parse({}).presence).toEqual({
      blf: 'monitoring',
      minExpiresSec: 60,
      maxExpiresSec: 3600,
      defaultExpiresSec: 3600,
      maxPerWatcher: 64,
      maxPerWatched: 64,
      maxPerSource: 256,
      retryAfterSec: 30,
    });
  });

  it('names the key of a bad value', () => {
    const paths = (presence: unknown) => {
      const r = configSchema.safeParse({ presence });
      return r.success ? [] : r.error.issues.map((i) => i.path.join('.'));
    };
    expect(paths({ blf: 'everyone' })).toEqual(['presence.blf']);
    expect(paths({ minExpiresSec: 600, maxExpiresSec: 60, defaultExpiresSec: 60 })).toEqual(
      expect.arrayContaining(['presence.maxExpiresSec']),
    );
    expect(paths({ defaultExpiresSec: 10 })).toEqual(['presence.defaultExpiresSec']);
    expect(paths({ maxPerSource: 0 })).toEqual(['presence.maxPerSource']);
    expect(paths({ blff: 'all' })).toEqual(['presence']);
  });
});
