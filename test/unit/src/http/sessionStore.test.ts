/**
 * Web sign-in sessions: random 256-bit ids, idle expiry measured from the last use, a
 * bound on how many are held (least recently used out first), sign-out, the sweep.
 */
import { describe, expect, it } from '@jest/globals';
import type { Principal } from '../../../../src/http/api/auth.js';
import { SessionStore } from '../../../../src/http/api/sessionStore.js';

const agent = (extension: string): Principal => ({
  name: `web-${extension}`,
  scope: 'agent',
  extension,
});

function store(limits = { idleMs: 1000, maxSessions: 3 }) {
  let now = 0;
  const s = new SessionStore(limits, { now: () => now });
  return { s, advance: (ms: number) => (now += ms) };
}

describe('SessionStore', () => {
  it('gives each session a distinct 256-bit id that finds its principal', () => {
    const { s } = store();
    const a = s.create(agent('1001'));
    const b = s.create(agent('1002'));
    expect(a).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(Buffer.from(a, 'base64url')).toHaveLength(32);
    expect(a).not.toBe(b);
    expect(s.use(a)?.extension).toBe('1001');
    expect(s.use(b)?.extension).toBe('1002');
    expect(s.use('not-a-session')).toBeUndefined();
    expect(s.use(undefined)).toBeUndefined();
    expect(s.use('')).toBeUndefined();
  });

  it('lapses after idleMs without use; each use starts the idle time again', () => {
    const { s, advance } = store();
    const id = s.create(agent('1001'));
    advance(900);
    expect(s.use(id)).toBeDefined();
    advance(900);
    expect(s.use(id)).toBeDefined();
    advance(1000);
    expect(s.use(id)).toBeUndefined();
    expect(s.size).toBe(0);
  });

  it('holds at most maxSessions, dropping the least recently used', () => {
    const { s, advance } = store();
    const ids = ['1', '2', '3'].map((n) => s.create(agent(n)));
    advance(10);
    s.use(ids[0]); // 1 is now the most recent
    const fourth = s.create(agent('4'));
    expect(s.size).toBe(3);
    expect(s.use(ids[1])).toBeUndefined();
    expect(s.use(ids[0])?.extension).toBe('1');
    expect(s.use(ids[2])?.extension).toBe('3');
    expect(s.use(fourth)?.extension).toBe('4');
  });

  it('ends a session on sign-out', () => {
    const { s } = store();
    const id = s.create(agent('1001'));
    expect(s.end(id)).toBe(true);
    expect(s.use(id)).toBeUndefined();
    expect(s.end(id)).toBe(false);
    expect(s.end(undefined)).toBe(false);
  });

  it('sweeps the lapsed sessions and keeps the fresh ones', () => {
    const { s, advance } = store({ idleMs: 1000, maxSessions: 10 });
    const old = s.create(agent('1'));
    advance(600);
    const fresh = s.create(agent('2'));
    advance(500);
    s.sweep();
    expect(s.size).toBe(1);
    expect(s.use(old)).toBeUndefined();
    expect(s.use(fresh)?.extension).toBe('2');
  });
});
