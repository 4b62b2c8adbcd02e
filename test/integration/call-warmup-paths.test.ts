/**
 * warmCallPaths (src/warmup/callWarmup.ts) in process, with a real media engine: calls
 * complete in every codec and leave no leg; a warm-up whose calls cannot be set up stops
 * with the reason instead of throwing; a budget of 0 opens nothing.
 */
import { afterEach, describe, expect, it } from '@jest/globals';
import { pino } from 'pino';
import { systemClock } from '../../sip/clock.js';
import { parseConfig } from '../../src/config/load.js';
import { ALLOWED_METHODS } from '../../src/sipRequestRouter.js';
import { warmCallPaths, warmupConcurrency } from '../../src/warmup/callWarmup.js';
import { startEngine, type EngineFixture } from './media/engineFixture.js';

let fixture: EngineFixture | undefined;

afterEach(async () => {
  await fixture?.engine.close();
  fixture = undefined;
});

async function warm(budgetMs: number, maxCalls?: number) {
  fixture ??= await startEngine({ workers: 2 }, 16);
  const config = parseConfig({
    media: { portRange: { min: fixture.portMin, max: fixture.portMax } },
    calls: { codecs: ['PCMU', 'PCMA', 'G722', 'opus'] },
  });
  return warmCallPaths({
    budgetMs,
    config,
    engine: fixture.engine,
    mediaAddress: '127.0.0.1',
    clock: systemClock,
    allow: ALLOWED_METHODS,
    logger: pino({ level: 'silent' }),
    ...(maxCalls !== undefined ? { maxCalls } : {}),
  });
}

describe('warmCallPaths', () => {
  it('completes its calls in each codec in turn, and leaves no leg', async () => {
    const report = await warm(5000, 8);
    expect(report).toEqual({ calls: 8, elapsedMs: expect.any(Number) });
    expect(fixture?.engine.legCount).toBe(0);
  }, 20000);

  it('stops with the reason when its calls cannot be set up, and throws nothing', async () => {
    fixture = await startEngine({ workers: 1 }, 16);
    await fixture.engine.close(); // every leg the call service asks for is refused
    const report = await warm(5000);
    expect(report.calls).toBe(0);
    expect(report.error).toMatch(/^INVITE got 5\d\d$/);
    expect(report.elapsedMs).toBeLessThan(4000);
  }, 20000);

  it('does nothing with a budget of 0', async () => {
    const started = Date.now();
    expect(
      await warmCallPaths({
        budgetMs: 0,
        config: parseConfig({}),
        // Never touched with no budget: a closed engine would fail any call.
        engine: undefined as never,
        mediaAddress: '127.0.0.1',
        clock: systemClock,
        allow: ALLOWED_METHODS,
        logger: pino({ level: 'silent' }),
      }),
    ).toEqual({ calls: 0, elapsedMs: 0 });
    expect(Date.now() - started).toBeLessThan(100);
  });
});

describe('warmupConcurrency', () => {
  it('is 8, or fewer so that at most half of a small port range is used', () => {
    expect(warmupConcurrency({ min: 20000, max: 39999 })).toBe(8);
    expect(warmupConcurrency({ min: 30000, max: 30063 })).toBe(8); // 64 ports: 8 calls
    expect(warmupConcurrency({ min: 30000, max: 30019 })).toBe(2); // 20 ports: 2 of 5
    expect(warmupConcurrency({ min: 30000, max: 30003 })).toBe(1); // never 0
  });
});
