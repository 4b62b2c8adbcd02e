/// <reference types="node" />
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { KNOWN_REFUSALS, refusalSentence } from './refusals.js';

/** The server's refusal codes, read from its source (the union type RefusalCode). */
function serverCodes(): string[] {
  // Vitest gives each test file its own __dirname (import.meta.url is the page's under happy-dom).
  const file = path.resolve(__dirname, '../../../src/monitoring/refusals.ts');
  const text = readFileSync(file, 'utf8');
  const union = /export type RefusalCode =([\s\S]*?);/.exec(text)?.[1] ?? '';
  return [...union.matchAll(/'([a-z-]+)'/g)].map((m) => m[1]!);
}

describe('refusals in words', () => {
  it('has a sentence for every refusal code the server has', () => {
    const codes = serverCodes();
    expect(codes.length).toBeGreaterThan(10);
    expect(codes.filter((c) => !KNOWN_REFUSALS.includes(c))).toEqual([]);
  });

  it('says the reasons a Join is refused plainly, never the code', () => {
    for (const code of [
      'not-permitted',
      'member-forbids',
      'max-participants',
      'mode-not-allowed',
      'monitor-unavailable',
    ]) {
      const s = refusalSentence(code);
      expect(s).not.toContain(code);
      expect(s).toMatch(/^[A-Z].*\.$/);
    }
    expect(refusalSentence('member-forbids')).toMatch(/opted out/);
    expect(refusalSentence('max-participants')).toMatch(/full/);
    expect(refusalSentence('monitor-unavailable')).toMatch(/not available/);
  });

  it('falls back to the server’s message for a code it does not know', () => {
    expect(refusalSentence('brand-new', 'the moon is full')).toBe('Refused: the moon is full.');
    expect(refusalSentence(undefined)).toMatch(/went wrong/);
  });
});
